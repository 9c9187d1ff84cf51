"""The save-time guard of DB_QUERY tools: one read-only SELECT with named parameters, or a refusal.

The admin's SQL is parsed (sqlglot, PostgreSQL dialect) and checked rule by rule; every refusal
is a `SqlRefusedError` naming its rule. What runs later is the SQL regenerated from the checked
tree (comments dropped, `:name` parameters turned into driver placeholders), never the text as
typed: nothing can hide from the parser in a comment or a dialect quirk. The run time adds its
own walls (a read-only transaction, a statement timeout, a row cap), so a query this guard
misjudges still cannot write.

Rules (the `rule` of each refusal):
    syntax            the SQL does not parse
    single_statement  exactly one statement (no `;` followed by another)
    select_only       the statement is a SELECT (set operations of SELECTs allowed)
    no_writes         no INSERT/UPDATE/DELETE/MERGE/DDL anywhere (data-modifying CTEs included)
    no_select_into    no `SELECT ... INTO` (it creates a table)
    no_locking        no FOR UPDATE / FOR SHARE / FOR [NO] KEY ...
    no_dangerous_function  no function that sleeps, reads files, runs SQL text, reaches other
                      servers, changes settings or sequences, signals backends (see DENIED_*)
    named_parameters  parameters are `:name`; positional `$1`, `%s`, `?` are refused
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agenthub.errors import ValidationFailedError

if TYPE_CHECKING:
    from sqlglot import exp

MAX_SQL_CHARS = 20_000

# Exact names (lowercase) of functions no DB_QUERY tool may call.
DENIED_FUNCTIONS = frozenset(
    {
        "set_config",
        "current_setting",  # reads server settings (paths, keys of extensions)
        "nextval",
        "setval",
        "currval",
        "lastval",
        "copy",
        "ts_stat",  # runs the SQL text it is given
        "ts_rewrite",
        "loread",
        "lowrite",
        "txid_current",  # assigns a transaction id (a write in disguise)
        "version",
        "inet_server_addr",
        "inet_server_port",
    }
)
# Prefixes and suffixes: whole families (server admin, files, large objects, remote servers,
# SQL text executed as XML).
DENIED_PREFIXES = ("pg_", "dblink", "lo_", "file_", "adminpack")
DENIED_SUFFIXES = ("_to_xml", "_to_xmlschema", "_to_xml_and_xmlschema")
# Harmless `pg_` functions a report may want.
ALLOWED_PG_FUNCTIONS = frozenset(
    {"pg_typeof", "pg_size_pretty", "pg_column_size", "pg_size_bytes", "pg_collation_for"}
)
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class SqlRefusedError(ValidationFailedError):
    """A DB_QUERY tool's SQL broke `rule` (422 at save)."""

    def __init__(self, rule: str, message: str) -> None:
        text = f"config.sql refused ({rule}): {message}"
        super().__init__(text, details=[{"field": "config.sql", "rule": rule, "message": message}])
        self.rule = rule


@dataclass(frozen=True)
class GuardedQuery:
    """A checked query: `sql` with psycopg placeholders `%(name)s`, and the names it binds."""

    sql: str
    parameters: tuple[str, ...]


def guard_select(sql: str) -> GuardedQuery:
    """Check `sql` against every rule; the query to run, or SqlRefusedError naming the rule."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not isinstance(sql, str) or not sql.strip():
        raise SqlRefusedError("syntax", "the SQL is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefusedError("syntax", f"the SQL is longer than {MAX_SQL_CHARS} characters")
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else "unparseable"
        raise SqlRefusedError("syntax", f"the SQL does not parse: {first}") from None
    if len(statements) != 1:
        raise SqlRefusedError(
            "single_statement", f"exactly one statement is allowed, found {len(statements)}"
        )
    tree = statements[0]
    _check_statement(tree, exp)
    parameters = _check_nodes(tree, exp)
    return GuardedQuery(sql=_driver_sql(tree, exp), parameters=parameters)


def _check_statement(tree: exp.Expr, exp: Any) -> None:
    # A UNION/INTERSECT/EXCEPT of SELECTs is one read query; what its branches hold is checked
    # node by node (writes, locks, functions) like any other part of the tree.
    if isinstance(tree, exp.Select | exp.SetOperation):
        return
    kind = str(tree.this).upper() if isinstance(tree, exp.Command) else tree.key.upper()
    raise SqlRefusedError("select_only", f"only a SELECT is allowed, not {kind}")


def _check_nodes(tree: exp.Expr, exp: Any) -> tuple[str, ...]:
    writes = (
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Merge,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.TruncateTable,
        exp.Copy,
        exp.Command,
        exp.Grant,
    )
    names: list[str] = []
    for node in tree.walk():
        if isinstance(node, writes):
            raise SqlRefusedError(
                "no_writes", f"{node.key.upper()} is not allowed (queries are read-only)"
            )
        if isinstance(node, exp.Into):
            raise SqlRefusedError("no_select_into", "SELECT ... INTO creates a table")
        if isinstance(node, exp.Lock):
            raise SqlRefusedError("no_locking", "locking clauses (FOR UPDATE / FOR SHARE)")
        if isinstance(node, exp.Func):
            _check_function(node, exp)
        if isinstance(node, exp.Parameter):
            raise SqlRefusedError(
                "named_parameters", "positional parameters ($1) are not allowed; use :name"
            )
        if isinstance(node, exp.Placeholder):
            name = node.name
            if not name or name == "?" or not PARAMETER_NAME.fullmatch(name):
                raise SqlRefusedError(
                    "named_parameters", "parameters are written :name (%s and ? are not allowed)"
                )
            names.append(name)
    return tuple(dict.fromkeys(names))


def _check_function(node: exp.Func, exp: Any) -> None:
    if isinstance(node, exp.Anonymous):
        name = str(node.name)
        identifier = node.args.get("this")
        if isinstance(identifier, exp.Identifier) and identifier.quoted:
            raise SqlRefusedError(
                "no_dangerous_function", f"function names are not quoted ({name!r})"
            )
    else:
        name = node.sql_name()
    lowered = name.lower()
    denied = (
        lowered in DENIED_FUNCTIONS
        or lowered.endswith(DENIED_SUFFIXES)
        or (lowered.startswith(DENIED_PREFIXES) and lowered not in ALLOWED_PG_FUNCTIONS)
    )
    if denied:
        raise SqlRefusedError("no_dangerous_function", f"the function {lowered} is not allowed")


def _driver_sql(tree: exp.Expr, exp: Any) -> str:
    """The checked tree as SQL for psycopg: comments dropped, `%` escaped, `:name` bound."""
    marker = f"agenthub_param_{secrets.token_hex(6)}_"
    tree = tree.copy()
    for node in list(tree.find_all(exp.Placeholder)):
        node.replace(exp.column(f"{marker}{node.name}"))
    text = tree.sql(dialect="postgres", comments=False).replace("%", "%%")
    return re.sub(rf"\b{marker}([A-Za-z0-9_]+)\b", r"%(\1)s", text)
