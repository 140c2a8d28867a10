"""What the real-Hermes tests share: the running bridge stack, Hermes's registry called from a
gateway chat session, and polling. Fixtures that build them live in conftest.py."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class BridgeStack:
    api_url: str
    token: str
    work_dir: Path
    control_url: str
    gateway_route_url: str

    def telegram_messages(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """What the fake Telegram behind the real gateway received (successful sends only)."""
        with urllib.request.urlopen(f"{self.control_url}/telegram/messages", timeout=10) as response:
            messages = json.loads(response.read())
        return [m for m in messages if m["outcome"]["ok"] and (chat_id is None or m["chatId"] == chat_id)]

    def wait_for_telegram(self, chat_id: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        return eventually(lambda: self.telegram_messages(chat_id), lambda got: len(got) >= count, timeout,
                          f"{count} Telegram message(s) in chat {chat_id}")


@dataclass
class Hermes:
    home: Path
    registry: Any
    plugin_manager: Any

    def call(self, tool: str, args: dict[str, Any], chat: tuple[str, str, str | None] | None = None) -> dict[str, Any]:
        """Dispatches one tool through Hermes's registry, from a gateway chat session when ``chat``
        (platform, chat_id, thread_id) is given, otherwise from a context no session was bound in."""
        raw = self.run_in_session(chat, lambda: self.registry.dispatch(tool, args))
        assert isinstance(raw, str), raw
        return json.loads(raw)

    def run_in_session(self, chat: tuple[str, str, str | None] | None, work: Callable[[], Any]) -> Any:
        return asyncio.run(self.in_session(chat, work))

    async def in_session(self, chat: tuple[str, str, str | None] | None, work: Callable[[], Any]) -> Any:
        """What the gateway does for one incoming message: bind the session's context variables
        (``GatewayRunner._set_session_env``), run the agent's blocking work in a thread that
        carries that context, clear them afterwards."""
        from gateway.run import GatewayRunner
        from gateway.session_context import reset_session_vars

        loop = asyncio.get_running_loop()
        reset_session_vars()
        if chat is None:
            return await loop.run_in_executor(None, contextvars.copy_context().run, work)
        runner = _runner_stub()
        tokens = GatewayRunner._set_session_env(runner, _session_context(*chat))
        try:
            return await loop.run_in_executor(None, contextvars.copy_context().run, work)
        finally:
            GatewayRunner._clear_session_env(runner, tokens)


def _runner_stub() -> Any:
    """_set_session_env only reads ``adapters`` (for the async-delivery capability)."""
    return type("RunnerStub", (), {"adapters": {}})()


def _session_context(platform: str, chat_id: str, thread_id: str | None) -> Any:
    from gateway.config import Platform
    from gateway.session import SessionContext, SessionSource

    source = SessionSource(platform=Platform(platform), chat_id=chat_id, chat_type="group",
                           thread_id=thread_id, user_id="1001", user_name="tester")
    return SessionContext(source=source, connected_platforms=[Platform(platform)], home_channels={},
                          session_key=f"agent:main:{platform}:group:{chat_id}")


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s; last: {json.dumps(value)[:2000]}")
        time.sleep(0.3)


def hermes_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    """The `hermes` command of the venv running these tests, on the given HERMES_HOME."""
    env = {**os.environ, "HERMES_HOME": str(home), "HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(Path(sys.executable).parent / "hermes"), *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
