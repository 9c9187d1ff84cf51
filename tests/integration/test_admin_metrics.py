"""GET /api/admin/metrics: figures computed from stored messages, per tenant, period and group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from agenthub.repositories import ChatSessionRepository, MessageRepository, NewMessage
from tests.integration.admin_support import TENANT_ADMIN, Admin

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

DEBT_TOOL = "get_customer_debt_by_mst"
TRACK_TOOL = "track_shipment"


def _call(tool: str, status: str, latency_ms: float, outcome: str) -> dict[str, Any]:
    return {
        "tool": tool,
        "args": {},
        "status": status,
        "latency_ms": latency_ms,
        "outcome": outcome,
    }


def _turn(
    tenant_id: str,
    *,
    agent: str,
    model: str,
    tokens: tuple[int, int],
    cost: str,
    calls: list[dict[str, Any]],
    days_ago: int = 0,
) -> None:
    from sqlalchemy import update

    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import ChatSession, Message

    with transaction(get_sessionmaker()) as db:
        session = ChatSessionRepository(db).create(tenant_id=tenant_id, user_id="alice")
        _, answer = MessageRepository(db).append_turn(
            tenant_id=tenant_id,
            session_id=session.id,
            user=NewMessage(role="user", content="question"),
            assistant=NewMessage(
                role="assistant",
                content="answer",
                agent=agent,
                llm_model=model,
                input_tokens=tokens[0],
                output_tokens=tokens[1],
                cost_usd=Decimal(cost),
                tool_calls=calls,
            ),
        )
        if days_ago:
            moment = datetime.now(UTC) - timedelta(days=days_ago)
            db.execute(update(Message).where(Message.id == answer.id).values(created_at=moment))
            db.execute(
                update(ChatSession)
                .where(ChatSession.id == session.id)
                .values(last_activity_at=moment)
            )


@pytest.fixture
def usage(admin_seeded: None) -> None:
    """acme: two debt turns (3 tool calls, one failed) and a shipment turn; globex: one turn;
    acme also has a debt turn from 30 days ago."""
    _turn(
        "acme",
        agent="debt",
        model="gpt-4o-mini",
        tokens=(100, 20),
        cost="0.001",
        calls=[_call(DEBT_TOOL, "success", 100, "ok")],
    )
    _turn(
        "acme",
        agent="debt",
        model="gpt-4o-mini",
        tokens=(50, 10),
        cost="0.0005",
        calls=[
            _call(DEBT_TOOL, "error", 300, "http_status"),
            _call(TRACK_TOOL, "success", 50, "ok"),
        ],
    )
    _turn("acme", agent="shipment", model="offline", tokens=(10, 5), cost="0", calls=[])
    _turn(
        "globex",
        agent="shipment",
        model="offline",
        tokens=(7, 3),
        cost="0.002",
        calls=[_call(TRACK_TOOL, "success", 20, "ok")],
    )
    _turn(
        "acme",
        agent="debt",
        model="gpt-4o-mini",
        tokens=(1000, 100),
        cost="0.01",
        calls=[_call(DEBT_TOOL, "success", 900, "ok")],
        days_ago=30,
    )


def _groups(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["key"]: g for g in body["groups"]}


def test_totals_of_one_tenant_over_the_default_week(usage: None, admin: Admin) -> None:
    result = admin("GET", "/api/admin/metrics", query={"tenant_id": "acme"})

    assert result.status == 200, result.body
    body = result.body
    assert body["tenant_id"] == "acme"
    assert body["agent_calls_total"] == 3
    assert body["tool_calls_total"] == 3
    assert body["tool_errors_total"] == 1
    assert body["tool_avg_latency_ms"] == 150.0
    assert body["input_tokens_total"] == 160
    assert body["output_tokens_total"] == 35
    assert body["llm_cost_total"] == pytest.approx(0.0015)
    assert body["groups"] is None
    assert "cache_hit_rate" in body


def test_grouped_by_agent(usage: None, admin: Admin) -> None:
    result = admin("GET", "/api/admin/metrics", query={"tenant_id": "acme", "group_by": "agent"})

    groups = _groups(result.body)
    assert set(groups) == {"debt", "shipment"}
    assert groups["debt"]["agent_calls_total"] == 2
    assert groups["debt"]["tool_calls_total"] == 3
    assert groups["debt"]["tool_errors_total"] == 1
    assert groups["debt"]["input_tokens_total"] == 150
    assert groups["shipment"]["agent_calls_total"] == 1
    assert groups["shipment"]["tool_calls_total"] == 0
    assert groups["shipment"]["tool_avg_latency_ms"] is None


def test_grouped_by_tool(usage: None, admin: Admin) -> None:
    result = admin("GET", "/api/admin/metrics", query={"tenant_id": "acme", "group_by": "tool"})

    groups = _groups(result.body)
    assert set(groups) == {DEBT_TOOL, TRACK_TOOL}
    assert groups[DEBT_TOOL]["tool_calls_total"] == 2
    assert groups[DEBT_TOOL]["tool_errors_total"] == 1
    assert groups[DEBT_TOOL]["tool_avg_latency_ms"] == 200.0
    assert groups[TRACK_TOOL]["tool_calls_total"] == 1
    assert groups[TRACK_TOOL]["tool_avg_latency_ms"] == 50.0
    # Agent calls, tokens and cost cannot be split per tool.
    assert groups[DEBT_TOOL]["agent_calls_total"] is None
    assert groups[DEBT_TOOL]["llm_cost_total"] is None


def test_grouped_by_model(usage: None, admin: Admin) -> None:
    result = admin("GET", "/api/admin/metrics", query={"tenant_id": "acme", "group_by": "model"})

    groups = _groups(result.body)
    assert groups["gpt-4o-mini"]["agent_calls_total"] == 2
    assert groups["gpt-4o-mini"]["llm_cost_total"] == pytest.approx(0.0015)
    assert groups["offline"]["agent_calls_total"] == 1
    assert groups["offline"]["llm_cost_total"] == 0


def test_a_platform_admin_sees_every_tenant_or_one(usage: None, admin: Admin) -> None:
    every = admin("GET", "/api/admin/metrics").body
    globex = admin("GET", "/api/admin/metrics", query={"tenant_id": "globex"}).body

    assert every["tenant_id"] is None
    assert every["agent_calls_total"] == 4
    assert every["llm_cost_total"] == pytest.approx(0.0035)
    assert globex["agent_calls_total"] == 1
    assert globex["tool_calls_total"] == 1
    assert globex["input_tokens_total"] == 7


def test_a_tenant_admin_sees_only_their_own_tenant(usage: None, admin: Admin) -> None:
    own = admin("GET", "/api/admin/metrics", roles=TENANT_ADMIN)
    other = admin("GET", "/api/admin/metrics", query={"tenant_id": "globex"}, roles=TENANT_ADMIN)

    assert own.status == 200
    assert own.body["tenant_id"] == "acme"
    assert own.body["agent_calls_total"] == 3
    assert other.status == 403


def test_the_period_filter(usage: None, admin: Admin) -> None:
    now = datetime.now(UTC)
    month = {
        "tenant_id": "acme",
        "from": (now - timedelta(days=40)).isoformat(),
        "to": now.isoformat(),
    }
    old_only = {
        "tenant_id": "acme",
        "from": (now - timedelta(days=40)).isoformat(),
        "to": (now - timedelta(days=20)).isoformat(),
    }

    with_old = admin("GET", "/api/admin/metrics", query=month).body
    only_old = admin("GET", "/api/admin/metrics", query=old_only).body

    assert with_old["agent_calls_total"] == 4
    assert with_old["input_tokens_total"] == 1160
    assert only_old["agent_calls_total"] == 1
    assert only_old["tool_avg_latency_ms"] == 900.0
    assert only_old["from"].startswith((now - timedelta(days=40)).date().isoformat())


def test_an_empty_period_has_zero_counts(usage: None, admin: Admin) -> None:
    future = datetime.now(UTC) + timedelta(days=1)
    query = {"from": future.isoformat(), "to": (future + timedelta(days=1)).isoformat()}

    body = admin("GET", "/api/admin/metrics", query=query).body

    assert (body["agent_calls_total"], body["tool_calls_total"]) == (0, 0)
    assert body["tool_avg_latency_ms"] is None


def test_bad_queries_are_422_naming_the_parameter(usage: None, admin: Admin) -> None:
    now = datetime.now(UTC)
    reversed_period = {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}

    backwards = admin("GET", "/api/admin/metrics", query=reversed_period)
    bad_group = admin("GET", "/api/admin/metrics", query={"group_by": "weather"})

    assert backwards.status == 422
    assert backwards.body["error"]["details"][0]["field"] == "from"
    assert bad_group.status == 422
    assert "group_by" in bad_group.body["error"]["message"]


def test_an_unknown_tenant_is_404(usage: None, admin: Admin) -> None:
    assert admin("GET", "/api/admin/metrics", query={"tenant_id": "nobody"}).status == 404


def test_the_cache_hit_rate_comes_from_the_redis_counters(usage: None, admin: Admin) -> None:
    from agenthub.cache.keys import stats_key
    from agenthub.composition import get_redis

    assert admin("GET", "/api/admin/metrics").body["cache_hit_rate"] is None  # no traffic yet
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    get_redis().hset(stats_key("acme", hour), mapping={"hits": 3, "misses": 1})
    get_redis().hset(stats_key("globex", hour), mapping={"hits": 0, "misses": 4})

    acme = admin("GET", "/api/admin/metrics", query={"tenant_id": "acme"}).body
    every = admin("GET", "/api/admin/metrics").body

    assert acme["cache_hit_rate"] == 0.75
    assert every["cache_hit_rate"] == 0.375
