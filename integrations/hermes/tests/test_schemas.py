"""Schemas are JSON-Schema-shaped, match the bridge's vocabulary, and are what handlers enforce."""

from __future__ import annotations

import re
from typing import Any

import pytest

from codex_bridge import tools
from fake_bridge import FakeBridge
from helpers import REPO_ROOT, call

TOOL_NAMES = [tool.name for tool in tools.TOOLS]
JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}

# For each tool, arguments that use every property it declares (a task waits for both requests).
FULL_ARGUMENTS: dict[str, dict[str, Any]] = {
    "codex_task_start": {"prompt": "Fix the flaky test", "cwd": "/srv/repo", "notify_target": "local",
                         "model": "gpt-5-codex", "sandbox": "workspace-write",
                         "approval_policy": "on-request", "isolation": "worktree", "task_id": "fix-flaky"},
    "codex_task_status": {"task_id": "t1"},
    "codex_task_list": {"status": "running", "notification_status": "pending",
                        "notify_target": "local", "limit": 5},
    "codex_task_cancel": {"task_id": "t1"},
    "codex_task_approve": {"task_id": "t1", "request_id": "approval-1", "decision": "accept"},
    "codex_task_answer": {"task_id": "t1", "request_id": "question-1", "answers": {"q1": ["Yes"]}},
    "codex_task_reply": {"task_id": "t1", "prompt": "Now add a test"},
    "codex_schedule": {"action": "create", "schedule_id": "nightly", "cron": "30 2 * * *",
                       "timezone": "Europe/Berlin", "prompt": "Update dependencies", "cwd": "/srv/repo",
                       "notify_target": "local", "model": "gpt-5-codex", "sandbox": "workspace-write",
                       "approval_policy": "never", "isolation": "worktree", "overlap": "skip", "note": "why"},
}


def parameters(name: str) -> dict[str, Any]:
    return tools.TOOLS_BY_NAME[name].schema["parameters"]


def seeded(bridge: FakeBridge) -> None:
    bridge.add_task("t1", status="waiting_for_input", notify_target="local", notification_status="pending",
                    pending_requests=[
                        {"request_id": "approval-1", "kind": "command_approval", "summary": "run make",
                         "created_at": "2025-01-01T00:00:00Z"},
                        {"request_id": "question-1", "kind": "user_input", "summary": "Proceed?",
                         "created_at": "2025-01-01T00:00:00Z"},
                    ])


