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
        "auto_closed": "Закрыто автоматически",
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
        "cost_line": "Прочитано задач: {issues}, вызовов API: {api_calls} (чтений журналов: {journal_reads}).",
        "minutes_h": "ч",
        "minutes_m": "мин",
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
    magnitude = 10 ** int(math.floor(math.log10(value)))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def _y_ticks(top: int) -> list[Tick]:
    plot = HEIGHT - TOP - BOTTOM
    values = sorted({0, top // 2, top}) if top >= 2 else [0, top]
    return [Tick(LEFT - 6, TOP + plot - plot * v / top, str(v)) for v in values]


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
        base = TOP + plot_h
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


def render(report: Mapping[str, Any]) -> str:
    """The page of a report document (see the module's docstring)."""
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
        generated=_local_time(report.get("generated_at"), zone))


_TEMPLATE = _ENV.from_string("""\
<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{ t.title }} {{ r.period.from }} – {{ r.period.to }}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121;
       margin: 0 auto; max-width: 1280px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #ddd; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin: 0 0 2px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 5px; text-align: right; vertical-align: top; }
td { white-space: nowrap; } td.text { white-space: normal; min-width: 8em; }
th { background: #f5f5f5; font-weight: 600; }
td.text, th.text { text-align: left; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid #e0e0e0; padding: 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 10px; fill: #424242; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.empty { color: #757575; font-style: italic; }
.met { color: #2e7d32; } .breached { color: #c62828; }
section.contract { page-break-before: always; }
footer { margin-top: 28px; color: #555; font-size: 12px; border-top: 1px solid #ddd; padding-top: 6px; }
@media print { .charts { display: block; } figure { page-break-inside: avoid; margin-bottom: 8px; } }
</style>
</head>
<body>
{% macro summary_rows(label, s) %}
<tr><td class="text">{{ label }}</td><td>{{ s.received }}</td><td>{{ s.accepted }}</td><td>{{ s.refused }}</td>
<td>{{ s.queued }}</td><td>{{ s.auto_closed }}</td><td>{{ s.reopened }}</td>
{% for target in targets %}{% set x = s[target] %}
<td class="met">{{ x.met }}</td><td class="breached">{{ x.breached }}</td><td>{{ x.open }}</td><td>{{ x.at_risk }}</td>
<td>{{ compliance(x) }}</td><td>{{ duration(x.median_minutes) }}</td><td>{{ duration(x.p90_minutes) }}</td>
{% endfor %}<td>{{ duration(s.paused_minutes) }}</td></tr>
{% endmacro %}
{% macro summary_table(name, rows) %}
<div class="scroll"><table class="summary" data-table="{{ name }}">
<thead><tr><th rowspan="2" class="text"></th><th rowspan="2">{{ t.received }}</th><th rowspan="2">{{ t.accepted }}</th>
<th rowspan="2">{{ t.refused }}</th><th rowspan="2">{{ t.queued }}</th><th rowspan="2">{{ t.auto_closed }}</th>
<th rowspan="2">{{ t.reopened }}</th>{% for target in targets %}<th colspan="7">{{ t[target] }}</th>{% endfor %}
<th rowspan="2">{{ t.paused }}</th></tr>
<tr>{% for target in targets %}<th>{{ t.met }}</th><th>{{ t.breached }}</th><th>{{ t.open }}</th><th>{{ t.at_risk }}</th>
<th>{{ t.compliance }}</th><th>{{ t.median }}</th><th>{{ t.p90 }}</th>{% endfor %}</tr></thead>
<tbody>{% for label, s in rows %}{{ summary_rows(label, s) }}{% endfor %}</tbody>
</table></div>
{% endmacro %}
{% macro breach_table(name, breaches) %}
{% if breaches %}
<div class="scroll"><table class="breaches" data-table="{{ name }}">
<thead><tr><th>{{ t.issue }}</th><th class="text">{{ t.subject }}</th><th class="text">{{ t.customer|capitalize }}</th>
<th class="text">{{ t.tier }}</th><th class="text">{{ t.priority }}</th><th class="text">{{ t.product }}</th>
<th class="text">{{ t.target_col }}</th><th>{{ t.due }}</th><th class="text">{{ t.assignee }}</th><th>{{ t.overdue }}</th></tr></thead>
<tbody>
{% for b in breaches %}
<tr class="breach" data-issue="{{ b.issue }}">
<td>{% if link(b.url) %}<a href="{{ link(b.url) }}">#{{ b.issue }}</a>{% else %}#{{ b.issue }}{% endif %}</td>
<td class="text">{{ b.subject }}</td><td class="text">{{ b.customer or "—" }}</td><td class="text">{{ b.tier or "—" }}</td>
<td class="text">{{ b.priority or "—" }}</td><td class="text">{{ b.product or "—" }}</td>
<td class="text">{{ t[b.target] if b.target in targets else b.target }}</td><td>{{ local_time(b.due) }}</td>
<td class="text">{{ b.assignee or "—" }}</td><td>{{ duration(b.overdue_minutes) }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}<p class="empty">{{ t.no_breaches }}</p>{% endif %}
{% endmacro %}
<header>
<h1>{{ t.title }}</h1>
<p class="meta">{{ t.period }}: {{ r.period.from }} – {{ r.period.to }} ({{ r.period.time_zone }})</p>
<p class="meta">{{ t.filters }}: {{ t.project }} {{ r.filters.project or t.none }}, {{ t.customer }} {{ r.filters.customer or t.none }}</p>
<p class="meta">{{ t.generated }}: {{ generated }}</p>
</header>

<h2>{{ t.overview }}</h2>
{{ summary_table("overall", [("", r.overall)]) }}
{% if r.overall.refused_by_code %}
<h3>{{ t.refused_by_code }}</h3>
<table data-table="refused_by_code"><thead><tr><th class="text">{{ t.code }}</th><th>{{ t.count }}</th></tr></thead><tbody>
{% for code, n in r.overall.refused_by_code|dictsort %}<tr><td class="text">{{ code }}</td><td>{{ n }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}

<h2>{{ t.charts }}</h2>
<div class="charts">
{% for c in charts %}
<figure data-figure="{{ c.name }}">
<figcaption>{{ c.title }}</figcaption>
<div class="legend">{% for text, color in c.legend %}<span><i style="background: {{ color }}"></i>{{ text }}</span>{% endfor %}
{% for l in c.lines %}<span><i style="background: {{ l.color }}"></i>{{ l.label }}</span>{% endfor %}</div>
{% if c.empty %}<p class="empty">{{ t.no_breaches if c.name == "breaches_by_product" else t.no_data }}</p>{% endif %}
<svg class="chart" data-chart="{{ c.name }}" viewBox="0 0 {{ c.width }} {{ c.height }}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{{ c.title }}">
<g class="axis">
<line x1="{{ 44 }}" y1="{{ c.height - 54 }}" x2="{{ c.width - 12 }}" y2="{{ c.height - 54 }}" stroke="#9e9e9e"/>
{% for tick in c.y_ticks %}<text x="{{ tick.x }}" y="{{ tick.y + 3 }}" text-anchor="end">{{ tick.text }}</text>
<line x1="44" y1="{{ tick.y }}" x2="{{ c.width - 12 }}" y2="{{ tick.y }}" stroke="#eeeeee"/>{% endfor %}
{% for tick in c.x_labels %}<text x="{{ tick.x }}" y="{{ tick.y }}" text-anchor="{{ 'start' if c.lines or c.name == 'first_response_histogram' else 'middle' }}">{{ tick.text }}</text>{% endfor %}
{% if c.axis_title %}<text x="{{ c.width / 2 }}" y="{{ c.height - 14 }}" text-anchor="middle">{{ c.axis_title }}</text>{% endif %}
</g>
<g class="bars">
{% for b in c.bars %}<rect class="bar" data-series="{{ b.series }}" data-key="{{ b.key }}" data-value="{{ b.value }}"{% for k, v in b.extra.items() %} data-{{ k }}="{{ v }}"{% endfor %} x="{{ b.x }}" y="{{ b.y }}" width="{{ b.width }}" height="{{ b.height }}" fill="{{ b.color }}"><title>{{ b.label }}: {{ t[b.series] if b.series in t else b.series }} {{ b.value }}</title></rect>
{% endfor %}
</g>
{% for l in c.lines %}<g class="target-line" data-minutes="{{ l.minutes }}"><line x1="{{ l.x1 }}" y1="{{ l.y1 }}" x2="{{ l.x2 }}" y2="{{ l.y2 }}" stroke="{{ l.color }}" stroke-width="2" stroke-dasharray="5 3"/><title>{{ l.label }}</title></g>
{% endfor %}
</svg>
</figure>
{% endfor %}
</div>

{% for name, title, rows in group_sections %}
{% if rows %}
<h2>{{ title }}</h2>
{{ summary_table(name, rows) }}
{% endif %}
{% endfor %}

<h2>{{ t.breaches }}</h2>
{{ breach_table("breaches", r.breaches) }}

{% if r.contracts %}
<h2>{{ t.contracts }}</h2>
{% for k in r.contracts %}
<section class="contract" data-customer="{{ k.customer }}">
<h3>{{ k.label }}{% if k.contract %} · {{ t.contract }} {{ k.contract }}{% endif %}</h3>
{% if k.terms %}
<table data-table="terms"><thead><tr><th class="text" colspan="2">{{ t.terms }}</th></tr></thead><tbody>
{% for name, value in k.terms.items() %}<tr><td class="text">{{ name }}</td><td class="text">{{ value }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}
{{ summary_table("contract", [("", k.summary)]) }}
{{ breach_table("contract_breaches", k.breaches) }}
</section>
{% endfor %}
{% endif %}

<footer>{{ t.cost }}: {{ cost_line }}</footer>
</body>
</html>
""")
