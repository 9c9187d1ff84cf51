"""The chat endpoint's contract: bad input gets a clear JSON error and changes nothing; a Redis
outage does not stop chat."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.lambda_events import HttpResult, invoke, rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]


def _stored() -> int:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import ChatSession, Message

    with get_sessionmaker()() as db:
        messages = db.scalar(select(func.count()).select_from(Message)) or 0
        sessions = db.scalar(select(func.count()).select_from(ChatSession)) or 0
    return int(messages) + int(sessions)


def _post(handler: ModuleType, token: str, raw_body: str, tenant: str = "acme") -> HttpResult:
    event = rest_event(
        "POST",
        f"/api/{tenant}/chat",
        raw_body=raw_body,
        token=token,
        resource="/api/{tenant_id}/chat",
        path_parameters={"tenant_id": tenant},
    )
    return invoke(handler, event)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "   \n\t "}, "message"),
        ({"message": "x" * 8001}, "message"),
        ({}, "message"),
        ({"message": 42}, "message"),
        ({"message": "hello", "session_id": "not-a-uuid"}, "session_id"),
        ({"message": "hello", "tenant": "globex"}, "tenant"),
    ],
    ids=["empty", "blank", "over-8000-chars", "missing", "not-a-string", "bad-session", "extra"],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    seeded: None,
    chat_handler: ModuleType,
    token_for: Callable[..., str],
    body: dict[str, Any],
    field: str,
) -> None:
    result = _post(chat_handler, token_for(), json.dumps(body))

    assert result.status == 422
    assert result.body["error"]["code"] == "validation_error"
    assert field in result.body["error"]["message"]
    assert result.body["error"]["request_id"]
    assert _stored() == 0


def test_malformed_json_is_422(
    seeded: None, chat_handler: ModuleType, token_for: Callable[..., str]
) -> None:
    result = _post(chat_handler, token_for(), '{"message": "hel')

    assert result.status == 422
    assert result.body["error"]["code"] == "validation_error"


def test_an_oversize_body_is_413(
    seeded: None, chat_handler: ModuleType, token_for: Callable[..., str]
) -> None:
    raw = json.dumps({"message": "hello", "padding": "x" * 70_000})
    event = rest_event(
        "POST",
        "/api/acme/chat",
        raw_body=raw,
        token=token_for(),
        resource="/api/{tenant_id}/chat",
        path_parameters={"tenant_id": "acme"},
        headers={"Content-Length": str(len(raw))},
    )

    result = invoke(chat_handler, event)
    del event["headers"]["Content-Length"], event["multiValueHeaders"]["Content-Length"]
    without_length = invoke(chat_handler, event)

    assert result.status == without_length.status == 413
    assert without_length.body["error"]["code"] == "payload_too_large"
    assert result.status == 413
    assert result.body["error"]["code"] == "payload_too_large"
    assert _stored() == 0


def test_an_unknown_session_is_404(seeded: None, chat: Chat) -> None:
    result = chat("hello", session_id="00000000-0000-4000-8000-000000000000")

    assert result.status == 404
    assert result.body["error"]["code"] == "not_found"


def test_chat_keeps_answering_while_redis_is_down_and_the_hit_rate_recovers(
    seeded: None, chat: Chat, redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub import composition

    if redis_server is None:
        pytest.skip("needs the embedded Redis to stop it (REDIS_URL names an external one)")
    monkeypatch.setenv("AGENTHUB_REDIS__FAILURE_BACKOFF_S", "0.3")
    composition.reset()
    assert chat("Debt for MST 0123456789").status == 200  # warm: config cached
    stats = composition.get_config_source().stats

    redis_server.stop()
    try:
        down = [chat("Debt for MST 0123456789") for _ in range(3)]
        errors_while_down = stats()["redis_errors"]
    finally:
        redis_server.start()

    assert [r.status for r in down] == [200, 200, 200]
    assert all(r.body["agent"] == "debt" for r in down)
    assert errors_while_down >= 1
    time.sleep(0.4)  # the breaker's backoff passes
    hits_before = stats()["hits"]
    back = [chat("Debt for MST 0123456789") for _ in range(3)]
    assert [r.status for r in back] == [200, 200, 200]
    assert stats()["hits"] - hits_before == 3
    assert stats()["redis_errors"] == errors_while_down


def test_over_the_tenants_rate_limit_is_429_with_retry_after(seeded: None, chat: Chat) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id="acme",
            expected_version=tenants.require("acme").version,
            changes={"rate_limit_per_minute": 2},
        )
        tenants.bump_config_version(tenant_id="acme")

    statuses = [chat("hello").status for _ in range(4)]
    limited = chat("hello")

    assert statuses[:2] == [200, 200]
    assert limited.status == 429
    assert limited.body["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    assert chat("hello", tenant="globex").status == 200


def test_a_tenant_whose_llm_key_cannot_be_decrypted_gets_503_not_500(
    seeded: None, chat: Chat
) -> None:
    from cryptography.fernet import Fernet

    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import (
        LlmModelRepository,
        TenantLlmConfigRepository,
        TenantRepository,
    )

    foreign = Fernet(Fernet.generate_key()).encrypt(b"sk-under-a-rotated-out-key")
    with transaction(get_sessionmaker()) as db:
        model = LlmModelRepository(db).get_by_name("openai", "gpt-4o-mini")
        assert model is not None
        TenantLlmConfigRepository(db).upsert(
            tenant_id="acme",
            llm_model_id=model.id,
            encrypted_api_key=foreign,
            api_key_hint="sk-…-key",
        )
        TenantRepository(db).bump_config_version(tenant_id="acme")

    result = chat("hello")

    assert result.status == 503
    assert result.body["error"]["code"] == "service_unavailable"
    assert "administrator" in result.body["error"]["message"]
    assert "decrypt" not in result.body["error"]["message"]
    assert _stored() == 0


def test_an_unreachable_database_is_503(
    seeded: None, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub import composition

    monkeypatch.setenv("DATABASE_URL", "postgresql://agenthub:x@127.0.0.1:9/agenthub")
    monkeypatch.setenv("AGENTHUB_DATABASE__POOL_TIMEOUT_S", "1")
    composition.reset()

    result = chat("hello")

    assert result.status == 503
    assert result.body["error"]["code"] == "service_unavailable"
    assert "database" in result.body["error"]["message"]
    assert result.headers["retry-after"]


def test_a_message_sent_while_the_previous_one_is_answered_is_409(seeded: None, chat: Chat) -> None:
    import uuid

    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import ChatSessionRepository

    first = chat("hello")
    session_id = first.body["session_id"]
    with transaction(get_sessionmaker()) as db:  # a turn of this session is being answered
        assert ChatSessionRepository(db).claim_turn(
            tenant_id="acme", user_id="alice", session_id=uuid.UUID(session_id), stale_after_s=60
        )
    before = _stored()

    second = chat("hello again", session_id=session_id)

    assert second.status == 409
    assert second.body["error"]["code"] == "conflict"
    assert _stored() == before
    with transaction(get_sessionmaker()) as db:
        ChatSessionRepository(db).release_turn(tenant_id="acme", session_id=uuid.UUID(session_id))
    assert chat("hello again", session_id=session_id).status == 200
    assert chat("and once more", session_id=session_id).status == 200  # released by the answer
