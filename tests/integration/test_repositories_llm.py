"""LlmModelRepository (global catalogue) and TenantLlmConfigRepository (tenant-owned)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import LlmModel
from agenthub.errors import NotFoundError, VersionConflictError
from agenthub.repositories import LlmModelRepository, TenantLlmConfigRepository
from tests.integration.repo_builders import TENANT_A, TENANT_B, make_tenants

pytest_plugins = ["tests.integration.repo_fixtures"]


def _model(db: Session, name: str = "gpt-4o-mini", *, is_active: bool = True) -> LlmModel:
    return LlmModelRepository(db).upsert(
        provider="openai",
        model_name=name,
        display_name=name.upper(),
        input_price_per_1k=Decimal("0.00015"),
        output_price_per_1k=Decimal("0.0006"),
        context_window=128_000,
        is_active=is_active,
    )


def test_model_upsert_creates_then_updates_in_place(repo_db: Session) -> None:
    models = LlmModelRepository(repo_db)
    created = _model(repo_db)
    updated = models.upsert(
        provider="openai", model_name="gpt-4o-mini", display_name="Mini", context_window=64_000
    )
    assert updated.id == created.id
    assert (updated.display_name, updated.context_window) == ("Mini", 64_000)
    assert models.get_by_name("openai", "gpt-4o-mini") is updated
    assert models.get(created.id) is updated
    assert models.get_by_name("openai", "unknown") is None


def test_model_list_hides_inactive_models_unless_asked(repo_db: Session) -> None:
    _model(repo_db, "b-model")
    _model(repo_db, "a-model")
    _model(repo_db, "retired", is_active=False)
    models = LlmModelRepository(repo_db)
    assert [m.model_name for m in models.list()] == ["a-model", "b-model"]
    assert [m.model_name for m in models.list(active_only=False)] == [
        "a-model",
        "b-model",
        "retired",
    ]


def test_config_upsert_creates_and_get_loads_the_model(
    repo_factory: sessionmaker[Session],
) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
        model = _model(db)
        TenantLlmConfigRepository(db).upsert(
            tenant_id=TENANT_A,
            llm_model_id=model.id,
            encrypted_api_key=b"token-a",
            api_key_hint="sk-…abcd",
            base_url=None,
            temperature=0.2,
            max_tokens=512,
            extra={"top_p": 0.9},
        )
    with transaction(repo_factory) as db:
        config = TenantLlmConfigRepository(db).get(tenant_id=TENANT_A)
    # The model came with the config: readable after the session closed.
    assert config is not None
    assert config.llm_model.model_name == "gpt-4o-mini"
    assert config.encrypted_api_key == b"token-a"
    assert (config.api_key_hint, config.temperature, config.max_tokens) == (
        "sk-…abcd",
        Decimal("0.20"),
        512,
    )
    assert config.extra == {"top_p": 0.9}
    assert config.version == 1


def test_config_upsert_keeps_the_key_when_unset_and_removes_it_when_none(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    model = _model(repo_db)
    configs = TenantLlmConfigRepository(repo_db)
    configs.upsert(
        tenant_id=TENANT_A, llm_model_id=model.id, encrypted_api_key=b"t", api_key_hint="…wxyz"
    )
    kept = configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, max_tokens=99)
    assert (kept.encrypted_api_key, kept.api_key_hint, kept.max_tokens) == (b"t", "…wxyz", 99)
    assert kept.version == 2
    removed = configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, encrypted_api_key=None)
    assert (removed.encrypted_api_key, removed.api_key_hint) == (None, None)


def test_config_upsert_switches_the_model(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    first, second = _model(repo_db, "first"), _model(repo_db, "second")
    configs = TenantLlmConfigRepository(repo_db)
    configs.upsert(tenant_id=TENANT_A, llm_model_id=first.id)
    switched = configs.upsert(tenant_id=TENANT_A, llm_model_id=second.id)
    assert switched.llm_model.model_name == "second"
    assert switched.llm_model_id == second.id


def test_config_upsert_with_a_stale_expected_version_is_a_conflict(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    model = _model(repo_db)
    configs = TenantLlmConfigRepository(repo_db)
    with pytest.raises(VersionConflictError):
        # Nothing exists yet, so no version can be expected.
        configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, expected_version=1)
    configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id)
    configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, max_tokens=10, expected_version=1)
    with pytest.raises(VersionConflictError):
        configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, max_tokens=20, expected_version=1)
    config = configs.get(tenant_id=TENANT_A)
    assert config is not None and config.max_tokens == 10


def test_config_upsert_refuses_unknown_model_and_unknown_tenant(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    model = _model(repo_db)
    configs = TenantLlmConfigRepository(repo_db)
    with pytest.raises(NotFoundError, match="LLM model"):
        configs.upsert(tenant_id=TENANT_A, llm_model_id=uuid.UUID(int=1))
    with pytest.raises(NotFoundError):
        configs.upsert(tenant_id="nobody", llm_model_id=model.id)
    assert configs.get(tenant_id="nobody") is None


def test_tenant_b_cannot_read_or_change_tenant_a_llm_config(repo_db: Session) -> None:
    """Cross-tenant: B's get never returns A's config; B's upsert writes only B's row."""
    make_tenants(repo_db, TENANT_A, TENANT_B)
    model = _model(repo_db)
    configs = TenantLlmConfigRepository(repo_db)
    configs.upsert(
        tenant_id=TENANT_A, llm_model_id=model.id, encrypted_api_key=b"a-secret", max_tokens=111
    )
    # WHEN tenant B looks and then writes its own config
    assert configs.get(tenant_id=TENANT_B) is None
    configs.upsert(tenant_id=TENANT_B, llm_model_id=model.id, encrypted_api_key=None)
    assert configs.reencrypt_api_key(tenant_id=TENANT_B, rotate=lambda t: b"x") == 0
    repo_db.expire_all()
    # THEN A's row is untouched and B sees only its own
    config_a = configs.get(tenant_id=TENANT_A)
    config_b = configs.get(tenant_id=TENANT_B)
    assert config_a is not None and config_b is not None
    assert (config_a.encrypted_api_key, config_a.max_tokens, config_a.version) == (
        b"a-secret",
        111,
        1,
    )
    assert config_b.tenant_id == TENANT_B and config_b.encrypted_api_key is None


def test_reencrypt_api_key_replaces_the_token_without_a_version_change(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    model = _model(repo_db)
    configs = TenantLlmConfigRepository(repo_db)
    configs.upsert(tenant_id=TENANT_A, llm_model_id=model.id, encrypted_api_key=b"old")
    assert configs.reencrypt_api_key(tenant_id=TENANT_A, rotate=lambda t: t + b"-new") == 1
    config = configs.get(tenant_id=TENANT_A)
    assert config is not None
    assert (config.encrypted_api_key, config.version) == (b"old-new", 1)
