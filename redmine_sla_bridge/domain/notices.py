"""Texts the bridge posts to the customer (public notes and emails), in Russian and English.

Templates use `string.Template` names; a config may override any key per language
(`notices.templates`). The intake gate's rejection texts live with the gate.

Every value these templates get comes from the config, the clock or the issue id, so a
note and its email are the same text. A value a customer wrote must not be passed here
as is: Redmine would render its markup in a note signed by support (quote it with
`domain.markup.quote`, once per target, as the rejection note does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only; describe_duration imports at call time
    from redmine_sla_bridge.domain.calendar.duration import Duration

DEFAULTS: dict[str, dict[str, str]] = {
    "ru": {
        "registration_number": "№$issue_id",
        "ack.subject": "Обращение $number зарегистрировано",
        "ack.header": "Ваше обращение зарегистрировано под номером $number. "
        "Пожалуйста, указывайте этот номер во всей дальнейшей переписке.",
        "ack.priority": "Приоритет: $priority.",
        "ack.tier": "Уровень обслуживания: $tier.",
        "ack.deadline.first_response": "Срок первого ответа: до $due.",
        "ack.deadline.resolution": "Срок решения: до $due.",
        "ack.unlimited.first_response": "Срок первого ответа регламентом не ограничен.",
        "ack.unlimited.resolution": "Срок решения регламентом не ограничен.",
        "ack.timezone": "Время указано по часовому поясу $timezone.",
        "ack.entitlements": "Вам доступно: $entitlements.",
        "rejected.subject": "Обращение $number не может быть принято",
        "closed.subject": "Обращение $number закрыто",
        "closed.note": "Обращение $number закрыто, так как $idle. Если вопрос остался, "
        "просто ответьте на это сообщение до $reopen_until, и мы продолжим работу.",
        "closed.note.no_window": "Обращение $number закрыто, так как $idle. Если вопрос "
        "остался, просто ответьте на это сообщение, и мы продолжим работу.",
        "closed.note.comment": "Обращение $number закрыто, так как $idle. Если вопрос "
        "остался, добавьте комментарий к обращению до $reopen_until, и мы продолжим работу.",
        "closed.note.no_window.comment": "Обращение $number закрыто, так как $idle. Если "
        "вопрос остался, добавьте комментарий к обращению, и мы продолжим работу.",
        "fields.reverted": "Изменение полей, которые ведёт мост SLA, отменено: $changes. "
        "Эти значения выставляет только мост; восстановлены его значения.",
        "fields.reset": "Поля SLA были заполнены до того, как обращение прошло проверку: "
        "$changes. Значения сброшены: обращение проверяется заново.",
        "fields.change": "«$field» — $who: «$old» → «$new»",
        "closed.note.new_request": "Обращение $number закрыто, так как $idle. Если вопрос "
        "остался, пожалуйста, создайте новое обращение и укажите в нём номер $number.",
        "idle.customer_message": "от вас не было сообщений в течение $after",
        "idle.support_answer": "после нашего ответа прошло $after без вашего ответа",
        "idle.status_change": "за $after подтверждения не поступило",
        "reopened.note": "Обращение $number возобновлено по вашему ответу.",
        "reminder.subject": "Обращение $number скоро будет закрыто",
        "reminder.note": "Обращение $number ожидает вашего ответа. Если ответа не будет, "
        "оно будет закрыто $close_at. Чтобы оставить его открытым, просто ответьте на это "
        "сообщение.",
        "reminder.note.comment": "Обращение $number ожидает вашего ответа. Если ответа не "
        "будет, оно будет закрыто $close_at. Чтобы оставить его открытым, добавьте "
        "комментарий к обращению.",
        "reply.too_late": "Обращение $number уже закрыто, и срок его возобновления истёк. "
        "Пожалуйста, создайте новое обращение и укажите в нём номер $number.",
        "development.note": "Ваш вопрос передан в отдел разработки. Ориентировочный срок "
        "решения: до $due.",
        "escalation.at_risk": "SLA под угрозой: $targets. Использовано $share% времени.",
        "escalation.breached": "SLA нарушен: $targets.",
        "escalation.target.first_response": "первый ответ до $due",
        "escalation.target.resolution": "решение до $due",
        "queued.subject": "Обращение $number зарегистрировано и ожидает очереди",
        "queued.note": "Ваше обращение зарегистрировано под номером $number. Обращения "
        "одного пользователя решаются последовательно, по одному: сейчас в работе ваше "
        "обращение $ahead. Работа над этим обращением начнётся, когда предыдущие будут "
        "решены; тогда мы сообщим его сроки.",
        "queued.position": "ID-8: место в очереди контакта — $position (впереди: $ahead). "
        "Срок SLA начнёт отсчитываться, когда предыдущие обращения будут решены.",
        "decision.note": "Требуется решение руководителя поддержки: $why. Выберите в поле "
        "«$field» значение «$serve» (обслужить) или «$refuse» (отказать); заказчик получит "
        "одно уведомление о решении.",
        "decision.why.tier": "уровень поддержки «$tier» обслуживается на усмотрение "
        "руководителя",
        "decision.why.asked": "$who запросил(а) решение (например, вопрос не по теме)",
        "decision.not_allowed": "Решение «$value» выставил(а) $who, но решение принимает "
        "руководитель поддержки ($deciders): поле возвращено в «$needed».",
        "decision.refused.subject": "Обращение $number не может быть принято",
        "decision.refused.note": "По решению руководителя поддержки обращение $number не "
        "может быть обслужено в рамках регламента технической поддержки.",
        "several.questions": "BA-3/ID-8: в обращении $count вопроса(ов). Одно обращение — "
        "одна проблема: если это разные проблемы, предложите заказчику оформить остальные "
        "отдельными обращениями (обращение не отклонено).",
        "extension.subject": "Новый срок решения обращения $number",
        "extension.note": "Решить обращение $number в установленный срок не удаётся. "
        "Причина: $reason. Ожидаемый срок решения: до $due.",
    },
    "en": {
        "registration_number": "#$issue_id",
        "ack.subject": "Request $number registered",
        "ack.header": "Your request is registered as $number. "
        "Please quote this number in all further correspondence.",
        "ack.priority": "Priority: $priority.",
        "ack.tier": "Service level: $tier.",
        "ack.deadline.first_response": "First response by: $due.",
        "ack.deadline.resolution": "Resolution by: $due.",
        "ack.unlimited.first_response": "The regulation sets no limit on the first response.",
        "ack.unlimited.resolution": "The regulation sets no limit on the resolution.",
        "ack.timezone": "Times are in the $timezone time zone.",
        "ack.entitlements": "Your entitlements: $entitlements.",
        "rejected.subject": "Request $number cannot be accepted",
        "closed.subject": "Request $number closed",
        "closed.note": "Request $number is closed because $idle. If the question remains, "
        "just reply to this message before $reopen_until and we will continue.",
        "closed.note.no_window": "Request $number is closed because $idle. If the question "
        "remains, just reply to this message and we will continue.",
        "closed.note.comment": "Request $number is closed because $idle. If the question "
        "remains, add a comment to the request before $reopen_until and we will continue.",
        "closed.note.no_window.comment": "Request $number is closed because $idle. If the "
        "question remains, add a comment to the request and we will continue.",
        "fields.reverted": "A change to fields the SLA bridge maintains was undone: $changes. "
        "Only the bridge sets these values; its values are restored.",
        "fields.reset": "SLA fields were filled in before the request passed the intake "
        "check: $changes. They were cleared: the request is checked afresh.",
        "fields.change": "\"$field\" by $who: \"$old\" -> \"$new\"",
        "closed.note.new_request": "Request $number is closed because $idle. If the question "
        "remains, please open a new request and mention $number in it.",
        "idle.customer_message": "we have not heard from you for $after",
        "idle.support_answer": "$after have passed since our answer without a reply",
        "idle.status_change": "no confirmation came within $after",
        "reopened.note": "Request $number is reopened by your reply.",
        "reminder.subject": "Request $number will be closed soon",
        "reminder.note": "Request $number is waiting for your reply. Unless we hear from "
        "you, it will be closed on $close_at. To keep it open, just reply to this message.",
        "reminder.note.comment": "Request $number is waiting for your reply. Unless we hear "
        "from you, it will be closed on $close_at. To keep it open, add a comment to the "
        "request.",
        "reply.too_late": "Request $number is closed and can no longer be reopened. "
        "Please open a new request and mention $number in it.",
        "development.note": "Your question has been passed to the development department. "
        "Expected term: by $due.",
        "escalation.at_risk": "SLA at risk: $targets. $share% of the time is used.",
        "escalation.breached": "SLA breached: $targets.",
        "escalation.target.first_response": "first response by $due",
        "escalation.target.resolution": "resolution by $due",
        "queued.subject": "Request $number registered and waiting its turn",
        "queued.note": "Your request is registered as $number. Requests of one user are "
        "worked one at a time: your request $ahead is being worked now. Work on this one "
        "starts when the earlier ones are solved; we will tell you its terms then.",
        "queued.position": "ID-8: position $position in the contact's queue (ahead: $ahead). "
        "The SLA clock starts when the earlier requests are done.",
        "decision.note": "Needs the decision of the head of support: $why. Set the field "
        "\"$field\" to \"$serve\" or \"$refuse\"; the customer gets one notice of the decision.",
        "decision.why.tier": "tier \"$tier\" is served at the discretion of the head of support",
        "decision.why.asked": "$who asked for a decision (e.g. an off-topic question)",
        "decision.not_allowed": "The decision \"$value\" was set by $who, but the head of "
        "support decides ($deciders): the field is back to \"$needed\".",
        "decision.refused.subject": "Request $number cannot be accepted",
        "decision.refused.note": "By the decision of the head of support, request $number "
        "cannot be served under the support regulation.",
        "several.questions": "BA-3/ID-8: the request asks $count questions. One problem per "
        "request: if they are different problems, ask the customer to file the others as "
        "requests of their own (the request is not refused).",
        "extension.subject": "New resolution term of request $number",
        "extension.note": "Request $number cannot be solved within its term. Reason: "
        "$reason. Expected resolution: by $due.",
    },
}


@dataclass(frozen=True)
class NoticeTexts:
    language: str
    overrides: Mapping[str, str] = field(default_factory=dict)
    # Field key -> domain value -> how Redmine shows it in this language (the tier's
    # display name, "в срок" for "on track"), so a note names a value as the field does.
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def label(self, key: str, value: str) -> str:
        return self.labels.get(key, {}).get(value, value)

    def get(self, key: str, **params: object) -> str:
        template = self.overrides.get(key, DEFAULTS[self.language][key])
        return Template(template).safe_substitute({k: str(v) for k, v in params.items()})

    def number(self, issue_id: int) -> str:
        return self.get("registration_number", issue_id=issue_id)


def format_due(moment: dt.datetime) -> str:
    """Deadlines are shown in the calendar's own zone, to the minute."""
    return f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}"


