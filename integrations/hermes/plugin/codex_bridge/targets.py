"""The calling chat → a codex-bridge ``notify_target``.

Hermes' gateway binds the chat a message came from to ``HERMES_SESSION_PLATFORM``,
``HERMES_SESSION_CHAT_ID`` and ``HERMES_SESSION_THREAD_ID`` (topic / thread, when the platform has
one). Recent Hermes keeps them in task-local ContextVars read through
``gateway.session_context.get_session_env`` (so concurrent chats do not see each other's ids) and
falls back to ``os.environ``; older Hermes and the CLI only use the environment. We read them the
same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

SessionReader = Callable[[str], str]

# Surfaces that are not a chat a message can be delivered back to (Hermes'
# NON_MESSAGING_SESSION_SURFACES, plus cron): a task started from them gets no target.
NON_CHAT_PLATFORMS = frozenset({
    "api_server", "cli", "codex", "cron", "desktop", "gateway", "kanban", "local",
    "msgraph_webhook", "tool", "tui", "webhook",
})

# The bridge's notify_target grammar (src/contract/notify-target.ts): a platform is a lowercase name,
# ids are 1-128 of these characters — in particular no ':' (the field separator).
_PLATFORM = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ID = re.compile(r"^[A-Za-z0-9_.@!+=\-]{1,128}$")


@dataclass(frozen=True)
class SessionTarget:
    """The derived target (``None`` when there is none) and, when there is none, why."""

    target: str | None
    reason: str


def default_session_reader() -> SessionReader:
    """Hermes' own accessor when we run inside Hermes, else the process environment."""
    try:
        from gateway.session_context import get_session_env  # type: ignore[import-not-found]
    except Exception:
        return lambda name: os.environ.get(name, "")
    return lambda name: get_session_env(name, "")


def notify_target_for_session(read: SessionReader | None = None) -> SessionTarget:
    """``feishu:<chat>`` for Feishu (the bridge's own Feishu bot), ``hermes:<platform>:<chat>[:<thread>]``
    for any other chat platform (delivered back through the Hermes gateway), nothing otherwise."""
    read = read or default_session_reader()
    platform = _clean(read("HERMES_SESSION_PLATFORM")).lower()
    chat_id = _clean(read("HERMES_SESSION_CHAT_ID"))
    thread_id = _clean(read("HERMES_SESSION_THREAD_ID"))

    if not platform or not chat_id:
        return SessionTarget(None, "this conversation is not a chat Hermes can deliver to")
    if platform in NON_CHAT_PLATFORMS:
        return SessionTarget(None, f"the {platform} surface is not a chat Hermes can deliver to")
    if not _PLATFORM.match(platform):
        return SessionTarget(None, f"the platform name {platform!r} cannot be used in a notify_target")
    if not _ID.match(chat_id):
        return SessionTarget(None, f"this {platform} chat id cannot be written as a notify_target")

    if platform == "feishu":
        # Feishu has no thread part in the grammar; the bridge's bot posts to the chat itself.
        return SessionTarget(f"feishu:{chat_id}", "")
    target = f"hermes:{platform}:{chat_id}"
    if thread_id and _ID.match(thread_id):
        # A thread id that cannot be written falls back to the chat itself rather than to nothing.
        target += f":{thread_id}"
    return SessionTarget(target, "")


def _clean(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
