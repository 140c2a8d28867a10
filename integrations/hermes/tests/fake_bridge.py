"""A faithful stand-in for `codex-bridge serve`: the same routes, bearer-token check and error
shape, on 127.0.0.1 in a thread. It keeps tasks in memory and records every request it receives."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TASK_STATUSES = ("queued", "running", "waiting_for_input", "completed", "failed", "cancelled", "timed_out")
TERMINAL = ("completed", "failed", "cancelled", "timed_out")
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "no_target")
SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
APPROVAL_POLICIES = ("never", "on-request", "untrusted")
DECISIONS = ("accept", "accept_for_session", "decline", "cancel")
START_FIELDS = {"prompt", "cwd", "notify_target", "model", "sandbox", "approval_policy", "isolation", "task_id"}
MAX_BODY_BYTES = 64 * 1024

_ID = r"[A-Za-z0-9_.@!+=\-]{1,128}"
_TARGET = re.compile(rf"^(local|feishu:{_ID}|hermes:[a-z][a-z0-9_]{{0,31}}:{_ID}(:{_ID})?|webhook:https?://\S+)$")


@dataclass
class RecordedRequest:
    method: str
    path: str  # as sent, still percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    body: Any = None


class ApiFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class FakeBridge:
    token: str = "test-token"
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    # Answers for the next requests, regardless of route: (status, raw body, content type).
    scripted: list[tuple[int, bytes, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sequence: int = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> "FakeBridge":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) quick.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                         name="fake-bridge", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test helpers -----------------------------------------------------------------------

    def add_task(self, task_id: str, **fields: Any) -> dict[str, Any]:
        task = self._new_task({"prompt": fields.pop("prompt", "seeded"), "task_id": task_id})
        task.update(fields)
        self.tasks[task_id] = task
        return task

    def script(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.scripted.append((status, raw, content_type))

    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path != "/healthz"]

    # -- the API ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> tuple[int, Any]:
        segments = [unquote(s) for s in path.strip("/").split("/")]
        if method == "GET" and segments == ["healthz"]:
            return 200, {"status": "ok"}
        if headers.get("authorization") != f"Bearer {self.token}":
            raise ApiFailure(401, "unauthorized", "Missing or invalid bearer token.")
        match (method, segments):
            case ("POST", ["v1", "tasks"]):
                return 201, self._start(body)
            case ("GET", ["v1", "tasks"]):
                return 200, {"tasks": self._list(query)}
            case ("GET", ["v1", "tasks", task_id]):
                return 200, self._task(task_id)
            case ("POST", ["v1", "tasks", task_id, "cancel"]):
                self._task(task_id)["status"] = "cancelled"
                return 202, {"task_id": task_id, "status": "cancelling"}
            case ("POST", ["v1", "tasks", task_id, "approvals", request_id]):
                decision = _field(body, "decision")
                if decision not in DECISIONS:
                    raise ApiFailure(400, "validation_error", f"decision must be one of {', '.join(DECISIONS)}.")
                return 200, self._resolve(task_id, request_id, approval=True)
            case ("POST", ["v1", "tasks", task_id, "answers", request_id]):
                answers = _field(body, "answers")
                if not isinstance(answers, dict) or not all(
                        isinstance(v, list) and all(isinstance(a, str) for a in v) for v in answers.values()):
                    raise ApiFailure(400, "validation_error", "answers must map question ids to lists of strings.")
                return 200, self._resolve(task_id, request_id, approval=False)
            case ("POST", ["v1", "tasks", task_id, "replies"]):
                prompt = _field(body, "prompt")
                if not isinstance(prompt, str) or not prompt.strip():
                    raise ApiFailure(400, "validation_error", "prompt is required.")
                task = self._task(task_id)
                task["status"] = "queued"
                return 202, task
            case ("POST", ["v1", "schedules"]):
                return 201, self._create_schedule(body)
            case ("GET", ["v1", "schedules"]):
                return 200, {"schedules": list(self.schedules.values())}
            case ("GET", ["v1", "schedules", schedule_id]):
                return 200, self._schedule(schedule_id)
            case ("POST", ["v1", "schedules", schedule_id, ("pause" | "unpause") as verb]):
                schedule = self._schedule(schedule_id)
                schedule["paused"] = verb == "pause"
                schedule["note"] = body.get("note") if isinstance(body, dict) else None
                return 200, schedule
            case ("DELETE", ["v1", "schedules", schedule_id]):
                self._schedule(schedule_id)
                del self.schedules[schedule_id]
                return 200, {"schedule_id": schedule_id, "deleted": True}
        raise ApiFailure(404, "not_found", f"No route {method} {path}.")

    def _create_schedule(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("cron"), str) or not body.get("prompt"):
            raise ApiFailure(400, "validation_error", "cron and prompt are required.")
        unknown = set(body) - (START_FIELDS - {"task_id"}) - {"schedule_id", "cron", "timezone", "overlap", "paused"}
        if unknown:
            raise ApiFailure(400, "validation_error", f"Unknown field {sorted(unknown)[0]}.")
        with self._lock:
            self._sequence += 1
            schedule_id = body.get("schedule_id") or f"schedule-{self._sequence:04d}"
            if schedule_id in self.schedules:
                raise ApiFailure(409, "conflict", f"A schedule with id {schedule_id} already exists.")
            task = {key: body.get(key) for key in ("prompt", "cwd", "model", "sandbox", "approval_policy", "notify_target")}
            schedule = {"schedule_id": schedule_id, "cron": [body["cron"]], "timezone": body.get("timezone"),
                        "overlap": body.get("overlap", "skip"), "paused": False, "note": None, "task": task,
                        "next_runs": ["2030-01-07T09:00:00.000Z"], "recent_runs": []}
            self.schedules[schedule_id] = schedule
        return schedule

    def _schedule(self, schedule_id: str) -> dict[str, Any]:
        if schedule_id not in self.schedules:
            raise ApiFailure(404, "not_found", f"Schedule {schedule_id} does not exist.")
        return self.schedules[schedule_id]

    def _start(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, "validation_error", "The body must be a JSON object.")
        unknown = set(body) - START_FIELDS
        if unknown:
            raise ApiFailure(400, "validation_error", f"Unknown field {sorted(unknown)[0]}.")
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            raise ApiFailure(400, "validation_error", "prompt is required.")
        if body.get("sandbox", "workspace-write") not in SANDBOX_MODES:
            raise ApiFailure(400, "validation_error", "sandbox is invalid.")
        if body.get("approval_policy", "never") not in APPROVAL_POLICIES:
            raise ApiFailure(400, "validation_error", "approval_policy is invalid.")
        target = body.get("notify_target")
        if target is not None and not _TARGET.match(str(target)):
            raise ApiFailure(400, "validation_error",
                             f'notify_target "{target}" is invalid: expected local, feishu:<chat_id>, '
                             f"hermes:<platform>:<chat_id>[:<thread_id>] or webhook:<http(s) url>.")
        task_id = body.get("task_id")
        with self._lock:
            if task_id in self.tasks:
                raise ApiFailure(409, "conflict", f"A task with id {task_id} already exists.")
            task = self._new_task(body)
            self.tasks[task["task_id"]] = task
        return task

    def _new_task(self, body: dict[str, Any]) -> dict[str, Any]:
        self._sequence += 1
        task_id = body.get("task_id") or f"task-{self._sequence:04d}"
        now = datetime.now(timezone.utc).isoformat()
        target = body.get("notify_target")
        return {
            "task_id": task_id, "workflow_id": task_id, "run_id": f"run-{self._sequence}",
            "prompt": body["prompt"], "cwd": body.get("cwd", "/srv/repo"), "model": body.get("model"),
            "sandbox": body.get("sandbox", "workspace-write"),
            "approval_policy": body.get("approval_policy", "never"), "status": "queued",
            "notify_target": target, "notification_status": "pending" if target else None,
            "notified_at": None, "notification_error": None, "notification_attempts": 0,
            "pending_requests": [], "result": None, "error": None,
            "created_at": now, "started_at": None, "finished_at": None, "updated_at": now,
        }

    def _task(self, task_id: str) -> dict[str, Any]:
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiFailure(404, "not_found", f"Task {task_id} was not found.")
        return task

    def _list(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        one = {key: values[-1] for key, values in query.items()}
        unknown = set(one) - {"status", "notification_status", "notify_target", "limit"}
        if unknown:
            raise ApiFailure(400, "validation_error", f"Unknown filter {sorted(unknown)[0]}.")
        if "status" in one and one["status"] not in TASK_STATUSES:
            raise ApiFailure(400, "validation_error", "status is invalid.")
        if "notification_status" in one and one["notification_status"] not in NOTIFICATION_STATUSES:
            raise ApiFailure(400, "validation_error", "notification_status is invalid.")
        try:
            limit = int(one.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            raise ApiFailure(400, "validation_error", "limit must be an integer from 1 to 1000.")
        tasks = list(reversed(self.tasks.values()))  # insertion order is creation order
        for key in ("status", "notification_status", "notify_target"):
            if key in one:
                tasks = [t for t in tasks if t.get(key) == one[key]]
        return tasks[:limit]

    def _resolve(self, task_id: str, request_id: str, *, approval: bool) -> dict[str, Any]:
        task = self._task(task_id)
        pending = [r for r in task["pending_requests"] if r["request_id"] == request_id
                   and (r["kind"] != "user_input") == approval]
        if not pending:
            raise ApiFailure(409, "conflict", f"Request {request_id} of task {task_id} is not pending.")
        task["pending_requests"] = [r for r in task["pending_requests"] if r["request_id"] != request_id]
        if not task["pending_requests"]:
            task["status"] = "running"
        return task


def _field(body: Any, name: str) -> Any:
    if not isinstance(body, dict):
        raise ApiFailure(400, "validation_error", "The body must be a JSON object.")
    return body.get(name)


def _handler_for(bridge: FakeBridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, *_args: Any) -> None:  # keep pytest output clean
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            recorded = RecordedRequest(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                                       {k.lower(): v for k, v in self.headers.items()}, raw)
            bridge.requests.append(recorded)
            if bridge.scripted:
                status, payload, content_type = bridge.scripted.pop(0)
                return self._send(status, payload, content_type)
            try:
                if length > MAX_BODY_BYTES:
                    raise ApiFailure(413, "too_large", "The request body is too large.")
                if raw:
                    if "application/json" not in self.headers.get("Content-Type", ""):
                        raise ApiFailure(400, "validation_error", "The body must be JSON.")
                    try:
                        recorded.body = json.loads(raw)
                    except ValueError:
                        raise ApiFailure(400, "validation_error", "The body is not valid JSON.") from None
                elif self.headers.get("Content-Type"):
                    # What Fastify does with an empty body declared as JSON.
                    raise ApiFailure(400, "validation_error", "Body cannot be empty when content-type is set.")
                status, answer = bridge.handle(self.command, split.path, recorded.query,
                                               recorded.headers, recorded.body)
            except ApiFailure as failure:
                status, answer = failure.status, {"error": {"code": failure.code, "message": failure.message}}
            payload = b"" if answer is None else json.dumps(answer).encode()
            self._send(status, payload, "application/json")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
