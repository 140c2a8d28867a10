"""The seven codex-bridge tools: what the model reads (schemas) and what runs (handlers).

Every handler has Hermes' signature ``handle(args: dict, **kwargs) -> str``, returns one JSON
document and never raises: ``{"ok": true, "summary": "…", …the API's answer…}`` or
``{"ok": false, "error": {"code", "message"[, "hint"]}}``. Arguments are checked against the
schema before any request is made. Hermes passes its own keyword arguments (its ``task_id`` is the
agent's session, not a Codex task), so handlers read only ``args``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import quote

from .client import ApiError, ApiResult, BridgeClient
from .targets import notify_target_for_session
from .validation import ArgumentError, validate_arguments

TOOLSET = "codex_bridge"

TASK_STATUSES = ["queued", "running", "waiting_for_input", "waiting_for_quota", "completed", "failed", "cancelled",
                 "timed_out"]
NOTIFICATION_STATUSES = ["pending", "sent", "failed", "no_target"]
SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"]
APPROVAL_POLICIES = ["never", "on-request", "untrusted"]
APPROVAL_DECISIONS = ["accept", "accept_for_session", "decline", "cancel"]
ISOLATION_MODES = ["none", "worktree"]

# The API's own id forms (src/api/schemas.ts), so a malformed id is refused before any request.
TASK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$"
MAX_PROMPT_LENGTH = 100_000
SCHEDULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SCHEDULE_ACTIONS = ["create", "list", "describe", "pause", "unpause", "delete"]
SCHEDULE_OVERLAP_POLICIES = ["skip", "buffer_one", "buffer_all", "cancel_other", "allow_all"]

# Tool results land in the model's context: a diff or a command's output can be megabytes.
MAX_TEXT_IN_RESULT = 4000
MAX_TASKS_IN_SUMMARY = 10

Handler = Callable[..., str]


@dataclass(frozen=True)
class Tool:
    name: str
    schema: dict[str, Any]
    handler: Handler


# -- schemas ------------------------------------------------------------------------------------

def _string(description: str, **constraints: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **constraints}


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


_TASK_ID = _string("The task's id, as returned by codex_task_start or shown in a notification.",
                   minLength=1, pattern=TASK_ID_PATTERN)
_REQUEST_ID = _string("The pending request's id, from the notification or from codex_task_status.",
                      minLength=1, pattern=REQUEST_ID_PATTERN)

START_SCHEMA = _schema(
    "codex_task_start",
    "Start an OpenAI Codex coding task in a repository, run durably in the background by "
    "codex-bridge. Use it for real coding work that takes minutes: changes, fixes, refactors, "
    "investigations of a codebase. It returns at once with the task_id. Do not wait or poll: when "
    "the task finishes, or needs an approval or an answer, a message arrives in this chat by itself.",
    {
        "prompt": _string("What Codex should do, self-contained: the goal, the files or area, "
                          "constraints, and how to check the work.",
                          minLength=1, maxLength=MAX_PROMPT_LENGTH),
        "cwd": _string("Absolute path of the repository on the bridge's machine. Omit for the "
                       "bridge's default.", minLength=1, maxLength=4096),
        "notify_target": _string("Where the result goes. Omit it to notify the chat this conversation "
                                 "is in. Otherwise one of: local, feishu:<chat_id>, "
                                 "hermes:<platform>:<chat_id>[:<thread_id>], webhook:<http(s) url>.",
                                 minLength=1),
        "model": _string("Codex model, e.g. gpt-5-codex; omit for the bridge's default.",
                         minLength=1, maxLength=200),
        "sandbox": _string("What Codex may touch: read-only (look only), workspace-write (edit files "
                           "under cwd; the usual choice), danger-full-access (no sandbox; only when "
                           "the person asks for it). Omit for the bridge's default.",
                           enum=SANDBOX_MODES),
        "approval_policy": _string("When Codex must ask a person first: never, on-request (Codex "
                                   "decides when to ask), untrusted (anything not known to be safe). "
                                   "Omit for the bridge's default.", enum=APPROVAL_POLICIES),
        "isolation": _string("worktree: Codex works in a fresh git worktree on its own branch "
                             "codex/<task_id>, so tasks in one repository never collide and the "
                             "checkout stays untouched (cwd must be a git repository); none: in cwd "
                             "itself. Omit for the bridge's default.", enum=ISOLATION_MODES),
        "task_id": _string("Your own id for the task (it becomes the Temporal workflow id): 1-128 "
                           "letters, digits, '.', '_' or '-', starting with a letter or digit. Omit "
                           "to let the bridge choose one. An id can be used only once.",
                           minLength=1, pattern=TASK_ID_PATTERN),
    },
    ["prompt"],
)

STATUS_SCHEMA = _schema(
    "codex_task_status",
    "Show one codex-bridge task: its status (queued, running, waiting_for_input, waiting_for_quota, completed, failed, "
    "cancelled, timed_out), pending approvals or questions with their request ids, the result or "
    "error, and whether the notification was sent. Use it when the person asks about a task; do not "
    "poll it in a loop.",
    {"task_id": _TASK_ID},
    ["task_id"],
)

LIST_SCHEMA = _schema(
    "codex_task_list",
    "List codex-bridge tasks, newest first, optionally filtered, e.g. the tasks waiting for input "
    "or the ones started from a given chat.",
    {
        "status": _string("Only tasks with this status.", enum=TASK_STATUSES),
        "notification_status": _string("Only tasks whose notification is in this state.",
                                       enum=NOTIFICATION_STATUSES),
        "notify_target": _string("Only tasks notifying this target, e.g. hermes:telegram:12345.",
                                 minLength=1),
        "limit": {"type": "integer", "description": "At most this many tasks (the bridge's default is 50).",
                  "minimum": 1, "maximum": 1000},
    },
    [],
)

CANCEL_SCHEMA = _schema(
    "codex_task_cancel",
    "Cancel a codex-bridge task: the Codex turn is interrupted and its process stopped. The "
    "cancellation is notified like a result. Only when the person asks to stop a task.",
    {"task_id": _TASK_ID},
    ["task_id"],
)

APPROVE_SCHEMA = _schema(
    "codex_task_approve",
    "Answer a pending approval of a codex-bridge task (Codex wants to run a command, change files "
    "or get more permissions). Relay the person's own decision, never decide for them; take the "
    "task_id and request_id from the notification or from codex_task_status.",
    {
        "task_id": _TASK_ID,
        "request_id": _REQUEST_ID,
        "decision": _string("accept (allow this once), accept_for_session (allow this and the same "
                            "kind for the rest of the task), decline (refuse; Codex goes on without "
                            "it), cancel (refuse and stop the current turn).", enum=APPROVAL_DECISIONS),
    },
    ["task_id", "request_id", "decision"],
)

ANSWER_SCHEMA = _schema(
    "codex_task_answer",
    "Answer a pending question of a codex-bridge task (Codex asked the person something). Relay "
    "the person's own answers; take the task_id, request_id and question ids from the notification "
    "or from codex_task_status.",
    {
        "task_id": _TASK_ID,
        "request_id": _REQUEST_ID,
        "answers": {
            "type": "object",
            "description": "Question id → the answers, as a list of strings (the chosen options' "
                           "labels, or the typed text), e.g. {\"q1\": [\"Yes\"]}.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "minProperties": 1,
        },
    },
    ["task_id", "request_id", "answers"],
)

REPLY_SCHEMA = _schema(
    "codex_task_reply",
    "Send a follow-up prompt to a codex-bridge task, in the same Codex thread, so it keeps the "
    "context of the earlier turns (e.g. \"now add tests for it\"). While a turn runs, Codex gets "
    "it inside that turn when it can, otherwise as the next turn (queued_replies in the answer); "
    "once the task has finished it starts a new turn. The result is notified like the first one.",
    {
        "task_id": _TASK_ID,
        "prompt": _string("The follow-up instructions for Codex.", minLength=1, maxLength=MAX_PROMPT_LENGTH),
    },
    ["task_id", "prompt"],
)

SCHEDULE_SCHEMA = _schema(
    "codex_schedule",
    "Recurring Codex tasks (Temporal Schedules run by codex-bridge): create one when the person asks "
    "for something to happen regularly (\"every weekday at 9\"), list or describe them, pause, "
    "unpause or delete one. Every run is an ordinary Codex task with its own task_id, and its result "
    "arrives in this chat like any task's. A run that is due while the previous one still runs is "
    "skipped.",
    {
        "action": _string("What to do: create, list, describe, pause, unpause or delete.", enum=SCHEDULE_ACTIONS),
        "schedule_id": _string("The schedule's id (required except for create and list; optional for "
                               "create): 1-100 letters, digits, '.', '_' or '-'.",
                               minLength=1, pattern=SCHEDULE_ID_PATTERN),
        "cron": _string("For create: when it runs, a cron expression 'minute hour day-of-month month "
                        "day-of-week', e.g. '0 9 * * 1-5' for weekdays at 09:00.", minLength=1, maxLength=200),
        "timezone": _string("For create: an IANA time zone for the cron expression, e.g. Europe/Berlin; "
                            "omit for UTC.", minLength=1, maxLength=100),
        "prompt": _string("For create: what Codex should do on every run, self-contained.",
                          minLength=1, maxLength=MAX_PROMPT_LENGTH),
        "cwd": _string("For create: absolute path of the repository on the bridge's machine.",
                       minLength=1, maxLength=4096),
        "notify_target": _string("For create: where each run's result goes; omit it for this chat.", minLength=1),
        "model": _string("For create: Codex model; omit for the bridge's default.", minLength=1, maxLength=200),
        "sandbox": _string("For create: read-only, workspace-write or danger-full-access.", enum=SANDBOX_MODES),
        "approval_policy": _string("For create: never, on-request or untrusted.", enum=APPROVAL_POLICIES),
        "isolation": _string("For create: none or worktree (each run on its own branch).", enum=ISOLATION_MODES),
        "overlap": _string("For create: what a run due while the previous task still runs does; "
                           "default skip.", enum=SCHEDULE_OVERLAP_POLICIES),
        "note": _string("For pause and unpause: why, shown in Temporal's Web UI.", minLength=1, maxLength=500),
    },
    ["action"],
)

_CREATE_FIELDS = ("schedule_id", "cron", "timezone", "prompt", "cwd", "notify_target", "model", "sandbox",
                  "approval_policy", "isolation", "overlap")


# -- handlers -----------------------------------------------------------------------------------

def _start(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    body = dict(args)
    source, no_target_reason = "explicit", ""
    if "notify_target" not in body:
        session = notify_target_for_session()
        if session.target:
            body["notify_target"], source = session.target, "session"
        else:
            source, no_target_reason = "none", session.reason
    result = client.request("POST", "/v1/tasks", body=body)
    if not result.ok:
        return _failed(result)
    task = _as_dict(result.data)
    task_id = task.get("task_id") or args.get("task_id") or "?"
    if source == "session":
        summary = f"Started Codex task {task_id}; you'll be notified in this chat when it finishes."
    elif source == "explicit":
        target = task.get("notify_target") or body["notify_target"]
        where = "the bridge's local inbox" if target == "local" else target
        summary = f"Started Codex task {task_id}; the result will be sent to {where} when it finishes."
    else:
        summary = (f"Started Codex task {task_id}, but {no_target_reason}, so no notification will "
                   f"be sent; check on it with codex_task_status.")
    return _succeeded(summary, _clip(task), notify_target_source=source)


def _status(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    result = client.request("GET", f"/v1/tasks/{_segment(args['task_id'])}")
    if not result.ok:
        return _failed(result)
    task = _as_dict(result.data)
    return _succeeded(_describe_task(task, args["task_id"]), _clip(task))


def _list(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    result = client.request("GET", "/v1/tasks", query=args)
    if not result.ok:
        return _failed(result)
    tasks = [_compact_task(task) for task in _as_dict(result.data).get("tasks") or [] if isinstance(task, dict)]
    if not tasks:
        summary = "No codex-bridge tasks match."
    else:
        shown = "; ".join(f"{t.get('task_id')} {t.get('status')}" for t in tasks[:MAX_TASKS_IN_SUMMARY])
        more = f"; and {len(tasks) - MAX_TASKS_IN_SUMMARY} more" if len(tasks) > MAX_TASKS_IN_SUMMARY else ""
        summary = f"{len(tasks)} task(s), newest first: {shown}{more}."
    return _succeeded(summary, {"tasks": tasks})


def _cancel(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    task_id = args["task_id"]
    result = client.request("POST", f"/v1/tasks/{_segment(task_id)}/cancel")
    if not result.ok:
        return _failed(result)
    return _succeeded(f"Asked codex-bridge to cancel task {task_id}; the cancellation will be notified "
                      f"like a result.", _clip(_as_dict(result.data)))


def _approve(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    task_id, request_id, decision = args["task_id"], args["request_id"], args["decision"]
    result = client.request("POST", f"/v1/tasks/{_segment(task_id)}/approvals/{_segment(request_id)}",
                            body={"decision": decision})
    if not result.ok:
        return _failed(result)
    return _succeeded(f"Sent '{decision}' for request {request_id} of task {task_id}.",
                      _clip(_as_dict(result.data)))


def _answer(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    task_id, request_id = args["task_id"], args["request_id"]
    result = client.request("POST", f"/v1/tasks/{_segment(task_id)}/answers/{_segment(request_id)}",
                            body={"answers": args["answers"]})
    if not result.ok:
        return _failed(result)
    return _succeeded(f"Sent the answers to request {request_id} of task {task_id}.",
                      _clip(_as_dict(result.data)))


def _reply(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    task_id = args["task_id"]
    result = client.request("POST", f"/v1/tasks/{_segment(task_id)}/replies", body={"prompt": args["prompt"]})
    if not result.ok:
        return _failed(result)
    return _succeeded(f"Sent the follow-up to task {task_id}; its result will be notified like the "
                      f"first one.", _clip(_as_dict(result.data)))


def _schedule(args: dict[str, Any], client: BridgeClient) -> dict[str, Any]:
    action = args["action"]
    if action == "create":
        missing = [name for name in ("cron", "prompt") if name not in args]
        if missing:
            return _error_result({"code": "invalid_arguments", "message": f"'{missing[0]}' is required to create a schedule."})
        body = {name: args[name] for name in _CREATE_FIELDS if name in args}
        if "notify_target" not in body:
            session = notify_target_for_session()
            if session.target:
                body["notify_target"] = session.target
        result = client.request("POST", "/v1/schedules", body=body)
        if not result.ok:
            return _failed(result)
        created = _as_dict(result.data)
        target = created.get("task", {}).get("notify_target") if isinstance(created.get("task"), dict) else None
        where = f"; each run's result goes to {target}" if target else "; runs notify nobody"
        return _succeeded(f"Created schedule {created.get('schedule_id')} ({args['cron']}){where}. Next run: "
                          f"{(created.get('next_runs') or ['none'])[0]}.", _clip(created))
    if action == "list":
        result = client.request("GET", "/v1/schedules")
        if not result.ok:
            return _failed(result)
        schedules = [s for s in _as_dict(result.data).get("schedules") or [] if isinstance(s, dict)]
        shown = "; ".join(f"{s.get('schedule_id')} {' | '.join(s.get('cron') or [])}"
                          f"{' (paused)' if s.get('paused') else ''}" for s in schedules[:MAX_TASKS_IN_SUMMARY])
        summary = f"{len(schedules)} schedule(s): {shown}." if schedules else "No codex-bridge schedules."
        return _succeeded(summary, {"schedules": _clip(schedules)})
    if "schedule_id" not in args:
        return _error_result({"code": "invalid_arguments", "message": f"'schedule_id' is required to {action} a schedule."})
    path = f"/v1/schedules/{_segment(args['schedule_id'])}"
    if action == "describe":
        result = client.request("GET", path)
    elif action == "delete":
        result = client.request("DELETE", path)
    else:
        result = client.request("POST", f"{path}/{action}", body={"note": args["note"]} if "note" in args else {})
    if not result.ok:
        return _failed(result)
    answer = _as_dict(result.data)
    schedule_id = args["schedule_id"]
    if action == "delete":
        summary = f"Deleted schedule {schedule_id}; tasks it already started still finish and notify."
    elif action == "describe":
        state = "paused" if answer.get("paused") else "active"
        recent = ", ".join(r.get("task_id", "?") for r in answer.get("recent_runs") or [] if isinstance(r, dict))
        summary = (f"Schedule {schedule_id} is {state} ({' | '.join(answer.get('cron') or [])}); next run "
                   f"{(answer.get('next_runs') or ['none'])[0]}{f'; recent tasks: {recent}' if recent else ''}.")
    else:
        summary = f"Schedule {schedule_id} is {'paused' if action == 'pause' else 'active again'}."
    return _succeeded(summary, _clip(answer))


# -- results ------------------------------------------------------------------------------------

def _succeeded(summary: str, answer: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    # ok and summary first (what the model reads first); the API's fields cannot overwrite them.
    fields = {key: value for key, value in answer.items() if key not in ("ok", "summary")}
    return {"ok": True, "summary": summary, **fields, **extra}


def _failed(result: ApiResult) -> dict[str, Any]:
    error = result.error or ApiError("bridge_error", "codex-bridge reported a failure without details.")
    return _error_result(error.to_dict())


def _error_result(error: dict[str, str]) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def _segment(value: str) -> str:
    """One path segment: an id containing '/' or '?' must not change the route."""
    return quote(value, safe="")


def _clip(value: Any) -> Any:
    """Cuts long strings (diffs, command output) so one result cannot flood the model's context."""
    if isinstance(value, str) and len(value) > MAX_TEXT_IN_RESULT:
        return (value[:MAX_TEXT_IN_RESULT] + f"… [{len(value) - MAX_TEXT_IN_RESULT} more characters; "
                f"`codex-bridge status <task_id> --json` shows everything]")
    if isinstance(value, dict):
        return {key: _clip(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clip(item) for item in value]
    return value


def _short(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact_task(task: dict[str, Any]) -> dict[str, Any]:
    """A list entry: what tells tasks apart, without results' diffs and outputs."""
    keys = ("task_id", "status", "queue_position", "cwd", "model", "notify_target", "notification_status",
            "pending_requests", "created_at", "finished_at")
    entry: dict[str, Any] = {key: task[key] for key in keys if key in task}
    entry["prompt"] = _short(task.get("prompt"), 200)
    result = task.get("result")
    if isinstance(result, dict):
        entry["result"] = {"summary": _short(result.get("summary"), 500)}
    if task.get("error"):
        entry["error"] = task["error"]
    return _clip(entry)


def _describe_task(task: dict[str, Any], fallback_id: str) -> str:
    task_id = task.get("task_id") or fallback_id
    status = task.get("status") or "unknown"
    if status == "waiting_for_input":
        requests = [r for r in task.get("pending_requests") or [] if isinstance(r, dict)]
        listed = "; ".join(f"{r.get('kind', 'request')} {r.get('request_id')}: {_short(r.get('summary'), 200)}"
                           for r in requests) or "a request"
        text = (f"Task {task_id} is waiting for input ({listed}); ask the person and relay their decision "
                f"with codex_task_approve or their answers with codex_task_answer")
    elif status == "completed":
        result = _as_dict(task.get("result"))
        outcome = _short(result.get("summary") or result.get("final_message")) or "no summary"
        text = f"Task {task_id} completed: {outcome}"
    elif status in ("failed", "timed_out"):
        error = _as_dict(task.get("error"))
        text = f"Task {task_id} {status.replace('_', ' ')}: {_short(error.get('message')) or 'no reason given'}"
    elif status == "cancelled":
        text = f"Task {task_id} was cancelled"
    elif status == "queued" and isinstance(task.get("queue_position"), int):
        text = (f"Task {task_id} is queued with {task['queue_position']} ahead of it; "
                f"it starts by itself when a slot frees")
    elif status == "waiting_for_quota":
        text = (f"Task {task_id} is paused at the Codex usage limit until {task.get('resumes_at') or 'the reset'}; "
                f"it resumes by itself")
    else:
        text = f"Task {task_id} is {status.replace('_', ' ')}"
    sentences = [text]
    if task.get("notification_status") == "failed":
        sentences.append(f"Its notification failed: {_short(task.get('notification_error')) or 'no reason given'}")
    return " ".join(_sentence(s) for s in sentences)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "…", "!", "?")) else text + "."


