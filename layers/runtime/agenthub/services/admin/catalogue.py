"""The LLM model catalogue tenants and agents choose from; platform admins add and edit it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agenthub.db.models import AgentConfig, LlmModel, TenantLlmConfig
from agenthub.repositories import LlmModelRepository, PermissionRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import NO_TENANT, Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import require_version

ENTITY = "llm_model"


def snapshot(model: LlmModel) -> Snapshot:
    return {
        "provider": model.provider,
        "model_name": model.model_name,
        "display_name": model.display_name,
        "input_price_per_1k": str(model.input_price_per_1k),
        "output_price_per_1k": str(model.output_price_per_1k),
        "context_window": model.context_window,
        "supports_structured_output": model.supports_structured_output,
        "is_active": model.is_active,
        "version": model.version,
    }


class CatalogueAdmin:
    def __init__(self, runner: ChangeRunner) -> None:
        self._runner = runner

    def llm_models(self, actor: Actor, *, active_only: bool = True) -> list[LlmModel]:
        actor.require_admin()
        return self._runner.read(lambda db: LlmModelRepository(db).list(active_only=active_only))

    def create_llm_model(self, actor: Actor, *, fields: Mapping[str, Any]) -> Changed[LlmModel]:
        """A new model (e.g. one an OpenAI-compatible server serves); no tenant uses it yet."""
        actor.require_platform_admin("add LLM models")

        def work(db: Session) -> Outcome[LlmModel]:
            model = LlmModelRepository(db).create(**fields)
            _audit(db, actor, "llm_model.create", model, before=None)
            return Outcome(model, NO_TENANT)

        return self._runner.run(work, reason="LLM model added")

    def update_llm_model(
        self,
        actor: Actor,
        *,
        model_id: uuid.UUID,
        expected_version: int | None,
        changes: Mapping[str, Any],
    ) -> Changed[LlmModel]:
        """Prices, context window, structured output, availability: every tenant whose config
        or agents use the model reloads (prices and context size are read at run time)."""
        actor.require_platform_admin("change LLM models")
        version = require_version(expected_version)

        def work(db: Session) -> Outcome[LlmModel]:
            models = LlmModelRepository(db)
            before = snapshot(models.require(model_id))
            model = models.update(model_id=model_id, expected_version=version, changes=changes)
            _audit(db, actor, "llm_model.update", model, before=before)
            return Outcome(model, _tenants_using(db, model_id))

        return self._runner.run(work, reason="LLM model changed")


def _tenants_using(db: Session, model_id: uuid.UUID) -> tuple[str, ...]:
    tenants = set(
        db.scalars(
            select(TenantLlmConfig.tenant_id).where(TenantLlmConfig.llm_model_id == model_id)
        )
    )
    permissions = PermissionRepository(db)
    agent_ids = db.scalars(select(AgentConfig.id).where(AgentConfig.llm_model_id == model_id))
    for agent_id in agent_ids:
        tenants.update(permissions.tenants_with_agent(agent_id=agent_id))
    return tuple(sorted(tenants))


def _audit(
    db: Session, actor: Actor, action: str, model: LlmModel, *, before: Snapshot | None
) -> None:
    record_change(
        db,
        actor,
        tenant_id=None,
        action=action,
        entity_type=ENTITY,
        entity_id=model.id,
        before=before,
        after=snapshot(model),
    )
