"""The SLA report as one self-contained HTML page: inline CSS, inline SVG charts, no script.

The input is the report's json document (schema `redmine-sla-bridge/report/1`, built by
`service.report`); the same page is the `report --format html` file and `/dashboard`.
The page fetches nothing: the machines it is opened on are often offline, and its
Content-Security-Policy refuses any fetch, so a mistake shows as a console error.

Every string of the report that came from a customer or an engineer (subjects, names,
products, contract terms) is data: Jinja2 escapes it (autoescape), and only http(s)
issue URLs become links. The charts' geometry is computed here and drawn by the
template, so the SVG gets the same escaping. Each bar is `<rect class="bar"
data-series=...>` inside `<svg class="chart" data-chart=...>`: one per data point and
series, zero-height when the value is 0, so the markup can be counted against the data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined

from redmine_sla_bridge.entrypoints.report_template import PAGE

SCHEMA = "redmine-sla-bridge/report/1"
TARGETS = ("first_response", "resolution")
OUTCOMES = ("met", "breached")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "SLA report",
        "period": "Period",
        "generated": "Generated",
        "filters": "Filters",
        "project": "project",
        "customer": "customer",
        "none": "none",
        "overview": "Overview",
        "charts": "Charts",
        "weekly_first_response": "First response by week",
        "weekly_resolution": "Resolution by week",
        "tier_first_response": "First response by tier",
        "tier_resolution": "Resolution by tier",
        "histogram": "First-response times against the target",
        "histogram_axis": "working time to the first response",
        "target": "target",
        "breaches_by_product": "Breaches by product",
        "no_data": "No data for this period.",
        "no_breaches": "No breaches in this period.",
        "met": "met",
        "breached": "breached",
        "open": "open",
        "at_risk": "at risk",
        "first_response": "First response",
        "resolution": "Resolution",
        "received": "Received",
        "accepted": "Accepted",
        "refused": "Refused",
        "queued": "Queued",
        "auto_closed": "Auto-closed",
        "reopened": "Reopened",
        "paused": "Paused",
        "median": "median",
        "p90": "p90",
        "compliance": "compliance",
        "refused_by_code": "Refused, by code",
        "code": "code",
        "count": "count",
        "by_customer": "By customer",
        "by_tier": "By tier",
        "by_priority": "By priority",
        "by_product": "By product",
        "by_week": "By week",
        "group": "",
        "breaches": "Breaches",
        "issue": "Issue",
        "subject": "Subject",
        "tier": "Tier",
        "priority": "Priority",
        "product": "Product",
        "target_col": "Target",
        "due": "Due",
        "assignee": "Assignee",
        "overdue": "Overdue (working time)",
        "contracts": "Contract customers",
        "contract": "Contract",
        "terms": "Terms",
        "cost": "Cost of this report",
        "cost_line": "{issues} issues read with {api_calls} API calls ({journal_reads} journal reads).",
        "minutes_h": "h",
        "minutes_m": "min",
        "from": "From",
        "to": "To",
        "show": "Show",
    },
    "ru": {
        "title": "Отчёт о соблюдении SLA",
        "period": "Период",
        "generated": "Сформирован",
        "filters": "Отбор",
        "project": "проект",
        "customer": "клиент",
        "none": "нет",
        "overview": "Итоги",
        "charts": "Графики",
        "weekly_first_response": "Первый ответ по неделям",
        "weekly_resolution": "Решение по неделям",
        "tier_first_response": "Первый ответ по уровням поддержки",
        "tier_resolution": "Решение по уровням поддержки",
        "histogram": "Время первого ответа и норматив",
        "histogram_axis": "рабочее время до первого ответа",
        "target": "норматив",
        "breaches_by_product": "Нарушения по продуктам",
        "no_data": "За этот период данных нет.",
        "no_breaches": "За этот период нарушений нет.",
        "met": "в срок",
        "breached": "нарушено",
        "open": "открыто",
        "at_risk": "под угрозой",
        "first_response": "Первый ответ",
        "resolution": "Решение",
        "received": "Получено",
        "accepted": "Принято",
        "refused": "Отклонено",
        "queued": "В очереди",
        "auto_closed": "Автозакрыто",
        "reopened": "Переоткрыто",
        "paused": "Пауза",
        "median": "медиана",
        "p90": "p90",
        "compliance": "соблюдение",
        "refused_by_code": "Отклонено, по кодам",
        "code": "код",
        "count": "число",
        "by_customer": "По клиентам",
        "by_tier": "По уровням поддержки",
        "by_priority": "По приоритетам",
        "by_product": "По продуктам",
        "by_week": "По неделям",
        "group": "",
        "breaches": "Нарушения",
        "issue": "Задача",
        "subject": "Тема",
        "tier": "Уровень",
        "priority": "Приоритет",
        "product": "Продукт",
        "target_col": "Норматив",
        "due": "Срок",
        "assignee": "Исполнитель",
        "overdue": "Просрочка (рабочее время)",
        "contracts": "Клиенты по договорам",
        "contract": "Договор",
        "terms": "Условия",
        "cost": "Стоимость отчёта",
        "cost_line": "Прочитано задач: {issues}, вызовов API: {api_calls} "
                     "(чтений журналов: {journal_reads}).",
        "minutes_h": "ч",
        "minutes_m": "мин",
        "from": "С",
        "to": "По",
        "show": "Показать",
    },
}

COLORS = {"met": "#2e7d32", "breached": "#c62828", "first_response": "#c62828",
          "resolution": "#ef6c00", "count": "#1565c0"}

LINE_COLORS = ("#000000", "#6a1b9a", "#00838f", "#5d4037", "#f9a825")

# Chart frame, in SVG user units (the SVG scales to the page's width).
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 54
MAX_BINS = 12
NICE_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440)


@dataclass(frozen=True)
class Bar:
    series: str
    key: str
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    color: str
    extra: Mapping[str, str] = field(default_factory=dict)  # more data-* attributes


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    minutes: int
    color: str


@dataclass
class Chart:
    name: str  # data-chart
    title: str
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (text, color)
    axis_title: str = ""
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice_ceiling(value: int) -> int:
    """A round top for a count axis (1, 2, 5 × 10^n), never below the value."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def _y_ticks(top: int) -> list[Tick]:
    """Whole-number ticks up to a `_nice_ceiling` top: 0..5 for 5, 0, 2, ..10 for 10,
    0, 5, ..20 for 20."""
    plot = HEIGHT - TOP - BOTTOM
    order = (4, 5, 2, 1) if str(top).startswith("2") else (5, 4, 2, 1)
    step = next(top // parts for parts in order if top % parts == 0)
    return [Tick(LEFT - 6, TOP + plot - plot * v / top, str(v)) for v in range(0, top + 1, step)]


def stacked_chart(name: str, title: str, categories: Sequence[tuple[str, str, Mapping[str, int]]],
                  series: Sequence[str], texts: Mapping[str, str]) -> Chart:
    """One stacked bar per category (`key`, `label`, value by series)."""
    chart = Chart(name, title, legend=[(texts.get(s, s), COLORS[s]) for s in series])
    if not categories:
        return chart
    top = _nice_ceiling(max(sum(values.get(s, 0) for s in series) for _, _, values in categories))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / len(categories)
    width = max(min(band * 0.7, 60.0), 1.0)
    every = max(1, math.ceil(len(categories) / 16))  # labels that still fit under the bars
    for index, (key, label, values) in enumerate(categories):
        x = LEFT + band * index + (band - width) / 2
        base = float(TOP + plot_h)
        for s in series:
            value = int(values.get(s, 0))
            height = plot_h * value / top
            base -= height
            chart.bars.append(Bar(s, key, label, value, round(x, 2), round(base, 2), round(width, 2),
                                  round(height, 2), COLORS[s]))
        if index % every == 0:
            chart.x_labels.append(Tick(round(x + width / 2, 2), HEIGHT - BOTTOM + 16, _short(label)))
    chart.y_ticks = _y_ticks(top)
    return chart


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _step(top: int) -> int:
    for step in NICE_STEPS:
        if top // step + 1 <= MAX_BINS:
            return step
    step = 1440
    while top // step + 1 > MAX_BINS:
        step *= 2
    return step


def histogram(times: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> Chart:
    """First-response minutes in equal bins, with a line at each tier's target."""
    chart = Chart("first_response_histogram", texts["histogram"],
                  legend=[(texts["first_response"], COLORS["count"])],
                  axis_title=texts["histogram_axis"])
    if not times:
        return chart
    targets: dict[int, list[str]] = {}
    for item in times:
        if item.get("target_minutes") is not None:
            tiers = targets.setdefault(int(item["target_minutes"]), [])
            tier = item.get("tier") or "-"
            if tier not in tiers:
                tiers.append(tier)
    top = max([int(t["minutes"]) for t in times] + list(targets))
    step = _step(top)
    counts = [0] * (top // step + 1)
    for item in times:
        counts[max(int(item["minutes"]), 0) // step] += 1
    span = step * len(counts)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_top = _nice_ceiling(max(counts))
    width = plot_w / len(counts)
    every = max(1, math.ceil(len(counts) / 8))
    for index, count in enumerate(counts):
        x = LEFT + width * index
        height = plot_h * count / y_top
        lo, hi = index * step, (index + 1) * step
        chart.bars.append(Bar("count", f"{lo}-{hi}", f"{_duration(lo, texts)}–{_duration(hi, texts)}",
                              count, round(x + 1, 2), round(TOP + plot_h - height, 2),
                              round(max(width - 2, 1), 2), round(height, 2), COLORS["count"],
                              {"from": str(lo), "to": str(hi)}))
        if index % every == 0:
            chart.x_labels.append(Tick(round(x, 2), HEIGHT - BOTTOM + 16, _duration(lo, texts)))
    for index, (minutes, tiers) in enumerate(sorted(targets.items())):
        x = round(LEFT + plot_w * minutes / span, 2)
        chart.lines.append(Line(x, TOP, x, TOP + plot_h,
                                f"{texts['target']} {', '.join(tiers)}: {_duration(minutes, texts)}",
                                minutes, LINE_COLORS[index % len(LINE_COLORS)]))
    chart.y_ticks = _y_ticks(y_top)
    return chart


def _duration(minutes: int | None, texts: Mapping[str, str]) -> str:
    if minutes is None:
        return "—"
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours} {texts['minutes_h']} {rest:02d} {texts['minutes_m']}"
    if hours:
        return f"{hours} {texts['minutes_h']}"
    return f"{rest} {texts['minutes_m']}"


def _target_categories(groups: Iterable[Mapping[str, Any]], target: str
                       ) -> list[tuple[str, str, Mapping[str, int]]]:
    return [(str(g["key"]), str(g["label"]),
             {o: int(g["summary"][target][o]) for o in OUTCOMES}) for g in groups]


def charts_of(report: Mapping[str, Any], texts: Mapping[str, str]) -> list[Chart]:
    charts = []
    for target in TARGETS:
        charts.append(stacked_chart(f"weekly_{target}", texts[f"weekly_{target}"],
                                    _target_categories(report["by_week"], target), OUTCOMES, texts))
    for target in TARGETS:
        charts.append(stacked_chart(f"tier_{target}", texts[f"tier_{target}"],
                                    _target_categories(report["by_tier"], target), OUTCOMES, texts))
    charts.append(histogram(report["first_response_times"], texts))
    products = [(str(g["key"]), str(g["label"]),
                 {t: int(g["summary"][t]["breached"]) for t in TARGETS}) for g in report["by_product"]]
    products = [p for p in products if sum(p[2].values())]
    products.sort(key=lambda p: -sum(p[2].values()))
    charts.append(stacked_chart("breaches_by_product", texts["breaches_by_product"], products,
                                TARGETS, texts))
    return charts


def _compliance(target: Mapping[str, Any]) -> str:
    decided = int(target["met"]) + int(target["breached"])
    return f"{100 * int(target['met']) / decided:.0f}%" if decided else "—"


def _link(url: Any) -> str | None:
    """Only an http(s) URL becomes a link: a report is data, never a script."""
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _local_time(value: Any, zone: ZoneInfo) -> str:
    if not isinstance(value, str):
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M")


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(PAGE)


def render(report: Mapping[str, Any], *, form: Mapping[str, str] | None = None) -> str:
    """The page of a report document (see the module's docstring). `form`: the live
    dashboard's period form, as the query-string values to fill it with (`action` is
    where it submits to, `token` goes back as a hidden field when the page was opened
    with one)."""
    if report.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} document (schema: {report.get('schema')!r})")
    language = report.get("language") if report.get("language") in TEXTS else "en"
    texts = TEXTS[str(language)]
    zone = _zone(report["period"].get("time_zone"))
    cost = report.get("cost") or {}
    return _TEMPLATE.render(
        r=report, t=texts, lang=language, charts=charts_of(report, texts), targets=TARGETS,
        duration=lambda m: _duration(m, texts), compliance=_compliance, link=_link,
        local_time=lambda v: _local_time(v, zone),
        cost_line=texts["cost_line"].format(issues=cost.get("issues", 0),
                                            api_calls=cost.get("api_calls", 0),
                                            journal_reads=cost.get("journal_reads", 0)),
        group_sections=[(k, texts[k], [(g["label"], g["summary"]) for g in report[k]])
                        for k in ("by_customer", "by_tier", "by_priority", "by_product", "by_week")],
        generated=_local_time(report.get("generated_at"), zone), form=form)
