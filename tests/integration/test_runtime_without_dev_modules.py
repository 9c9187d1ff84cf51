"""The Lambda layer leaves out the local stack, demo API, CLI and offline model: the runtime must
work without them, and an offline tenant gets a clear 503 instead of an ImportError."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.lambda_events import HttpResult

pytest_plugins = ["tests.integration.chat_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY = ("agenthub.local", "agenthub.demo", "agenthub.cli", "agenthub.llm.offline")


@pytest.fixture
def without_local_only_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in the layer: importing a local-only module fails (None in sys.modules does that)."""
    from agenthub import composition

    for name in [n for n in sys.modules if n.startswith(LOCAL_ONLY)]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("agenthub.llm.offline", "agenthub.llm.offline_answers"):
        monkeypatch.setitem(sys.modules, name, None)
    composition.reset()  # no model built with the offline module still around
    yield
    composition.reset()


def test_an_offline_tenant_on_the_layer_gets_a_503_configuration_error(
    seeded: None, without_local_only_modules: None, chat: Callable[..., HttpResult]
) -> None:
    result = chat("hello")

    assert result.status == 503
    assert result.body["error"]["code"] == "service_unavailable"
    assert "LLM configuration" in result.body["error"]["message"]
    assert "Import" not in result.body["error"]["message"]


def test_every_function_imports_without_the_local_only_modules() -> None:
    blocker = textwrap.dedent(
        f"""
        import importlib.abc, importlib.util, sys
        LOCAL_ONLY = {LOCAL_ONLY!r}

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.startswith(LOCAL_ONLY):
                    raise ImportError(f"{{name}} is not in the Lambda layer")
                return None

        sys.meta_path.insert(0, Blocker())
        for function in sys.argv[1:]:
            path = "functions/" + function + "/handler.py"
            spec = importlib.util.spec_from_file_location("handler_" + function, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            assert callable(module.handler), function
        import agenthub.composition, agenthub.llm, agenthub.services.chat
        print("ok")
        """
    )
    functions = sorted(p.parent.name for p in (REPO_ROOT / "functions").glob("*/handler.py"))

    result = subprocess.run(
        [sys.executable, "-c", blocker, *functions],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
