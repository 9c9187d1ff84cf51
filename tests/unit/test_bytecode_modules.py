"""layers/runtime/bytecode-modules.txt names what the layer ships as bytecode (Lambda's /opt is
read-only: a module without its .pyc is compiled at every cold start). When these fail, run
`make bytecode-modules` and commit the list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIME = REPO_ROOT / "layers" / "runtime"
LOCAL_ONLY = ("agenthub/local/", "agenthub/demo/", "agenthub/cli/", "agenthub/llm/offline")

# Imports a function's handler as Lambda does, then prints its modules' files as listed.
IMPORTED = """
import importlib.util, json, sys, sysconfig
from pathlib import Path
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
bases = [Path(sys.argv[2]).resolve()] + [
    Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")
]
files = set()
for module in list(sys.modules.values()):
    file = getattr(module, "__file__", None) or ""
    if file.endswith(".py"):
        path = Path(file).resolve()
        files.update(path.relative_to(b).as_posix() for b in bases if path.is_relative_to(b))
print(json.dumps(sorted(files)))
"""


def listed() -> set[str]:
    lines = (RUNTIME / "bytecode-modules.txt").read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_every_runtime_module_of_agenthub_is_listed() -> None:
    modules = {
        path.relative_to(RUNTIME).as_posix() for path in (RUNTIME / "agenthub").rglob("*.py")
    }
    runtime = {m for m in modules if not m.startswith(LOCAL_ONLY)}

    assert sorted(runtime - listed()) == []
    assert sorted(m for m in listed() if m.startswith(LOCAL_ONLY)) == []


def test_every_module_the_chat_function_imports_at_init_is_listed() -> None:
    handler = REPO_ROOT / "functions" / "chat" / "handler.py"
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED, str(handler), str(RUNTIME)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    imported = set(json.loads(result.stdout))

    assert len(imported) > 500
    assert sorted(imported - listed()) == []
