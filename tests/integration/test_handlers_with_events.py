"""Every Lambda handler, invoked with the sample events in tests/events/ (what AWS sends).

The API Gateway events carry a placeholder bearer token and, for one session's routes, a
placeholder session id; each test swaps in a real token (and session) and keeps everything else
as AWS shapes it. The same files work with `sam local invoke -e tests/events/<name>.json`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.support.lambda_events import HttpResult, LambdaContext, invoke, load_handler

pytest_plugins = ["tests.integration.chat_fixtures"]

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PLACEHOLDER_SESSION = "00000000-0000-4000-8000-000000000000"
API_EVENTS = {
    "chat.json": "ChatFunction",
    "sessions_list.json": "SessionsFunction",
    "session_get.json": "SessionsFunction",
    "session_delete.json": "SessionsFunction",
    "admin_agents_list.json": "AdminFunction",
    "admin_tenant_get.json": "AdminFunction",
}

TokenFor = Callable[..., str]


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def with_token(event: dict[str, Any], token: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
    return event


def for_session(event: dict[str, Any], session_id: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["path"] = event["path"].replace(PLACEHOLDER_SESSION, session_id)
    event["requestContext"]["path"] = event["requestContext"]["path"].replace(
        PLACEHOLDER_SESSION, session_id
    )
    event["pathParameters"]["session_id"] = session_id
    return event


def assert_error(result: HttpResult, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert set(result.body) == {"error"}
    assert set(result.body["error"]) >= {"code", "message", "request_id"}
    assert result.body["error"]["code"] == code


@pytest.fixture(scope="module")
def handlers() -> dict[str, ModuleType]:
    return {
        name: load_handler(name)
        for name in ("chat", "sessions", "admin", "config_reload", "retention")
    }


# --- The events themselves ---------------------------------------------------------------------


class _TagsAsData(yaml.SafeLoader):
    """Reads template.yaml without resolving CloudFormation tags (only paths are needed)."""


_TagsAsData.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.mark.parametrize(("name", "function"), sorted(API_EVENTS.items()))
def test_each_api_event_targets_a_route_of_the_template(name: str, function: str) -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_TagsAsData)
    events = template["Resources"][function]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events}
    event = load_event(name)

    method = event["httpMethod"]
    assert (method, event["resource"]) in routes or ("ANY", event["resource"]) in routes
    assert event["requestContext"]["resourcePath"] == event["resource"]
    assert event["headers"]["Authorization"] == "Bearer REPLACE_WITH_A_JWT"


# --- API Gateway -> chat, sessions, admin -------------------------------------------------------


def test_the_chat_event_gets_a_debt_answer(
    seeded: None, handlers: dict[str, ModuleType], token_for: TokenFor
) -> None:
    event = with_token(load_event("chat.json"), token_for("acme", "alice"))

    result = invoke(handlers["chat"], event)

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt"
    assert result.body["format"] == "card"
    assert result.headers["content-type"].startswith("application/json")


def test_the_chat_event_without_a_real_token_is_a_401_json_error(
    seeded: None, handlers: dict[str, ModuleType]
) -> None:
    result = invoke(handlers["chat"], load_event("chat.json"))

    assert_error(result, 401, "unauthenticated")


def _start_a_session(handlers: dict[str, ModuleType], token: str) -> str:
    result = invoke(handlers["chat"], with_token(load_event("chat.json"), token))
    assert result.status == 200, result.body
    return str(result.body["session_id"])


def test_the_session_events_list_read_and_delete_the_callers_session(
    seeded: None, handlers: dict[str, ModuleType], token_for: TokenFor
) -> None:
    # GIVEN alice has one conversation
    token = token_for("acme", "alice")
    session_id = _start_a_session(handlers, token)

    # WHEN she lists her sessions, reads that one, deletes it and reads it again
    listed = invoke(handlers["sessions"], with_token(load_event("sessions_list.json"), token))
    read = invoke(
        handlers["sessions"],
        for_session(with_token(load_event("session_get.json"), token), session_id),
    )
    deleted = invoke(
        handlers["sessions"],
        for_session(with_token(load_event("session_delete.json"), token), session_id),
    )
    read_again = invoke(
        handlers["sessions"],
        for_session(with_token(load_event("session_get.json"), token), session_id),
    )

    # THEN each answer is the one the API promises
    assert listed.status == 200, listed.body
    assert [s["id"] for s in listed.body["sessions"]] == [session_id]
    assert read.status == 200, read.body
    assert [m["role"] for m in read.body["messages"]] == ["user", "assistant"]
    assert deleted.status == 204 and deleted.body is None
    assert_error(read_again, 404, "not_found")


def test_the_session_events_of_another_user_find_nothing(
    seeded: None, handlers: dict[str, ModuleType], token_for: TokenFor
) -> None:
    session_id = _start_a_session(handlers, token_for("acme", "alice"))
    bob = token_for("acme", "bob")

    listed = invoke(handlers["sessions"], with_token(load_event("sessions_list.json"), bob))
    read = invoke(
        handlers["sessions"],
        for_session(with_token(load_event("session_get.json"), bob), session_id),
    )

    assert listed.status == 200 and listed.body["sessions"] == []
    assert_error(read, 404, "not_found")


def test_the_admin_events_answer_a_platform_admin(
    seeded: None, handlers: dict[str, ModuleType], token_for: TokenFor
) -> None:
    token = token_for("acme", "root", roles=("platform_admin",))

    agents = invoke(handlers["admin"], with_token(load_event("admin_agents_list.json"), token))
    tenant = invoke(handlers["admin"], with_token(load_event("admin_tenant_get.json"), token))

    assert agents.status == 200, agents.body
    assert {"debt", "shipment"} <= {a["name"] for a in agents.body["items"]}
    assert tenant.status == 200, tenant.body
    assert tenant.body["id"] == "acme"


def test_the_admin_event_refuses_an_end_user(
    seeded: None, handlers: dict[str, ModuleType], token_for: TokenFor
) -> None:
    event = with_token(load_event("admin_agents_list.json"), token_for("acme", "alice"))

    assert_error(invoke(handlers["admin"], event), 403, "forbidden")


# --- SQS -> config_reload, EventBridge -> retention ---------------------------------------------


def _config_version(tenant_id: str) -> int:
    from agenthub.composition import get_sessionmaker
    from agenthub.repositories import TenantRepository

    with get_sessionmaker()() as db:
        tenant = TenantRepository(db).get(tenant_id)
        assert tenant is not None
        return int(tenant.config_version)


def test_the_sqs_batch_reloads_acme_and_fails_only_the_poison_record(
    seeded: None, handlers: dict[str, ModuleType]
) -> None:
    event = load_event("config_reload_sqs.json")
    good, poison = event["Records"]
    before = _config_version("acme")

    result = handlers["config_reload"].handler(event, LambdaContext(timeout_s=30))

    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    assert good["messageId"] not in json.dumps(result)
    assert _config_version("acme") == before + 1


def test_the_scheduled_event_runs_a_complete_retention_pass(
    seeded: None, handlers: dict[str, ModuleType]
) -> None:
    event = load_event("schedule_retention.json")

    result = handlers["retention"].handler(event, LambdaContext(timeout_s=300))

    # The demo seed holds no conversations, so there is nothing to remove: the report says so.
    assert result == {
        "tenants": 0,
        "sessions": 0,
        "messages": 0,
        "checkpoints": 0,
        "finished": True,
        "dry_run": False,
    }
