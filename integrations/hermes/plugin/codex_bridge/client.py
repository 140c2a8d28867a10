"""A small HTTP client for the codex-bridge API (standard library only).

Every call returns an ``ApiResult``; nothing here raises for an HTTP status, a refused connection,
a timeout or a body that is not JSON, because the tool handlers must never raise into Hermes.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Mapping

DEFAULT_BASE_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT_SECONDS = 30.0
USER_AGENT = "codex-bridge-hermes-plugin/0.1.0"

# HTTP statuses → the error code used when a body does not carry the API's error shape
# (e.g. a proxy or a framework default page answered instead of the bridge).
_CODE_BY_STATUS = {
    400: "validation_error",
    401: "unauthorized",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    503: "unavailable",
}

# What the agent can tell the person, beyond the API's own sentence.
_HINT_BY_STATUS = {
    401: "CODEX_BRIDGE_API_TOKEN in Hermes' environment must equal the token the bridge was started with.",
    503: "Temporal or the task store is down; `codex-bridge doctor` says which.",
}
_HINT_NO_TOKEN = ("CODEX_BRIDGE_API_TOKEN is not set in Hermes' environment; add the bridge's API token to "
                  "~/.hermes/.env.")

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass(frozen=True)
class ApiResult:
    """The outcome of one API call: ``data`` on success (parsed JSON, ``{}`` for an empty body)."""

    status: int | None
    data: Any = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _failure(code: str, message: str, status: int | None = None, hint: str | None = None) -> ApiResult:
    return ApiResult(status=status, error=ApiError(code=code, message=message, hint=hint))


class BridgeClient:
    """Talks to one codex-bridge HTTP API (``codex-bridge serve``)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = timeout

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> "BridgeClient":
        """Reads CODEX_BRIDGE_URL and CODEX_BRIDGE_API_TOKEN at call time (from ``env`` when given,
        else the way Hermes resolves settings for the profile serving this turn)."""
        read = env.get if env is not None else secret_reader()
        base_url = (read("CODEX_BRIDGE_URL") or "").strip() or DEFAULT_BASE_URL
        token = (read("CODEX_BRIDGE_API_TOKEN") or "").strip() or None
        return cls(base_url=base_url, token=token)

    def request(self, method: str, path: str, *, body: Mapping[str, Any] | None = None,
                query: Mapping[str, Any] | None = None) -> ApiResult:
        """Sends one request; ``path`` starts with ``/`` and is already percent-encoded."""
        config_error = self._configuration_error()
        if config_error is not None:
            return config_error

        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            # Without a token the request still goes out: a bridge started without one (local
            # development) accepts it, and any other answers 401, which says what to set.
            headers["Authorization"] = f"Bearer {self.token}"
        data: bytes | None = None
        if body is not None:
            # Only a request with a body says it is JSON: Fastify refuses an empty JSON body.
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)

        try:
            with self._opener().open(request, timeout=self.timeout) as response:
                return self._success(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return self._http_failure(exc.code, _read_quietly(exc))
        except (TimeoutError, socket.timeout):
            return self._timeout()
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                return self._timeout()
            return self._unreachable(exc.reason)
        except (ConnectionError, OSError) as exc:  # reset mid-response, bad address family, …
            return self._unreachable(exc)
        except Exception as exc:  # http.client protocol errors and anything unforeseen
            return _failure("bridge_error", f"Talking to codex-bridge at {self.base_url} failed: "
                                            f"{type(exc).__name__}: {exc}.")

    # -- helpers ------------------------------------------------------------------------------

    def _configuration_error(self) -> ApiResult | None:
        parsed = urllib.parse.urlsplit(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return _failure("invalid_configuration",
                            f"CODEX_BRIDGE_URL {self.base_url!r} is not an http(s) URL; "
                            f"set it like {DEFAULT_BASE_URL}.")
        return None

    def _opener(self) -> urllib.request.OpenerDirector:
        # A bridge on this machine must not be sent through an HTTP(S)_PROXY from the environment.
        if urllib.parse.urlsplit(self.base_url).hostname in _LOOPBACK_HOSTS:
            return urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return urllib.request.build_opener()

    def _success(self, status: int, raw: bytes) -> ApiResult:
        if not raw.strip():
            return ApiResult(status=status, data={})
        try:
            return ApiResult(status=status, data=json.loads(raw))
        except ValueError:
            return _failure("bad_response",
                            f"codex-bridge at {self.base_url} answered HTTP {status} with a body that "
                            f"is not JSON; is CODEX_BRIDGE_URL pointing at the bridge?", status)

    def _http_failure(self, status: int, raw: bytes) -> ApiResult:
        code = _CODE_BY_STATUS.get(status, f"http_{status}")
        message = None
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            error = parsed.get("error")
            if isinstance(error, dict):
                # The API's error shape: {"error": {"code", "message"}}.
                code = str(error.get("code") or code)
                message = error.get("message")
            elif isinstance(parsed.get("message"), str):
                message = parsed["message"]  # a framework default (e.g. unknown route)
        if not isinstance(message, str) or not message.strip():
            message = f"codex-bridge answered HTTP {status}."
        hint = _HINT_NO_TOKEN if status == 401 and not self.token else _HINT_BY_STATUS.get(status)
        return _failure(code, message.strip(), status, hint)

    def _unreachable(self, reason: object) -> ApiResult:
        return _failure("bridge_unreachable",
                        f"codex-bridge is not reachable at {self.base_url} ({reason}); start it with "
                        f"`codex-bridge serve` (or `codex-bridge dev` to run everything on this machine), "
                        f"or set CODEX_BRIDGE_URL to where it runs.")

    def _timeout(self) -> ApiResult:
        return _failure("bridge_timeout",
                        f"codex-bridge at {self.base_url} did not answer within {self.timeout:g} s; "
                        f"check it with `codex-bridge doctor`.")


def secret_reader() -> Callable[[str], str | None]:
    """Hermes' ``agent.secret_scope.get_secret`` when we run inside Hermes, else ``os.environ``.

    A gateway serving several profiles keeps each profile's ``.env`` out of ``os.environ`` and
    installs the one serving the current turn as a secret scope; ``get_secret`` reads it (and reads
    ``os.environ`` in a single-profile Hermes).
    """
    try:
        from agent.secret_scope import get_secret  # type: ignore[import-not-found]
    except Exception:
        return os.environ.get

    def read(name: str) -> str | None:
        try:
            return get_secret(name)
        except Exception:
            # UnscopedSecretError: multiplexing with no profile in scope. Reading os.environ here
            # could pick up another profile's token, so report none (the 401 hint says what to set).
            return None

    return read


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    """The error body, or nothing; always closes the response."""
    try:
        return exc.read() or b""
    except Exception:
        return b""
    finally:
        try:
            exc.close()
        except Exception:
            pass
