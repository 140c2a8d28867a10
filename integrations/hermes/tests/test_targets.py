"""The calling chat → notify_target, read the way Hermes exposes it."""

from __future__ import annotations

import sys
import types
from typing import Callable

import pytest

from codex_bridge.targets import notify_target_for_session


def reader(**values: str) -> Callable[[str], str]:
    env = {f"HERMES_SESSION_{key.upper()}": value for key, value in values.items()}
    return lambda name: env.get(name, "")


@pytest.mark.parametrize(("session", "expected"), [
    ({"platform": "feishu", "chat_id": "oc_abc123"}, "feishu:oc_abc123"),
    # Feishu's grammar has no thread: the bridge's bot posts to the chat.
    ({"platform": "feishu", "chat_id": "oc_abc123", "thread_id": "omt_1"}, "feishu:oc_abc123"),
    ({"platform": "telegram", "chat_id": "-1001234567890"}, "hermes:telegram:-1001234567890"),
    ({"platform": "telegram", "chat_id": "-1001234567890", "thread_id": "17585"},
     "hermes:telegram:-1001234567890:17585"),
    ({"platform": "slack", "chat_id": "C024BE91L", "thread_id": "1712345678.123456"},
     "hermes:slack:C024BE91L:1712345678.123456"),
    ({"platform": "discord", "chat_id": "123456789012345678"}, "hermes:discord:123456789012345678"),
    ({"platform": "whatsapp", "chat_id": "15551234567@s.whatsapp.net"},
     "hermes:whatsapp:15551234567@s.whatsapp.net"),
    # Hermes' Platform values are lowercase; tolerate padding and case anyway.
    ({"platform": " Telegram ", "chat_id": " 42 "}, "hermes:telegram:42"),
])
def test_chat_sessions_become_targets(session: dict[str, str], expected: str) -> None:
    assert notify_target_for_session(reader(**session)).target == expected


@pytest.mark.parametrize("session", [
    {},
    {"platform": "telegram"},
    {"chat_id": "42"},
    {"platform": "cli", "chat_id": "local-session"},
    {"platform": "api_server", "chat_id": "abc"},
    {"platform": "webhook", "chat_id": "webhook-route-1"},
    # Matrix room ids carry ':' which the notify_target grammar uses as its separator.
    {"platform": "matrix", "chat_id": "!room:example.org"},
    {"platform": "Not A Platform!", "chat_id": "42"},
])
def test_no_target_when_the_session_is_not_a_deliverable_chat(session: dict[str, str]) -> None:
    resolved = notify_target_for_session(reader(**session))
    assert resolved.target is None
    assert resolved.reason


def test_an_unwritable_thread_id_falls_back_to_the_chat_itself() -> None:
    resolved = notify_target_for_session(reader(platform="telegram", chat_id="42", thread_id="a:b"))
    assert resolved.target == "hermes:telegram:42"


def test_default_reader_is_the_process_environment_outside_hermes(chat: Callable[..., None]) -> None:
    chat("telegram", "42", "7")
    assert notify_target_for_session().target == "hermes:telegram:42:7"


def test_default_reader_prefers_hermes_task_local_session(monkeypatch: pytest.MonkeyPatch,
                                                          chat: Callable[..., None]) -> None:
    # Inside the gateway, concurrent chats share os.environ; gateway.session_context has the caller's.
    chat("telegram", "stale-chat-from-another-message")
    session_context = types.ModuleType("gateway.session_context")
    session_values = {"HERMES_SESSION_PLATFORM": "slack", "HERMES_SESSION_CHAT_ID": "C1",
                      "HERMES_SESSION_THREAD_ID": "1700000000.000100"}
    session_context.get_session_env = lambda name, default="": session_values.get(name, default)
    gateway = types.ModuleType("gateway")
    gateway.session_context = session_context
    monkeypatch.setitem(sys.modules, "gateway", gateway)
    monkeypatch.setitem(sys.modules, "gateway.session_context", session_context)

    assert notify_target_for_session().target == "hermes:slack:C1:1700000000.000100"
