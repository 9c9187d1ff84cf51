"""Template route parsing and API Gateway-style path matching for the local gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from agenthub.local.template_routes import (
    ANY_METHOD,
    MethodNotAllowedError,
    RouteNotFoundError,
    RouteTable,
    TemplateError,
    find_template,
    function_in_dir,
    functions_from_template,
    load_template,
    parse_path,
    parse_template,
    routes_from_template,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

INLINE = """
Globals:
  Function:
    Timeout: 12
    MemorySize: 256
    Handler: handler.handler
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
  ItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/items/
      Layers: [!Ref Layer]
      Environment:
        Variables:
          NAME: !Sub "items-${Stage}"
          ARN: !GetAtt Queue.Arn
      Events:
        List:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /items, Method: get}
        One:
          Type: Api
          Properties: {Path: "/items/{item_id}", Method: GET}
        Delete:
          Type: Api
          Properties: {Path: "/items/{item_id}", Method: DELETE}
        Special:
          Type: Api
          Properties: {Path: /items/special, Method: GET}
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn}
  CatchAllFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/catch_all
      Handler: app.main.entry
      Timeout: 90
      Events:
        Everything:
          Type: Api
          Properties: {Path: "/items/{item_id}/{proxy+}", Method: ANY}
  Queue:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def table(tmp_path: Path) -> RouteTable:
    return routes_from_template(parse_template(INLINE), tmp_path)


# --- parsing ------------------------------------------------------------------------------------


def test_intrinsic_tags_load_as_their_long_form() -> None:
    template = parse_template(INLINE)

    props = template["Resources"]["ItemsFunction"]["Properties"]
    assert props["Layers"] == [{"Ref": "Layer"}]
    assert props["Environment"]["Variables"]["NAME"] == {"Fn::Sub": "items-${Stage}"}
    assert props["Environment"]["Variables"]["ARN"] == {"Fn::GetAtt": ["Queue", "Arn"]}


def test_functions_take_globals_unless_they_say_otherwise(tmp_path: Path) -> None:
    functions = functions_from_template(parse_template(INLINE), tmp_path)

    items, catch_all = functions["ItemsFunction"], functions["CatchAllFunction"]
    assert (items.timeout_s, items.memory_mb, items.handler) == (12, 256, "handler.handler")
    assert items.code_dir == tmp_path / "functions" / "items"
    assert items.module_file == tmp_path / "functions" / "items" / "handler.py"
    assert catch_all.timeout_s == 90
    assert catch_all.module_file == tmp_path / "functions" / "catch_all" / "app" / "main.py"
    assert catch_all.handler_name == "entry"


def test_only_api_events_become_routes_and_methods_are_upper_case(table: RouteTable) -> None:
    assert sorted((r.method, r.path) for r in table.routes) == [
        ("ANY", "/items/{item_id}/{proxy+}"),
        ("DELETE", "/items/{item_id}"),
        ("GET", "/items"),
        ("GET", "/items/special"),
        ("GET", "/items/{item_id}"),
    ]


def test_the_repository_template_routes_every_api_event_to_its_real_handler() -> None:
    path = REPO_ROOT / "template.yaml"
    template = load_template(path)
    table = routes_from_template(template, path.parent)

    chat = table.resolve("POST", "/api/acme/chat")
    assert chat.route.function.logical_id == "ChatFunction"
    assert chat.route.function.module_file == REPO_ROOT / "functions" / "chat" / "handler.py"
    assert chat.route.function.module_file.is_file()
    assert chat.path_parameters == {"tenant_id": "acme"}
    declared = template["Resources"]["ChatFunction"]["Properties"].get(
        "Timeout", template["Globals"]["Function"]["Timeout"]
    )
    assert chat.route.function.timeout_s == declared
    session = table.resolve("GET", "/api/acme/session/0b6f")
    assert session.route.function.logical_id == "SessionsFunction"
    assert session.path_parameters == {"tenant_id": "acme", "session_id": "0b6f"}
    stream = table.resolve("POST", "/api/acme/chat/stream").route.function
    assert (stream.logical_id, stream.web_adapter) == ("ChatStreamFunction", True)
    assert stream.module_file == REPO_ROOT / "functions" / "chat_stream" / "app.py"
    assert stream.handler_name == "app"
    assert not chat.route.function.web_adapter
    admin = table.resolve("PATCH", "/api/admin/agents/42")
    assert admin.route.function.logical_id == "AdminFunction"
    assert admin.route.method == ANY_METHOD


