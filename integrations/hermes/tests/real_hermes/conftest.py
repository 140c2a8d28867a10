"""The real Hermes (hermes-agent from PyPI, installed by ``scripts/setup --test``) and the real bridge.

* ``bridge_stack`` (once per run): ``node dist/test/support/bridge-stack.js`` — Temporal dev server,
  FerretDB, ``codex-bridge worker`` and ``serve``, the real ``codex`` binary on a scripted model,
  and the real Hermes gateway delivering ``hermes:`` notifications to a fake Telegram — all on
  free 127.0.0.1 ports, stopped at the end.
* ``hermes`` (once per run): a temporary ``HERMES_HOME`` with our plugin copied in and enabled,
  loaded by Hermes's own plugin discovery (``hermes_cli.plugins``); tools are then called through
  Hermes's tool registry (``tools.registry``) from a chat session bound the way the gateway binds it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from helpers import PLUGIN_DIR, REPO_ROOT
from stack_support import BridgeStack, Hermes, hermes_cli

LAUNCHER = REPO_ROOT / "dist" / "test" / "support" / "bridge-stack.js"
STACK_START_TIMEOUT = 240.0


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the fast suite's fixture of the same name: here Hermes's packages are wanted, but
    nothing of the user's environment may decide a session, a bridge or a proxy."""
    for name in ("HERMES_SESSION_PLATFORM", "HERMES_SESSION_CHAT_ID", "HERMES_SESSION_THREAD_ID",
                 "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def bridge_stack() -> Iterator[BridgeStack]:
    if not LAUNCHER.exists():
        pytest.fail(f"{LAUNCHER.relative_to(REPO_ROOT)} is missing: run ./scripts/setup --test (it compiles it).")
    log = tempfile.NamedTemporaryFile(prefix="bridge-stack-", suffix=".log", delete=False)
    proc = subprocess.Popen(["node", str(LAUNCHER)], cwd=REPO_ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = _read_line(proc, STACK_START_TIMEOUT)
        if not line:
            proc.wait(timeout=30)
            pytest.fail(f"the bridge stack did not start:\n{Path(log.name).read_text()[-4000:]}")
        info = json.loads(line)
        yield BridgeStack(api_url=info["api_url"], token=info["token"], work_dir=Path(info["work_dir"]),
                          control_url=info["control_url"], gateway_route_url=info["gateway_route_url"])
    finally:
        _stop(proc)
        log.close()
        os.unlink(log.name)


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0].strip() if got else ""


def _stop(proc: subprocess.Popen) -> None:
    """Closing stdin asks the launcher to stop everything it started; SIGTERM does the same."""
    try:
        proc.stdin.close()
    except Exception:
        pass
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=60)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def hermes() -> Iterator[Hermes]:
    home = Path(tempfile.mkdtemp(prefix="hermes-home-"))
    shutil.copytree(PLUGIN_DIR, home / "plugins" / PLUGIN_DIR.name,
                    ignore=shutil.ignore_patterns("__pycache__"))
    # The install step of the README, with Hermes's own CLI.
    enabled = hermes_cli("plugins", "enable", PLUGIN_DIR.name, home=home)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    previous = os.environ.get("HERMES_HOME")
    os.environ["HERMES_HOME"] = str(home)
    try:
        from hermes_cli.plugins import discover_plugins, get_plugin_manager
        from tools.registry import registry

        discover_plugins(force=True)
        yield Hermes(home=home, registry=registry, plugin_manager=get_plugin_manager())
    finally:
        if previous is None:
            os.environ.pop("HERMES_HOME", None)
        else:
            os.environ["HERMES_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def bridge_env(bridge_stack: BridgeStack, monkeypatch: pytest.MonkeyPatch) -> BridgeStack:
    """Hermes's environment as ~/.hermes/.env sets it for the plugin."""
    monkeypatch.setenv("CODEX_BRIDGE_URL", bridge_stack.api_url)
    monkeypatch.setenv("CODEX_BRIDGE_API_TOKEN", bridge_stack.token)
    return bridge_stack
