"""codex-bridge plugin for the Hermes agent: run OpenAI Codex tasks durably and hear back in chat.

Copy this directory to ~/.hermes/plugins/codex_bridge/ and run `hermes plugins enable codex_bridge`.
"""

from __future__ import annotations

from typing import Any

from .tools import TOOLS, TOOLSET

__all__ = ["register"]


def register(ctx: Any) -> None:
    """Called once by Hermes' plugin loader with its PluginContext."""
    for tool in TOOLS:
        ctx.register_tool(name=tool.name, toolset=TOOLSET, schema=tool.schema, handler=tool.handler)
