"""Customer text stays text in the bridge's notes, on the real Redmine (issue 14, item 3).

A request whose fields carry links, images, HTML, macros, wiki and issue links, mentions
and 20 KB of links is refused; the issue page, as the admin sees it, must show the
refusal and the flags note with the customer's text as text. Redmine 5.0.4 (Debian)
offers all three formattings (redcarpet and commonmarker are installed), so each is
tested by switching Redmine's Setting.text_formatting for the page fetch; the shared
Redmine is always switched back.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from html.parser import HTMLParser

import pytest

from redmine_sla_bridge.adapters.redmine.admin_forms import AdminSession
from redmine_sla_bridge.domain.markup import as_data
from redmine_sla_bridge.service.process_issue import process_issue
from tests.conftest import base_document

pytestmark = pytest.mark.redmine

FLOOD = " ".join(f'"l{i}":http://evil/{i} [m{i}](http://evil/{i})' for i in range(250))
HOSTILE = {
    "contact_name": 'Ivan "n":http://evil/name',
    "contact_email": "[mail](http://evil/mail)@evil",
    "contact_phone": "<script>alert(1)</script>",
    "inn": "!http://evil/i.png! ![](http://evil/i2.png) #1 @admin [[Page]] " + FLOOD[:20_000],
    "product": '</notextile>"p":http://evil/p<notextile> <img src="http://evil/p.png">',
    "product_version": "{{include(Wiki)}} {{child_pages}} `code` commit:abc",
}
# The customer's own text, rendered by Redmine as the customer wrote it: live links
# here show that the page really is rendered in the formatting under test.
DESCRIPTION = ('Вы идиоты. "d":http://evil/d [d](http://evil/d) http://evil/bare\n\n'
               "{{include(Wiki)}}")
QUOTED = ("inn", "contact_email", "product", "product_version")
STRUCTURE = {"p", "br", "ul", "li", "wbr"}


class _Div(HTMLParser):
    """The inner HTML of the element with a given id."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=False)
        self.element_id, self.depth, self.parts = element_id, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "div"
            self.parts.append(self.get_starttag_text())
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= tag == "div"
            if self.depth:
                self.parts.append(f"</{tag}>")

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)

    def handle_entityref(self, name):
        self.handle_data(f"&{name};")

    def handle_charref(self, name):
        self.handle_data(f"&#{name};")


def inner_html(page: str, element_id: str) -> str:
    parser = _Div(element_id)
    parser.feed(page)
    assert parser.parts, f"no #{element_id} on the page"
    return "".join(parser.parts)


def visible(fragment: str) -> str:
    """The text a reader sees (a <wbr> is no space)."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r"</?wbr>", "", fragment))
    return " ".join(html.unescape(text).split())


@pytest.fixture(scope="module")
def switch_formatting(local_redmine):
    """Runs Ruby with Redmine's text formatting switched, and always switches back."""
    original = _ruby(local_redmine, "Setting.text_formatting")

    @contextlib.contextmanager
    def switched(name: str, ruby: str):
        if name == original:
            yield _ruby(local_redmine, ruby)
            return
        try:
            yield _ruby(local_redmine, f"Setting.text_formatting = {name!r}; {ruby}")
        finally:
            _ruby(local_redmine, f"Setting.text_formatting = {original!r}; 0")

    return switched


def _ruby(local_redmine, expression: str):
    out = local_redmine.runner(f'puts "RESULT:" + ({expression}).to_json')
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT:"))[7:])


@pytest.mark.parametrize("formatting", ["textile", "markdown", "common_mark"])
def test_hostile_values_show_as_text_in_the_refusal_and_the_flags_note(
        formatting, make_runtime, redmine, gateway, project, support_tracker, switch_formatting):
    document = base_document(redmine)
    document["redmine"]["text_formatting"] = formatting
    document["polling"] = {"enabled": False}
    document["intake"] = {
        "required": ["contact.name", "contact.email", "organization.inn", "product", "version",
                     "description"],
        "products": [{"name": "ИКС Стандарт"}],
    }
    rt = make_runtime(document)
    fields = rt.redmine.catalog.project_fields(project["identifier"])[1]
    issue = gateway.create_issue(project_id=project["id"], tracker_id=support_tracker,
                                 subject="Help [s](http://evil/s) idiot", description=DESCRIPTION,
                                 custom_fields=fields.payload(HOSTILE))
    outcome = process_issue(rt, issue["id"])
    assert outcome.action == "rejected"
    assert sorted(outcome.detail.split(", ")) == [
        "invalid_email", "invalid_inn", "unknown_version", "unsupported_product"]
    journals = [j for j in gateway.issue(issue["id"])["journals"] if j.get("notes")]
    refusal, flags = journals[-2:]
    assert (refusal["private_notes"], flags["private_notes"]) == (False, True)
    ids = [refusal["id"], flags["id"]]

    mentions = f"Journal.where(id: {ids}).map {{ |j| j.send(:scan_for_mentioned_users, j.notes) }}"
    with switch_formatting(formatting, mentions) as mentioned:
        page = AdminSession(redmine.url, redmine.admin_login, redmine.admin_password).page(
            f"/issues/{issue['id']}")
    assert mentioned == [[], []]  # nobody is pinged by the bridge's notes

    description = page[page.index('<div class="description">'):page.index('id="history"')]
    assert 'href="http://evil/' in description  # the customer's own text is live markup

    notes = {j: inner_html(page, f"journal-{j}-notes") for j in ids}
    for note in notes.values():
        # Only the note's own paragraphs, lines and lists: no link, image, script, code,
        # no Redmine wiki or issue link, mention or macro output; no attribute at all.
        tags = re.findall(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^>]*)>", note)
        assert {name.lower() for _, name, _ in tags} <= STRUCTURE, (formatting, note)
        assert not [attrs for _, _, attrs in tags if attrs.strip(" /")], (formatting, note)
        assert '<a href="http://evil' not in note and "<img" not in note and "<script" not in note
    shown = visible(notes[refusal["id"]])
    for key in QUOTED:
        assert as_data(HOSTILE[key]) in shown, (formatting, key, shown)
    assert "{{include(Wiki)}}" in shown  # the macro did not run
    assert "…" in shown and shown.count("evil/") < 20  # 20 KB (500 links) cut to 200 chars
    flagged = visible(notes[flags["id"]])
    assert "идиоты" in flagged and "idiot" in flagged
    assert as_data(HOSTILE["contact_phone"]) in flagged
