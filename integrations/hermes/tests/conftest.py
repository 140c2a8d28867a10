"""Shared fixtures: a clean environment, a fake bridge per test, a Hermes chat session."""

from __future__ import annotations

import sys
from typing import Callable, Iterator

import pytest

import helpers  # noqa: F401  (puts the plugin on sys.path)
from fake_bridge import FakeBridge

# Everything the plugin reads from the environment, plus what would reroute its HTTP.
_ENVIRONMENT = (
    "CODEX_BRIDGE_URL", "CODEX_BRIDGE_API_TOKEN",
    "HERMES_SESSION_PLATFORM", "HERMES_SESSION_CHAT_ID", "HERMES_SESSION_THREAD_ID",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # Outside Hermes there are no gateway/agent packages; make sure a stray one on sys.path cannot
    # leak a session or a secret in (a None entry makes the import fail).
    for module in ("gateway", "gateway.session_context", "agent", "agent.secret_scope"):
        monkeypatch.setitem(sys.modules, module, None)


@pytest.fixture
def bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBridge]:
    fake = FakeBridge().start()
    monkeypatch.setenv("CODEX_BRIDGE_URL", fake.url)
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", fake.token)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Puts the tool call in a Hermes chat session, the way the gateway's environment does."""

    def enter(platform: str, chat_id: str, thread_id: str | None = None) -> None:
        monkeypatch.setenv("HERMES_SESSION_PLATFORM", platform)
        monkeypatch.setenv("HERMES_SESSION_CHAT_ID", chat_id)
        if thread_id is not None:
            monkeypatch.setenv("HERMES_SESSION_THREAD_ID", thread_id)

    return enter
