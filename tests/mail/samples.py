"""Realistic MIME samples, as mail clients and servers write them."""

from __future__ import annotations

import base64
import quopri
import uuid


def mid(domain: str = "example.ru") -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def outlook_cp1251(sender: str, message_id: str) -> bytes:
    body = quopri.encodestring("Добрый день!\r\nНе работает VPN после обновления.\r\n\r\n"
                               "С уважением,\r\nИван Петров".encode("cp1251")).decode()
    name = base64.b64encode("Иван Петров".encode("cp1251")).decode()
    return (f"From: =?windows-1251?B?{name}?= <{sender}>\r\n"
            f"To: support@bridge.test\r\n"
            f"Subject: =?windows-1251?B?{base64.b64encode('Не работает VPN'.encode('cp1251')).decode()}?=\r\n"
            f"Date: Mon, 03 Mar 2025 10:00:00 +0300\r\nMessage-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook 16.0\r\n"
            "Content-Type: text/plain; charset=\"windows-1251\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body + "\r\n").encode("ascii")


def thunderbird_utf8(sender: str, message_id: str, *, attachment: bytes | None = None,
                     attachment_name: str = "log.txt") -> bytes:
    text = base64.b64encode("Здравствуйте, сервер не стартует.\n".encode()).decode()
    parts = ("--b1\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\n"
             f"Content-Transfer-Encoding: base64\r\n\r\n{text}\r\n")
    if attachment is not None:
        parts += (f"--b1\r\nContent-Type: application/octet-stream; name=\"{attachment_name}\"\r\n"
                  f"Content-Disposition: attachment; filename=\"{attachment_name}\"\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n"
                  + base64.encodebytes(attachment).decode().replace("\n", "\r\n") + "\r\n")
    parts += "--b1--\r\n"
    return (f"From: Мария Сидорова <{sender}>\r\nTo: support@bridge.test\r\n"
            "Subject: =?UTF-8?B?" + base64.b64encode("Сервер не стартует".encode()).decode() + "?=\r\n"
            f"Message-ID: {message_id}\r\nDate: Mon, 03 Mar 2025 11:00:00 +0300\r\n"
            "User-Agent: Mozilla Thunderbird\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" + parts).encode()


def html_only(sender: str, message_id: str) -> bytes:
    html = ("<html><head><style>p{}</style></head><body><div>Добрый день!</div>"
            "<p>Не открывается <b>личный кабинет</b>.</p></body></html>")
    return (f"From: {sender}\r\nTo: support@bridge.test\r\nSubject: Личный кабинет\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(html.encode()).decode()).encode()


def auto_reply(sender: str, message_id: str) -> bytes:
    return (f"From: {sender}\r\nTo: support@bridge.test\r\nSubject: Автоответ: в отпуске\r\n"
            f"Message-ID: {message_id}\r\nAuto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nI am out of office.\r\n").encode()


def bounce(message_id: str) -> bytes:
    return ("From: Mail Delivery System <MAILER-DAEMON@mx.example.ru>\r\n"
            "To: support@bridge.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
            "--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--r--\r\n").encode()


def reply(sender: str, message_id: str, in_reply_to: str, subject: str) -> bytes:
    body = ("Спасибо, после перезагрузки заработало.\r\n\r\n-- \r\nИван\r\n\r\n"
            "Mon, 3 Mar 2025 at 10:05, Support <support@bridge.test> wrote:\r\n"
            "> Ваше обращение зарегистрировано\r\n> под номером\r\n")
    return (f"From: Иван Петров <{sender}>\r\nTo: support@bridge.test\r\n"
            "Subject: =?UTF-8?B?" + base64.b64encode(f"Re: {subject}".encode()).decode() + "?=\r\n"
            f"Message-ID: {message_id}\r\nIn-Reply-To: {in_reply_to}\r\n"
            f"References: {in_reply_to}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body).encode()


ISSUE_LETTER = (  # issue 17: refused as missing ФИО, ИНН, version and «email или телефон»
    "Добрый день!\r\n\r\n"
    "У нас после обновления на версию 7.2 перестал подниматься VPN-туннель до филиала, "
    "пользователи не могут подключиться с утра.\r\n"
    "ИНН организации 7709034563.\r\n"
    "По срочным вопросам звоните мне на мобильный 8 916 555-12-34.\r\n\r\n"
    "С уважением,\r\nПетров Алексей Викторович\r\nСистемный администратор\r\n"
    "ООО «Ромашка»\r\nТел.: +7 (495) 123-45-67, доб. 214\r\nМоб.: 8 916 555-12-34\r\n")


def outlook_issue_letter(sender: str, message_id: str, *, display_name: str = "Петров Алексей",
                         body: str = ISSUE_LETTER, subject: str = "Не работает VPN") -> bytes:
    """The issue's Outlook letter: windows-1251, quoted-printable, RFC 2047 headers, data
    only in the free text and the signature."""
    text = quopri.encodestring(body.encode("cp1251")).decode()
    name = base64.b64encode(display_name.encode("cp1251")).decode()
    coded = base64.b64encode(subject.encode("cp1251")).decode()
    return (f"From: =?windows-1251?B?{name}?= <{sender}>\r\nTo: support@bridge.test\r\n"
            f"Subject: =?windows-1251?B?{coded}?=\r\n"
            f"Date: Wed, 20 May 2026 10:40:00 +0300\r\nMessage-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook 16.0\r\n"
            "Content-Type: text/plain; charset=\"windows-1251\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + text + "\r\n").encode("ascii")


def plain_utf8(sender: str, message_id: str, subject: str, body: str) -> bytes:
    return (f"From: {sender}\r\nTo: support@bridge.test\r\n"
            "Subject: =?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?=\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(body.encode()).decode()).encode()