def acknowledgement(texts: NoticeTexts, *, issue_id: int, priority: str, tier: str | None,
                    deadlines: Mapping[str, dt.datetime | None], timezone: str,
                    entitlements: tuple[str, ...] = ()) -> str:
    """BA-4/BA-6: the registration number, the priority and the deadlines."""
    number = texts.number(issue_id)
    lines = [texts.get("ack.header", number=number), "", texts.get("ack.priority", priority=priority)]
    if tier:
        lines.append(texts.get("ack.tier", tier=texts.label("tier", tier)))
    # The acknowledgement target is met by this very note, so only the others are shown.
    for kind in ("first_response", "resolution"):
        if kind not in deadlines:
            continue
        due = deadlines[kind]
        if due is not None:
            lines.append(texts.get(f"ack.deadline.{kind}", due=format_due(due)))
        else:
            lines.append(texts.get(f"ack.unlimited.{kind}"))
    if any(deadlines.values()):
        lines.append(texts.get("ack.timezone", timezone=timezone))
    if entitlements:
        lines.append(texts.get("ack.entitlements", entitlements=", ".join(entitlements)))
    return "\n".join(lines)


def describe_duration(language: str, duration: Duration) -> str:
    """"14 days", "24 hours", "8 working hours" in the customer's language."""
    from redmine_sla_bridge.domain.calendar.duration import WorkingDays

    if isinstance(duration, WorkingDays):
        n = duration.days
        if language == "ru":
            return f"{n} {_plural(n, 'день', 'дня', 'дней')}"
        return f"{n} day{'s' if n != 1 else ''}"
    hours, minutes = divmod(duration.minutes, 60)
    if minutes:
        return f"{duration.minutes} мин" if language == "ru" else f"{duration.minutes} minutes"
    if language == "ru":
        return f"{hours} {_plural(hours, 'час', 'часа', 'часов')}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
