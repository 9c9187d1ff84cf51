"""The LLM catalogue through the admin handler: platform admins add and edit models (audited,
versioned, reloaded where used); the seed lists every provider AgentHub builds."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.db.models import LlmModel
from tests.integration.admin_support import TENANT_ADMIN, Admin, ReloadQueue, audit_rows, count

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

VLLM_MODEL = {
    "provider": "openai_compatible",
    "model_name": "Qwen/Qwen2.5-7B-Instruct",
    "display_name": "Qwen 2.5 7B on our vLLM",
    "input_price_per_1k": "0.0001",
    "output_price_per_1k": "0.0002",
    "context_window": 32768,
    "supports_structured_output": True,
}


def _models(admin: Admin) -> list[dict[str, Any]]:
    result = admin("GET", "/api/admin/llm-models", query={"include_inactive": "true"})
    assert result.status == 200
    return list(result.body["items"])


def test_the_seeded_catalogue_offers_every_provider(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    providers = {m["provider"] for m in _models(admin)}
    assert {
        "openai",
        "anthropic",
        "google",
        "openrouter",
        "bedrock",
        "openai_compatible",
        "offline",
    } <= providers
    claude = next(m for m in _models(admin) if m["model_name"].startswith("claude-sonnet-4-5"))
    assert claude["supports_structured_output"] is True
    assert claude["input_price_per_1k"] > 0 and claude["context_window"] >= 200_000


def test_a_platform_admin_adds_a_model_a_tenant_then_uses(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    created = admin("POST", "/api/admin/llm-models", VLLM_MODEL)

    assert created.status == 201, created.body
    assert created.body["model_name"] == "Qwen/Qwen2.5-7B-Instruct"
    assert created.body["supports_structured_output"] is True
    assert created.body["input_price_per_1k"] == pytest.approx(0.0001)
    assert created.body["version"] == 1
    assert created.headers["etag"] == '"1"'
    [row] = audit_rows()
    assert row.action == "llm_model.create" and row.tenant_id is None
    assert row.after["model_name"] == "Qwen/Qwen2.5-7B-Instruct"
    assert reload_queue.messages() == []  # nobody uses it yet

    chosen = admin(
        "PUT",
        "/api/admin/tenants/acme/llm-config",
        {
            "llm_model_id": created.body["id"],
            "base_url": "http://127.0.0.1:8000/v1",
            "api_key": "vllm-key-0123456789",
        },
    )
    assert chosen.status == 200, chosen.body
    assert chosen.body["llm_model"]["provider"] == "openai_compatible"
    assert chosen.body["base_url"] == "http://127.0.0.1:8000/v1" and chosen.body["has_api_key"]


def test_a_change_is_versioned_audited_and_reloads_the_tenants_using_the_model(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    offline = next(m for m in _models(admin) if m["provider"] == "offline")  # the demo's model

    changed = admin(
        "PATCH",
        f"/api/admin/llm-models/{offline['id']}",
        {"context_window": 16000},
        headers={"If-Match": f'"{offline["version"]}"'},
    )

    assert changed.status == 200, changed.body
    assert changed.body["context_window"] == 16000
    assert changed.body["version"] == offline["version"] + 1
    [row] = audit_rows()
    assert row.action == "llm_model.update"
    assert row.before["context_window"] == 32000 and row.after["context_window"] == 16000
    [message] = reload_queue.messages()
    assert set(message.tenant_ids) == {"acme", "globex"}

    stale = admin(
        "PATCH",
        f"/api/admin/llm-models/{offline['id']}",
        {"context_window": 8000, "version": offline["version"]},
    )
    assert stale.status == 409, stale.body
    no_version = admin("PATCH", f"/api/admin/llm-models/{offline['id']}", {"context_window": 8000})
    assert no_version.status == 422 and "version" in no_version.body["error"]["message"]


def test_the_same_model_twice_is_409_and_writes_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    assert admin("POST", "/api/admin/llm-models", VLLM_MODEL).status == 201
    before = count(LlmModel)

    again = admin("POST", "/api/admin/llm-models", {**VLLM_MODEL, "display_name": "again"})

    assert again.status == 409, again.body
    assert count(LlmModel) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": "cohere"}, "provider"),
        ({"input_price_per_1k": "-1"}, "input_price_per_1k"),
        ({"context_window": 0}, "context_window"),
        ({"model_name": ""}, "model_name"),
        ({"model_name": "a\x00b"}, "model_name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_input_is_422_naming_the_field_and_writes_nothing(
    reload_queue: ReloadQueue, admin: Admin, change: dict[str, Any], field: str
) -> None:
    before = count(LlmModel)

    result = admin("POST", "/api/admin/llm-models", {**VLLM_MODEL, **change})

    assert result.status == 422, result.body
    assert field in result.body["error"]["message"]
    assert count(LlmModel) == before
    assert audit_rows() == []


def test_a_tenant_admin_reads_the_catalogue_but_cannot_change_it(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    model = _models(admin)[0]

    assert admin("GET", "/api/admin/llm-models", roles=TENANT_ADMIN).status == 200
    assert admin("POST", "/api/admin/llm-models", VLLM_MODEL, roles=TENANT_ADMIN).status == 403
    patch = admin(
        "PATCH",
        f"/api/admin/llm-models/{model['id']}",
        {"is_active": False, "version": model["version"]},
        roles=TENANT_ADMIN,
    )
    assert patch.status == 403
    assert audit_rows() == []


def test_an_unknown_model_is_404(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin(
        "PATCH",
        "/api/admin/llm-models/00000000-0000-0000-0000-000000000000",
        {"is_active": False, "version": 1},
    )
    assert result.status == 404, result.body
