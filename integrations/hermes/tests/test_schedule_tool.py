"""codex_schedule against a fake bridge: the request each action sends and the sentence it returns."""

from __future__ import annotations

import json
from typing import Callable

from fake_bridge import FakeBridge
from helpers import call


def test_create_sends_the_schedule_and_defaults_the_target_to_this_chat(bridge: FakeBridge,
                                                                          chat: Callable[..., None]) -> None:
    chat("telegram", "42")
    result = call("codex_schedule", {"action": "create", "cron": "0 9 * * 1-5", "prompt": "Triage new issues",
                                     "cwd": "/srv/repo", "timezone": "Europe/Berlin", "schedule_id": "triage"})
    sent = bridge.api_requests()[0]
    assert (sent.method, sent.path) == ("POST", "/v1/schedules")
    assert sent.body == {"schedule_id": "triage", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin",
                         "prompt": "Triage new issues", "cwd": "/srv/repo", "notify_target": "hermes:telegram:42"}
    assert result["ok"] is True
    assert result["schedule_id"] == "triage"
    assert result["summary"] == ("Created schedule triage (0 9 * * 1-5); each run's result goes to "
                                 "hermes:telegram:42. Next run: 2030-01-07T09:00:00.000Z.")


def test_create_without_cron_or_prompt_sends_nothing(bridge: FakeBridge) -> None:
    result = call("codex_schedule", {"action": "create", "prompt": "p"})
    assert result == {"ok": False, "error": {"code": "invalid_arguments", "message": "'cron' is required to create a schedule."}}
    assert bridge.api_requests() == []


def test_list_describe_pause_unpause_delete(bridge: FakeBridge) -> None:
    call("codex_schedule", {"action": "create", "cron": "30 2 * * *", "prompt": "Update dependencies",
                            "schedule_id": "nightly", "notify_target": "local"})
    listed = call("codex_schedule", {"action": "list"})
    assert listed["summary"] == "1 schedule(s): nightly 30 2 * * *."
    assert [s["schedule_id"] for s in listed["schedules"]] == ["nightly"]

    paused = call("codex_schedule", {"action": "pause", "schedule_id": "nightly", "note": "release freeze"})
    assert paused["summary"] == "Schedule nightly is paused."
    assert bridge.api_requests()[-1].path == "/v1/schedules/nightly/pause"
    assert bridge.api_requests()[-1].body == {"note": "release freeze"}
    described = call("codex_schedule", {"action": "describe", "schedule_id": "nightly"})
    assert described["summary"].startswith("Schedule nightly is paused (30 2 * * *); next run 2030-01-07T09:00:00.000Z")
    assert call("codex_schedule", {"action": "unpause", "schedule_id": "nightly"})["paused"] is False

    deleted = call("codex_schedule", {"action": "delete", "schedule_id": "nightly"})
    assert (bridge.api_requests()[-1].method, bridge.api_requests()[-1].path) == ("DELETE", "/v1/schedules/nightly")
    assert deleted["ok"] is True and deleted["deleted"] is True
    missing = call("codex_schedule", {"action": "describe", "schedule_id": "nightly"})
    assert missing["ok"] is False and missing["error"]["code"] == "not_found"


def test_actions_on_one_schedule_need_its_id(bridge: FakeBridge) -> None:
    result = call("codex_schedule", {"action": "delete"})
    assert result["error"] == {"code": "invalid_arguments", "message": "'schedule_id' is required to delete a schedule."}
    assert bridge.api_requests() == []


def test_an_unknown_action_is_refused_by_the_schema(bridge: FakeBridge) -> None:
    result = call("codex_schedule", {"action": "explode"})
    assert result["ok"] is False and result["error"]["code"] == "invalid_arguments"
    assert json.dumps(result)
    assert bridge.api_requests() == []
