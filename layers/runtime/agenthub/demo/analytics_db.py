"""The demo analytics database: customers, invoices and monthly sales of `acme` and `globex`.

A second database (`agenthub_analytics`) on the application's PostgreSQL server, one schema per
tenant holding different numbers, and one login role per tenant that can read only its own
schema (its `search_path` is that schema). A tenant's data source points at the database as its
role, so the same DB_QUERY tool (`SELECT ... FROM monthly_sales`) reads each tenant's own rows,
and even a query naming another tenant's schema is refused by PostgreSQL itself.

Created when missing and left alone afterwards (the seed may run many times).
"""

from __future__ import annotations

import contextlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import make_url

DATABASE = "agenthub_analytics"
MONTHS = [date(year, month, 1) for year in (2024, 2025) for month in range(1, 13)]

# Per tenant: monthly revenue base (VND), growth per month, and its customers.
_PROFILES: dict[str, tuple[int, float, tuple[tuple[str, str], ...]]] = {
    "acme": (
        1_200_000_000,
        0.018,
        (
            ("0101234567", "Công ty TNHH Minh Phát"),
            ("0109876543", "Saigon Retail JSC"),
            ("0123456789", "Hanoi Steel Trading"),
            ("0301112223", "Mekong Foods Co."),
            ("0304445556", "Đà Nẵng Logistics"),
            ("0107778889", "Tân Bình Electronics"),
            ("0312223334", "Vina Paper Ltd."),
            ("0205556667", "Hải Phòng Marine Supply"),
        ),
    ),
    "globex": (
        830_000_000,
        0.011,
        (
            ("0123456789", "Hanoi Steel Trading"),
            ("0401239876", "Cần Thơ Agro"),
            ("0318765432", "Globex Partner Freight"),
            ("0106543210", "Red River Textiles"),
            ("0209998887", "Quảng Ninh Coal Services"),
            ("0315554443", "Bến Thành Pharma"),
            ("0402221110", "Nha Trang Seafood"),
        ),
    ),
}

_SCHEMA_DDL = """
CREATE SCHEMA {schema};
CREATE TABLE {schema}.customers (
    id integer PRIMARY KEY,
    mst text NOT NULL UNIQUE,
    name text NOT NULL,
    segment text NOT NULL
);
CREATE TABLE {schema}.invoices (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES {schema}.customers (id),
    invoice_no text NOT NULL UNIQUE,
    issued_on date NOT NULL,
    due_on date NOT NULL,
    amount numeric(16, 0) NOT NULL,
    paid numeric(16, 0) NOT NULL DEFAULT 0
);
CREATE TABLE {schema}.monthly_sales (
    month date PRIMARY KEY,
    revenue numeric(16, 0) NOT NULL,
    orders integer NOT NULL
);
"""


@dataclass(frozen=True)
class AnalyticsDatabase:
    """Where the demo analytics database lives, and how a tenant's role reaches it."""

    server_url: str  # a libpq URL of the server (any database), as a superuser or owner

    def tenant_url(self, tenant_id: str, password: str) -> str:
        url = make_url(self.server_url).set(
            drivername="postgresql",
            username=role_name(tenant_id),
            password=password,
            database=DATABASE,
        )
        return url.render_as_string(hide_password=False)


def role_name(tenant_id: str) -> str:
    return f"agenthub_analytics_{schema_name(tenant_id)}"


def schema_name(tenant_id: str) -> str:
    return tenant_id.replace("-", "_")


