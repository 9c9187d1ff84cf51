"""DB_QUERY tools: an admin-written, parameterised, read-only SELECT on a tenant data source.

Config (`ToolSpec.config`):
    data_source   the name of the tenant's data source (`/api/admin/tenants/{t}/data-sources/{n}`);
                  each tenant that uses the tool has its own data source of that name
    sql           one SELECT with named parameters (`:mst`); its parameters are exactly the
                  properties of the tool's input schema (checked by `tools.sql_guard` at save)
    max_rows      row cap (default 100, at most 1000): more rows are cut and `truncated` set
    timeout_s     statement timeout (default 5 s, at most 30 s)
    presentation  optional "table" or "chart": how the rows are best shown (a hint for the
                  model and the output shaping)

The model never writes SQL: it only fills the parameters, which the driver binds (psycopg sends
them apart from the query text). A run opens a READ ONLY transaction with `statement_timeout`,
fetches at most `max_rows + 1` rows and rolls back. The result is JSON:
`{"columns": [...], "rows": [{column: value}], "row_count": n, "truncated": bool,
"presentation": ...}`; failures are `ToolFailure` results the agent can explain.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agenthub.domain import ToolContext, ToolSpec
from agenthub.errors import (
    ConfigurationError,
    DecryptionError,
    SsrfBlockedError,
    ValidationFailedError,
)
from agenthub.observability import get_logger
from agenthub.tools.base import CallResult, ToolFailure, compact_json, runtime_tool
from agenthub.tools.schema import json_schema_to_model
from agenthub.tools.sql_guard import MAX_SQL_CHARS, GuardedQuery, guard_select

if TYPE_CHECKING:
    from agenthub.tools.db_pools import DataSourcePools

DATA_SOURCE_NAME = r"^[a-z][a-z0-9_]{0,62}$"
MAX_ROWS_LIMIT = 1000
MAX_TIMEOUT_S = 30.0
_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})
_QUERY_CANCELED = "57014"


class DbQueryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_source: str = Field(pattern=DATA_SOURCE_NAME)
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)
    max_rows: int = Field(default=100, ge=1, le=MAX_ROWS_LIMIT)
    timeout_s: float = Field(default=5.0, gt=0, le=MAX_TIMEOUT_S)
    presentation: Literal["table", "chart"] | None = None


@dataclass(frozen=True)
class ParsedDbQuery:
    config: DbQueryConfig
    query: GuardedQuery


def parse_db_query_config(config: Any, *, input_schema: dict[str, Any] | None) -> ParsedDbQuery:
    """The typed config and the checked query, or ValidationFailedError naming the field/rule."""
    parsed = _typed_config(config)
    return ParsedDbQuery(config=parsed, query=checked_query(parsed.sql, input_schema))


def checked_query(sql: str, input_schema: dict[str, Any] | None) -> GuardedQuery:
    """`sql` through the guard, its parameters matched against `input_schema` when given."""
    query = guard_select(sql)
    if input_schema is not None:
        _check_parameters(query.parameters, input_schema)
    return query


def _typed_config(config: Any) -> DbQueryConfig:
    try:
        parsed = DbQueryConfig.model_validate(config)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(("config", *map(str, error["loc"]))),
                "message": error["msg"].removeprefix("Value error, "),
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailedError(
            f"invalid DB_QUERY config: {problems[0]['field']}: {problems[0]['message']}",
            details=problems,
        ) from None
    return parsed


def _check_parameters(parameters: tuple[str, ...], input_schema: dict[str, Any]) -> None:
    properties = input_schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    problems = [
        f":{name} is not a property of the input schema"
        for name in parameters
        if name not in properties
    ]
    problems += [
        f"the input schema's property {name!r} is not used by the SQL"
        for name in properties
        if name not in parameters
    ]
    for name in parameters:
        spec = properties.get(name)
        if isinstance(spec, dict) and not _bindable(spec):
            problems.append(f":{name} must be a string, number, boolean or a list of them")
    if problems:
        raise ValidationFailedError(
            f"config.sql refused (parameters): {problems[0]}",
            details=[{"field": "config.sql", "rule": "parameters", "message": p} for p in problems],
        )


def _bindable(spec: dict[str, Any]) -> bool:
    """A value psycopg binds as one parameter: a scalar (or an enum of them), or a list of them."""
    kind = spec.get("type")
    if kind is None:
        return "enum" in spec
    kinds = set(kind) if isinstance(kind, list) else {kind}
    kinds.discard("null")
    if kinds and kinds <= _SCALAR_TYPES:
        return True
    items = spec.get("items")
    return kinds == {"array"} and isinstance(items, dict) and _bindable(items)


def build_db_query_tool(spec: ToolSpec, *, pools: DataSourcePools | None) -> BaseTool:
    """The StructuredTool for a DB_QUERY spec (ValidationFailedError if unusable).

    The SQL was checked when the tool was saved; it is checked again (and compiled for the
    driver) on the first call, not here: sqlglot takes a while to import, and a cold chat that
    calls no DB_QUERY tool should not pay for it.
    """
    config = _typed_config(spec.config)
    if pools is None:
        raise ValidationFailedError(
            f"tool {spec.name!r}: DB_QUERY tools need the data source pools",
            details=[{"field": "type", "message": "no data source pools were given"}],
        )
    return runtime_tool(
        tool_id=str(spec.id),
        name=spec.name,
        description=spec.description,
        args_model=json_schema_to_model(spec.name, spec.input_schema),
        execute=DbQueryCall(spec=spec, config=config, pools=pools),
    )


@lru_cache(maxsize=256)
def _compiled(sql: str, schema_json: str) -> GuardedQuery:
    return checked_query(sql, json.loads(schema_json))


@dataclass(frozen=True)
class DbQueryCall:
    """One configured DB_QUERY tool: arguments + caller -> rows of the tenant's data source."""

    spec: ToolSpec
    config: DbQueryConfig
    pools: DataSourcePools

    @property
    def query(self) -> GuardedQuery:
        try:
            return _compiled(self.config.sql, json.dumps(self.spec.input_schema, sort_keys=True))
        except ValidationFailedError as exc:
            # Saved before a rule existed, or written to the database directly.
            raise ToolFailure(
                "configuration", f"the tool's query is not allowed: {exc.message}"
            ) from None

    def __call__(self, args: dict[str, Any], context: ToolContext) -> CallResult:
        config = self.config
        query = self.query
        encrypted = self.spec.encrypted_data_source_url
        if not encrypted:
            raise ToolFailure(
                "configuration",
                f"this organisation has no data source named {config.data_source!r} yet",
            )
        values = {name: args.get(name) for name in query.parameters}
        try:
            columns, rows, truncated = self._run(context.tenant_id, encrypted, query, values)
        except (DecryptionError, ConfigurationError, ValidationFailedError) as exc:
            raise ToolFailure(
                "configuration", "the data source's stored connection cannot be used"
            ) from exc
        except SsrfBlockedError as exc:
            raise ToolFailure("ssrf_blocked", exc.message) from None
        content = {
            "columns": columns,
            "rows": [dict(zip(columns, row, strict=True)) for row in rows],
            "row_count": len(rows),
            "truncated": truncated,
        }
        if config.presentation:
            content["presentation"] = config.presentation
        return CallResult(content=compact_json(content))

    def _run(
        self, tenant_id: str, encrypted: str, query: GuardedQuery, values: dict[str, Any]
    ) -> tuple[list[str], list[list[Any]], bool]:
        import psycopg
        from psycopg_pool import PoolTimeout

        config = self.config
        try:
            with self.pools.connection(
                tenant_id=tenant_id,
                name=config.data_source,
                encrypted_url=encrypted,
                wait_s=config.timeout_s,
            ) as conn:
                try:
                    return self._fetch(conn, query, values)
                finally:
                    conn.rollback()  # nothing to keep: the transaction was read-only anyway
        except PoolTimeout:
            raise ToolFailure(
                "timeout", "the database could not be reached in time (busy or down)"
            ) from None
        except psycopg.errors.QueryCanceled:
            raise ToolFailure(
                "timeout", f"the database query took longer than {config.timeout_s:g} s"
            ) from None
        except psycopg.OperationalError as exc:
            get_logger().warning(
                "data source unreachable",
                extra={"tool_name": self.spec.name, "sqlstate": exc.sqlstate},
            )
            raise ToolFailure("network", "the database could not be reached") from None
        except psycopg.Error as exc:
            # SQLSTATE and PostgreSQL's own sentence (no values of the query's parameters).
            message = exc.diag.message_primary or type(exc).__name__
            raise ToolFailure(
                "query",
                f"the database refused the query: {message}",
                detail={"sqlstate": exc.sqlstate},
            ) from None

    def _fetch(
        self, conn: Any, query: GuardedQuery, values: dict[str, Any]
    ) -> tuple[list[str], list[list[Any]], bool]:
        config = self.config
        timeout_ms = max(1, int(config.timeout_s * 1000))
        with conn.cursor() as cur:
            # Our own statements with integers only: nothing of the caller's reaches them.
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            cur.execute(f"SET LOCAL idle_in_transaction_session_timeout = {timeout_ms + 1000}")
            cur.execute(query.sql, values, prepare=False)
            columns = [column.name for column in cur.description or ()]
            fetched = cur.fetchmany(config.max_rows + 1)
        truncated = len(fetched) > config.max_rows
        rows = [[json_value(value) for value in row] for row in fetched[: config.max_rows]]
        return _unique(columns), rows, truncated


def json_value(value: Any) -> Any:
    """A database value as JSON: numbers stay numbers, dates become ISO text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


def _unique(columns: list[str]) -> list[str]:
    """Column names as keys: a repeated name gets a suffix (`total`, `total_2`)."""
    seen: dict[str, int] = {}
    unique = []
    for column in columns:
        name = column if column and not re.fullmatch(r"\?column\?", column) else "value"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique
