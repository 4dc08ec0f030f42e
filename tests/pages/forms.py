"""Posting the pages' forms in tests as a browser does: with the CSRF token of the page the form was on.

`PageClient` is a TestClient that remembers the token of the last HTML page it was shown and sends it with
every form it posts (unless the test gives one itself, or posts JSON): the check stays on, the helper only
carries what a browser would. `log_in` fills the login form and, like a browser, follows to the home page,
whose forms carry the new session's token.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]*)">')


def form_token(html: str) -> str | None:
    """The CSRF token the forms of a page carry (None: the page has no POST form)."""
    found = CSRF_INPUT.search(html)
    return found.group(1) if found else None


class PageClient(TestClient):
    """A TestClient that posts forms with the CSRF token of the last page it was shown (see the module)."""

    csrf_token: str | None = None

    def request(self, method: str, url: Any, **kwargs: Any):  # type: ignore[override]
        if method.upper() == "POST" and self.csrf_token and kwargs.get("json") is None and kwargs.get("content") is None:
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token)
            kwargs["data"] = data
        response = super().request(method, url, **kwargs)
        if "text/html" in response.headers.get("content-type", ""):
            token = form_token(response.text)
            if token:
                self.csrf_token = token
        return response


def log_in(client: TestClient, token: str, path: str = "/login"):
    """Open the login page, post the token with the page's CSRF token, and (logged in) open the home page; the login answer is returned."""
    page = client.get(path)
    answer = client.post(path, data={"token": token, "csrf_token": form_token(page.text) or ""}, follow_redirects=False)
    if answer.status_code == 303:
        client.get(client.base_url.join(answer.headers["location"]))  # the address as the server gave it, not under the base path
    return answer
