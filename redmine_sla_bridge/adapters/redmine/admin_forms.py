"""Redmine's admin web forms, for what the REST API cannot do: create custom fields,
roles, field permissions and saved queries.

Redmine 5 accepts API authentication for none of these (CustomFieldsController and
QueriesController only for `index`), so provisioning logs in as an administrator like a
browser would: a session cookie plus the form's `authenticity_token`. What the REST API
shows is read through it; the rest (a field's description and projects, field
permissions, a query's definition) is read back from the same forms.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass

import requests

_TOKEN = re.compile(r'name="authenticity_token" value="([^"]+)"')
_ERRORS = re.compile(r"<div id='errorExplanation'><ul>(.*?)</ul></div>", re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)
_FOR_ALL = re.compile(r'<input[^>]*type="checkbox"[^>]*name="custom_field\[is_for_all\]"[^>]*>')
_PROJECT = re.compile(r'<input[^>]*name="custom_field\[project_ids\]\[\]"[^>]*>')
_VALUE = re.compile(r'value="(\d+)"')
_DESCRIPTION = re.compile(
    r'<textarea[^>]*name="custom_field\[description\]"[^>]*>(.*?)</textarea>', re.S)


class AdminFormError(Exception):
    pass


GET_ATTEMPTS = 3


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
    visible: bool = True  # False: only the roles in role_ids see it
    role_ids: tuple[int, ...] = ()

    def form_data(self) -> list[tuple[str, str]]:
        data = [
            ("type", "IssueCustomField"),
            ("custom_field[field_format]", self.field_format),
            ("custom_field[name]", self.name),
            ("custom_field[description]", self.description),
            ("custom_field[is_filter]", "1" if self.is_filter else "0"),
            ("custom_field[searchable]", "1" if self.searchable else "0"),
            ("custom_field[visible]", "1" if self.visible else "0"),
            ("custom_field[is_required]", "0"),
            ("custom_field[is_for_all]", "1" if self.for_all_projects else "0"),
            # Rails drops an empty array unless an empty member is sent.
            ("custom_field[tracker_ids][]", ""),
            ("custom_field[project_ids][]", ""),
            ("custom_field[role_ids][]", ""),
        ]
        if self.field_format == "list":
            data.append(("custom_field[possible_values]", "\n".join(self.possible_values)))
        data += [("custom_field[tracker_ids][]", str(t)) for t in self.tracker_ids]
        data += [("custom_field[project_ids][]", str(p)) for p in self.project_ids]
        if not self.visible:
            data += [("custom_field[role_ids][]", str(r)) for r in self.role_ids]
        return data


@dataclass(frozen=True)
class FieldDetails:
    """What only a custom field's edit form tells: the REST API shows none of it."""

    description: str
    for_all_projects: bool
    project_ids: frozenset[int]


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
        # A second login would replace the first one's session under a running thread.
        self._login_lock = threading.Lock()

    def page(self, path: str, params: dict[str, str] | list[tuple[str, str]] | None = None) -> str:
        """An admin page's HTML (logged in first)."""
        self.login()
        response = self._get(path, params=params, allow_redirects=False)
        if response.status_code != 200:
            raise AdminFormError(f"GET {path}: HTTP {response.status_code}")
        return response.text

    def _token(self, path: str) -> str:
        response = self._get(path)
        if response.status_code != 200:
            raise AdminFormError(f"GET {path}: HTTP {response.status_code}")
        match = _TOKEN.search(response.text)
        if not match:
            raise AdminFormError(f"no authenticity_token on {path}")
        return html.unescape(match.group(1))

    def _get(self, path: str, **kwargs) -> requests.Response:
        """A page, asked again when Redmine does not answer in time (a GET changes
        nothing); a clear error, never a traceback, when it still does not."""
        for attempt in range(GET_ATTEMPTS):
            try:
                return self._http.get(self.url + path, timeout=self._timeout, **kwargs)
            except requests.RequestException as exc:
                if attempt == GET_ATTEMPTS - 1:
                    raise AdminFormError(f"GET {path}: Redmine did not answer ({exc})") from None
        raise AssertionError("unreachable")

    def _post(self, path: str, **kwargs) -> requests.Response:
        # Not repeated: a form post that timed out may have been applied (a second field).
        try:
            return self._http.post(self.url + path, timeout=self._timeout, **kwargs)
        except requests.RequestException as exc:
            raise AdminFormError(f"POST {path}: Redmine did not answer ({exc}); run `provision` "
                                 f"again, it plans from what Redmine has") from None

    def login(self) -> None:
        with self._login_lock:
            self._login_once()

    def _login_once(self) -> None:
        if self._logged_in:
            return
        token = self._token("/login")
        response = self._post(
            "/login",
            data={"authenticity_token": token, "username": self._login, "password": self._password},
            allow_redirects=False,
        )
        if response.status_code >= 500:
            raise AdminFormError(f"POST /login: HTTP {response.status_code} (Redmine failed; "
                                 f"try again)")
        if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
            raise AdminFormError("Redmine refused the admin login (wrong login or password?)")
        # A non-admin gets 403 on the admin pages: say so now, not after a half-done run.
        probe = self._get("/custom_fields", allow_redirects=False)
        if probe.status_code != 200:
            raise AdminFormError(
                f"the login works but cannot open Administration > Custom fields "
                f"(HTTP {probe.status_code}): the account must be a Redmine administrator"
            )
        self._logged_in = True

    def submit(self, path: str, form_page: str, data: list[tuple[str, str]]) -> None:
        """Post a form as the browser would after opening `form_page`; a redirect is
        Redmine's success, a page with an error box its refusal."""
        self.login()
        token = self._token(form_page)
        response = self._post(
            path,
            data=[("authenticity_token", token), *data],
            allow_redirects=False,
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

    def field_details(self, field_id: int) -> FieldDetails:
        """Description (where the bridge's marker is) and projects of a field, read from
        its edit form: an update must never narrow the projects."""
        page = self.page(f"/custom_fields/{int(field_id)}/edit")
        for_all = any("checked" in tag for tag in _FOR_ALL.findall(page))
        projects = frozenset(int(value.group(1)) for tag in _PROJECT.findall(page)
                             if "checked" in tag and (value := _VALUE.search(tag)))
        found = _DESCRIPTION.search(page)
        # Rails writes a newline after <textarea>, which the browser drops.
        description = html.unescape(found.group(1)).removeprefix("\n") if found else ""
        return FieldDetails(description.replace("\r\n", "\n").strip(), for_all, projects)

    def create_custom_field(self, form: CustomFieldForm) -> None:
        try:
            self.submit("/custom_fields", "/custom_fields/new?type=IssueCustomField",
                         form.form_data())
        except AdminFormError as exc:
            raise AdminFormError(f"creating custom field {form.name!r}: {exc}") from None

    def update_custom_field(self, field_id: int, form: CustomFieldForm) -> None:
        data = [("_method", "patch"), *[(k, v) for k, v in form.form_data() if k != "type"]]
        # The format of an existing field cannot change; Redmine ignores it on update.
        data = [(k, v) for k, v in data if k != "custom_field[field_format]"]
        try:
            self.submit(f"/custom_fields/{int(field_id)}", f"/custom_fields/{int(field_id)}/edit",
                         data)
        except AdminFormError as exc:
            raise AdminFormError(f"updating custom field {form.name!r}: {exc}") from None

    def delete_custom_field(self, field_id: int) -> None:
        self.submit(f"/custom_fields/{int(field_id)}", f"/custom_fields/{int(field_id)}/edit",
                    [("_method", "delete")])

    def create_role(self, name: str, permissions: tuple[str, ...], *,
                    copy_workflow_from: int | None = None) -> None:
        """A role that sees all issues (Administration > Roles and permissions > New role)."""
        data = [("role[name]", name), ("role[assignable]", "0"),
                ("role[issues_visibility]", "all"), ("role[time_entries_visibility]", "all"),
                ("role[users_visibility]", "all"), ("role[permissions][]", ""),
                *[("role[permissions][]", p) for p in permissions],
                ("copy_workflow_from", str(copy_workflow_from or ""))]
        try:
            self.submit("/roles", "/roles/new", data)
        except AdminFormError as exc:
            raise AdminFormError(f"creating role {name!r}: {exc}") from None

    def delete_role(self, role_id: int) -> None:
        self.submit(f"/roles/{int(role_id)}", f"/roles/{int(role_id)}/edit", [("_method", "delete")])
