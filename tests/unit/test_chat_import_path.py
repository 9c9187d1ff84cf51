"""What a cold chat container imports before its first request: what every turn needs, and not
the machinery only some turns use (a domain agent's and its tools', loaded with the first agent
compiled)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOADED_WITH_THE_FIRST_AGENT = ("langchain.agents", "langgraph.prebuilt", "agenthub.tools")
# Checking and resolving the files a message sends: only a turn with files needs it.
LOADED_WITH_THE_FIRST_FILES = ("agenthub.services.uploads", "agenthub.storage")


def _modules_after(code: str) -> set[str]:
    script = textwrap.dedent(
        f"""
        import json, sys
        {code}
        print(json.dumps(sorted(sys.modules)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_chat_handler_leaves_the_agent_machinery_for_later() -> None:
    loaded = _modules_after(
        """
        import importlib.util
        spec = importlib.util.spec_from_file_location("handler", "functions/chat/handler.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        """
    )

    assert "agenthub.agents.graph" in loaded  # the turn graph itself is imported up front
    assert not {name for name in loaded if name.startswith(LOADED_WITH_THE_FIRST_AGENT)}
    assert not {name for name in loaded if name.startswith(LOADED_WITH_THE_FIRST_FILES)}


def test_compiling_a_domain_agent_loads_it() -> None:
    loaded = _modules_after("import agenthub.agents.domain_agent")

    assert {"langchain.agents", "agenthub.agents.correction"} <= loaded


def test_building_an_agents_tools_loads_them() -> None:
    loaded = _modules_after("from agenthub.tools import build_tools")

    assert {"agenthub.tools.registry", "agenthub.tools.http", "agenthub.tools.rag"} <= loaded
