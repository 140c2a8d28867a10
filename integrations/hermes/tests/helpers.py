"""Paths and small helpers the test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

HERMES_DIR = Path(__file__).resolve().parents[1]
PLUGIN_DIR = HERMES_DIR / "plugin" / "codex_bridge"
SKILL_DIR = HERMES_DIR / "skill" / "codex-bridge"
REPO_ROOT = HERMES_DIR.parents[1]

# Hermes imports a plugin directory as a package; so do the tests.
if str(PLUGIN_DIR.parent) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR.parent))

from codex_bridge import tools  # noqa: E402


def call(tool_name: str, args: Any, **hermes_kwargs: Any) -> dict[str, Any]:
    """Invokes a tool the way Hermes' registry does (``handler(args, **kwargs)``) and decodes it."""
    raw = tools.TOOLS_BY_NAME[tool_name].handler(args, **hermes_kwargs)
    assert isinstance(raw, str)
    return json.loads(raw)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
