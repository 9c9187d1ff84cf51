"""US2: an admin creates and changes an agent through the admin API; the tenant's next chat uses
it with no restart, and the change reaches the cache through the SQS reload path
(queue -> config_reload handler -> Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
import redis as redis_lib
from moto import mock_aws

from agenthub.cache.keys import version_key
from tests.integration.test_config_reload import sqs_event
from tests.support.lambda_events import HttpResult, LambdaContext, invoke, load_handler, rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]


@pytest.fixture
def queue(seeded: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    from agenthub import composition

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="agenthub-config-reload")["QueueUrl"]
        monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", url)
        composition.reset()
        yield sqs, url


@pytest.fixture
def admin(token_for: Callable[..., str]) -> Callable[..., HttpResult]:
    handler: ModuleType = load_handler("admin")
    token = token_for("acme", "root", roles=("platform_admin",))

    def call(method: str, path: str, body: Any = None, **headers: str) -> HttpResult:
        event = rest_event(method, path, body=body, token=token, headers=headers or None)
        result = invoke(handler, event)
        assert result.status < 300, (method, path, result.body)
        return result

    return call


def deliver_reload_messages(sqs: Any, url: str) -> int:
    """What the SQS event source mapping does: receive, invoke config_reload, delete successes."""
    handler = load_handler("config_reload")
    delivered = 0
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return delivered
        event = sqs_event([m["Body"] for m in batch])
        for record, message in zip(event["Records"], batch, strict=True):
            record["messageId"] = message["MessageId"]
        result = handler.handler(event, LambdaContext())
        assert result == {"batchItemFailures": []}
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        delivered += len(batch)


def test_a_new_agent_reaches_the_next_chat_through_the_reload_queue(
    queue: tuple[Any, str],
    admin: Callable[..., HttpResult],
    chat: Chat,
    redis_url: str,
    business_api_server: Any,
) -> None:
    from agenthub.composition import get_config_source

    sqs, url = queue
    question = "Receivables for MST 0123456789"
    # GIVEN a warm container that answers debt questions with the debt agent
    assert chat(question).body["agent"] == "debt"
    redis = redis_lib.Redis.from_url(redis_url)
    version_before = int(redis.get(version_key("acme")))

    # WHEN an admin creates an agent, changes its prompt, gives it a tool and enables it
    created = admin(
        "POST",
        "/api/admin/agents",
        {
            "name": "receivables",
            "display_name": "Receivables",
            "description": "Receivables and overdue invoices of a customer, by MST",
            "system_prompt": "You are the Receivables agent.",
            "output_format": "table",
        },
    ).body
    agent_id, version = created["id"], created["version"]
    changed = admin(
        "PATCH",
        f"/api/admin/agents/{agent_id}",
        {"system_prompt": "You are the Receivables agent. Show amounts in VND."},
        **{"If-Match": f'"{version}"'},
    ).body
    assert changed["version"] == version + 1
    tools = admin("GET", "/api/admin/tools").body
    tool = next(t for t in tools["items"] if t["name"] == "get_customer_debt_by_mst")
    admin("PUT", f"/api/admin/agents/{agent_id}/tools/{tool['id']}", {"priority": 1})
    permissions = admin("GET", "/api/admin/tenants/acme/permissions").body
    admin(
        "PATCH",
        "/api/admin/tenants/acme/permissions",
        {"agents": {"receivables": True, "debt": False}},
        **{"If-Match": f'"{permissions["version"]}"'},
    )

    # THEN until the reload messages are processed, the warm container keeps its cached config
    assert chat(question).body["agent"] == "debt"
    # ... and once the queue has been delivered to config_reload, the next chat uses the agent
    assert deliver_reload_messages(sqs, url) >= 1
    assert int(redis.get(version_key("acme"))) > version_before
    answer = chat(question).body
    assert answer["agent"] == "receivables"
    assert answer["format"] == "table"
    assert any("269" in json.dumps(row) for row in answer["data"]["rows"])
    config = get_config_source().get("acme")
    receivables = config.agent("receivables")
    assert receivables is not None
    assert receivables.system_prompt == "You are the Receivables agent. Show amounts in VND."
    assert [t.name for t in receivables.tools] == ["get_customer_debt_by_mst"]
    assert config.agent("debt") is None
    # globex was not touched: it still has the debt agent and not the new one
    assert chat(question, tenant="globex").body["agent"] == "debt"
