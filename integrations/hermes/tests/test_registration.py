"""register(ctx) wires exactly the tools plugin.yaml promises, the way Hermes' loader expects."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest
import yaml

import codex_bridge
from helpers import PLUGIN_DIR


class RecordingContext:
    """Stands in for hermes_cli.plugins.PluginContext: records what the plugin registers."""

    def __init__(self) -> None:
        self.tools: list[dict[str, Any]] = []

    def register_tool(self, name: str, toolset: str, schema: dict, handler: Any, **options: Any) -> None:
        self.tools.append({"name": name, "toolset": toolset, "schema": schema, "handler": handler,
                           "options": options})


def manifest() -> dict[str, Any]:
    return yaml.safe_load((PLUGIN_DIR / "plugin.yaml").read_text(encoding="utf-8"))


def registered() -> list[dict[str, Any]]:
    ctx = RecordingContext()
    codex_bridge.register(ctx)
    return ctx.tools


def test_manifest_names_the_plugin_after_its_directory() -> None:
    data = manifest()
    assert data["name"] == PLUGIN_DIR.name == "codex_bridge"
    assert isinstance(data["version"], str) and data["version"]
    assert isinstance(data["description"], str) and data["description"].strip()


def test_every_tool_in_the_manifest_is_registered_and_nothing_else() -> None:
    assert [tool["name"] for tool in registered()] == manifest()["provides_tools"]


def test_the_eight_tools_are_the_task_tools_and_the_schedule_tool() -> None:
    assert set(manifest()["provides_tools"]) == {
        "codex_task_start", "codex_task_status", "codex_task_list", "codex_task_cancel",
        "codex_task_approve", "codex_task_answer", "codex_task_reply", "codex_schedule",
    }


def test_each_registration_uses_the_codex_bridge_toolset_and_a_named_schema() -> None:
    for tool in registered():
        assert tool["toolset"] == "codex_bridge"
        assert tool["schema"]["name"] == tool["name"]
        assert callable(tool["handler"])
        # Only the four arguments every Hermes version's register_tool accepts.
        assert tool["options"] == {}


def test_registering_twice_gives_the_same_tools() -> None:
    assert [t["name"] for t in registered()] == [t["name"] for t in registered()]


def test_the_directory_loads_under_any_package_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hermes imports ~/.hermes/plugins/<name>/__init__.py under a namespace of its own, so the
    # plugin may only import its modules relatively.
    name = "hermes_plugins_under_test.codex_bridge"
    spec = importlib.util.spec_from_file_location(name, PLUGIN_DIR / "__init__.py",
                                                  submodule_search_locations=[str(PLUGIN_DIR)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    try:
        spec.loader.exec_module(module)
        ctx = RecordingContext()
        module.register(ctx)
    finally:
        for loaded in [key for key in sys.modules if key.startswith(name + ".")]:
            del sys.modules[loaded]
    assert [t["name"] for t in ctx.tools] == manifest()["provides_tools"]
    assert all(t["handler"].__module__ == f"{name}.tools" for t in ctx.tools)
