"""One composition root: only entry points import `agenthub.composition`.

Adapters (agents, tools, LLM providers, auth, cache, repositories, database) get what they need
as arguments; a module of theirs reaching for the root would be a service locator (and made the
import cycle auth/jwt.py -> composition -> tools/registry -> tools/http.py -> composition).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import agenthub

PACKAGE = Path(agenthub.__file__).parent
ADAPTER_PACKAGES = ("agents", "tools", "llm", "auth", "cache", "repositories", "db")
# Adapters whose settings values come in as arguments too (they once read get_settings()).
SETTINGS_FREE = ("tools/http.py", "tools/transport.py", "llm/providers.py")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at module level or inside a function."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def adapter_sources() -> list[Path]:
    return sorted(
        path for package in ADAPTER_PACKAGES for path in (PACKAGE / package).rglob("*.py")
    )


def test_the_adapter_packages_hold_sources_to_check() -> None:
    assert len(adapter_sources()) > 30  # the scan below reads real files


def test_no_adapter_module_imports_the_composition_root() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in adapter_sources()
        if "agenthub.composition" in imported_modules(path)
    ]
    assert offenders == []


def test_http_tools_transport_and_providers_take_settings_values_as_arguments() -> None:
    offenders = [
        name
        for name in SETTINGS_FREE
        if {"agenthub.settings", "agenthub.settings.get_settings"}
        & imported_modules(PACKAGE / name)
    ]
    assert offenders == []


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from agenthub.composition import get_keyring\n")
    assert "agenthub.composition" in imported_modules(source)


def test_importing_the_auth_and_tools_packages_does_not_load_the_composition_root() -> None:
    code = (
        "import sys\n"
        "import agenthub.auth.jwt, agenthub.auth.deps, agenthub.tools.registry\n"
        "import agenthub.llm.providers, agenthub.cache.redis_cache\n"
        "print('agenthub.composition' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