def ensure_analytics_database(server_url: str, tenant_ids: tuple[str, ...]) -> AnalyticsDatabase:
    """Create the database, each tenant's schema, data and role when missing (idempotent)."""
    import psycopg
    from psycopg import errors, sql

    database = AnalyticsDatabase(server_url=server_url)
    if _ready(server_url, tenant_ids):
        return database
    with psycopg.connect(server_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            # Another seed run may create it meanwhile.
            with contextlib.suppress(errors.DuplicateDatabase):
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    analytics_url = make_url(server_url).set(database=DATABASE).render_as_string(False)
    with psycopg.connect(analytics_url, autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for tenant_id in tenant_ids:
            if tenant_id in _PROFILES:
                _ensure_tenant(conn, tenant_id)
    return database


def _ready(server_url: str, tenant_ids: tuple[str, ...]) -> bool:
    """Every tenant's role exists and its schema was loaded (one cheap connection)."""
    import psycopg

    analytics_url = make_url(server_url).set(database=DATABASE).render_as_string(False)
    wanted = [t for t in tenant_ids if t in _PROFILES]
    try:
        with psycopg.connect(analytics_url, autocommit=True, connect_timeout=5) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_roles r JOIN information_schema.tables t "
                "ON t.table_schema = ANY(%s) AND t.table_name = 'monthly_sales' "
                "AND r.rolname = 'agenthub_analytics_' || t.table_schema",
                ([schema_name(t) for t in wanted],),
            ).fetchone()
    except psycopg.OperationalError:
        return False  # no such database yet
    return found is not None and found[0] == len(wanted)


def set_role_password(server_url: str, tenant_id: str) -> str:
    """A fresh password for the tenant's role (when its data source is created)."""
    import psycopg
    from psycopg import sql

    password = secrets.token_urlsafe(18)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(role_name(tenant_id)), sql.Literal(password)
            )
        )
    return password


def _ensure_tenant(conn: object, tenant_id: str) -> None:
    import psycopg
    from psycopg import errors, sql

    assert isinstance(conn, psycopg.Connection)
    schema, role = schema_name(tenant_id), role_name(tenant_id)
    ident = {"schema": sql.Identifier(schema), "role": sql.Identifier(role)}
    has_role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if has_role is None:
        with contextlib.suppress(errors.DuplicateObject):
            conn.execute(
                sql.SQL("CREATE ROLE {role} LOGIN PASSWORD {pw}").format(
                    pw=sql.Literal(secrets.token_urlsafe(18)), **ident
                )
            )
    present = conn.execute(
        "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
    ).fetchone()
    if present is None:
        with conn.transaction():
            conn.execute(sql.SQL(_SCHEMA_DDL).format(schema=ident["schema"]))
            _load(conn, schema, tenant_id)
    with conn.transaction():
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}").format(**ident))
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}").format(**ident)
        )
        conn.execute(
            sql.SQL("ALTER ROLE {role} IN DATABASE {db} SET search_path = {schema}").format(
                db=sql.Identifier(DATABASE), **ident
            )
        )


def _load(conn: object, schema: str, tenant_id: str) -> None:
    import psycopg
    from psycopg import sql

    assert isinstance(conn, psycopg.Connection)
    base, growth, customers = _PROFILES[tenant_id]
    rng = random.Random(f"agenthub-analytics-{tenant_id}")  # noqa: S311 - demo data
    names = ("customers", "invoices", "monthly_sales")
    table = {name: sql.Identifier(schema, name) for name in names}
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {} (id, mst, name, segment) VALUES (%s, %s, %s, %s)").format(
                table["customers"]
            ),
            [
                (index, mst, name, rng.choice(("enterprise", "sme", "retail")))
                for index, (mst, name) in enumerate(customers, start=1)
            ],
        )
        invoices = []
        number = 0
        for customer_id in range(1, len(customers) + 1):
            for _ in range(rng.randint(3, 7)):
                number += 1
                issued = date(2025, 1, 1) + timedelta(days=rng.randint(0, 170))
                amount = rng.randint(20, 480) * 1_000_000
                paid = rng.choice((amount, amount, 0, amount // 2, amount // 4))
                invoices.append(
                    (
                        number,
                        customer_id,
                        f"{tenant_id[:3].upper()}-INV-{number:04d}",
                        issued,
                        issued + timedelta(days=30),
                        amount,
                        paid,
                    )
                )
        cur.executemany(
            sql.SQL(
                "INSERT INTO {} (id, customer_id, invoice_no, issued_on, due_on, amount, paid) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ).format(table["invoices"]),
            invoices,
        )
        sales = []
        for index, month in enumerate(MONTHS):
            # Busier around Tet (Nov-Jan), quieter in the rainy summer months.
            season = 1.0 + 0.12 * (month.month in (11, 12, 1)) - 0.08 * (month.month in (6, 7))
            revenue = round(base * (1 + growth) ** index * season * rng.uniform(0.93, 1.07), -6)
            orders = int(revenue / rng.randint(9, 13) / 1_000_000)
            sales.append((month, revenue, orders))
        cur.executemany(
            sql.SQL("INSERT INTO {} (month, revenue, orders) VALUES (%s, %s, %s)").format(
                table["monthly_sales"]
            ),
            sales,
        )
