"""The skill's front matter is what Hermes' skill loader reads, and its text covers every tool."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from codex_bridge import tools
from helpers import HERMES_DIR, SKILL_DIR

TOOL_NAMES = [tool.name for tool in tools.TOOLS]


def front_matter() -> tuple[dict[str, Any], str]:
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(header), body


def test_front_matter_has_what_hermes_reads() -> None:
    meta, _ = front_matter()
    assert meta["name"] == SKILL_DIR.name == "codex-bridge"
    assert isinstance(meta["description"], str) and 40 < len(meta["description"]) <= 1024
    assert isinstance(meta["version"], str)
    tags = meta["metadata"]["hermes"]["tags"]
    assert isinstance(tags, list) and "codex" in tags


def test_the_token_is_required_and_the_url_is_optional() -> None:
    meta, _ = front_matter()
    variables = {entry["name"]: entry for entry in meta["required_environment_variables"]}
    assert set(variables) == {"CODEX_BRIDGE_API_TOKEN", "CODEX_BRIDGE_URL"}
    assert not variables["CODEX_BRIDGE_API_TOKEN"].get("optional")
    # Hermes leaves `optional` entries out of its "setup needed" check; the URL has a default.
    assert variables["CODEX_BRIDGE_URL"]["optional"] is True
    for entry in variables.values():
        assert entry["prompt"] and entry["help"]


@pytest.mark.parametrize("document", ["skill/codex-bridge/SKILL.md", "skill/codex-bridge/references/api.md",
                                      "README.md"])
def test_documents_cover_every_tool(document: str) -> None:
    text = (HERMES_DIR / document).read_text(encoding="utf-8")
    missing = [name for name in TOOL_NAMES if name not in text]
    assert not missing, f"{document} does not mention {missing}"


def test_skill_tells_the_agent_not_to_wait_and_to_relay_decisions() -> None:
    _, body = front_matter()
    assert "Do not wait" in body
    assert "request_id" in body and "codex_task_approve" in body
    assert "Never decide an approval" in body
