"""`/api/admin/llm-models`: the LLM catalogue tenants and agents choose from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agenthub.api.admin.deps import AdminActor, Catalogue
from agenthub.api.admin.schemas import LlmModelList, LlmModelPublic

router = APIRouter(prefix="/api/admin", tags=["llm models"])


@router.get("/llm-models", response_model=LlmModelList, summary="List the LLM models")
def list_llm_models(actor: AdminActor, catalogue: Catalogue, include_inactive: bool = False) -> Any:
    models = catalogue.llm_models(actor, active_only=not include_inactive)
    return LlmModelList(items=[LlmModelPublic.model_validate(m) for m in models])
