"""The plugin inside the real Hermes (0.19.0), against the real bridge, with results coming back
through the real Hermes gateway into the chat the tool was called from (a fake Telegram).

Every tool is dispatched through Hermes's tool registry after Hermes's own plugin discovery loaded
the plugin from a temporary HERMES_HOME; the chat comes from the session context variables the
gateway binds for each incoming message.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

import pytest
import yaml

from stack_support import BridgeStack, Hermes, eventually, hermes_cli
from helpers import PLUGIN_DIR

TERMINAL = {"completed", "failed", "cancelled", "timed_out"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def status(hermes: Hermes, task_id: str) -> dict[str, Any]:
    result = hermes.call("codex_task_status", {"task_id": task_id})
    assert result["ok"], result
    return result


def wait_for_status(hermes: Hermes, task_id: str, predicate, what: str, timeout: float = 90.0) -> dict[str, Any]:
    return eventually(lambda: status(hermes, task_id), predicate, timeout, f"task {task_id}: {what}")


def test_hermes_plugin_discovery_loads_the_plugin_and_registers_every_tool(hermes: Hermes) -> None:
    manifest = yaml.safe_load((PLUGIN_DIR / "plugin.yaml").read_text(encoding="utf-8"))
    loaded = hermes.plugin_manager._plugins["codex_bridge"]  # Hermes's own bookkeeping
    assert loaded.enabled and not loaded.error
    assert sorted(loaded.tools_registered) == sorted(manifest["provides_tools"])
    assert sorted(hermes.registry.get_tool_names_for_toolset("codex_bridge")) == sorted(manifest["provides_tools"])
    for name in manifest["provides_tools"]:
        entry = hermes.registry.get_entry(name)
        # Loaded from HERMES_HOME/plugins under Hermes's plugin namespace, not from this checkout.
        assert entry.handler.__module__ == "hermes_plugins.codex_bridge.tools"
        assert hermes.registry.get_schema(name)["name"] == name


def test_the_cli_lists_the_plugin_enabled_and_a_session_would_show_its_eight_tools(hermes: Hermes) -> None:
    listed = hermes_cli("plugins", "list", home=hermes.home)
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if " codex_bridge " in line]
    assert "enabled" in row and "not enabled" not in row
    # `/plugins` in a session prints "8 tools" from this entry.
    [entry] = [p for p in hermes.plugin_manager.list_plugins() if p["name"] == "codex_bridge"]
    assert entry["tools"] == 8 and entry["enabled"] and entry["error"] is None


def test_start_from_a_telegram_topic_delivers_the_result_to_that_topic(hermes: Hermes, bridge_env: BridgeStack) -> None:
    chat = ("telegram", "-100201", "7")
    started = hermes.call("codex_task_start", {"prompt": "Say hello", "cwd": str(bridge_env.work_dir)}, chat=chat)
    assert started["ok"], started
    assert started["notify_target"] == "hermes:telegram:-100201:7"
    assert started["notify_target_source"] == "session"
    assert started["summary"].endswith("you'll be notified in this chat when it finishes.")
    task_id = started["task_id"]

    done = wait_for_status(hermes, task_id, lambda t: t["notification_status"] == "sent", "notification sent")
    assert done["status"] == "completed"
    assert done["summary"].startswith(f"Task {task_id} completed: ") and "All done." in done["summary"]

    [message] = bridge_env.wait_for_telegram("-100201", 1)
    assert message["threadId"] == "7"
    assert message["text"].startswith(f"✅ Codex task {task_id} completed")
    assert "All done." in message["text"]

    listed = hermes.call("codex_task_list", {"notify_target": "hermes:telegram:-100201:7"}, chat=chat)
    assert listed["ok"], listed
    assert [t["task_id"] for t in listed["tasks"]] == [task_id]

    replied = hermes.call("codex_task_reply", {"task_id": task_id, "prompt": "[reply] Now add a test"}, chat=chat)
    assert replied["ok"], replied
    wait_for_status(hermes, task_id, lambda t: len(t.get("turns") or []) == 2 and t["notification_status"] == "sent"
                    and t["status"] == "completed", "second turn notified")
    first, second = bridge_env.wait_for_telegram("-100201", 2)
    assert "Follow-up done." in second["text"] and second["threadId"] == "7"
    assert len(bridge_env.telegram_messages("-100201")) == 2


def test_approve_and_answer_a_request_relayed_into_the_chat(hermes: Hermes, bridge_env: BridgeStack) -> None:
    chat = ("telegram", "-100202", None)
    cwd = bridge_env.work_dir / unique("approve")
    cwd.mkdir()
    started = hermes.call("codex_task_start", {"prompt": "[ask] Write approved.txt", "cwd": str(cwd),
                                                "approval_policy": "untrusted"}, chat=chat)
    assert started["ok"], started
    assert started["notify_target"] == "hermes:telegram:-100202"
    task_id = started["task_id"]

    waiting = wait_for_status(hermes, task_id, lambda t: t["status"] == "waiting_for_input", "waiting for input")
    [request] = waiting["pending_requests"]
    assert waiting["summary"].startswith(f"Task {task_id} is waiting for input")
    # The person is asked in the chat, with the ids the agent needs to relay the answer.
    [asked] = bridge_env.wait_for_telegram("-100202", 1)
    assert task_id in asked["text"] and request["request_id"] in asked["text"]

    # An approval is not a question: the real API refuses the answer and nothing changes.
    wrong = hermes.call("codex_task_answer", {"task_id": task_id, "request_id": request["request_id"],
                                              "answers": {"q1": ["yes"]}}, chat=chat)
    assert wrong["ok"] is False and wrong["error"]["code"] == "conflict", wrong
    assert status(hermes, task_id)["status"] == "waiting_for_input"

    approved = hermes.call("codex_task_approve", {"task_id": task_id, "request_id": request["request_id"],
                                                  "decision": "accept"}, chat=chat)
    assert approved["ok"], approved
    done = wait_for_status(hermes, task_id, lambda t: t["status"] in TERMINAL and t["notification_status"] == "sent",
                           "completed and notified")
    assert done["status"] == "completed"
    assert (cwd / "approved.txt").read_text().strip() == "approved"
    asked, finished = bridge_env.wait_for_telegram("-100202", 2)
    assert "Wrote approved.txt." in finished["text"]

    again = hermes.call("codex_task_approve", {"task_id": task_id, "request_id": request["request_id"],
                                               "decision": "decline"}, chat=chat)
    assert again["ok"] is False and again["error"]["code"] == "conflict", again


def test_cancel_a_running_task_tells_the_chat_once(hermes: Hermes, bridge_env: BridgeStack) -> None:
    chat = ("telegram", "-100203", None)
    started = hermes.call("codex_task_start", {"prompt": "[hold] Think forever", "cwd": str(bridge_env.work_dir)},
                          chat=chat)
    assert started["ok"], started
    task_id = started["task_id"]
    wait_for_status(hermes, task_id, lambda t: t["status"] == "running", "running")

    cancelled = hermes.call("codex_task_cancel", {"task_id": task_id}, chat=chat)
    assert cancelled["ok"], cancelled
    done = wait_for_status(hermes, task_id, lambda t: t["status"] == "cancelled" and t["notification_status"] == "sent",
                           "cancelled and notified")
    assert done["summary"] == f"Task {task_id} was cancelled."
    [message] = bridge_env.wait_for_telegram("-100203", 1)
    assert task_id in message["text"]

    finished = hermes.call("codex_task_cancel", {"task_id": task_id}, chat=chat)
    assert finished["ok"] is False and finished["error"]["code"] == "conflict", finished


def test_concurrent_chats_each_get_their_own_target(hermes: Hermes, bridge_env: BridgeStack) -> None:
    """Two messages handled at once by the gateway, each tool call on a worker thread of the
    agent's concurrent-tool executor: each call still sees its own chat."""
    from tools.daemon_pool import DaemonThreadPoolExecutor
    from tools.thread_context import propagate_context_to_thread

    barrier = threading.Barrier(2, timeout=30)

    def start(prompt: str):
        def work() -> str:
            barrier.wait()  # both sessions are bound before either reads its chat
            # What the agent does for tool calls it runs concurrently (agent/tool_executor.py).
            pool = DaemonThreadPoolExecutor(max_workers=1)
            try:
                call = propagate_context_to_thread(hermes.registry.dispatch)
                return pool.submit(call, "codex_task_start", {"prompt": prompt, "cwd": str(bridge_env.work_dir)}).result(60)
            finally:
                pool.shutdown(wait=False)
        return work

    async def both() -> list[str]:
        return await asyncio.gather(
            hermes.in_session(("telegram", "-100204", None), start("Say hello one")),
            hermes.in_session(("slack", "C0205", "1712345.0001"), start("Say hello two")),
        )

    one, two = (json.loads(raw) for raw in asyncio.run(both()))
    assert one["ok"] and two["ok"], (one, two)
    assert one["notify_target"] == "hermes:telegram:-100204"
    assert two["notify_target"] == "hermes:slack:C0205:1712345.0001"


