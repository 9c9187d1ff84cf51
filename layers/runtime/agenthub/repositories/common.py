"""What every repository shares: the UNSET marker, guarded writes, change sets, version checks.

Repositories never commit: the caller owns the transaction (`agenthub.db.engine.transaction`).
Each write runs in a SAVEPOINT so that a refused write changes nothing and leaves the caller's
transaction usable; driver errors become domain errors here, at the boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import inspect
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from agenthub.errors import (
    AgentHubError,
    ConflictError,
    NotFoundError,
    ValidationFailedError,
    VersionConflictError,
)


class Unset(enum.Enum):
    """Marks an argument that was not given (keep the stored value), as opposed to None."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
UnsetType = Literal[Unset.UNSET]

E = TypeVar("E", bound=enum.Enum)

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
_NOT_NULL_VIOLATION = "23502"
_CHECK_VIOLATION = "23514"


@contextmanager
def guarded_write(db: Session, *, what: str, conflict: str | None = None) -> Iterator[None]:
    """Run the writes of the block in a savepoint, flushed on exit, with errors translated.

    `what` names the entity in messages ("tool 'lookup'"); `conflict` replaces the message of a
    unique violation.
    """
    try:
        with db.begin_nested():
            yield
    except StaleDataError as exc:
        raise VersionConflictError(
            f"{what} was changed by someone else; reload it and try again"
        ) from exc
    except IntegrityError as exc:
        raise integrity_error(exc, what=what, conflict=conflict) from exc
    except DataError as exc:
        raise ValidationFailedError(
            f"{what}: a value has the wrong type or is out of range"
        ) from exc


def integrity_error(
    exc: IntegrityError, *, what: str, conflict: str | None = None
) -> AgentHubError:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or "a constraint"
    if sqlstate == _UNIQUE_VIOLATION:
        return ConflictError(conflict or f"{what} already exists")
    if sqlstate == _FOREIGN_KEY_VIOLATION:
        return NotFoundError(f"{what} refers to a row that does not exist ({constraint})")
    if sqlstate == _NOT_NULL_VIOLATION:
        column = getattr(diag, "column_name", None) or "a required field"
        return ValidationFailedError(f"{what}: {column} is required")
    if sqlstate == _CHECK_VIOLATION:
        return ValidationFailedError(f"{what}: a value is not allowed ({constraint})")
    return ConflictError(f"{what} conflicts with stored data ({constraint})")


def load_server_values(db: Session, entity: object) -> None:
    """Load the columns the database computed on the last flush (`updated_at = now()`...).

    Callers use returned rows after the transaction ends, when expired attributes could no
    longer be loaded; one small SELECT now avoids a DetachedInstanceError later.
    """
    state = inspect(entity)
    columns = {attr.key for attr in state.mapper.column_attrs}
    expired = sorted(columns & state.unloaded)
    if expired:
        db.refresh(entity, expired)


def check_version(*, actual: int, expected: int | None, what: str) -> None:
    """Optimistic concurrency: the caller changes what it read, or nothing."""
    if expected is not None and actual != expected:
        raise VersionConflictError(
            f"{what} is at version {actual}, not {expected}; reload it and try again",
            details={"current_version": actual},
        )


def apply_changes(
    entity: object, changes: Mapping[str, Any], *, allowed: frozenset[str], what: str
) -> None:
    """Set the given attributes, refusing any field outside `allowed` before touching one."""
    refused = sorted(set(changes) - allowed)
    if refused:
        raise ValidationFailedError(
            f"{what}: cannot change {', '.join(refused)} (allowed: {', '.join(sorted(allowed))})",
            details={"fields": refused},
        )
    for name, value in changes.items():
        setattr(entity, name, value)


def enum_value(enum_cls: type[E], value: Any, *, field: str) -> E:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_cls)
        raise ValidationFailedError(f"{field} must be one of: {allowed}") from None
