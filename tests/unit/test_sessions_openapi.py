"""The sessions app documents its three operations, their errors and examples in OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.api.sessions import create_sessions_app


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_sessions_app().openapi()
    return document


def test_the_three_routes_are_documented(spec: dict[str, Any]) -> None:
    paths = spec["paths"]

    assert set(paths["/api/{tenant_id}/session"]) == {"get"}
    assert set(paths["/api/{tenant_id}/session/{session_id}"]) == {"get", "delete"}


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/{tenant_id}/session", "get", {"200", "400", "401", "403", "422"}),
        ("/api/{tenant_id}/session/{session_id}", "get", {"200", "401", "403", "404", "422"}),
        ("/api/{tenant_id}/session/{session_id}", "delete", {"204", "401", "403", "404", "422"}),
    ],
)
def test_errors_are_documented_with_the_json_error_body(
    spec: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    responses = spec["paths"][path][method]["responses"]

    assert statuses <= set(responses)
    not_ok = [status for status in statuses if not status.startswith("2")]
    for status in not_ok:
        example = responses[status]["content"]["application/json"]["example"]
        assert set(example["error"]) == {"code", "message", "request_id"}, status


def test_response_models_carry_examples(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    for name in ("SessionList", "SessionPublic", "SessionTranscriptPublic", "MessagePublic"):
        assert schemas[name]["examples"], name
    transcript = schemas["SessionTranscriptPublic"]["examples"][0]
    assert [m["role"] for m in transcript["messages"]] == ["user", "assistant"]


def test_session_id_is_a_uuid_and_the_tenant_id_is_pattern_checked(spec: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p["schema"]
        for p in spec["paths"]["/api/{tenant_id}/session/{session_id}"]["get"]["parameters"]
    }

    assert parameters["session_id"]["format"] == "uuid"
    assert parameters["tenant_id"]["pattern"]
    assert parameters["limit"]["maximum"] == 200


def test_retention_is_an_agenthub_command() -> None:
    from agenthub.cli import build_parser

    args = build_parser().parse_args(["retention", "run", "--dry-run", "--tenant", "acme"])

    assert (args.dry_run, args.tenant) == (True, "acme")
