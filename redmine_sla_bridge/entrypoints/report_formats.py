"""The report's csv and table formats, rendered from its JSON document (docs/reports.md),
so every format says the same as the JSON (the HTML report renders the same document)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

SECTIONS = ("by_customer", "by_tier", "by_priority", "by_product", "by_week")
TARGET_COLUMNS = ("met", "breached", "open", "at_risk", "median_minutes", "p90_minutes")
COUNT_COLUMNS = ("received", "accepted", "refused", "queued", "auto_closed", "reopened")
SUMMARY_HEADER = ("section", "key", "label", *COUNT_COLUMNS,
                  *(f"fr_{c}" for c in TARGET_COLUMNS), *(f"res_{c}" for c in TARGET_COLUMNS),
                  "paused_minutes", "refused_by_code")
BREACH_HEADER = ("section", "issue", "url", "subject", "customer", "tier", "priority", "product",
                 "target", "due", "assignee", "overdue_minutes")

_TEXTS = {
    "en": {
        "title": "SLA report", "period": "period", "generated": "generated",
        "overall": "Overall", "by_customer": "By customer", "by_tier": "By tier",
        "by_priority": "By priority", "by_product": "By product", "by_week": "By week",
        "breaches": "Breaches", "contracts": "Contract customers", "none": "none",
        "received": "received", "accepted": "accepted", "refused": "refused", "queued": "queued",
        "auto_closed": "auto-closed", "reopened": "reopened", "paused": "paused",
        "fr": "first response", "res": "resolution", "met": "met", "breached": "breached",
        "open": "open", "at_risk": "at risk", "median": "median", "p90": "p90",
        "cost": "Cost: {issues} issues, {api_calls} Redmine API calls, {journal_reads} journal reads",
        "what_if": "What-if: {config}", "recorded": "recorded", "what_if_col": "what-if",
        "new_breaches": "Additional breaches under the what-if config",
        "gone_breaches": "Breaches the what-if config does not have",
        "terms": "terms", "contract": "contract", "overdue": "overdue", "target": "target",
        "due": "due", "assignee": "assignee", "issue": "issue", "key": "key",
        "missing": "warning: {n} decided issue(s) have no recorded outcome: run `report --rebuild`",
    },
    "ru": {
        "title": "Отчёт SLA", "period": "период", "generated": "сформирован",
        "overall": "Итого", "by_customer": "По клиентам", "by_tier": "По уровням поддержки",
        "by_priority": "По приоритетам", "by_product": "По продуктам", "by_week": "По неделям",
        "breaches": "Нарушения", "contracts": "Клиенты с договором", "none": "нет",
        "received": "поступило", "accepted": "принято", "refused": "отказано", "queued": "в очереди",
        "auto_closed": "закрыто автоматически", "reopened": "возобновлено", "paused": "на паузе",
        "fr": "первый ответ", "res": "решение", "met": "в срок", "breached": "нарушено",
        "open": "открыто", "at_risk": "под угрозой", "median": "медиана", "p90": "p90",
        "cost": "Стоимость: {issues} задач, {api_calls} вызовов API Redmine, "
                "{journal_reads} чтений журналов",
        "what_if": "Что если: {config}", "recorded": "записано", "what_if_col": "что если",
        "new_breaches": "Дополнительные нарушения по другой конфигурации",
        "gone_breaches": "Нарушения, которых нет по другой конфигурации",
        "terms": "условия", "contract": "договор", "overdue": "просрочка", "target": "цель",
        "due": "срок", "assignee": "исполнитель", "issue": "задача", "key": "ключ",
        "missing": "внимание: у {n} задач(и) нет записанного итога: запустите `report --rebuild`",
    },
}


def texts(document: Mapping[str, Any]) -> dict[str, str]:
    return _TEXTS.get(document.get("language", "en"), _TEXTS["en"])


def cost_line(document: Mapping[str, Any]) -> str:
    return texts(document)["cost"].format(**document["cost"])


# -- csv ---------------------------------------------------------------------------------

def _summary_row(section: str, key: str, label: str, summary: Mapping[str, Any]) -> list[Any]:
    fr, res = summary["first_response"], summary["resolution"]
    by_code = ";".join(f"{code}={n}" for code, n in summary["refused_by_code"].items())
    return [section, key, label, *(summary[c] for c in COUNT_COLUMNS),
            *(_blank(fr[c]) for c in TARGET_COLUMNS), *(_blank(res[c]) for c in TARGET_COLUMNS),
            summary["paused_minutes"], by_code]


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _summary_rows(document: Mapping[str, Any], prefix: str = "") -> Iterable[list[Any]]:
    yield _summary_row(prefix + "overall", "", "", document["overall"])
    for section in SECTIONS:
        for group in document[section]:
            yield _summary_row(prefix + section, group["key"], group["label"], group["summary"])
    for contract in document["contracts"]:
        yield _summary_row(prefix + "contract", contract["customer"], contract["label"],
                           contract["summary"])


def _breach_row(section: str, breach: Mapping[str, Any]) -> list[Any]:
    return [section, *(_blank(breach[c]) for c in BREACH_HEADER[1:])]


def to_csv(document: Mapping[str, Any]) -> str:
    """Two tables, each with its header, separated by an empty line, then the cost as
    a `#` comment line (docs/reports.md)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_HEADER)
    writer.writerows(_summary_rows(document))
    what_if = document.get("what_if")
    if what_if:
        writer.writerows(_summary_rows(what_if["report"], "what_if."))
    out.write("\n")
    writer.writerow(BREACH_HEADER)
    writer.writerows(_breach_row("breach", b) for b in document["breaches"])
    for contract in document["contracts"]:
        writer.writerows(_breach_row(f"contract:{contract['customer']}", b)
                         for b in contract["breaches"])
    if what_if:
        writer.writerows(_breach_row("what_if.breach", b) for b in what_if["report"]["breaches"])
    out.write(f"# {cost_line(document)}\n")
    if what_if:
        out.write(f"# what-if: {cost_line(what_if['report'])}\n")
    return out.getvalue()


