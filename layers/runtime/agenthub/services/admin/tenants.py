"""Tenants: creation (platform admin), settings and LLM configuration (their own admins too).

The LLM API key is encrypted on write and never leaves: reads, responses and audit rows carry
only whether a key is set and its masked hint.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing, mask_secret
from agenthub.db.models import LlmModel, Tenant, TenantLlmConfig
from agenthub.errors import SsrfBlockedError
from agenthub.repositories import (
    UNSET,
    LlmModelRepository,
    TenantLlmConfigRepository,
    TenantRepository,
    UnsetType,
)
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import invalid, require_version
from agenthub.settings import get_settings
from agenthub.tools.ssrf import Resolver, check_url, system_resolver

SETTINGS_FIELDS = (
    "name",
    "is_active",
    "retention_days",
    "multi_intent_policy",
    "memory_max_tokens",
    "rate_limit_per_minute",
)


@dataclass(frozen=True)
class TenantView:
    tenant: Tenant
    llm_config: TenantLlmConfig | None

    def snapshot(self) -> Snapshot:
        values: Snapshot = {"id": self.tenant.id, "version": self.tenant.version}
        for name in SETTINGS_FIELDS:
            values[name] = getattr(self.tenant, name)
        return values


@dataclass(frozen=True)
class LlmChoice:
    """The model a tenant picks: by id, or by provider and model name."""

    llm_model_id: uuid.UUID | None = None
    provider: str | None = None
    model_name: str | None = None


@dataclass(frozen=True)
class LlmConfigInput:
    model: LlmChoice
    base_url: str | None = None
    temperature: Decimal = Decimal("0")
    max_tokens: int = 1024
    # UNSET keeps the stored key (if the provider stays the same), None removes it.
    api_key: str | UnsetType | None = UNSET


def llm_config_snapshot(config: TenantLlmConfig) -> Snapshot:
    """The LLM config without its key: only whether one is set and its masked hint."""
    model = config.llm_model
    return {
        "llm_model": {"id": model.id, "provider": model.provider, "model_name": model.model_name},
        "base_url": config.base_url,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "has_api_key": config.encrypted_api_key is not None,
        "api_key_hint": config.api_key_hint,
        "version": config.version,
    }


class TenantAdmin:
    def __init__(
        self, runner: ChangeRunner, *, keyring: KeyRing, resolver: Resolver = system_resolver
    ) -> None:
        self._runner = runner
        self._keyring = keyring
        self._resolver = resolver

    def list(self, actor: Actor) -> list[TenantView]:
        actor.require_admin()

        def work(db: Session) -> list[TenantView]:
            tenants = TenantRepository(db).list()
            if not actor.is_platform_admin:
                tenants = [t for t in tenants if t.id == actor.tenant_id]
            llm = TenantLlmConfigRepository(db)
            return [TenantView(t, llm.get(tenant_id=t.id)) for t in tenants]

        return self._runner.read(work)

    def get(self, actor: Actor, *, tenant_id: str) -> TenantView:
        actor.require_tenant(tenant_id)
        return self._runner.read(lambda db: _view(db, TenantRepository(db).require(tenant_id)))

    def create(
        self, actor: Actor, *, tenant_id: str, fields: Mapping[str, Any]
    ) -> Changed[TenantView]:
        actor.require_platform_admin("create tenants")

        def work(db: Session) -> Outcome[TenantView]:
            tenant = TenantRepository(db).create(tenant_id=tenant_id, **fields)
            view = TenantView(tenant, None)
            _audit(db, actor, "tenant.create", tenant_id, before=None, after=view.snapshot())
            return Outcome(view, (tenant_id,))

        return self._runner.run(work, reason="tenant created")

    def update(
        self,
        actor: Actor,
        *,
        tenant_id: str,
        expected_version: int | None,
        changes: Mapping[str, Any],
    ) -> Changed[TenantView]:
        actor.require_tenant(tenant_id)
        if "is_active" in changes:
            actor.require_platform_admin("activate or deactivate tenants")
        version = require_version(expected_version)

        def work(db: Session) -> Outcome[TenantView]:
            tenants = TenantRepository(db)
            before = TenantView(tenants.lock(tenant_id), None).snapshot()
            tenant = tenants.update_settings(
                tenant_id=tenant_id, expected_version=version, changes=changes
            )
            view = _view(db, tenant)
            _audit(db, actor, "tenant.update", tenant_id, before=before, after=view.snapshot())
            return Outcome(view, (tenant_id,))

        return self._runner.run(work, reason="tenant settings changed")

    def put_llm_config(
        self,
        actor: Actor,
        *,
        tenant_id: str,
        config: LlmConfigInput,
        expected_version: int | None,
    ) -> Changed[TenantLlmConfig]:
        """Create or replace the tenant's LLM config; `expected_version` guards a replacement."""
        actor.require_tenant(tenant_id)
        if config.base_url is not None:
            self._check_base_url(config.base_url)
        # Encrypt outside the transaction; the plain key goes no further than this frame.
        encrypted: bytes | UnsetType | None = UNSET
        hint: str | UnsetType | None = UNSET
        if isinstance(config.api_key, str):
            encrypted, hint = self._keyring.encrypt(config.api_key), mask_secret(config.api_key)
        elif config.api_key is None:
            encrypted, hint = None, None

        def work(db: Session) -> Outcome[TenantLlmConfig]:
            TenantRepository(db).require(tenant_id)
            repository = TenantLlmConfigRepository(db)
            model = _llm_model(db, config.model)
            current = repository.get(tenant_id=tenant_id)
            before = llm_config_snapshot(current) if current is not None else None
            key, key_hint = encrypted, hint
            extra: dict[str, Any] = {}
            same_endpoint = current is not None and (
                current.llm_model.provider == model.provider and current.base_url == config.base_url
            )
            if current is not None and current.llm_model.provider == model.provider:
                extra = dict(current.extra)
            if key is UNSET and not same_endpoint:
                # A key belongs to its provider and endpoint: never carry it to another one
                # (a new base_url with the old key would hand the key to whoever runs that URL).
                key, key_hint = None, None
            stored = repository.upsert(
                tenant_id=tenant_id,
                llm_model_id=model.id,
                encrypted_api_key=key,
                api_key_hint=key_hint,
                base_url=config.base_url,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                extra=extra,
                expected_version=expected_version,
            )
            _audit(
                db,
                actor,
                "tenant.llm_config.put",
                tenant_id,
                before=before,
                after=llm_config_snapshot(stored),
                entity_type="tenant_llm_config",
            )
            return Outcome(stored, (tenant_id,))

        return self._runner.run(work, reason="tenant LLM config changed")

    def _check_base_url(self, base_url: str) -> None:
        if not base_url.startswith("https://") and not get_settings().is_local:
            raise invalid("base_url", "an LLM endpoint must use https")
        try:
            check_url(base_url, allow=get_settings().tools.ssrf_allow, resolver=self._resolver)
        except SsrfBlockedError as exc:
            raise invalid("base_url", exc.message) from exc


