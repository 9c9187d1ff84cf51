"""Inputs an outside fuzzer turned into 500s: each is a clear 422 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

Token = Callable[..., str]


@pytest.fixture
def sessions_client(seeded: None) -> Iterator[TestClient]:
    from agenthub.api.sessions import create_sessions_app

    with TestClient(create_sessions_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def admin_client(admin_seeded: None) -> Iterator[TestClient]:
    from agenthub.api.admin import create_admin_app

    with TestClient(create_admin_app(), raise_server_exceptions=False) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_clear_422(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"] or field in str(error.get("details"))
    assert error["request_id"]


@pytest.mark.parametrize("after", ["2147483648", "99999999999999999999"])
def test_a_message_cursor_beyond_an_integer_column_is_a_422(
    sessions_client: TestClient, chat: Callable[..., Any], token_for: Token, after: str
) -> None:
    session_id = chat("What is the debt of MST 0123456789?").body["session_id"]
    response = sessions_client.get(
        f"/api/acme/session/{session_id}",
        params={"after": after},
        headers=bearer(token_for("acme", "alice")),
    )
    assert_clear_422(response, "after")


@pytest.mark.parametrize(
    "params",
    [
        {"to": "0001-01-02T00:00:00Z"},
        {"to": "9999-12-31T23:59:59-14:00"},
        {"from": "0001-01-01T00:00:00+14:00"},
        {"from": "9999-12-31T23:59:59Z", "to": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_metrics_with_dates_at_the_edge_of_the_calendar_are_a_422(
    admin_client: TestClient, token_for: Token, params: dict[str, str]
) -> None:
    response = admin_client.get(
        "/api/admin/metrics", params=params, headers=bearer(token_for(roles=("platform_admin",)))
    )
    assert_clear_422(response, "from" if "from" in params and "to" not in params else "to")


NUL = "gpt\x00-4o"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "PUT",
            "/api/admin/tenants/acme/llm-config",
            {"provider": "openai", "model_name": NUL},
            "model_name",
        ),
        (
            "PUT",
            "/api/admin/tenants/acme/llm-config",
            {"provider": "o\x00", "model_name": "m"},
            "provider",
        ),
        (
            "POST",
            "/api/admin/agents",
            {
                "name": "nul_agent",
                "description": "d",
                "system_prompt": "p",
                "output_format": "car\x00d",
            },
            "output_format",
        ),
        (
            "PATCH",
            "/api/admin/agents/debt",
            {"output_format": "\x00", "version": 1},
            "output_format",
        ),
    ],
)
def test_a_nul_byte_in_an_admin_lookup_field_is_a_422(
    admin_client: TestClient, token_for: Token, method: str, path: str, body: Any, field: str
) -> None:
    response = admin_client.request(
        method, path, json=body, headers=bearer(token_for(roles=("platform_admin",)))
    )
    assert_clear_422(response, field)


@pytest.mark.parametrize(
    "path",
    ["/api/admin/agents/de%00bt", "/api/admin/tools?scope=%00", "/api/admin/tenants/acme%00"],
)
def test_a_nul_byte_in_an_admin_path_or_query_is_a_422(
    admin_client: TestClient, token_for: Token, path: str
) -> None:
    response = admin_client.get(path, headers=bearer(token_for(roles=("platform_admin",))))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