def test_outside_a_gateway_session_the_environment_names_the_chat(hermes: Hermes, bridge_env: BridgeStack,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI and cron bind no session: Hermes (and the plugin) fall back to HERMES_SESSION_*."""
    monkeypatch.setenv("HERMES_SESSION_PLATFORM", "telegram")
    monkeypatch.setenv("HERMES_SESSION_CHAT_ID", "-100206")
    started = hermes.call("codex_task_start", {"prompt": "Say hello", "cwd": str(bridge_env.work_dir)})
    assert started["ok"], started
    assert started["notify_target"] == "hermes:telegram:-100206"


def test_a_bound_session_wins_over_a_stale_environment(hermes: Hermes, bridge_env: BridgeStack,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERMES_SESSION_PLATFORM", "telegram")
    monkeypatch.setenv("HERMES_SESSION_CHAT_ID", "-100999")
    started = hermes.call("codex_task_start", {"prompt": "Say hello", "cwd": str(bridge_env.work_dir)},
                          chat=("discord", "1234567890", None))
    assert started["ok"], started
    assert started["notify_target"] == "hermes:discord:1234567890"


def test_a_wrong_token_is_reported_by_the_real_api(hermes: Hermes, bridge_env: BridgeStack,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", "not-the-token")
    result = hermes.call("codex_task_list", {})
    assert result["ok"] is False
    assert result["error"]["code"] == "unauthorized"
    assert "CODEX_BRIDGE_API_TOKEN" in result["error"]["hint"]


def test_a_schedule_created_from_the_chat_runs_a_task_whose_result_reaches_that_chat(hermes: Hermes, bridge_env: BridgeStack) -> None:
    chat = ("telegram", "-100205", None)
    schedule_id = unique("every-3s")
    created = hermes.call("codex_schedule", {"action": "create", "schedule_id": schedule_id, "cron": "*/3 * * * * * *",
                                             "prompt": "Say hello", "cwd": str(bridge_env.work_dir)}, chat=chat)
    assert created["ok"], created
    assert created["task"]["notify_target"] == "hermes:telegram:-100205"
    [message] = bridge_env.wait_for_telegram("-100205", 1)
    assert message["text"].startswith(f"✅ Codex task {schedule_id}-")
    deleted = hermes.call("codex_schedule", {"action": "delete", "schedule_id": schedule_id}, chat=chat)
    assert deleted["ok"], deleted
    described = hermes.call("codex_schedule", {"action": "describe", "schedule_id": schedule_id}, chat=chat)
    assert described["ok"] is False and described["error"]["code"] == "not_found", described
