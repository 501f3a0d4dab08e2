# ruff: noqa: E501  (HTML lines are as long as the markup needs)
"""The Jinja2 template of the HTML report (`report_html`), rendered with autoescape: every
value put in it is escaped unless it is markup the renderer made itself."""

PAGE = """\
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
       margin: 0 auto; max-width: 1440px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #ddd; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin: 0 0 2px; }
form.period { margin: 8px 0; } form.period label { margin-right: 10px; }
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
{% if form is not none %}
<form class="period" method="get" action="{{ form.action }}">
<label>{{ t.from }} <input type="date" name="from" value="{{ r.period.from }}" required></label>
<label>{{ t.to }} <input type="date" name="to" value="{{ r.period.to }}" required></label>
<label>{{ t.project }} <input type="text" name="project" value="{{ form.project or '' }}" size="12"></label>
<label>{{ t.customer }} <input type="text" name="customer" value="{{ form.customer or '' }}" size="14"></label>
{% if form.token %}<input type="hidden" name="token" value="{{ form.token }}">{% endif %}
<button type="submit">{{ t.show }}</button>
</form>
{% endif %}
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
"""
