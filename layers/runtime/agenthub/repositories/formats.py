"""Output formats (global): how an agent's answer is shaped and rendered."""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agenthub.db.models import OutputFormat
from agenthub.repositories.common import guarded_write, load_server_values


class OutputFormatRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self) -> builtins.list[OutputFormat]:
        return builtins.list(self.db.scalars(select(OutputFormat).order_by(OutputFormat.name)))

    def get(self, id: uuid.UUID) -> OutputFormat | None:
        return self.db.get(OutputFormat, id)

    def get_by_name(self, name: str) -> OutputFormat | None:
        statement = select(OutputFormat).where(OutputFormat.name == name)
        return self.db.scalars(statement).one_or_none()

    def upsert(
        self,
        name: str,
        renderer_hint: str,
        schema: dict[str, Any] | None = None,
        description: str = "",
    ) -> OutputFormat:
        """Create the named format or update it in place (its version moves on a change)."""
        output_format = self.get_by_name(name)
        with guarded_write(self.db, what=f"output format {name!r}"):
            if output_format is None:
                output_format = OutputFormat(name=name)
                self.db.add(output_format)
            output_format.renderer_hint = renderer_hint
            output_format.schema = dict(schema or {})
            output_format.description = description
        load_server_values(self.db, output_format)
        return output_format
