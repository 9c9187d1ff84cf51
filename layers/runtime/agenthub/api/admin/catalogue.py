"""`/api/admin/llm-models`: the LLM catalogue tenants and agents choose from."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from agenthub.api.admin.deps import AdminActor, Catalogue, IfMatch, set_etag, version_from
from agenthub.api.admin.schemas import (
    LlmModelChange,
    LlmModelCreate,
    LlmModelList,
    LlmModelPublic,
    LlmModelUpdate,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "not a platform admin (writes), or not an admin"},
    404: {"description": "no such model"},
    409: {"description": "stale version, or the provider already has this model"},
    422: {"description": "invalid input; the message and details name the field"},
}

router = APIRouter(prefix="/api/admin", tags=["llm models"], responses=ERRORS)


@router.get("/llm-models", response_model=LlmModelList, summary="List the LLM models")
def list_llm_models(actor: AdminActor, catalogue: Catalogue, include_inactive: bool = False) -> Any:
    models = catalogue.llm_models(actor, active_only=not include_inactive)
    return LlmModelList(items=[LlmModelPublic.model_validate(m) for m in models])


@router.post(
    "/llm-models",
    status_code=201,
    response_model=LlmModelChange,
    summary="Add a model to the catalogue (platform admin)",
    description=(
        "Any provider AgentHub can build, e.g. `openai_compatible` for a model a vLLM, Ollama or "
        "LiteLLM server serves; a tenant then chooses it with `PUT "
        "/api/admin/tenants/{tenant_id}/llm-config` and its own `base_url` and key."
    ),
)
def create_llm_model(
    body: LlmModelCreate, actor: AdminActor, catalogue: Catalogue, response: Response
) -> Any:
    changed = catalogue.create_llm_model(actor, fields=body.model_dump())
    set_etag(response, changed.value.version)
    return _change(changed.value, changed.reload)


@router.patch(
    "/llm-models/{model_id}",
    response_model=LlmModelChange,
    summary="Change a model's prices, context window, structured output or availability",
)
def update_llm_model(
    model_id: uuid.UUID,
    body: LlmModelUpdate,
    actor: AdminActor,
    catalogue: Catalogue,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = catalogue.update_llm_model(
        actor,
        model_id=model_id,
        expected_version=version_from(if_match, body.version),
        changes=body.changes(),
    )
    set_etag(response, changed.value.version)
    return _change(changed.value, changed.reload)


def _change(model: Any, reload: Any) -> LlmModelChange:
    return LlmModelChange(**LlmModelPublic.model_validate(model).model_dump(), reload=reload)
