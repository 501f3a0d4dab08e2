"""The admin forms when Redmine does not answer: a clear error for the CLI, never a
traceback; a page is asked again, a form post never (it may have been applied)."""

from __future__ import annotations

import pytest
import requests
import responses

from redmine_sla_bridge.adapters.redmine.admin_forms import GET_ATTEMPTS, AdminFormError, AdminSession

URL = "http://redmine.invalid"


@responses.activate
def test_a_page_that_times_out_is_asked_again_then_named_in_the_error():
    responses.get(URL + "/login", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(AdminFormError, match=r"GET /login: Redmine did not answer"):
        AdminSession(URL, "admin", "secret").login()
    assert len(responses.calls) == GET_ATTEMPTS


@responses.activate
def test_a_form_post_that_times_out_is_not_sent_twice():
    responses.get(URL + "/login", body='<input name="authenticity_token" value="t">')
    responses.post(URL + "/login", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(AdminFormError, match=r"POST /login: Redmine did not answer .*again"):
        AdminSession(URL, "admin", "secret").login()
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]


@responses.activate
def test_a_failing_redmine_is_not_taken_for_a_wrong_password():
    responses.get(URL + "/login", body='<input name="authenticity_token" value="t">')
    responses.post(URL + "/login", status=500)
    with pytest.raises(AdminFormError, match=r"HTTP 500 \(Redmine failed"):
        AdminSession(URL, "admin", "secret").login()
