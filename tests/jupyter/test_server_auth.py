"""Every route of the extension refuses requests without the token, and the server finds no
handler method without an authentication rule."""

from __future__ import annotations

import re
import warnings

import pytest
import tornado.web
from jupyter_server.serverapp import JupyterServerAuthWarning
from tornado.httpclient import HTTPClientError
from tornado.routing import PathMatches, Rule

VERBS = ("get", "post", "put", "patch", "delete")


def _rules(router):
    for rule in getattr(router, "rules", []):
        target = rule.target
        if isinstance(target, type) and issubclass(target, tornado.web.RequestHandler):
            yield rule
        elif hasattr(target, "rules"):
            yield from _rules(target)


def workbench_routes(app):
    """(regex, handler class) of every route whose handler comes from workbench.jupyter."""
    out = []
    for rule in _rules(app.web_app.default_router):
        if isinstance(rule, Rule) and isinstance(rule.matcher, PathMatches) \
                and rule.target.__module__.startswith("workbench.jupyter"):
            out.append((rule.matcher.regex.pattern, rule.target))
    return out


def _url(pattern: str) -> str:
    """A concrete URL for a route's regex: each named group becomes a sample value."""
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: f"sample-{m.group(1)}", pattern)
    return url.rstrip("$")


def _implemented(handler) -> list[str]:
    return [v for v in VERBS if getattr(handler, v) is not getattr(tornado.web.RequestHandler, v)]


def test_the_routes_are_registered(jp_serverapp):
    patterns = {p for p, _ in workbench_routes(jp_serverapp)}
    names = {re.sub(r"^.*workbench/api/", "", p).rstrip("$") for p in patterns}
    assert names >= {"lake", "triage", "templates", "notebooks", "explore", "jobs"}
    assert any("/cancel" in n for n in names) and any("validate" in n for n in names)
    assert all("/workbench/api/" in p for p in patterns)


async def test_every_route_refuses_a_request_without_the_token(jp_serverapp, http_server_client, jp_auth_header):
    routes = workbench_routes(jp_serverapp)
    assert len(routes) >= 10
    checked = 0
    for pattern, handler in routes:
        for verb in _implemented(handler):
            url = _url(pattern)
            body = "{}" if verb in ("post", "put", "patch") else None
            # a valid XSRF cookie and header: a refusal can only come from the missing token
            headers = {"Cookie": "_xsrf=abc", "X-XSRFToken": "abc"}
            with pytest.raises(HTTPClientError) as err:
                await http_server_client.fetch(url, method=verb.upper(), body=body, headers=headers)
            assert err.value.code in (401, 403), (verb, url, err.value.code)
            # control: with the token the same request gets past authentication
            try:
                r = await http_server_client.fetch(url, method=verb.upper(), body=body,
                                                   headers={**headers, **jp_auth_header})
                code = r.code
            except HTTPClientError as exc:
                code = exc.code
            assert code not in (401, 403), (verb, url, code)
            checked += 1
    assert checked >= 11


def test_every_method_declares_authentication(jp_serverapp):
    for pattern, handler in workbench_routes(jp_serverapp):
        assert not jp_serverapp.web_app._check_handler_auth(pattern, handler), pattern


def test_no_auth_warning_when_unauthenticated_access_is_disallowed(jp_configurable_serverapp, jp_server_config):
    config = {**jp_server_config, "ServerApp": {**jp_server_config["ServerApp"],
                                                "allow_unauthenticated_access": False}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = jp_configurable_serverapp(config=config)
    assert app.allow_unauthenticated_access is False
    assert workbench_routes(app)
    auth = [w for w in caught if issubclass(w.category, JupyterServerAuthWarning)]
    assert not auth, [str(w.message) for w in auth]

    # the check can fail: an undecorated handler added the same way is reported
    class Open(tornado.web.RequestHandler):
        def get(self):
            self.finish("open")

    with pytest.warns(JupyterServerAuthWarning, match="Open"):
        app.web_app.add_handlers(".*$", [(r"/workbench-test-open", Open)])
