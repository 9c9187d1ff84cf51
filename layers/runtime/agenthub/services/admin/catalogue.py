"""The LLM model catalogue, for choosing a tenant's or an agent's model."""

from __future__ import annotations

from agenthub.db.models import LlmModel
from agenthub.repositories import LlmModelRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.changes import ChangeRunner


class CatalogueAdmin:
    def __init__(self, runner: ChangeRunner) -> None:
        self._runner = runner

    def llm_models(self, actor: Actor, *, active_only: bool = True) -> list[LlmModel]:
        actor.require_admin()
        return self._runner.read(lambda db: LlmModelRepository(db).list(active_only=active_only))
