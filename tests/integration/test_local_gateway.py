"""The local API gateway over real HTTP: template routes, API Gateway events, real handlers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agenthub.local.gateway import MAX_PAYLOAD_BYTES, LocalApiGateway
from agenthub.local.http_server import ServerThread
from agenthub.local.lambda_runtime import FunctionRunner, InvocationPool
from agenthub.local.template_routes import (
    functions_from_template,
    load_template,
    routes_from_template,
)

pytest_plugins = ["tests.integration.chat_fixtures"]

REPO_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

ECHO_TEMPLATE = """
Globals:
  Function:
    Timeout: 3
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: handler.handler
      Timeout: 7
      Layers: [!Ref Layer]
      Events:
        GetThing:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/things/{thing_id}", Method: GET}
        PostThing:
          Type: Api
          Properties: {Path: "/things/{thing_id}", Method: post}
        Anything:
          Type: Api
          Properties: {Path: "/things/{thing_id}/{proxy+}", Method: ANY}
"""

ECHO_HANDLER = """
import base64
import json
import time


def handler(event, context):
    path = event["path"]
    if path.endswith("/boom"):
        raise RuntimeError("the handler broke")
    if path.endswith("/malformed"):
        return {"body": "no statusCode"}
    if path.endswith("/binary"):
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/octet-stream"},
            "isBase64Encoded": True,
            "body": base64.b64encode(bytes([0, 1, 255])).decode(),
        }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({
            "event": event,
            "function_name": context.function_name,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }),
    }
"""


@contextmanager
def serve_gateway(template_path: Path) -> Iterator[str]:
    """The gateway for a template, served by uvicorn on a free loopback port."""
    template = load_template(template_path)
    functions = functions_from_template(template, template_path.parent)
    routes = routes_from_template(template, template_path.parent)
    runners = {name: FunctionRunner(spec) for name, spec in functions.items()}
    pool = InvocationPool(max_workers=2)
    server = ServerThread(
        LocalApiGateway(routes, runners, pool), host="127.0.0.1", port=0, name="test gateway"
    ).start()
    try:
        yield server.url
    finally:
        server.stop()
        pool.shutdown()


@pytest.fixture
def echo_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "functions" / "echo").mkdir(parents=True)
    (tmp_path / "functions" / "echo" / "handler.py").write_text(ECHO_HANDLER)
    (tmp_path / "template.yaml").write_text(ECHO_TEMPLATE)
    with serve_gateway(tmp_path / "template.yaml") as url:
        yield url


@pytest.fixture
def echo(echo_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=echo_url, timeout=10) as client:
        yield client


def _echoed(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the real chat handler -----------------------------------------------------------------------


def test_the_chat_route_of_template_yaml_answers_through_the_real_handler(
    seeded: None, token_for: Callable[..., str]
) -> None:
    with serve_gateway(REPO_TEMPLATE) as url:
        response = httpx.post(
            f"{url}/api/acme/chat",
            json={"message": "Debt for MST 0123456789"},
            headers={"Authorization": f"Bearer {token_for('acme', 'alice')}"},
            timeout=60,
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["agent"], body["format"]) == ("debt", "card")
    total = next(f["value"] for f in body["data"]["fields"] if "total debt" in f["label"].lower())
    assert total == 269_750_000
    # The app took its request id from the event's requestContext, as it does behind AWS.
    assert response.headers["x-request-id"] == response.headers["x-amzn-requestid"]


def test_the_chat_handler_errors_keep_their_json_body(seeded: None) -> None:
    with serve_gateway(REPO_TEMPLATE) as url:
        response = httpx.post(f"{url}/api/acme/chat", json={"message": "hi"}, timeout=30)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


# --- gateway behaviour with an echo function ---------------------------------------------


def test_the_event_carries_resource_path_parameters_query_headers_and_body(
    echo: httpx.Client,
) -> None:
    response = echo.post(
        "/things/t-1?tag=a&tag=b&page=2",
        content=b'{"x": 1}',
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
    )

    result = _echoed(response)
    event = result["event"]
    assert event["resource"] == "/things/{thing_id}"
    assert event["path"] == "/things/t-1"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"thing_id": "t-1"}
    assert event["queryStringParameters"] == {"tag": "b", "page": "2"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "page": ["2"]}
    assert event["headers"]["x-custom"] == "yes"
    assert event["multiValueHeaders"]["x-custom"] == ["yes"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    context = event["requestContext"]
    assert context["resourcePath"] == "/things/{thing_id}"
    assert context["requestId"] == response.headers["x-amzn-requestid"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"


def test_a_greedy_route_passes_the_rest_of_the_path_as_proxy(echo: httpx.Client) -> None:
    event = _echoed(echo.delete("/things/t-1/parts/7"))["event"]

    assert event["resource"] == "/things/{thing_id}/{proxy+}"
    assert event["pathParameters"] == {"thing_id": "t-1", "proxy": "parts/7"}
    assert event["queryStringParameters"] is None
    assert event["body"] is None


def test_a_binary_request_body_is_base64_encoded(echo: httpx.Client) -> None:
    event = _echoed(echo.put("/things/t-1/blob", content=bytes([0xFF, 0xFE, 0x00])))["event"]

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == bytes([0xFF, 0xFE, 0x00])


def test_the_lambda_context_names_the_function_and_counts_down_from_its_timeout(
    echo: httpx.Client,
) -> None:
    first = _echoed(echo.get("/things/t-1"))
    second = _echoed(echo.get("/things/t-1"))

    assert first["function_name"] == "EchoFunction"
    assert 0 < first["remaining_ms"] <= 7000  # the function's Timeout, not Globals' 3 s
    assert first["remaining_ms"] > 3000
    assert first["aws_request_id"] != second["aws_request_id"]


def test_single_and_multi_value_response_headers_both_reach_the_client(
    echo: httpx.Client,
) -> None:
    response = echo.get("/things/t-1")

    assert response.headers["x-single"] == "one"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "application/json"


def test_a_base64_response_body_is_decoded(echo: httpx.Client) -> None:
    response = echo.get("/things/t-1/binary")

    assert response.status_code == 201
    assert response.content == bytes([0, 1, 255])
    assert response.headers["content-length"] == "3"


def test_an_unknown_route_is_a_404_json_error(echo: httpx.Client) -> None:
    response = echo.get("/nothing/here")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["x-amzn-requestid"]


def test_a_method_the_resource_lacks_is_a_404_json_error_like_api_gateway(
    echo: httpx.Client,
) -> None:
    """Deployed, API Gateway answers MISSING_AUTHENTICATION_TOKEN, mapped to 404 not_found."""
    response = echo.patch("/things/t-1", json={})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["x-amzn-requestid"]
    assert "allow" not in response.headers


@pytest.mark.parametrize("path", ["/things/t-1/boom", "/things/t-1/malformed"])
def test_a_failing_or_malformed_handler_is_a_502_json_error(
    echo: httpx.Client, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    response = echo.get(path)

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_error"
    assert "EchoFunction" in error["message"]
    assert "EchoFunction failed" in capsys.readouterr().err  # the traceback went to the console


def test_a_body_over_the_api_gateway_limit_is_a_413(echo: httpx.Client) -> None:
    response = echo.post("/things/t-1", content=b"x" * (MAX_PAYLOAD_BYTES + 1))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_route_added_to_the_template_is_served_without_code_changes(
    tmp_path: Path,
) -> None:
    (tmp_path / "functions" / "echo").mkdir(parents=True)
    (tmp_path / "functions" / "echo" / "handler.py").write_text(ECHO_HANDLER)
    extra = (
        "        Added:\n          Type: Api\n"
        "          Properties: {Path: /brand/new, Method: GET}\n"
    )
    (tmp_path / "template.yaml").write_text(ECHO_TEMPLATE + extra)

    with serve_gateway(tmp_path / "template.yaml") as url:
        response = httpx.get(f"{url}/brand/new", timeout=10)

    assert response.status_code == 200
    assert json.loads(response.text)["event"]["resource"] == "/brand/new"


# --- a function behind the Lambda Web Adapter (an ASGI app that streams) ------------------------

WEB_TEMPLATE = """
Resources:
  TickerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/ticker/
      Handler: run.sh
      Environment:
        Variables: {AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap, AWS_LWA_INVOKE_MODE: response_stream}
      Events:
        Tick:
          Type: Api
          Properties: {Path: "/ticks/{n}", Method: POST, ResponseTransferMode: RESPONSE_STREAM}
