"""The Analysis agent with the offline model, through the chat Lambda handler: DB_QUERY tools on
the demo analytics database (one schema and role per tenant) answer as a chart or a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.support.lambda_events import HttpResult

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]


def _revenue_chart(chat: Chat, tenant: str) -> dict[str, Any]:
    result = chat("Revenue by month in 2025", tenant=tenant)
    assert result.status == 200, result.body
    body = result.body
    assert body["agent"] == "analysis", body
    assert body["format"] == "chart", body
    assert body["renderer_hint"] == "chart"
    return dict(body["data"])


def _debt_table(chat: Chat, tenant: str) -> dict[str, Any]:
    result = chat("top 5 customers by debt", tenant=tenant)
    assert result.status == 200, result.body
    body = result.body
    assert body["agent"] == "analysis", body
    assert body["format"] == "table", body
    assert body["renderer_hint"] == "table"
    return dict(body["data"])


def test_revenue_by_month_is_a_chart_of_the_twelve_months_of_2025(seeded: None, chat: Chat) -> None:
    data = _revenue_chart(chat, "acme")

    assert data["kind"] == "line"
    assert data["labels"] == [f"2025-{m:02d}" for m in range(1, 13)]
    (series,) = data["series"]
    assert series["name"] == "Revenue"
    assert len(series["values"]) == 12
    assert all(value > 100_000_000 for value in series["values"])


def test_top_5_customers_by_debt_is_a_table_ranked_by_debt(seeded: None, chat: Chat) -> None:
    data = _debt_table(chat, "acme")

    assert data["columns"] == ["Customer name", "MST", "Debt", "Unpaid invoices"]
    assert len(data["rows"]) == 5
    debts = [row[2] for row in data["rows"]]
    assert debts == sorted(debts, reverse=True)
    assert all(debt > 0 for debt in debts)


def test_each_tenant_sees_its_own_numbers(seeded: None, chat: Chat) -> None:
    acme_chart, globex_chart = _revenue_chart(chat, "acme"), _revenue_chart(chat, "globex")
    acme_table, globex_table = _debt_table(chat, "acme"), _debt_table(chat, "globex")

    assert acme_chart["series"][0]["values"] != globex_chart["series"][0]["values"]
    assert sum(acme_chart["series"][0]["values"]) > sum(globex_chart["series"][0]["values"])
    acme_names = {row[0] for row in acme_table["rows"]}
    globex_names = {row[0] for row in globex_table["rows"]}
    assert acme_table["rows"] != globex_table["rows"]
    # Globex's own customer never shows in acme's answer (the schemas hold different rows).
    assert "Globex Partner Freight" in globex_names
    assert "Globex Partner Freight" not in acme_names


def test_the_answer_is_stored_with_its_tool_call(seeded: None, chat: Chat) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message, MessageRole

    result = chat("top 3 customers by debt", tenant="globex")

    assert result.status == 200, result.body
    assert len(result.body["data"]["rows"]) == 3
    assert result.body["text"].startswith("[offline model] 3 rows: ")
    with get_sessionmaker()() as db:
        stored = db.scalars(select(Message).where(Message.role == MessageRole.ASSISTANT)).one()
    assert (stored.agent, stored.format, stored.renderer_hint) == ("analysis", "table", "table")
    assert stored.data == result.body["data"]
    (call,) = stored.tool_calls
    assert (call["tool"], call["args"], call["outcome"]) == (
        "top_customers_by_debt",
        {"limit": 3},
        "ok",
    )