def test_the_repository_template_names_the_reload_and_retention_functions() -> None:
    path = REPO_ROOT / "template.yaml"
    functions = functions_from_template(load_template(path), path.parent)

    reload_fn = function_in_dir(functions, "config_reload")
    retention = function_in_dir(functions, "retention")
    assert reload_fn is not None and reload_fn.module_file.is_file()
    assert retention is not None and retention.module_file.is_file()
    assert function_in_dir(functions, "no_such_function") is None


def test_find_template_walks_up_from_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)

    assert find_template(nested) == tmp_path / "template.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "no top-level mapping"),
        ("Resources: {a: [unclosed\n", "not valid YAML"),
        (
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
            "    Properties: {CodeUri: {Bucket: b, Key: k}, Handler: handler.handler}\n",
            "CodeUri must be a local path",
        ),
        (
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
            "    Properties:\n      CodeUri: f/\n      Handler: handler.handler\n"
            "      Events: {E: {Type: Api, Properties: {Path: /x, Method: FETCH}}}\n",
            "needs a Path and a Method",
        ),
    ],
)
def test_templates_that_cannot_be_served_say_why(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=message):
        routes_from_template(parse_template(text), tmp_path)


@pytest.mark.parametrize(
    "path", ["api/no-leading-slash", "/api/{proxy+}/more", "/api/{bad", "/api/x{id}"]
)
def test_malformed_route_paths_are_refused(path: str) -> None:
    with pytest.raises(TemplateError):
        parse_path(path)


# --- matching -----------------------------------------------------------------------------------


def test_a_literal_segment_beats_a_parameter(table: RouteTable) -> None:
    match = table.resolve("GET", "/items/special")

    assert match.route.path == "/items/special"
    assert match.path_parameters == {}


def test_a_parameter_segment_captures_its_value(table: RouteTable) -> None:
    match = table.resolve("GET", "/items/42")

    assert match.route.path == "/items/{item_id}"
    assert match.path_parameters == {"item_id": "42"}


def test_a_greedy_segment_captures_the_rest_of_the_path(table: RouteTable) -> None:
    match = table.resolve("POST", "/items/42/parts/7/notes")

    assert match.route.path == "/items/{item_id}/{proxy+}"
    assert match.path_parameters == {"item_id": "42", "proxy": "parts/7/notes"}


def test_a_greedy_segment_needs_at_least_one_segment(table: RouteTable) -> None:
    # /items/42/ is /items/42 (trailing slash), which the GET route serves, not the proxy.
    assert table.resolve("GET", "/items/42/").route.path == "/items/{item_id}"
    with pytest.raises(MethodNotAllowedError):
        table.resolve("POST", "/items/42")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_any_accepts_every_method(table: RouteTable, method: str) -> None:
    assert table.resolve(method, "/items/1/x").route.method == ANY_METHOD


def test_an_exact_method_beats_any_on_the_same_resource(tmp_path: Path) -> None:
    template = parse_template(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: f/\n      Handler: handler.handler\n"
        "      Events:\n"
        "        Any: {Type: Api, Properties: {Path: '/x/{proxy+}', Method: ANY}}\n"
        "        Get: {Type: Api, Properties: {Path: '/x/{proxy+}', Method: GET}}\n"
    )
    table = routes_from_template(template, tmp_path)

    assert table.resolve("GET", "/x/y").route.event_name == "Get"
    assert table.resolve("POST", "/x/y").route.event_name == "Any"


def test_a_known_resource_without_the_method_is_not_found_like_api_gateway(
    table: RouteTable,
) -> None:
    # API Gateway REST answers MISSING_AUTHENTICATION_TOKEN (404 in template.yaml), not a 405.
    with pytest.raises(RouteNotFoundError) as caught:
        table.resolve("PUT", "/items/42")

    assert isinstance(caught.value, MethodNotAllowedError)
    assert caught.value.allowed == ("DELETE", "GET")


def test_the_most_specific_resource_decides_even_without_the_method(table: RouteTable) -> None:
    # API Gateway does not fall back to a broader resource that would accept the method.
    with pytest.raises(MethodNotAllowedError):
        table.resolve("POST", "/items")


@pytest.mark.parametrize("path", ["/", "/nothing", "/itemsx", "/items//x", "/api/items"])
def test_unknown_paths_are_not_found(table: RouteTable, path: str) -> None:
    with pytest.raises(RouteNotFoundError):
        table.resolve("GET", path)
