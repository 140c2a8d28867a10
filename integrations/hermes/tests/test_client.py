"""The HTTP client turns every way a call can go wrong into one ApiResult, and never raises."""

from __future__ import annotations

import socket
import sys
import threading
import types
from typing import Iterator

import pytest

from codex_bridge.client import DEFAULT_BASE_URL, BridgeClient
from fake_bridge import FakeBridge
from helpers import closed_port


def client_for(bridge: FakeBridge, **overrides: object) -> BridgeClient:
    return BridgeClient(**{"base_url": bridge.url, "token": bridge.token, **overrides})  # type: ignore[arg-type]


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    client = BridgeClient.from_environment()
    assert (client.base_url, client.token) == (DEFAULT_BASE_URL, None)
    monkeypatch.setenv("CODEX_BRIDGE_URL", " http://10.0.0.5:9000/ ")
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", " s3cret ")
    client = BridgeClient.from_environment()
    assert (client.base_url, client.token) == ("http://10.0.0.5:9000", "s3cret")


def install_secret_scope(monkeypatch: pytest.MonkeyPatch, get_secret) -> None:
    secret_scope = types.ModuleType("agent.secret_scope")
    secret_scope.get_secret = get_secret
    agent = types.ModuleType("agent")
    agent.secret_scope = secret_scope
    monkeypatch.setitem(sys.modules, "agent", agent)
    monkeypatch.setitem(sys.modules, "agent.secret_scope", secret_scope)


def test_inside_hermes_settings_come_from_the_profiles_secret_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    # A multi-profile gateway keeps each profile's .env out of os.environ.
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", "another-profiles-token")
    scope = {"CODEX_BRIDGE_API_TOKEN": "this-profiles-token", "CODEX_BRIDGE_URL": "http://10.0.0.7:8787"}
    install_secret_scope(monkeypatch, lambda name, default=None: scope.get(name, default))
    client = BridgeClient.from_environment()
    assert (client.base_url, client.token) == ("http://10.0.0.7:8787", "this-profiles-token")


def test_an_unscoped_secret_read_gives_no_token_rather_than_another_profiles(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", "another-profiles-token")

    def unscoped(name: str, default: object = None) -> str:
        raise RuntimeError("get_secret called with no profile secret scope active")

    install_secret_scope(monkeypatch, unscoped)
    client = BridgeClient.from_environment()
    assert (client.base_url, client.token) == (DEFAULT_BASE_URL, None)


def test_success_parses_json(bridge: FakeBridge) -> None:
    result = client_for(bridge).request("GET", "/v1/tasks", query={"limit": 3, "status": None})
    assert result.ok and result.status == 200 and result.data == {"tasks": []}
    assert bridge.api_requests()[0].query == {"limit": ["3"]}


def test_an_empty_success_body_is_an_empty_answer(bridge: FakeBridge) -> None:
    bridge.script(202, b"")
    result = client_for(bridge).request("POST", "/v1/tasks/t/cancel")
    assert result.ok and result.status == 202 and result.data == {}


def test_a_non_json_success_body_is_reported(bridge: FakeBridge) -> None:
    bridge.script(200, b"<html>hello</html>", "text/html")
    result = client_for(bridge).request("GET", "/v1/tasks")
    assert not result.ok and result.error is not None
    assert result.error.code == "bad_response" and "CODEX_BRIDGE_URL" in result.error.message


def test_an_error_without_the_contract_shape_keeps_the_status_meaning(bridge: FakeBridge) -> None:
    bridge.script(404, {"message": "Route GET:/v2/x not found", "error": "Not Found", "statusCode": 404})
    result = client_for(bridge).request("GET", "/v2/x")
    assert result.error is not None and result.status == 404
    assert (result.error.code, result.error.message) == ("not_found", "Route GET:/v2/x not found")


def test_an_error_with_an_unreadable_body_still_says_the_status(bridge: FakeBridge) -> None:
    bridge.script(502, b"Bad Gateway", "text/plain")
    result = client_for(bridge).request("GET", "/v1/tasks")
    assert result.error is not None
    assert (result.error.code, result.error.message) == ("http_502", "codex-bridge answered HTTP 502.")


def test_413_from_the_api(bridge: FakeBridge) -> None:
    result = client_for(bridge).request("POST", "/v1/tasks", body={"prompt": "x" * 70_000})
    assert result.error is not None and result.status == 413
    assert (result.error.code, result.error.message) == ("too_large", "The request body is too large.")


def test_connection_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    result = BridgeClient(base_url=f"http://127.0.0.1:{closed_port()}", token="t").request("GET", "/v1/tasks")
    assert result.error is not None and result.status is None
    assert result.error.code == "bridge_unreachable"
    assert "codex-bridge serve" in result.error.message


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_bridge_that_does_not_answer_times_out(silent_server: str) -> None:
    result = BridgeClient(base_url=silent_server, token="t", timeout=0.3).request("GET", "/v1/tasks")
    assert result.error is not None
    assert result.error.code == "bridge_timeout"
    assert "0.3 s" in result.error.message and "codex-bridge doctor" in result.error.message


@pytest.mark.parametrize("base_url", ["127.0.0.1:8787", "ftp://host/", "http://", "not a url"])
def test_a_malformed_url_is_reported_without_a_request(base_url: str) -> None:
    result = BridgeClient(base_url=base_url, token="t").request("GET", "/v1/tasks")
    assert result.error is not None and result.error.code == "invalid_configuration"
    assert "CODEX_BRIDGE_URL" in result.error.message


def test_a_proxy_in_the_environment_is_not_used_for_a_local_bridge(bridge: FakeBridge,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("http_proxy", dead_proxy)
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("no_proxy", "")
    assert client_for(bridge).request("GET", "/v1/tasks").ok
