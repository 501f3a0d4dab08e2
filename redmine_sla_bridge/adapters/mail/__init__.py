"""The support mailbox: reading IMAP or an MTA pipe (see docs/mail.md)."""

from .imap import ImapMailbox, MailboxUnavailable
from .message import Attachment, ParsedMail, UnreadableMessage, parse_message
from .reader import EX_DATAERR, EX_OK, EX_TEMPFAIL, MailReader, PassReport
from .threads import NoThreads, ThreadingNotifier

__all__ = ["EX_DATAERR", "EX_OK", "EX_TEMPFAIL", "Attachment", "ImapMailbox", "MailReader",
           "MailboxUnavailable", "NoThreads", "ParsedMail", "PassReport", "ThreadingNotifier",
           "UnreadableMessage", "parse_message"]
