"""Refusing bad input the way every admin endpoint does: 422 naming the field."""

from __future__ import annotations

import uuid

from agenthub.errors import ValidationFailedError


def invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"invalid input: {field}: {message}", details=[{"field": field, "message": message}]
    )


def as_uuid(value: str) -> uuid.UUID | None:
    """The UUID a reference spells, or None when it is a name."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def require_version(expected_version: int | None) -> int:
    """A change to versioned config must say which version it read (optimistic concurrency)."""
    if expected_version is None:
        raise invalid(
            "version", 'required: send the version you read as If-Match: "<version>" or "version"'
        )
    return expected_version
