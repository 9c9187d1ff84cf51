"""The global LLM catalogue and each tenant's LLM configuration (API key stored encrypted)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agenthub.db.models import LlmModel, TenantLlmConfig
from agenthub.errors import NotFoundError, VersionConflictError
from agenthub.repositories.common import (
    UNSET,
    UnsetType,
    apply_changes,
    check_version,
    guarded_write,
    load_server_values,
)

LLM_MODEL_FIELDS = frozenset(
    {
        "display_name",
        "input_price_per_1k",
        "output_price_per_1k",
        "context_window",
        "supports_structured_output",
        "is_active",
    }
)


class LlmModelRepository:
    """The platform-wide catalogue of models (not tenant-owned)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self, active_only: bool = True) -> builtins.list[LlmModel]:
        statement = select(LlmModel).order_by(LlmModel.provider, LlmModel.model_name)
        if active_only:
            statement = statement.where(LlmModel.is_active.is_(True))
        return builtins.list(self.db.scalars(statement))

    def get(self, id: uuid.UUID) -> LlmModel | None:
        return self.db.get(LlmModel, id)

    def get_by_name(self, provider: str, model_name: str) -> LlmModel | None:
        statement = select(LlmModel).where(
            LlmModel.provider == provider, LlmModel.model_name == model_name
        )
        return self.db.scalars(statement).one_or_none()

    def require(self, id: uuid.UUID) -> LlmModel:
        model = self.get(id)
        if model is None:
            raise NotFoundError(f"LLM model {id} not found")
        return model

    def create(
        self,
        *,
        provider: str,
        model_name: str,
        display_name: str,
        input_price_per_1k: Decimal = Decimal("0"),
        output_price_per_1k: Decimal = Decimal("0"),
        context_window: int = 8192,
        supports_structured_output: bool = False,
        is_active: bool = True,
    ) -> LlmModel:
        """A new catalogue entry; a (provider, model_name) already there: ConflictError (409)."""
        model = LlmModel(
            provider=provider,
            model_name=model_name,
            display_name=display_name,
            input_price_per_1k=Decimal(input_price_per_1k),
            output_price_per_1k=Decimal(output_price_per_1k),
            context_window=context_window,
            supports_structured_output=supports_structured_output,
            is_active=is_active,
        )
        conflict = f"the catalogue already has {provider}/{model_name}"
        with guarded_write(self.db, what=f"LLM model {provider}/{model_name}", conflict=conflict):
            self.db.add(model)
        load_server_values(self.db, model)
        return model

    def update(
        self, *, model_id: uuid.UUID, expected_version: int, changes: Mapping[str, Any]
    ) -> LlmModel:
        """Change prices, context window, structured output or availability (not the identity:
        usage already recorded under (provider, model_name) keeps meaning the same model)."""
        model = self.db.get(LlmModel, model_id, with_for_update=True, populate_existing=True)
        if model is None:
            raise NotFoundError(f"LLM model {model_id} not found")
        what = f"LLM model {model.provider}/{model.model_name}"
        check_version(actual=model.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what):
            apply_changes(model, changes, allowed=LLM_MODEL_FIELDS, what=what)
        load_server_values(self.db, model)
        return model

    def upsert(
        self,
        *,
        provider: str,
        model_name: str,
        display_name: str,
        input_price_per_1k: Decimal = Decimal("0"),
        output_price_per_1k: Decimal = Decimal("0"),
        context_window: int = 8192,
        supports_structured_output: bool = False,
        is_active: bool = True,
    ) -> LlmModel:
        """Create the (provider, model_name) entry or update it in place."""
        what = f"LLM model {provider}/{model_name}"
        model = self.get_by_name(provider, model_name)
        with guarded_write(self.db, what=what):
            if model is None:
                model = LlmModel(provider=provider, model_name=model_name)
                self.db.add(model)
            model.display_name = display_name
            model.input_price_per_1k = Decimal(input_price_per_1k)
            model.output_price_per_1k = Decimal(output_price_per_1k)
            model.context_window = context_window
            model.supports_structured_output = supports_structured_output
            model.is_active = is_active
        load_server_values(self.db, model)
        return model


class TenantLlmConfigRepository:
    """One LLM configuration per tenant; every method is scoped by `tenant_id`."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, *, tenant_id: str) -> TenantLlmConfig | None:
        """The tenant's configuration with its model loaded, or None."""
        statement = select(TenantLlmConfig).where(TenantLlmConfig.tenant_id == tenant_id)
        return self.db.scalars(statement).unique().one_or_none()

    def upsert(
        self,
        *,
        tenant_id: str,
        llm_model_id: uuid.UUID,
        encrypted_api_key: bytes | UnsetType | None = UNSET,
        api_key_hint: str | UnsetType | None = UNSET,
        base_url: str | None = None,
        temperature: Decimal | float = Decimal("0"),
        max_tokens: int = 1024,
        extra: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> TenantLlmConfig:
        """Create or replace the tenant's configuration.

        The API key is kept when `encrypted_api_key` is UNSET and removed when it is None;
        `api_key_hint` follows the key (None when a new key comes without a hint).
        `expected_version` (optional) guards an update against a concurrent change.
        """
        what = f"LLM config of tenant {tenant_id!r}"
        model = self.db.get(LlmModel, llm_model_id)
        if model is None:
            raise NotFoundError(f"LLM model {llm_model_id} not found")
        config = self._lock(tenant_id)
        if config is None:
            if expected_version is not None:
                raise VersionConflictError(
                    f"{what} does not exist (expected version {expected_version})"
                )
            config = TenantLlmConfig(tenant_id=tenant_id)
        else:
            check_version(actual=config.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what, conflict=f"{what} was created concurrently"):
            if config not in self.db:
                self.db.add(config)
            config.llm_model = model
            if encrypted_api_key is not UNSET:
                config.encrypted_api_key = encrypted_api_key
                config.api_key_hint = None if api_key_hint is UNSET else api_key_hint
            config.base_url = base_url
            config.temperature = Decimal(str(temperature))
            config.max_tokens = max_tokens
            config.extra = dict(extra or {})
        load_server_values(self.db, config)
        return config

    def reencrypt_api_key(self, *, tenant_id: str, rotate: Callable[[bytes], bytes]) -> int:
        """Replace the stored key with `rotate(key)`; 1 if there was a key, else 0.

        Key rotation is not a config change: the row's version stays as it is.
        """
        statement = (
            select(TenantLlmConfig.encrypted_api_key)
            .where(
                TenantLlmConfig.tenant_id == tenant_id,
                TenantLlmConfig.encrypted_api_key.is_not(None),
            )
            .with_for_update()
        )
        token = self.db.scalar(statement)
        if token is None:
            return 0
        self.db.execute(
            update(TenantLlmConfig)
            .where(TenantLlmConfig.tenant_id == tenant_id)
            .values(encrypted_api_key=rotate(token)),
            execution_options={"synchronize_session": "fetch"},
        )
        return 1

    def _lock(self, tenant_id: str) -> TenantLlmConfig | None:
        statement = (
            select(TenantLlmConfig)
            .where(TenantLlmConfig.tenant_id == tenant_id)
            .with_for_update(of=TenantLlmConfig)
            .execution_options(populate_existing=True)
        )
        return self.db.scalars(statement).unique().one_or_none()
