"""The HTML report: one bar per data point and series, customer text escaped, both
languages, nothing fetched. Parsed with the standard library's HTML parser, so the
counts are of elements, not of substrings."""

from __future__ import annotations

import copy
import itertools
from html.parser import HTMLParser

import pytest

from redmine_sla_bridge.entrypoints.report_html import TEXTS, render
from tests.report_sample import HOSTILE, group, sample_report


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.stack: list[str] = []
        self.charts: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg" and attributes.get("data-chart"):
            self.charts.append(attributes["data-chart"] or "")
        self.elements.append((tag, attributes, tuple(self.charts[-1:])))
        if tag not in ("meta", "link", "line", "rect", "br", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def bars(self, chart: str, series: str | None = None) -> list[dict[str, str | None]]:
        return [a for tag, a, where in self.elements
                if tag == "rect" and "bar" in (a.get("class") or "").split() and where == (chart,)
                and (series is None or a.get("data-series") == series)]


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("weeks", [1, 5, 14])
def test_one_bar_per_week_and_outcome_in_each_weekly_chart(weeks):
    report = sample_report(weeks=weeks)
    page = parse(render(report))
    for target in ("first_response", "resolution"):
        for outcome in ("met", "breached"):
            bars = page.bars(f"weekly_{target}", outcome)
            assert [b["data-key"] for b in bars] == [w["key"] for w in report["by_week"]]
            assert [int(b["data-value"] or 0) for b in bars] == [
                w["summary"][target][outcome] for w in report["by_week"]]


def test_bars_by_tier_and_breaches_by_product_follow_the_data():
    report = sample_report()
    page = parse(render(report))
    for target in ("first_response", "resolution"):
        assert len(page.bars(f"tier_{target}", "met")) == len(report["by_tier"]) == 3
        assert len(page.bars(f"tier_{target}", "breached")) == 3
    # Only products with a breach, the most breached first.
    products = page.bars("breaches_by_product", "first_response")
    assert [b["data-key"] for b in products] == ["a", "b"]
    assert [b["data-value"] for b in page.bars("breaches_by_product", "resolution")] == ["1", "0"]


def test_a_bar_is_as_tall_as_its_value_on_a_shared_scale():
    page = parse(render(sample_report(weeks=5)))
    bars = page.bars("weekly_first_response", "met")
    heights = [float(b["height"] or 0) for b in bars]
    values = [int(b["data-value"] or 0) for b in bars]
    assert values == [1, 2, 3, 4, 5]
    unit = heights[0] / values[0]
    assert heights == pytest.approx([v * unit for v in values])


def test_the_histogram_counts_every_first_response_once_with_a_line_per_target():
    report = sample_report()
    page = parse(render(report))
    bins = page.bars("first_response_histogram", "count")
    assert sum(int(b["data-value"] or 0) for b in bins) == len(report["first_response_times"])
    edges = [(int(b["data-from"] or 0), int(b["data-to"] or 0)) for b in bins]
    assert all(lo < hi for lo, hi in edges) and all(a[1] == b[0] for a, b in itertools.pairwise(edges))
    for item in report["first_response_times"]:  # each time falls in a bin
        assert any(lo <= item["minutes"] < hi for lo, hi in edges)
    lines = [a for tag, a, where in page.elements
             if tag == "g" and a.get("class") == "target-line" and where == ("first_response_histogram",)]
    assert sorted(int(a["data-minutes"] or 0) for a in lines) == [60, 240]


def test_customer_text_is_escaped_everywhere_and_only_http_links_are_links():
    report = sample_report()
    page = render(report)
    assert "<script" not in page
    assert "<b>bold</b>" not in page and "<i>" not in page and "<A>" not in page
    assert "&lt;script&gt;" in page and "Ivan &lt;Petrov&gt;" in page
    parsed = parse(page)
    assert HOSTILE in "".join(parsed.text)  # shown as the text it is
    links = [a.get("href") for tag, a, _ in parsed.elements if tag == "a"]
    assert links == ["http://redmine.example/issues/101", "http://redmine.example/issues/101"]
    assert "javascript:" not in page.replace("javascript:alert(1)", "")  # not even as an attribute
    assert "href=\"javascript" not in page


def test_nothing_is_fetched_from_anywhere():
    page = render(sample_report())
    parsed = parse(page)
    for tag, attributes, _ in parsed.elements:
        for name in ("src", "href"):
            value = attributes.get(name)
            if value and tag != "a":
                assert value.startswith("data:"), (tag, name, value)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_page_speaks_the_reports_language(language):
    page = render(sample_report(language))
    assert f'<html lang="{language}">' in page
    texts = TEXTS[language]
    for key in ("title", "weekly_first_response", "histogram", "breaches", "contracts"):
        assert texts[key] in page
    other = TEXTS["en" if language == "ru" else "ru"]
    assert other["weekly_first_response"] not in page and other["breaches"] not in page


def test_both_languages_have_every_text():
    assert TEXTS["ru"].keys() == TEXTS["en"].keys()


def test_a_contract_customer_has_its_own_section_with_terms_and_breaches():
    report = sample_report()
    parsed = parse(render(report))
    sections = [a for tag, a, _ in parsed.elements if tag == "section" and a.get("class") == "contract"]
    assert [s["data-customer"] for s in sections] == ["7707083893"]
    assert "AS-4/2026 <1>" in "".join(parsed.text) and "1 h <working>" in "".join(parsed.text)
    rows = [a for tag, a, _ in parsed.elements if tag == "tr" and a.get("class") == "breach"]
    assert [r["data-issue"] for r in rows] == ["101", "102", "101"]  # the list, then the contract's


def test_an_empty_period_renders_with_no_bars_and_says_so():
    report = sample_report(weeks=1)
    empty = copy.deepcopy(report)
    empty.update(by_tier=[], by_product=[], breaches=[], first_response_times=[], contracts=[],
                 by_week=[group("2026-W45", "2026-11-02", (0, 0), (0, 0))])
    page = render(empty)
    parsed = parse(page)
    assert len(parsed.bars("weekly_first_response", "met")) == 1
    assert parsed.bars("first_response_histogram") == [] and parsed.bars("tier_resolution") == []
    assert TEXTS["en"]["no_breaches"] in page and TEXTS["en"]["no_data"] in page


def test_a_document_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="not a redmine-sla-bridge/report/1 document"):
        render({"schema": "something/else"})


def test_the_report_file_has_no_form_and_form_values_are_escaped():
    assert "<form" not in render(sample_report())
    page = render(sample_report(), form={"action": "/dashboard", "project": "", "customer": '"><b>x',
                                         "token": ""})
    assert 'value="&#34;&gt;&lt;b&gt;x"' in page and "<b>x" not in page


@pytest.mark.parametrize("top, ticks", [(1, [0, 1]), (2, [0, 1, 2]), (5, [0, 1, 2, 3, 4, 5]),
                                        (20, [0, 5, 10, 15, 20]), (1000, [0, 200, 400, 600, 800, 1000])])
def test_count_axes_have_whole_number_ticks(top, ticks):
    from redmine_sla_bridge.entrypoints.report_html import _y_ticks

    assert [int(t.text) for t in _y_ticks(top)] == ticks
