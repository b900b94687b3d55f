"""The console function over HTTP: files, content types, the single-page fallback, caching and the CSP."""

from __future__ import annotations

import http.client
import importlib.util
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from switchboard.core.settings import SettingsError
from tests.integration.conftest import RunningStack

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def header(answer, name: str) -> str:
    return next((v for k, v in answer.headers.items() if k.lower() == name.lower()), "")


def test_pages_and_modules_are_served_with_their_content_types_and_a_strict_csp(local_stack: RunningStack) -> None:
    for path, content_type in (("/console/", "text/html"), ("/console/lib/app.js", "text/javascript"),
                               ("/console/console.css", "text/css"), ("/console/icon.svg", "image/svg+xml")):
        answer = local_stack.request("GET", path)
        assert answer.status == 200, path
        assert header(answer, "Content-Type").startswith(content_type), path
        policy = header(answer, "Content-Security-Policy")
        assert "default-src 'none'" in policy and "script-src 'self';" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy and "require-trusted-types-for 'script'" in policy
        assert header(answer, "X-Content-Type-Options") == "nosniff"
        assert header(answer, "Cache-Control") == "no-cache" and header(answer, "ETag")


def test_app_routes_get_index_html_with_the_stage_base_and_unknown_files_404(local_stack: RunningStack) -> None:
    page = local_stack.request("GET", "/local/console/inbox/01ABC/%2B14155550100")
    assert page.status == 200 and b'<base href="/local/console/">' in page.body

    assert local_stack.request("GET", "/console/pages/nothing.js").status == 404
    connection = http.client.HTTPConnection(urlsplit(local_stack.gateway_url).netloc, timeout=30)
    connection.request("GET", "/local/console")  # urllib would follow the redirect
    moved = connection.getresponse()
    assert moved.status == 301 and moved.getheader("Location") == "/local/console/"
    connection.close()


def test_an_unchanged_file_is_revalidated_with_its_etag(local_stack: RunningStack) -> None:
    first = local_stack.request("GET", "/console/lib/app.js")
    again = local_stack.request("GET", "/console/lib/app.js", headers={"If-None-Match": header(first, "ETag")})
    assert again.status == 304 and again.body == b""


def test_config_says_local_sign_in_and_where_the_carrier_sandbox_is(local_stack: RunningStack) -> None:
    answer = local_stack.request("GET", "/console/config.json")
    config = json.loads(answer.body)
    assert header(answer, "Cache-Control") == "no-store"
    assert config["auth"] == {"mode": "local", "cognito_url": "/local/cognito"}
    assert config["sandbox_url"] == local_stack.carrier_sandbox_url
    assert local_stack.carrier_sandbox_url in header(answer, "Content-Security-Policy")


def console_module() -> Any:
    spec = importlib.util.spec_from_file_location("console_app", ROOT / "functions" / "console" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deployed_config_uses_cognito_and_the_csp_lets_the_console_reach_it() -> None:
    app = console_module()
    domain = "switchboard-prod-1.auth.us-east-1.amazoncognito.com"
    config = app.console_config({"ENVIRONMENT": "prod", "COGNITO_DOMAIN": domain, "CARRIER_API_URL": "http://127.0.0.1:9",
                                 "COGNITO_CLIENT_ID_PARAMETER": "/switchboard/prod/console-client-id"})
    assert config == {"environment": "prod", "sandbox_url": None,
                      "auth": {"mode": "cognito", "domain": f"https://{domain}",
                               "client_id_parameter": "/switchboard/prod/console-client-id"}}
    policy = app.security_headers(config, "https://api.clinic.example/prod")["Content-Security-Policy"]
    connect = policy.split("connect-src ")[1].split(";")[0].split()
    assert connect == ["'self'", "https://api.clinic.example", f"https://{domain}"]


def test_a_deployed_console_without_cognito_settings_fails_at_cold_start_naming_them() -> None:
    app = console_module()
    with pytest.raises(SettingsError, match="COGNITO_DOMAIN, COGNITO_CLIENT_ID_PARAMETER"):
        app.console_config({"ENVIRONMENT": "demo"})


def test_the_site_comes_from_console_dir_then_beside_the_handler_then_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_module()
    assert app.site_dir({}) == ROOT / "console"
    (tmp_path / "index.html").write_text("<!doctype html>")
    assert app.site_dir({"CONSOLE_DIR": str(tmp_path)}) == tmp_path

    packaged = tmp_path / "build" / "ConsoleFunction"
    (packaged / "console").mkdir(parents=True)
    (packaged / "console" / "index.html").write_text("<!doctype html>")
    monkeypatch.setattr(app, "HERE", packaged)
    assert app.site_dir({}) == packaged / "console"

    monkeypatch.setattr(app, "HERE", tmp_path / "nowhere" / "console")
    with pytest.raises(SettingsError, match="console files not found"):
        app.site_dir({"CONSOLE_DIR": str(tmp_path / "missing")})