# -- wiring -------------------------------------------------------------------------------------

Implementation = Callable[[dict[str, Any], BridgeClient], dict[str, Any]]


def _make_handler(schema: dict[str, Any], implementation: Implementation) -> Handler:
    parameters = schema["parameters"]

    def run(args: Any) -> dict[str, Any]:
        try:
            checked = validate_arguments(parameters, args)
        except ArgumentError as exc:
            return _error_result({"code": "invalid_arguments", "message": str(exc)})
        return implementation(checked, BridgeClient.from_environment())

    def handle(args: Any = None, **_hermes_context: Any) -> str:
        try:
            return _dump(run(args))
        except Exception as exc:  # a handler must never raise into Hermes
            return _internal_error(exc)

    handle.__name__ = f"handle_{schema['name']}"
    handle.__qualname__ = handle.__name__
    return handle


def _internal_error(exc: Exception) -> str:
    try:
        message = f"The codex_bridge plugin failed unexpectedly ({type(exc).__name__}: {_short(exc)})."
    except Exception:  # even str(exc) can raise
        message = "The codex_bridge plugin failed unexpectedly."
    return json.dumps(_error_result({"code": "internal_error", "message": message}))


def _dump(result: Mapping[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, default=str)


TOOLS: tuple[Tool, ...] = tuple(
    Tool(name=schema["name"], schema=schema, handler=_make_handler(schema, implementation))
    for schema, implementation in (
        (START_SCHEMA, _start),
        (STATUS_SCHEMA, _status),
        (LIST_SCHEMA, _list),
        (CANCEL_SCHEMA, _cancel),
        (APPROVE_SCHEMA, _approve),
        (ANSWER_SCHEMA, _answer),
        (REPLY_SCHEMA, _reply),
        (SCHEDULE_SCHEMA, _schedule),
    )
)

TOOLS_BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLS}
