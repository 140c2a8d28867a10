"""Each tool against a fake bridge: the request it sends, the result it returns, how it fails."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from codex_bridge import tools
from fake_bridge import FakeBridge
from helpers import call, closed_port

PENDING = [
    {"request_id": "approval-1", "kind": "command_approval", "summary": "Run `make test`",
     "created_at": "2025-01-01T00:00:00Z"},
    {"request_id": "question-1", "kind": "user_input", "summary": "Which branch?",
     "created_at": "2025-01-01T00:00:01Z"},
]


def only_request(bridge: FakeBridge):
    requests = bridge.api_requests()
    assert len(requests) == 1, requests
    return requests[0]


# -- codex_task_start: where the result goes ----------------------------------------------------

def test_start_in_a_telegram_topic_notifies_that_topic(bridge: FakeBridge, chat: Callable[..., None]) -> None:
    chat("telegram", "-1001234567890", "17585")
    result = call("codex_task_start", {"prompt": "Fix the flaky test", "cwd": "/srv/repo"}, task_id="hermes-session-1")

    sent = only_request(bridge)
    assert (sent.method, sent.path) == ("POST", "/v1/tasks")
    assert sent.body == {"prompt": "Fix the flaky test", "cwd": "/srv/repo",
                         "notify_target": "hermes:telegram:-1001234567890:17585"}
    assert result["ok"] is True
    assert result["notify_target"] == "hermes:telegram:-1001234567890:17585"
    assert result["notify_target_source"] == "session"
    assert result["summary"] == (f"Started Codex task {result['task_id']}; you'll be notified in this chat "
                                 f"when it finishes.")


def test_start_in_a_feishu_chat_notifies_through_the_bridges_feishu_bot(bridge: FakeBridge,
                                                                         chat: Callable[..., None]) -> None:
    chat("feishu", "oc_5ad11d72b830411d72b836c20")
    result = call("codex_task_start", {"prompt": "Upgrade the SDK"})
    assert only_request(bridge).body["notify_target"] == "feishu:oc_5ad11d72b830411d72b836c20"
    assert result["ok"] is True and result["notify_target_source"] == "session"


def test_an_explicit_target_wins_over_the_chat(bridge: FakeBridge, chat: Callable[..., None]) -> None:
    chat("telegram", "42")
    result = call("codex_task_start", {"prompt": "Upgrade the SDK", "notify_target": "feishu:oc_team"})
    assert only_request(bridge).body["notify_target"] == "feishu:oc_team"
    assert result["notify_target_source"] == "explicit"
    assert "feishu:oc_team" in result["summary"]


def test_without_a_chat_session_no_target_is_sent(bridge: FakeBridge) -> None:
    result = call("codex_task_start", {"prompt": "Upgrade the SDK"})
    assert "notify_target" not in only_request(bridge).body
    assert result["ok"] is True and result["notify_target"] is None
    assert result["notify_target_source"] == "none"
    assert "no notification will be sent" in result["summary"]
    assert "codex_task_status" in result["summary"]


def test_start_passes_every_option_and_returns_the_task_document(bridge: FakeBridge) -> None:
    args = {"prompt": "Refactor", "cwd": "/srv/repo", "notify_target": "local", "model": "gpt-5-codex",
            "sandbox": "read-only", "approval_policy": "untrusted", "task_id": "refactor-1"}
    result = call("codex_task_start", args)
    assert only_request(bridge).body == args
    assert result["task_id"] == "refactor-1" and result["status"] == "queued"
    assert result["sandbox"] == "read-only" and result["approval_policy"] == "untrusted"
    assert "local inbox" in result["summary"]


def test_start_sends_the_bearer_token_and_json(bridge: FakeBridge) -> None:
    call("codex_task_start", {"prompt": "x"})
    sent = only_request(bridge)
    assert sent.headers["authorization"] == "Bearer test-token"
    assert sent.headers["content-type"] == "application/json"


# -- the other tools: method, path, body ---------------------------------------------------------

def test_status_gets_the_task_and_summarises_what_it_waits_for(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="waiting_for_input", pending_requests=PENDING)
    result = call("codex_task_status", {"task_id": "t1"})
    sent = only_request(bridge)
    assert (sent.method, sent.path, sent.raw_body) == ("GET", "/v1/tasks/t1", b"")
    assert result["ok"] is True and result["status"] == "waiting_for_input"
    assert result["pending_requests"] == PENDING
    assert "approval-1" in result["summary"] and "question-1" in result["summary"]
    assert "codex_task_approve" in result["summary"]


def test_status_of_a_completed_task_gives_its_result_and_clips_huge_fields(bridge: FakeBridge) -> None:
    diff = "+x\n" * 10_000
    bridge.add_task("t1", status="completed",
                    result={"final_message": "Done.", "summary": "Fixed the flaky test.", "diff": diff,
                            "commands": [], "file_changes": [], "thread_id": "th", "turn_id": "tu", "usage": None})
    result = call("codex_task_status", {"task_id": "t1"})
    assert result["summary"] == "Task t1 completed: Fixed the flaky test."
    assert len(result["result"]["diff"]) < 5000 and "more characters" in result["result"]["diff"]


def test_status_of_a_queued_task_says_how_many_are_ahead(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="queued", queue_position=2)
    result = call("codex_task_status", {"task_id": "t1"})
    assert result["summary"] == "Task t1 is queued with 2 ahead of it; it starts by itself when a slot frees."


def test_status_mentions_a_failed_notification(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="failed", error={"type": "CodexError", "message": "codex exited 1"},
                    notification_status="failed", notification_error="bot not in chat")
    summary = call("codex_task_status", {"task_id": "t1"})["summary"]
    assert summary == "Task t1 failed: codex exited 1. Its notification failed: bot not in chat."


def test_ids_are_sent_as_single_path_segments(bridge: FakeBridge) -> None:
    # Request ids may hold ':' (e.g. "item:3"); each id stays one percent-encoded path segment.
    bridge.add_task("t1", status="waiting_for_input", pending_requests=[
        {"request_id": "item:3", "kind": "file_change_approval", "summary": "Edit a.py", "created_at": "now"}])
    result = call("codex_task_approve", {"task_id": "t1", "request_id": "item:3", "decision": "decline"})
    assert only_request(bridge).path == "/v1/tasks/t1/approvals/item%3A3"
    assert result["ok"] is True and result["status"] == "running"


def test_list_sends_only_the_given_filters_and_compacts_tasks(bridge: FakeBridge) -> None:
    bridge.add_task("a", status="running", notify_target="local", notification_status="pending")
    bridge.add_task("b", status="completed", result={"summary": "ok", "diff": "x" * 50_000})
    result = call("codex_task_list", {"status": "running", "limit": 5, "notification_status": None})
    sent = only_request(bridge)
    assert (sent.method, sent.path) == ("GET", "/v1/tasks")
    assert sent.query == {"status": ["running"], "limit": ["5"]}
    assert [t["task_id"] for t in result["tasks"]] == ["a"]
    assert result["summary"] == "1 task(s), newest first: a running."

    everything = call("codex_task_list", {})
    assert [t["task_id"] for t in everything["tasks"]] == ["b", "a"]
    assert everything["tasks"][0]["result"] == {"summary": "ok"}  # no diff in a listing


def test_list_with_nothing_to_show(bridge: FakeBridge) -> None:
    assert call("codex_task_list", {"status": "failed"})["summary"] == "No codex-bridge tasks match."


def test_cancel_posts_without_a_body(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="running")
    result = call("codex_task_cancel", {"task_id": "t1"})
    sent = only_request(bridge)
    assert (sent.method, sent.path, sent.raw_body) == ("POST", "/v1/tasks/t1/cancel", b"")
    assert "content-type" not in sent.headers  # nothing to declare: no body
    assert result == {"ok": True, "summary": result["summary"], "task_id": "t1", "status": "cancelling"}
    assert "cancel task t1" in result["summary"]


def test_approve_posts_the_decision(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="waiting_for_input", pending_requests=list(PENDING))
    result = call("codex_task_approve", {"task_id": "t1", "request_id": "approval-1", "decision": "accept_for_session"})
    sent = only_request(bridge)
    assert (sent.method, sent.path, sent.body) == ("POST", "/v1/tasks/t1/approvals/approval-1",
                                                  {"decision": "accept_for_session"})
    assert result["ok"] is True
    assert result["summary"] == "Sent 'accept_for_session' for request approval-1 of task t1."


def test_answer_posts_the_answers(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="waiting_for_input", pending_requests=list(PENDING))
    answers = {"branch": ["main"], "notes": ["keep the API", "add a test"]}
    result = call("codex_task_answer", {"task_id": "t1", "request_id": "question-1", "answers": answers})
    sent = only_request(bridge)
    assert (sent.method, sent.path, sent.body) == ("POST", "/v1/tasks/t1/answers/question-1", {"answers": answers})
    assert result["ok"] is True and result["status"] == "waiting_for_input"  # the approval still waits


def test_reply_posts_the_follow_up(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="completed")
    result = call("codex_task_reply", {"task_id": "t1", "prompt": "Now add tests"})
    sent = only_request(bridge)
    assert (sent.method, sent.path, sent.body) == ("POST", "/v1/tasks/t1/replies", {"prompt": "Now add tests"})
    assert result["ok"] is True and "follow-up" in result["summary"]


# -- the API says no --------------------------------------------------------------------------------

def test_400_comes_back_with_the_apis_message(bridge: FakeBridge) -> None:
    result = call("codex_task_start", {"prompt": "x", "notify_target": "sms:+123"})
    assert result["ok"] is False
    assert result["error"]["code"] == "validation_error"
    assert result["error"]["message"].startswith('notify_target "sms:+123" is invalid')


def test_401_comes_back_with_the_apis_message_and_a_hint(bridge: FakeBridge,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", "wrong-token")
    result = call("codex_task_list", {})
    assert result == {"ok": False, "error": {"code": "unauthorized", "message": "Missing or invalid bearer token.",
                                             "hint": result["error"]["hint"]}}
    assert "CODEX_BRIDGE_API_TOKEN" in result["error"]["hint"]


def test_404_for_an_unknown_task(bridge: FakeBridge) -> None:
    result = call("codex_task_status", {"task_id": "nope"})
    assert result == {"ok": False, "error": {"code": "not_found", "message": "Task nope was not found."}}


def test_409_for_a_duplicate_task_id(bridge: FakeBridge) -> None:
    call("codex_task_start", {"prompt": "x", "task_id": "same"})
    result = call("codex_task_start", {"prompt": "x", "task_id": "same"})
    assert result["error"] == {"code": "conflict", "message": "A task with id same already exists."}


def test_409_for_a_request_that_is_no_longer_pending(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="running")
    result = call("codex_task_approve", {"task_id": "t1", "request_id": "old", "decision": "accept"})
    assert result["error"] == {"code": "conflict", "message": "Request old of task t1 is not pending."}


def test_503_comes_back_with_the_apis_message(bridge: FakeBridge) -> None:
    bridge.script(503, {"error": {"code": "unavailable", "message": "Temporal is unreachable at 127.0.0.1:7233."}})
    result = call("codex_task_start", {"prompt": "x"})
    assert result["ok"] is False
    assert result["error"]["code"] == "unavailable"
    assert result["error"]["message"] == "Temporal is unreachable at 127.0.0.1:7233."
    assert "codex-bridge doctor" in result["error"]["hint"]


def test_unreachable_bridge_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("CODEX_BRIDGE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", "t")
    result = call("codex_task_start", {"prompt": "x"})
    assert result["ok"] is False
    assert result["error"]["code"] == "bridge_unreachable"
    message = result["error"]["message"]
    assert f"http://127.0.0.1:{port}" in message
    assert "codex-bridge serve" in message and "CODEX_BRIDGE_URL" in message


def test_without_a_token_the_401_says_which_variable_to_set(bridge: FakeBridge,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A bridge started without a token (local development) would accept the call; this one does not.
    monkeypatch.delenv("CODEX_BRIDGE_API_TOKEN")
    result = call("codex_task_list", {})
    assert "authorization" not in only_request(bridge).headers
    assert result["error"]["code"] == "unauthorized"
    assert result["error"]["hint"].startswith("CODEX_BRIDGE_API_TOKEN is not set in Hermes' environment")


# -- bad arguments never reach the bridge -----------------------------------------------------------

@pytest.mark.parametrize(("name", "args", "fragment"), [
    ("codex_task_start", {}, "'prompt' is required"),
    ("codex_task_start", {"prompt": None}, "'prompt' is required"),
    ("codex_task_start", {"prompt": "   "}, "'prompt' must not be empty"),
    ("codex_task_start", {"prompt": 42}, "'prompt' must be a string, got integer"),
    ("codex_task_start", {"prompt": "x", "sandbox": "yolo"}, "'sandbox' must be one of read-only"),
    ("codex_task_start", {"prompt": "x", "approval_policy": "always"}, "'approval_policy' must be one of"),
    ("codex_task_start", {"prompt": "x", "notify_target": ""}, "'notify_target' must not be empty"),
    ("codex_task_start", {"prompt": "x", "task_id": "t" * 129}, "'task_id' must match"),
    ("codex_task_start", {"prompt": "x", "task_id": "-leading-dash"}, "'task_id' must match"),
    ("codex_task_start", {"prompt": "x" * 100_001}, "'prompt' must be at most 100000 characters"),
    ("codex_task_status", {"task_id": "team/fix"}, "'task_id' must match"),
    ("codex_task_approve", {"task_id": "t", "request_id": "r 1", "decision": "accept"}, "'request_id' must match"),
    ("codex_task_start", {"prompt": ["x"]}, "must be a string, got array"),
    ("codex_task_status", {"task_id": 7}, "'task_id' must be a string, got integer"),
    ("codex_task_list", {"limit": "10"}, "'limit' must be an integer, got string"),
    ("codex_task_list", {"limit": True}, "'limit' must be an integer, got boolean"),
    ("codex_task_list", {"limit": 0}, "'limit' must be between 1 and 1000"),
    ("codex_task_list", {"status": "done"}, "'status' must be one of queued"),
    ("codex_task_approve", {"task_id": "t", "request_id": "r", "decision": "yes"}, "'decision' must be one of accept"),
    ("codex_task_answer", {"task_id": "t", "request_id": "r", "answers": {}}, "'answers' must not be empty"),
    ("codex_task_answer", {"task_id": "t", "request_id": "r", "answers": {"q": "Yes"}}, "'q' maps to string"),
    ("codex_task_answer", {"task_id": "t", "request_id": "r", "answers": {"q": [1]}}, "'q' holds integer"),
    ("codex_task_answer", {"task_id": "t", "request_id": "r", "answers": ["Yes"]}, "must be an object, got array"),
    ("codex_task_reply", {"task_id": "t"}, "'prompt' is required"),
])
def test_bad_arguments_are_refused_without_a_request(bridge: FakeBridge, name: str, args: dict[str, Any],
                                                     fragment: str) -> None:
    result = call(name, args)
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_arguments"
    assert fragment in result["error"]["message"]
    assert result["error"]["message"].endswith(".")
    assert bridge.api_requests() == []


GARBAGE: list[Any] = [None, "prompt", 42, 3.5, True, ["prompt", "x"], ("a",), {1: "x"}, object(),
                      {"prompt": {"nested": True}}, {"task_id": None}, {"answers": {"q": None}}]


@pytest.mark.parametrize("name", [tool.name for tool in tools.TOOLS])
@pytest.mark.parametrize("args", GARBAGE, ids=lambda value: type(value).__name__)
def test_handlers_never_raise_on_garbage(bridge: FakeBridge, name: str, args: Any) -> None:
    result = call(name, args, task_id=object(), user_task=None)
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_arguments"
    assert bridge.api_requests() == []


def test_handlers_never_raise_when_the_implementation_breaks(bridge: FakeBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("codex_bridge.client.BridgeClient.from_environment", explode)
    result = call("codex_task_status", {"task_id": "t1"})
    assert result == {"ok": False, "error": {"code": "internal_error",
                                             "message": "The codex_bridge plugin failed unexpectedly (RuntimeError: boom)."}}


def test_handlers_can_be_called_without_arguments() -> None:
    # Hermes always passes args, but a handler must not care.
    raw = tools.TOOLS_BY_NAME["codex_task_list"].handler()
    assert '"ok": false' in raw
