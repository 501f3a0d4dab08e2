"""The deadline fields' text ("2026-12-01 18:00", in the calendar's zone) read back the
same way on the fast path as with strptime, for whatever a field may hold, and written
as strftime writes it (the fields and the notices' "01.12.2026 18:00")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from redmine_sla_bridge.domain.notices import format_due
from redmine_sla_bridge.domain.processing.field_values import (
    DUE_FORMAT,
    format_field_time,
    parse_field_time,
)

MOSCOW = ZoneInfo("Europe/Moscow")


def _strptime(text: str) -> dt.datetime | str:
    try:
        return dt.datetime.strptime(text, DUE_FORMAT).replace(tzinfo=MOSCOW)
    except ValueError:
        return "refused"


def _read(text: str) -> dt.datetime | str:
    try:
        return parse_field_time(text, MOSCOW)
    except ValueError:
        return "refused"


def test_what_the_bridge_writes_reads_back_to_the_minute():
    moment = dt.datetime(2028, 2, 29, 17, 45, tzinfo=dt.UTC)
    text = format_field_time(moment, MOSCOW)
    assert text == "2028-02-29 20:45"
    assert parse_field_time(text, MOSCOW) == moment


@given(st.text(alphabet="0123456789-: TW+Z٣", min_size=14, max_size=18))
def test_any_text_is_read_as_strptime_reads_it(text):
    assert _read(text) == _strptime(text)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)))
def test_every_minute_of_two_centuries(moment):
    text = moment.strftime(DUE_FORMAT)
    assert _read(text) == _strptime(text) == moment.replace(second=0, microsecond=0,
                                                            tzinfo=MOSCOW)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31),
                    timezones=st.sampled_from([dt.UTC, MOSCOW, ZoneInfo("Asia/Vladivostok")])))
def test_deadlines_are_written_as_strftime_writes_them(moment):
    assert format_field_time(moment, MOSCOW) == moment.astimezone(MOSCOW).strftime(DUE_FORMAT)
    assert format_due(moment) == moment.strftime("%d.%m.%Y %H:%M")
