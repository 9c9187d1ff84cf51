"""The documentation's relative links work in any clone of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        REPO_ROOT / "README.md",
        *(p for d in ("docs", "infra", "bench") for p in (REPO_ROOT / d).glob("*.md")),
    ]
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(document: Path) -> list[str]:
    targets = (m.group(1).split("#", 1)[0] for m in LINK.finditer(document.read_text()))
    return [t for t in targets if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_point_to_files_inside_the_repository(document: Path) -> None:
    for target in _relative_links(document):
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO_ROOT), f"{target} is outside the repository"
        assert resolved.exists(), f"{target} does not exist"
