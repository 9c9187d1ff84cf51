"""Users and tenants stay apart in a chat: threads, memory, tokens, LLM configs and keys.

Asserted on what is stored (checkpoint thread ids) and on what the fake provider received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.support.fake_openai import FakeOpenAIServer
from tests.support.lambda_events import HttpResult
from tests.support.scripted_model import ScriptedModel, use_fake_provider

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]


def _point(tenant: str, fake: FakeOpenAIServer, api_key: str, **model: Any) -> None:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction

    with transaction(get_sessionmaker()) as db:
        use_fake_provider(
            db,
            tenant_id=tenant,
            keyring=get_keyring(),
            base_url=fake.base_url,
            api_key=api_key,
            **model,
        )


@pytest.fixture
def model(seeded: None, fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    """Both demo tenants on one fake provider (each with its own key)."""
    fake_openai.responder = ScriptedModel()
    for tenant in ("acme", "globex"):
        _point(tenant, fake_openai, f"sk-test-{tenant}")
    return fake_openai


@pytest.fixture
def globex_provider() -> Iterator[FakeOpenAIServer]:
    """A second provider that, like a real one, refuses any key but globex's."""
    with FakeOpenAIServer(responder=ScriptedModel(), api_key="sk-globex-only") as server:
        yield server


def _contents(fake: FakeOpenAIServer) -> list[str]:
    return [str(m.get("content") or "") for r in fake.chat_requests for m in r.messages]


def _thread_ids() -> set[str]:
    from agenthub.composition import get_engine

    with get_engine().connect() as conn:
        return set(conn.scalars(text("SELECT DISTINCT thread_id FROM checkpoints")))


def test_users_and_tenants_never_share_a_thread(model: FakeOpenAIServer, chat: Chat) -> None:
    from agenthub.agents.memory import thread_id

    # GIVEN alice and bob of acme, and a different alice of globex, each in a session
    alice = chat("Debt for MST 0123456789", tenant="acme", user="alice")
    bob = chat("track shipment SHP-1001", tenant="acme", user="bob")
    globex_alice = chat("Debt for MST 0401234567", tenant="globex", user="alice")
    assert {alice.status, bob.status, globex_alice.status} == {200}

    # THEN each conversation is its own checkpoint thread
    assert _thread_ids() == {
        thread_id(tenant_id="acme", user_id="alice", session_id=alice.body["session_id"]),
        thread_id(tenant_id="acme", user_id="bob", session_id=bob.body["session_id"]),
        thread_id(tenant_id="globex", user_id="alice", session_id=globex_alice.body["session_id"]),
    }

    # WHEN bob continues his session
    model.reset()
    again = chat("hello", tenant="acme", user="bob", session_id=bob.body["session_id"])

    # THEN the model sees bob's conversation and nobody else's
    assert again.status == 200, again.body
    seen = _contents(model)
    assert "track shipment SHP-1001" in seen
    assert not any("0123456789" in c or "0401234567" in c for c in seen)
    assert not any(alice.body["text"] in c or globex_alice.body["text"] in c for c in seen)


def test_a_new_session_of_the_same_user_starts_with_an_empty_memory(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    first = chat("Debt for MST 0123456789")
    model.reset()

    second = chat("hello")

    assert second.status == 200, second.body
    assert second.body["session_id"] != first.body["session_id"]
    supervisor = model.chat_requests[0]
    assert [m["role"] for m in supervisor.messages] == ["system", "user"]
    assert len(_thread_ids()) == 2


def test_a_token_of_one_tenant_is_refused_on_another_tenants_chat(
    model: FakeOpenAIServer, chat: Chat, token_for: Callable[..., str]
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    result = chat("Debt for MST 0123456789", tenant="globex", token=token_for("acme", "alice"))

    assert result.status == 403, result.body
    assert result.body["error"]["code"] == "forbidden"
    assert model.chat_requests == []
    with get_sessionmaker()() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 0
    assert _thread_ids() == set()


def test_a_tenants_llm_config_and_key_are_never_used_for_another_tenant(
    model: FakeOpenAIServer, globex_provider: FakeOpenAIServer, chat: Chat
) -> None:
    # GIVEN acme on one provider with its key, globex on another provider, key and model
    _point(
        "globex",
        globex_provider,
        "sk-globex-only",
        model_name="gpt-fake-globex",
        input_price_per_1k=Decimal("0.01"),
        output_price_per_1k=Decimal("0.03"),
    )

    # WHEN both tenants chat, interleaved (warm caches of models and graphs in between)
    answers = [
        chat("Debt for MST 0123456789", tenant=tenant)
        for tenant in ("acme", "globex", "acme", "globex")
    ]

    # THEN each provider saw only its own tenant's key and model
    assert [a.status for a in answers] == [200] * 4, [a.body for a in answers]
    # Two model calls a turn: the supervisor, the agent's tool call (the card maps its result).
    assert len(model.chat_requests) == 4 and len(globex_provider.chat_requests) == 4
    assert {(r.api_key, r.model) for r in model.chat_requests} == {("sk-test-acme", "gpt-fake")}
    assert {(r.api_key, r.model) for r in globex_provider.chat_requests} == {
        ("sk-globex-only", "gpt-fake-globex")
    }
    # ...and each answer is priced with its own tenant's model: 300 in, 30 out.
    assert answers[0].body["usage"]["cost_usd"] == pytest.approx(0.00036, abs=1e-12)
    assert answers[1].body["usage"]["cost_usd"] == pytest.approx(0.0039, abs=1e-12)
    # The debt figures come from each tenant's own ERP records (the JWT's tenant).
    assert answers[0].body["text"] != answers[1].body["text"]
