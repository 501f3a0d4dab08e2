"""The csv and table formats say what the JSON document says (docs/reports.md)."""

from __future__ import annotations

import csv
import dataclasses
import io

from redmine_sla_bridge.domain.reporting.report import Cost, TargetResult, what_if_section
from redmine_sla_bridge.entrypoints.report_formats import SUMMARY_HEADER, to_csv, to_table
from tests.unit.reporting.test_report import _report, at, result


def _document(language="en"):
    late = TargetResult("breached", 180, 120, at(3, 12), 60)
    report = _report([result(1, fr=late, res=TargetResult("met", 240, 960)),
                      result(2, day=10, fr=TargetResult("met", 30, 120), paused_minutes=45),
                      result(3, accepted=False, refused=("missing_field",))])
    report = dataclasses.replace(report, language=language, cost=Cost(3, 1, 0))
    return report, report.as_dict()


def test_the_csv_rows_are_the_documents_figures():
    _, document = _document()
    text = to_csv(document)
    summary, _, rest = text.partition("\n\n")
    rows = list(csv.DictReader(io.StringIO(summary)))
    assert tuple(rows[0]) == SUMMARY_HEADER
    overall = rows[0]
    assert overall["section"] == "overall"
    assert {c: int(overall[c]) for c in ("received", "accepted", "refused", "paused_minutes")} == {
        "received": 3, "accepted": 2, "refused": 1, "paused_minutes": 45}
    assert (overall["fr_met"], overall["fr_breached"], overall["fr_median_minutes"]) == ("1", "1", "30")
    assert overall["res_p90_minutes"] == "240" and overall["refused_by_code"] == "missing_field=1"
    assert [r["key"] for r in rows if r["section"] == "by_week"] == ["2026-W10", "2026-W11"]
    breaches = list(csv.DictReader(io.StringIO(rest.split("\n#")[0])))
    assert [(b["section"], b["issue"], b["overdue_minutes"]) for b in breaches] == [("breach", "1", "60")]
    assert text.rstrip().endswith("# Cost: 3 issues, 1 Redmine API calls, 0 journal reads")


def test_the_table_is_in_the_configs_language_and_ends_with_the_cost():
    report, document = _document("ru")
    table = to_table(document)
    assert "Отчёт SLA" in table and "По неделям" in table
    assert table.rstrip().splitlines()[-1] == "Стоимость: 3 задач, 1 вызовов API Redmine, 0 чтений журналов"
    document["what_if"] = what_if_section(report, report, "same.yaml")
    both = to_table(document)
    assert "записано" in both and "что если" in both
