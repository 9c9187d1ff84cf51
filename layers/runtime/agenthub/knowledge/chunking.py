"""Text -> overlapping chunks for embedding (langchain-text-splitters, imported on first use)."""

from __future__ import annotations

from functools import cache
from typing import Any

DEFAULT_CHUNK_SIZE = 800
DEFAULT_CHUNK_OVERLAP = 120
MAX_CHUNKS = 5_000


@cache
def _splitter(chunk_size: int, chunk_overlap: int) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
    )


def chunk_text(
    text: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE, chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
) -> list[str]:
    """Non-empty chunks of at most `chunk_size` characters, neighbours sharing an overlap."""
    chunks = [c.strip() for c in _splitter(chunk_size, chunk_overlap).split_text(text)]
    return [c for c in chunks if c]