# -- table -------------------------------------------------------------------------------

def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _minutes(value: int | None) -> str:
    if value is None:
        return "—"
    hours, minutes = divmod(value, 60)
    return f"{hours}:{minutes:02d}"


def _target_cells(target: Mapping[str, Any]) -> list[str]:
    return [f"{target['met']}/{target['breached']}/{target['open']}/{target['at_risk']}",
            f"{_minutes(target['median_minutes'])} {_minutes(target['p90_minutes'])}"]


def _group_cells(key: str, label: str, summary: Mapping[str, Any]) -> list[str]:
    return [key, label if label != key else "", str(summary["received"]),
            str(summary["accepted"]), str(summary["refused"]), str(summary["queued"]),
            str(summary["auto_closed"]), str(summary["reopened"]),
            *_target_cells(summary["first_response"]), *_target_cells(summary["resolution"]),
            _minutes(summary["paused_minutes"])]


def _group_header(t: Mapping[str, str]) -> list[str]:
    counts = f"{t['met']}/{t['breached']}/{t['open']}/{t['at_risk']}"
    times = f"{t['median']} {t['p90']}"
    return [t["key"], "", t["received"], t["accepted"], t["refused"], t["queued"],
            t["auto_closed"], t["reopened"], f"{t['fr']} {counts}", f"{t['fr']} {times}",
            f"{t['res']} {counts}", f"{t['res']} {times}", t["paused"]]


def _breach_lines(t: Mapping[str, str], found: list[Mapping[str, Any]]) -> list[str]:
    if not found:
        return [f"  ({t['none']})"]
    header = [t["issue"], t["target"], t["due"], t["overdue"], t["assignee"], "", ""]
    rows = [[f"#{b['issue']}", t["fr"] if b["target"] == "first_response" else t["res"],
             (b["due"] or "")[:16].replace("T", " "), _minutes(b["overdue_minutes"]),
             b["assignee"] or "—", b["url"], b["subject"]] for b in found]
    return _grid(header, rows)


def to_table(document: Mapping[str, Any]) -> str:
    t = texts(document)
    period = document["period"]
    lines = [f"{t['title']}: {t['period']} {period['from']} .. {period['to']} "
             f"({period['time_zone']}); {t['generated']} {document['generated_at']}"]
    filters = {k: v for k, v in document["filters"].items() if v}
    if filters:
        lines.append(", ".join(f"{k}: {v}" for k, v in filters.items()))
    what_if = document.get("what_if")
    lines += ["", t["overall"]]
    if what_if:
        lines += _side_by_side(t, document["overall"], what_if["report"]["overall"])
    else:
        lines += _grid(_group_header(t), [_group_cells("", "", document["overall"])])
    for section in SECTIONS:
        groups = document[section]
        lines += ["", t[section]]
        lines += _grid(_group_header(t), [_group_cells(g["key"], g["label"], g["summary"])
                                          for g in groups]) if groups else [f"  ({t['none']})"]
    lines += ["", t["breaches"], *_breach_lines(t, document["breaches"])]
    for contract in document["contracts"]:
        terms = ", ".join(f"{k}={v}" for k, v in contract["terms"].items())
        lines += ["", f"{t['contracts']}: {contract['label']} ({contract['customer']}); "
                      f"{t['contract']} {contract['contract'] or '—'}; {t['terms']}: {terms}"]
        lines += _grid(_group_header(t), [_group_cells("", "", contract["summary"])])
        lines += _breach_lines(t, contract["breaches"])
    if what_if:
        lines += ["", t["what_if"].format(config=what_if["config"])]
        lines += ["", t["new_breaches"], *_breach_lines(t, what_if["additional_breaches"])]
        lines += ["", t["gone_breaches"], *_breach_lines(t, what_if["resolved_breaches"])]
    if document.get("missing_outcomes"):
        lines += ["", t["missing"].format(n=document["missing_outcomes"])]
    lines += ["", cost_line(document)]
    if what_if:
        lines.append(f"{t['what_if_col']}: {cost_line(what_if['report'])}")
    return "\n".join(lines) + "\n"


def _side_by_side(t: Mapping[str, str], recorded: Mapping[str, Any],
                  other: Mapping[str, Any]) -> list[str]:
    rows = [[t[c], str(recorded[c]), str(other[c])] for c in COUNT_COLUMNS]
    for target in ("first_response", "resolution"):
        short = t["fr"] if target == "first_response" else t["res"]
        for column in TARGET_COLUMNS:
            mine, theirs = recorded[target][column], other[target][column]
            if column.endswith("_minutes"):
                mine, theirs = _minutes(mine), _minutes(theirs)
            name = t.get(column.removesuffix("_minutes"), column)
            rows.append([f"{short}: {name}", str(mine), str(theirs)])
    rows.append([t["paused"], _minutes(recorded["paused_minutes"]), _minutes(other["paused_minutes"])])
    return _grid(["", t["recorded"], t["what_if_col"]], rows)