def test_full_arguments_cover_every_declared_property() -> None:
    assert set(FULL_ARGUMENTS) == set(TOOL_NAMES)
    for name, args in FULL_ARGUMENTS.items():
        assert set(args) == set(parameters(name)["properties"]), name


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_schema_is_a_function_schema_with_an_object_of_typed_properties(name: str) -> None:
    schema = tools.TOOLS_BY_NAME[name].schema
    assert set(schema) == {"name", "description", "parameters"}
    assert schema["name"] == name
    assert isinstance(schema["description"], str) and len(schema["description"]) > 40
    params = schema["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert isinstance(params["properties"], dict)
    assert isinstance(params["required"], list)
    assert set(params["required"]) <= set(params["properties"])
    for prop_name, prop in params["properties"].items():
        assert re.fullmatch(r"[a-z_]+", prop_name)
        assert prop["type"] in JSON_TYPES, prop_name
        assert isinstance(prop.get("description"), str) and prop["description"].strip(), prop_name
        if "enum" in prop:
            assert prop["type"] == "string" and prop["enum"] and all(isinstance(v, str) for v in prop["enum"])


def test_required_arguments_are_the_contract_ones() -> None:
    assert {name: parameters(name)["required"] for name in TOOL_NAMES} == {
        "codex_task_start": ["prompt"],
        "codex_task_status": ["task_id"],
        "codex_task_list": [],
        "codex_task_cancel": ["task_id"],
        "codex_task_approve": ["task_id", "request_id", "decision"],
        "codex_task_answer": ["task_id", "request_id", "answers"],
        "codex_task_reply": ["task_id", "prompt"],
        "codex_schedule": ["action"],
    }


def _typescript_list(name: str) -> list[str]:
    source = (REPO_ROOT / "src" / "contract" / "task.ts").read_text(encoding="utf-8")
    found = re.search(rf"export const {name} = \[([^\]]*)\] as const", source)
    assert found, f"src/contract/task.ts no longer exports {name}; update this test with the new source of truth"
    return re.findall(r"'([^']*)'", found.group(1))


def test_enums_are_the_bridges_own_vocabulary() -> None:
    props = {name: parameters(name)["properties"] for name in TOOL_NAMES}
    assert props["codex_task_start"]["sandbox"]["enum"] == _typescript_list("SANDBOX_MODES")
    assert props["codex_task_start"]["approval_policy"]["enum"] == _typescript_list("APPROVAL_POLICIES")
    assert props["codex_task_approve"]["decision"]["enum"] == _typescript_list("APPROVAL_DECISIONS")
    assert props["codex_task_list"]["status"]["enum"] == _typescript_list("TASK_STATUSES")
    assert props["codex_task_list"]["notification_status"]["enum"] == _typescript_list("NOTIFICATION_STATUSES")
    assert props["codex_task_start"]["isolation"]["enum"] == _typescript_list("ISOLATION_MODES")
    assert props["codex_schedule"]["isolation"]["enum"] == _typescript_list("ISOLATION_MODES")


def _typescript_constant(module: str, name: str) -> str:
    """The literal value of `export const <name>` in src/<module>.ts."""
    source = (REPO_ROOT / "src" / f"{module}.ts").read_text(encoding="utf-8")
    found = re.search(rf"export const {name} = (.+?);", source)
    assert found, f"src/{module}.ts no longer exports {name}; update this test with the new source of truth"
    return found.group(1).strip()


def test_id_forms_and_prompt_limit_are_the_apis_own() -> None:
    # The API's patterns are JavaScript regex literals; these use the same syntax in Python.
    assert _typescript_constant("contract/task", "TASK_ID_PATTERN") == f"/{tools.TASK_ID_PATTERN}/"
    assert _typescript_constant("api/schemas", "REQUEST_ID_PATTERN") == f"/{tools.REQUEST_ID_PATTERN}/"
    assert int(_typescript_constant("contract/task", "MAX_PROMPT_LENGTH").replace("_", "")) == tools.MAX_PROMPT_LENGTH
    for name in TOOL_NAMES:
        props = parameters(name)["properties"]
        if "task_id" in props:
            assert props["task_id"]["pattern"] == tools.TASK_ID_PATTERN
        if "request_id" in props:
            assert props["request_id"]["pattern"] == tools.REQUEST_ID_PATTERN
        if "prompt" in props:
            assert props["prompt"]["maxLength"] == tools.MAX_PROMPT_LENGTH


def test_answers_schema_maps_question_ids_to_lists_of_strings() -> None:
    answers = parameters("codex_task_answer")["properties"]["answers"]
    assert answers["type"] == "object"
    assert answers["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_handler_accepts_every_declared_property(bridge: FakeBridge, name: str) -> None:
    seeded(bridge)
    result = call(name, FULL_ARGUMENTS[name])
    assert result["ok"] is True, result
    assert len(bridge.api_requests()) == 1


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_handler_refuses_an_undeclared_property_without_calling_the_bridge(bridge: FakeBridge, name: str) -> None:
    result = call(name, {**FULL_ARGUMENTS[name], "priority": "high"})
    assert result == {"ok": False, "error": {"code": "invalid_arguments", "message": result["error"]["message"]}}
    assert "'priority'" in result["error"]["message"]
    assert bridge.api_requests() == []


@pytest.mark.parametrize("name", [n for n in TOOL_NAMES if parameters(n)["required"]])
def test_handler_requires_each_required_property(bridge: FakeBridge, name: str) -> None:
    for missing in parameters(name)["required"]:
        args = {k: v for k, v in FULL_ARGUMENTS[name].items() if k != missing}
        result = call(name, args)
        assert result["ok"] is False and result["error"]["code"] == "invalid_arguments"
        assert f"'{missing}' is required" in result["error"]["message"]
    assert bridge.api_requests() == []