def _view(db: Session, tenant: Tenant) -> TenantView:
    return TenantView(tenant, TenantLlmConfigRepository(db).get(tenant_id=tenant.id))


def _llm_model(db: Session, choice: LlmChoice) -> LlmModel:
    models = LlmModelRepository(db)
    by_name = choice.provider is not None or choice.model_name is not None
    if choice.llm_model_id is not None and not by_name:
        model = models.get(choice.llm_model_id)
        field, spelled = "llm_model_id", str(choice.llm_model_id)
    elif choice.llm_model_id is None and choice.provider and choice.model_name:
        model = models.get_by_name(choice.provider, choice.model_name)
        field, spelled = "model_name", f"{choice.provider}/{choice.model_name}"
    else:
        raise invalid("llm_model_id", "give llm_model_id, or provider and model_name (not both)")
    if model is None:
        raise invalid(field, f"no LLM model {spelled} in the catalogue (GET /api/admin/llm-models)")
    if not model.is_active:
        raise invalid(field, f"the LLM model {spelled} is not active")
    return model


def _audit(
    db: Session,
    actor: Actor,
    action: str,
    tenant_id: str,
    *,
    before: Snapshot | None,
    after: Snapshot | None,
    entity_type: str = "tenant",
) -> None:
    record_change(
        db,
        actor,
        tenant_id=tenant_id,
        action=action,
        entity_type=entity_type,
        entity_id=tenant_id,
        before=before,
        after=after,
    )
