"""The ready banner prints an `agenthub` command that works as written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agenthub.local.dev import agenthub_command


def test_the_banner_names_agenthub_by_its_full_path_when_the_path_does_not_find_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    script = Path(sys.executable).with_name("agenthub")

    command = agenthub_command()

    assert command == (str(script) if script.is_file() else "agenthub")


def test_the_banner_says_agenthub_when_the_path_finds_this_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = Path(sys.executable).with_name("agenthub")
    if not script.is_file():
        pytest.skip("no agenthub script beside this interpreter")
    monkeypatch.setenv("PATH", str(script.parent))

    assert agenthub_command() == "agenthub"
