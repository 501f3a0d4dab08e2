"""Redmine's admin web forms, for what the REST API cannot do (create custom fields).

Redmine 5's CustomFieldsController accepts API authentication for `index` only, so
provisioning logs in as an administrator like a browser would: a session cookie plus the
form's `authenticity_token`. Reads still go through the REST API (HTTP basic auth with
the same login), which is how every change made here is verified.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import requests

_TOKEN = re.compile(r'name="authenticity_token" value="([^"]+)"')
_ERRORS = re.compile(r"<div id='errorExplanation'><ul>(.*?)</ul></div>", re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)
_FOR_ALL = re.compile(r'<input[^>]*type="checkbox"[^>]*name="custom_field\[is_for_all\]"[^>]*>')
_PROJECT = re.compile(r'<input[^>]*name="custom_field\[project_ids\]\[\]"[^>]*>')
_VALUE = re.compile(r'value="(\d+)"')


class AdminFormError(Exception):
    pass


@dataclass(frozen=True)
class CustomFieldForm:
    """The values the bridge sets on an issue custom field."""

    name: str
    field_format: str  # "list" or "string"
    possible_values: tuple[str, ...] = ()
    tracker_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    for_all_projects: bool = True
    is_filter: bool = True
    searchable: bool = False
    description: str = ""

    def form_data(self) -> list[tuple[str, str]]:
        data = [
            ("type", "IssueCustomField"),
            ("custom_field[field_format]", self.field_format),
            ("custom_field[name]", self.name),
            ("custom_field[description]", self.description),
            ("custom_field[is_filter]", "1" if self.is_filter else "0"),
            ("custom_field[searchable]", "1" if self.searchable else "0"),
            ("custom_field[visible]", "1"),
            ("custom_field[is_required]", "0"),
            ("custom_field[is_for_all]", "1" if self.for_all_projects else "0"),
            # Rails drops an empty array unless an empty member is sent.
            ("custom_field[tracker_ids][]", ""),
            ("custom_field[project_ids][]", ""),
        ]
        if self.field_format == "list":
            data.append(("custom_field[possible_values]", "\n".join(self.possible_values)))
        data += [("custom_field[tracker_ids][]", str(t)) for t in self.tracker_ids]
        data += [("custom_field[project_ids][]", str(p)) for p in self.project_ids]
        return data


class AdminSession:
    def __init__(self, url: str, login: str, password: str, *, timeout: float = 30.0,
                 verify_tls: bool = True) -> None:
        self.url = url.rstrip("/")
        self._login = login
        self._password = password
        self._timeout = timeout
        self._http = requests.Session()
        self._http.verify = verify_tls
        self._logged_in = False

    def _token(self, path: str) -> str:
        response = self._http.get(self.url + path, timeout=self._timeout)
        response.raise_for_status()
        match = _TOKEN.search(response.text)
        if not match:
            raise AdminFormError(f"no authenticity_token on {path}")
        return html.unescape(match.group(1))

    def login(self) -> None:
        if self._logged_in:
            return
        token = self._token("/login")
        response = self._http.post(
            self.url + "/login",
            data={"authenticity_token": token, "username": self._login, "password": self._password},
            allow_redirects=False,
            timeout=self._timeout,
        )
        if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
            raise AdminFormError("Redmine refused the admin login (wrong login or password?)")
        # A non-admin gets 403 on the admin pages: say so now, not after a half-done run.
        probe = self._http.get(self.url + "/custom_fields", timeout=self._timeout,
                               allow_redirects=False)
        if probe.status_code != 200:
            raise AdminFormError(
                f"the login works but cannot open Administration > Custom fields "
                f"(HTTP {probe.status_code}): the account must be a Redmine administrator"
            )
        self._logged_in = True

    def _submit(self, path: str, form_page: str, data: list[tuple[str, str]]) -> None:
        self.login()
        token = self._token(form_page)
        response = self._http.post(
            self.url + path,
            data=[("authenticity_token", token), *data],
            allow_redirects=False,
            timeout=self._timeout,
        )
        if response.status_code == 302:
            return
        errors = _ERRORS.search(response.text)
        detail = (
            "; ".join(html.unescape(i).strip() for i in _ITEM.findall(errors.group(1)))
            if errors
            else f"HTTP {response.status_code}"
        )
        raise AdminFormError(detail)

    def field_projects(self, field_id: int) -> tuple[bool, frozenset[int]]:
        """(for all projects?, the projects it is enabled in), read from its edit form:
        the REST API tells neither, and an update must never narrow them."""
        self.login()
        page = self._http.get(f"{self.url}/custom_fields/{int(field_id)}/edit",
                              timeout=self._timeout).text
        for_all = any("checked" in tag for tag in _FOR_ALL.findall(page))
        projects = frozenset(int(value.group(1)) for tag in _PROJECT.findall(page)
                             if "checked" in tag and (value := _VALUE.search(tag)))
        return for_all, projects

    def create_custom_field(self, form: CustomFieldForm) -> None:
        try:
            self._submit("/custom_fields", "/custom_fields/new?type=IssueCustomField",
                         form.form_data())
        except AdminFormError as exc:
            raise AdminFormError(f"creating custom field {form.name!r}: {exc}") from None

    def update_custom_field(self, field_id: int, form: CustomFieldForm) -> None:
        data = [("_method", "patch"), *[(k, v) for k, v in form.form_data() if k != "type"]]
        # The format of an existing field cannot change; Redmine ignores it on update.
        data = [(k, v) for k, v in data if k != "custom_field[field_format]"]
        try:
            self._submit(f"/custom_fields/{int(field_id)}", f"/custom_fields/{int(field_id)}/edit",
                         data)
        except AdminFormError as exc:
            raise AdminFormError(f"updating custom field {form.name!r}: {exc}") from None

    def delete_custom_field(self, field_id: int) -> None:
        self._submit(f"/custom_fields/{int(field_id)}", f"/custom_fields/{int(field_id)}/edit",
                     [("_method", "delete")])
