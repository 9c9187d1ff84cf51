"""Tools built from stored specs: what the model sees, what reaches the business API, what a
failure looks like, and the checks run when a tool is saved.

The business API is an httpx2.MockTransport here (no sockets); tests/integration/test_http_tools.py
runs the same tools against a real HTTP server.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx2
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from pydantic import SecretStr

from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
from agenthub.errors import ValidationFailedError
from agenthub.tools import TOOL_CALLS_KEY, build_tool, build_tools, validate_tool_config
from agenthub.tools.http import select_fields
from agenthub.tools.validation import validate_tool_definition
from tests.support.tool_deps import tool_deps as deps

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl"
DEBT_SCHEMA = {
    "type": "object",
    "properties": {
        "mst": {"type": "string", "pattern": "^[0-9]{10}$", "description": "tax code"},
        "status": {"type": "string", "enum": ["open", "paid"]},
        "page": {"type": "integer", "minimum": 1, "default": 1},
    },
    "required": ["mst"],
}


def spec(
    *,
    type: str = "HTTP_GET",
    name: str = "get_customer_debt",
    input_schema: dict[str, Any] | None = None,
    encrypted_secret: str | None = None,
    **config: Any,
) -> ToolSpec:
    return ToolSpec(
        id=uuid.uuid4(),
        name=name,
        description="Debt of a customer by tax code",
        type=type,  # type: ignore[arg-type]
        input_schema=DEBT_SCHEMA if input_schema is None else input_schema,
        config={"url": "https://erp.example.com/customers/{mst}/debt", **config},
        encrypted_secret=encrypted_secret,
    )


class FakeApi:
    """The business API behind httpx2.MockTransport: records requests, answers `reply`."""

    def __init__(self, reply: Callable[[httpx2.Request], httpx2.Response] | None = None) -> None:
        self.requests: list[httpx2.Request] = []
        self.reply = reply or (lambda request: httpx2.Response(200, json={"ok": True}))

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.reply(request)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))


def context(**overrides: Any) -> ToolContext:
    values = {"tenant_id": "t-1", "user_id": "u-1", "user_jwt": SecretStr(JWT)} | overrides
    return ToolContext(**values)


def run_config(calls: list[dict[str, Any]] | None = None, **configurable: Any) -> dict[str, Any]:
    configurable.setdefault(TOOL_CONTEXT_KEY, context())
    if calls is not None:
        configurable[TOOL_CALLS_KEY] = calls
    return {"configurable": configurable}


def call(tool: Any, args: Any, config: dict[str, Any]) -> ToolMessage:
    message = tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}, config=config
    )
    assert isinstance(message, ToolMessage)
    return message


def error_of(message: ToolMessage) -> dict[str, Any]:
    assert message.status == "error"
    return json.loads(message.content)["error"]


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


# --- building ----------------------------------------------------------------------------------


def test_the_tool_takes_name_description_and_arguments_from_its_spec(
    base_env: None, api: FakeApi
) -> None:
    tool = build_tool(spec(), deps(api.client))
    assert tool.name == "get_customer_debt"
    assert tool.description == "Debt of a customer by tax code"
    shown = convert_to_openai_tool(tool)["function"]
    assert shown["name"] == "get_customer_debt"
    assert set(shown["parameters"]["properties"]) == {"mst", "status", "page"}
    assert shown["parameters"]["required"] == ["mst"]
    assert shown["parameters"]["properties"]["mst"]["pattern"] == "^[0-9]{10}$"
    assert shown["parameters"]["properties"]["status"]["enum"] == ["open", "paid"]


def test_the_model_visible_schema_has_no_trace_of_the_caller_or_the_runtime(
    base_env: None, api: FakeApi
) -> None:
    tool = build_tool(spec(auth_mode="user_jwt"), deps(api.client))
    visible = json.dumps(tool.tool_call_schema.model_json_schema()) + json.dumps(
        convert_to_openai_tool(tool)
    )
    for trace in ("jwt", "context", "config", "tenant", "arguments", "agenthub", "Bearer"):
        assert trace not in visible
    assert set(tool.tool_call_schema.model_fields) == {"mst", "status", "page"}


def test_an_ocr_tool_without_the_file_store_and_engine_is_refused_clearly(
    base_env: None,
) -> None:
    without_documents = dataclasses.replace(deps(), documents=None)
    with pytest.raises(ValidationFailedError) as caught:
        build_tool(spec(type="OCR"), without_documents)
    assert "not configured" in caught.value.message


def test_a_name_providers_would_refuse_is_refused(base_env: None) -> None:
    with pytest.raises(ValidationFailedError):
        build_tool(spec(name="get debt!"), deps())


def test_build_tools_keeps_order_and_refuses_duplicate_names(base_env: None) -> None:
    tools = build_tools([spec(name="a"), spec(name="b")], deps())
    assert [t.name for t in tools] == ["a", "b"]
    with pytest.raises(ValidationFailedError) as caught:
        build_tools([spec(name="a"), spec(name="a")], deps())
    assert "a" in caught.value.message


def test_a_schema_we_cannot_express_fails_the_build(base_env: None) -> None:
    schema = {"type": "object", "properties": {"mst": {"anyOf": [{"type": "string"}]}}}
    with pytest.raises(ValidationFailedError):
        build_tool(spec(input_schema=schema), deps())


def test_tenant_secret_without_a_stored_secret_fails_the_build(base_env: None) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        build_tool(spec(auth_mode="tenant_secret"), deps())
    assert "no stored secret" in caught.value.message


# --- calling -----------------------------------------------------------------------------------


def test_a_call_fills_the_path_maps_the_query_and_forwards_the_jwt(
    base_env: None, api: FakeApi
) -> None:
    calls: list[dict[str, Any]] = []
    tool = build_tool(spec(auth_mode="user_jwt"), deps(api.client))
    message = call(
        tool, {"mst": "0123456789", "status": "open"}, run_config(calls, **{"other": "kept"})
    )
    assert message.status == "success"
    assert json.loads(message.content) == {"ok": True}
    [request] = api.requests
    assert request.method == "GET"
    assert request.url.path == "/customers/0123456789/debt"
    assert dict(request.url.params) == {"status": "open", "page": "1"}
    assert request.headers["Authorization"] == f"Bearer {JWT}"
    assert calls == [
        {
            "tool_id": calls[0]["tool_id"],
            "tool_name": "get_customer_debt",
            "latency_ms": calls[0]["latency_ms"],
            "outcome": "ok",
            "http_status": 200,
        }
    ]
    assert calls[0]["latency_ms"] >= 0


def test_auth_mode_none_sends_no_credentials(base_env: None, api: FakeApi) -> None:
    tool = build_tool(spec(), deps(api.client))
    call(tool, {"mst": "0123456789"}, run_config())
    assert "Authorization" not in api.requests[0].headers


def test_without_the_user_context_the_call_is_an_error_result_and_no_request(
    base_env: None, api: FakeApi
) -> None:
    calls: list[dict[str, Any]] = []
    tool = build_tool(spec(auth_mode="user_jwt"), deps(api.client))
    message = call(tool, {"mst": "0123456789"}, {"configurable": {TOOL_CALLS_KEY: calls}})
    assert error_of(message) == {
        "type": "no_context",
        "status": None,
        "message": "the tool was called without the user's context",
        "detail": None,
    }
    assert api.requests == []
    assert calls[0]["outcome"] == "no_context"


def test_arguments_that_fail_the_schema_are_an_error_result_and_no_request(
    base_env: None, api: FakeApi
) -> None:
    calls: list[dict[str, Any]] = []
    tool = build_tool(spec(), deps(api.client))
    message = call(tool, {"mst": "12", "status": "late"}, run_config(calls))
    error = error_of(message)
    assert error["type"] == "bad_arguments"
    assert {d["field"] for d in error["detail"]} == {"mst", "status"}
    assert api.requests == []
    assert calls[0]["outcome"] == "bad_arguments"


def test_arguments_that_are_not_an_object_are_an_error_result(base_env: None, api: FakeApi) -> None:
    tool = build_tool(spec(), deps(api.client))
    assert tool.invoke("0123456789", config=run_config()) == json.dumps(
        {
            "error": {
                "type": "bad_arguments",
                "status": None,
                "message": "the arguments must be a JSON object",
                "detail": None,
            }
        },
        separators=(",", ":"),
    )


def test_a_path_value_cannot_climb_out_of_its_segment(base_env: None, api: FakeApi) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    tool = build_tool(
        spec(input_schema=schema, url="https://erp.example.com/orders/{id}/lines"),
        deps(api.client),
    )
    call(tool, {"id": "../../admin?x=1#"}, run_config())
    assert api.requests[0].url.raw_path == b"/orders/..%2F..%2Fadmin%3Fx%3D1%23/lines"
    assert error_of(call(tool, {"id": ".."}, run_config()))["type"] == "bad_arguments"
    assert len(api.requests) == 1


def test_post_sends_the_unmapped_arguments_as_the_json_body(base_env: None, api: FakeApi) -> None:
    schema = {
        "type": "object",
        "properties": {
            "mst": {"type": "string"},
            "amount": {"type": "number"},
            "lines": {"type": "array", "items": {"type": "object"}},
            "dry_run": {"type": "boolean"},
        },
        "required": ["mst"],
    }
    tool = build_tool(
        spec(
            type="HTTP_POST",
            input_schema=schema,
            url="https://erp.example.com/customers/{mst}/payments",
            query={"dry": "dry_run"},
            headers={"X-Api-Version": "2"},
        ),
        deps(api.client),
    )
    call(tool, {"mst": "1", "amount": 5, "lines": [{"a": 1}], "dry_run": True}, run_config())
    [request] = api.requests
    assert request.method == "POST"
    assert request.url.path == "/customers/1/payments"
    assert dict(request.url.params) == {"dry": "true"}
    assert json.loads(request.content) == {"amount": 5.0, "lines": [{"a": 1}]}
    assert request.headers["X-Api-Version"] == "2"
    assert request.headers["Content-Type"] == "application/json"


def test_a_body_mapping_renames_arguments(base_env: None, api: FakeApi) -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}}
    tool = build_tool(
        spec(
            type="HTTP_POST",
            input_schema=schema,
            url="https://erp.example.com/search",
            body={"query": "q"},
        ),
        deps(api.client),
    )
    call(tool, {"q": "acme", "n": 3}, run_config())
    assert json.loads(api.requests[0].content) == {"query": "acme"}


def test_list_arguments_become_repeated_query_parameters(base_env: None, api: FakeApi) -> None:
    schema = {
        "type": "object",
        "properties": {"ids": {"type": "array", "items": {"type": "integer"}}},
    }
    tool = build_tool(
        spec(input_schema=schema, url="https://erp.example.com/shipments?format=json"),
        deps(api.client),
    )
    call(tool, {"ids": [1, 2]}, run_config())
    assert api.requests[0].url.params.multi_items() == [
        ("format", "json"),
        ("ids", "1"),
        ("ids", "2"),
    ]


def test_response_fields_select_what_the_agent_sees(base_env: None) -> None:
    api = FakeApi(
        lambda request: httpx2.Response(
            200,
            json={
                "customer_name": "ACME",
                "total_debt": 1200,
                "internal_notes": "do not show",
                "customer": {"id": 7, "segment": "B2B"},
            },
        )
    )
    tool = build_tool(
        spec(response_fields=["customer_name", "total_debt", "customer.segment", "missing"]),
        deps(api.client),
    )
    message = call(tool, {"mst": "0123456789"}, run_config())
    assert message.content == (
        '{"customer_name":"ACME","total_debt":1200,"customer":{"segment":"B2B"}}'
    )


def test_an_upstream_error_detail_is_passed_on_with_tokens_redacted(base_env: None) -> None:
    api = FakeApi(
        lambda request: httpx2.Response(
            401, json={"detail": f"token {JWT} expired", "trace": "internal"}
        )
    )
    tool = build_tool(spec(), deps(api.client))
    error = error_of(call(tool, {"mst": "0123456789"}, run_config()))
    assert error["type"] == "http_status"
    assert error["status"] == 401
    assert JWT not in json.dumps(error)
    assert error["detail"].startswith("token ")


def test_the_tool_works_inside_langgraphs_tool_node(base_env: None, api: FakeApi) -> None:
    # GIVEN the node create_agent uses, and the context in the run's config
    calls: list[dict[str, Any]] = []
    tool = build_tool(spec(auth_mode="user_jwt"), deps(api.client))
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([tool]))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    request = AIMessage(
        "",
        tool_calls=[{"id": "c1", "name": tool.name, "args": {"mst": "0123456789"}}],
    )
    # WHEN the node runs the model's call
    out = graph.compile().invoke({"messages": [request]}, config=run_config(calls))
    # THEN the JWT reached the API through the config, and the call was recorded
    message = out["messages"][-1]
    assert message.status == "success"
    assert api.requests[0].headers["Authorization"] == f"Bearer {JWT}"
    assert calls[0]["outcome"] == "ok"


def test_an_unexpected_bug_is_an_internal_error_result(base_env: None) -> None:
    def broken_factory() -> httpx2.Client:
        raise KeyError("bug")

    tool = build_tool(spec(), deps(broken_factory))
    error = error_of(call(tool, {"mst": "0123456789"}, run_config()))
    assert error["type"] == "internal"
    assert "bug" not in error["message"]


def test_select_fields_applies_to_each_item_of_a_list() -> None:
    data = [{"id": 1, "x": {"y": 2, "z": 3}}, {"id": 2}]
    assert select_fields(data, ["id", "x.y"]) == [{"id": 1, "x": {"y": 2}}, {"id": 2}]
    assert select_fields({"items": [{"a": 1}, {"a": 2}]}, ["items.1.a"]) == {
        "items": {"1": {"a": 2}}
    }
    assert select_fields("plain", ["a"]) == "plain"


# --- save-time validation ----------------------------------------------------------------------


def public(host: str, port: int) -> Sequence[str]:
    return ["93.184.216.34"]


def internal(host: str, port: int) -> Sequence[str]:
    return ["10.0.0.8"]


def refused_fields(tool_type: str, config: dict[str, Any], **kwargs: Any) -> set[str]:
    kwargs.setdefault("resolver", public)
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_config(tool_type, config, **kwargs)
    return {d["field"] for d in caught.value.details}


URL = "https://erp.example.com/customers/{mst}/debt"


def test_a_good_config_passes(base_env: None) -> None:
    validate_tool_config(
        "HTTP_GET",
        {
            "url": URL,
            "query": ["status"],
            "headers": {"X-Api-Version": "2"},
            "timeout_s": 5,
            "response_fields": ["customer_name", "invoices"],
            "max_response_bytes": 100_000,
            "auth_mode": "user_jwt",
        },
        input_schema=DEBT_SCHEMA,
        resolver=public,
    )


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "config.url"),
        ({"url": URL, "unknown": 1}, "config.unknown"),
        ({"url": "https://{host}.example.com/x"}, "config.url"),
        ({"url": "https://erp.example.com/x?mst={mst}"}, "config.url"),
        ({"url": "https://erp.example.com/{mst"}, "config.url"),
        ({"url": "https://erp.example.com/x#frag"}, "config.url"),
        ({"url": "ftp://erp.example.com/x"}, "config.url"),
        ({"url": "https://user:pw@erp.example.com/x"}, "config.url"),
        ({"url": URL, "timeout_s": 61}, "config.timeout_s"),
        ({"url": URL, "timeout_s": 0}, "config.timeout_s"),
        ({"url": URL, "max_response_bytes": 0}, "config.max_response_bytes"),
        ({"url": URL, "auth_mode": "basic"}, "config.auth_mode"),
        ({"url": URL, "headers": {"Authorization": "Bearer x"}}, "config.headers"),
        ({"url": URL, "headers": {"Host": "internal"}}, "config.headers"),
        ({"url": URL, "headers": {"X-A": "a\r\nX-B: b"}}, "config.headers"),
        ({"url": URL, "headers": {"bad header": "x"}}, "config.headers"),
        ({"url": URL, "secret_header": "X-Api-Key"}, "config"),
        ({"url": URL, "auth_mode": "tenant_secret", "secret_header": "Host"}, "config"),
        ({"url": URL, "response_fields": ["a..b"]}, "config.response_fields"),
        ({"url": URL, "body": ["status"]}, "config.body"),
    ],
)
def test_a_config_that_does_not_fit_is_refused_naming_the_field(
    base_env: None, config: dict[str, Any], field: str
) -> None:
    assert field in refused_fields("HTTP_GET", config)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"url": "https://erp.example.com/c/{customer_id}"}, "config.url"),
        ({"url": "https://erp.example.com/c/{status}"}, "config.url"),  # not required
        ({"url": URL, "query": {"state": "state"}}, "config.query.state"),
        ({"url": URL, "query": ["nope"]}, "config.query.nope"),
    ],
)
def test_arguments_the_config_names_must_exist_in_the_schema(
    base_env: None, config: dict[str, Any], field: str
) -> None:
    assert field in refused_fields("HTTP_GET", config, input_schema=DEBT_SCHEMA)


def test_a_post_body_may_only_name_existing_arguments(base_env: None) -> None:
    config = {"url": URL, "body": {"amount": "amount"}}
    assert "config.body.amount" in refused_fields("HTTP_POST", config, input_schema=DEBT_SCHEMA)


def test_an_internal_url_is_refused_at_save_time(base_env: None) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_config("HTTP_GET", {"url": URL}, resolver=internal)
    assert caught.value.details[0]["field"] == "config.url"
    assert "private" in caught.value.details[0]["message"]


def test_the_allow_list_from_settings_lets_the_local_demo_api_be_saved(base_env: None) -> None:
    validate_tool_config("HTTP_GET", {"url": "http://127.0.0.1:8001/debt"}, resolver=internal)
    validate_tool_config("HTTP_GET", {"url": "http://localhost:8001/debt"}, resolver=internal)


@pytest.mark.parametrize(("tool_type", "reason"), [("SOAP", "unknown"), ("FTP", "unknown")])
def test_other_tool_types_are_refused(base_env: None, tool_type: str, reason: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_config(tool_type, {})
    assert reason in caught.value.message


def test_validate_tool_definition_checks_name_schema_and_config_together(base_env: None) -> None:
    validate_tool_definition(
        name="get_customer_debt",
        tool_type="HTTP_GET",
        input_schema=DEBT_SCHEMA,
        config={"url": URL},
        resolver=public,
    )
    with pytest.raises(ValidationFailedError):
        validate_tool_definition(
            name="get debt", tool_type="HTTP_GET", input_schema=DEBT_SCHEMA, config={"url": URL}
        )
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_definition(
            name="t",
            tool_type="HTTP_GET",
            input_schema={"type": "object", "properties": {"a": {"type": "strin"}}},
            config={"url": URL},
        )
    assert caught.value.details[0]["field"] == "input_schema.properties.a.type"


def test_a_refused_tool_name_is_told_the_rule_the_database_and_admin_api_enforce(
    base_env: None,
) -> None:
    # The database and the admin API refuse '-' and a leading digit: the message must not
    # offer them.
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_definition(
            name="get debt", tool_type="HTTP_GET", input_schema=DEBT_SCHEMA, config={"url": URL}
        )

    assert caught.value.message == "a tool name is a letter, then up to 63 letters, digits or '_'"
    assert caught.value.details == [
        {"field": "name", "message": "must be a letter, then up to 63 letters, digits or '_'"}
    ]


def test_an_unbuildable_tool_is_left_out_instead_of_failing_the_agent() -> None:
    from agenthub.tools.registry import build_available_tools

    good = ToolSpec(
        id=uuid.uuid4(),
        name="lookup",
        description="Look something up",
        type="HTTP_GET",
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        config={"url": "https://erp.example.com/lookup"},
    )
    # An OCR tool where no file store and engine are configured cannot be built.
    not_yet = good.model_copy(update={"id": uuid.uuid4(), "name": "read_scan", "type": "OCR"})
    without_documents = dataclasses.replace(deps(), documents=None)

    tools = build_available_tools([not_yet, good, good], without_documents)

    assert [t.name for t in tools] == ["lookup"]


@pytest.mark.parametrize(
    "config",
    [
        {"url": "https://erp.example.com/x", "headers": {"X-Api-Key": "s3cr3t"}},
        {"url": "https://erp.example.com/x", "headers": {"X-Auth-Token": "s3cr3t"}},
        {"url": "https://erp.example.com/x?api_key=s3cr3t"},
        {"url": "https://erp.example.com/x?token=s3cr3t&x=1"},
    ],
    ids=["api-key-header", "token-header", "api_key-query", "token-query"],
)
def test_credentials_in_a_tool_config_are_refused(config: dict[str, Any]) -> None:
    """Tool configs are shown to every admin: credentials go in an encrypted tenant secret."""
    from agenthub.errors import ValidationFailedError
    from agenthub.tools.validation import validate_tool_config

    with pytest.raises(ValidationFailedError) as error:
        validate_tool_config("HTTP_GET", config, resolver=lambda host, port: ["93.184.216.34"])

    assert "credential" in str(error.value.details)