"""

TICKER_APP = """
import asyncio
import json
import time


async def app(scope, receive, send):
    body = (await receive())["body"]
    context = json.loads(dict(scope["headers"])[b"x-amzn-request-context"])
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "more_body": True,
                "body": json.dumps({"path": scope["path"], "body": body.decode(),
                                    "request_id": context["requestId"],
                                    "resource": context["resourcePath"]}).encode() + b"\\n"})
    for i in range(int(scope["path"].rsplit("/", 1)[1])):
        await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": f"tick {i}\\n".encode(),
                    "more_body": True})
    await send({"type": "http.response.body", "body": b""})
"""


def test_a_web_adapter_function_answers_from_its_asgi_app_unbuffered(tmp_path: Path) -> None:
    (tmp_path / "functions" / "ticker").mkdir(parents=True)
    (tmp_path / "functions" / "ticker" / "app.py").write_text(TICKER_APP)
    (tmp_path / "template.yaml").write_text(WEB_TEMPLATE)

    arrivals: list[tuple[float, str]] = []
    with (
        serve_gateway(tmp_path / "template.yaml") as url,
        httpx.stream("POST", f"{url}/ticks/3", content=b"hello", timeout=10) as response,
    ):
        for line in response.iter_lines():
            arrivals.append((time.perf_counter(), line))

    assert response.status_code == 201
    first = json.loads(arrivals[0][1])
    assert first["path"] == "/ticks/3" and first["body"] == "hello"
    assert first["resource"] == "/ticks/{n}"
    assert first["request_id"] == response.headers["x-amzn-requestid"]
    assert [line for _, line in arrivals[1:]] == ["tick 0", "tick 1", "tick 2"]
    # Each line left when it was written, not all together at the end.
    assert arrivals[-1][0] - arrivals[0][0] > 0.45
