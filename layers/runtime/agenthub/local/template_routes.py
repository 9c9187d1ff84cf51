"""The functions and API routes declared in a SAM template, for the local gateway.

Routes come only from the template (`Api` events of `AWS::Serverless::Function` resources), so a
route added there is served locally without any other change. Matching follows API Gateway REST:
the most specific resource wins (literal segment over `{param}` over `{proxy+}`), then the exact
method over `ANY`; a resource without the method is not found (API Gateway answers
MISSING_AUTHENTICATION_TOKEN, which template.yaml maps to 404), not a fall-back to a broader
resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import yaml

from agenthub.errors import ConfigurationError

FUNCTION_TYPE = "AWS::Serverless::Function"
ANY_METHOD = "ANY"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Lambda's defaults when neither the function nor Globals say otherwise.
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128

# A function run by the AWS Lambda Web Adapter (this exec wrapper, Handler a start script) serves
# an ASGI app over HTTP; locally the gateway calls that app, `app` in the function's app.py.
WEB_ADAPTER_WRAPPER = "/opt/bootstrap"
WEB_APP_FILE = "app.py"
WEB_APP_NAME = "app"

_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


class TemplateError(ConfigurationError):
    """The template cannot be served locally (unreadable, or a route or function is invalid)."""


class TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """A safe YAML loader that also reads CloudFormation's short intrinsic tags (!Ref, !Sub...).

    They become the long form (`{"Ref": x}`, `{"Fn::Sub": x}`); nothing is evaluated.
    """


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read the SAM template {path}: {exc.strerror}") from None
    return parse_template(text, source=str(path))


def parse_template(text: str, *, source: str = "template") -> dict[str, Any]:
    try:
        template = yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(template, dict):
        raise TemplateError(f"{source} is not a SAM template (no top-level mapping)")
    return template


def find_template(start: Path | None = None) -> Path:
    """`template.yaml` in `start` (default: the working directory) or the nearest parent."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "template.yaml"
        if candidate.is_file():
            return candidate
    raise TemplateError(
        f"no template.yaml in {here} or its parents: run from the repository or pass --template"
    )


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as the template declares it."""

    logical_id: str
    code_dir: Path
    handler: str
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    web_adapter: bool = False  # an ASGI app behind the Lambda Web Adapter (streams its answer)

    @property
    def module_file(self) -> Path:
        """`handler.handler` -> <code_dir>/handler.py; `pkg.mod.fn` -> <code_dir>/pkg/mod.py;
        a web adapter function -> <code_dir>/app.py."""
        if self.web_adapter:
            return self.code_dir / WEB_APP_FILE
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir.joinpath(*module.split(".")).with_suffix(".py")

    @property
    def handler_name(self) -> str:
        """The handler function, or a web adapter function's ASGI app."""
        return WEB_APP_NAME if self.web_adapter else self.handler.rpartition(".")[2]


class SegmentKind(IntEnum):
    # Ordered by specificity: a lower kind wins when two resources match the same path.
    LITERAL = 0
    PARAM = 1
    GREEDY = 2


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    value: str  # the literal text, or the parameter name


def parse_path(path: str) -> tuple[Segment, ...]:
    """A template path (`/api/{tenant_id}/chat`, `/api/admin/{proxy+}`) as segments."""
    if not path.startswith("/"):
        raise TemplateError(f"route path {path!r} must start with '/'")
    parts = [part for part in path.strip("/").split("/") if part] if path != "/" else []
    segments = []
    for index, part in enumerate(parts):
        param = _PARAM.match(part)
        if param is None:
            if "{" in part or "}" in part:
                raise TemplateError(f"route path {path!r}: bad parameter segment {part!r}")
            segments.append(Segment(SegmentKind.LITERAL, part))
        elif param.group(2):
            if index != len(parts) - 1:
                raise TemplateError(f"route path {path!r}: a {{name+}} segment must come last")
            segments.append(Segment(SegmentKind.GREEDY, param.group(1)))
        else:
            segments.append(Segment(SegmentKind.PARAM, param.group(1)))
    return tuple(segments)


def split_request_path(path: str) -> list[str]:
    # A trailing slash names the same resource (API Gateway ignores it as well).
    return [part for part in path.strip("/").split("/")] if path.strip("/") else []


@dataclass(frozen=True)
class Route:
    """One `Api` event: a method on a resource path, served by a function."""

    method: str
    path: str
    function: FunctionSpec
    event_name: str = ""
    segments: tuple[Segment, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.segments:
            object.__setattr__(self, "segments", parse_path(self.path))

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(int(segment.kind) for segment in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters when the request path (split) names this resource, else None."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind is SegmentKind.GREEDY:
                rest = parts[index:]
                if not rest or not any(rest):
                    return None
                params[segment.value] = "/".join(rest)
                return params
            if index >= len(parts) or not parts[index]:
                return None
            if segment.kind is SegmentKind.LITERAL:
                if parts[index] != segment.value:
                    return None
            else:
                params[segment.value] = parts[index]
        return params if len(parts) == len(self.segments) else None

    def accepts(self, method: str) -> bool:
        return self.method == ANY_METHOD or self.method == method.upper()


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteNotFoundError(LookupError):
    """No resource of the template matches the path (a 404)."""


class MethodNotAllowedError(RouteNotFoundError):
    """The resource exists but has no route for the method: API Gateway REST answers it like an
    unknown path (MISSING_AUTHENTICATION_TOKEN, a 404 in template.yaml), never with a 405."""

    def __init__(self, method: str, path: str, allowed: Iterable[str]) -> None:
        self.allowed = tuple(sorted(set(allowed)))
        super().__init__(f"{method} is not allowed on {path} (allowed: {', '.join(self.allowed)})")


class RouteTable:
    """The template's routes, resolved like API Gateway REST resolves them."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)

    def __len__(self) -> int:
        return len(self.routes)

    def resolve(self, method: str, path: str) -> RouteMatch:
        parts = split_request_path(path)
        candidates = [
            (route, params) for route in self.routes if (params := route.match(parts)) is not None
        ]
        if not candidates:
            raise RouteNotFoundError(f"no route for {path}")
        best = min(route.specificity for route, _ in candidates)
        on_resource = [(route, params) for route, params in candidates if route.specificity == best]
        exact = [c for c in on_resource if c[0].method == method.upper()]
        chosen = exact or [c for c in on_resource if c[0].method == ANY_METHOD]
        if not chosen:
            raise MethodNotAllowedError(method, path, (route.method for route, _ in on_resource))
        route, params = chosen[0]
        return RouteMatch(route=route, path_parameters=params)


def _globals(template: Mapping[str, Any]) -> Mapping[str, Any]:
    section = (template.get("Globals") or {}).get("Function") or {}
    return section if isinstance(section, Mapping) else {}


def _function_resources(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    resources = template.get("Resources") or {}
    if not isinstance(resources, Mapping):
        raise TemplateError("the template's Resources is not a mapping")
    return {
        name: resource
        for name, resource in resources.items()
        if isinstance(resource, Mapping) and resource.get("Type") == FUNCTION_TYPE
    }


def functions_from_template(template: Mapping[str, Any], base_dir: Path) -> dict[str, FunctionSpec]:
    """Every function with local code (`CodeUri` a path relative to the template)."""
    defaults = _globals(template)
    functions = {}
    for logical_id, resource in _function_resources(template).items():
        props = resource.get("Properties") or {}
        code_uri = props.get("CodeUri", defaults.get("CodeUri"))
        handler = props.get("Handler", defaults.get("Handler"))
        web_adapter = _environment(defaults, props).get("AWS_LAMBDA_EXEC_WRAPPER") == (
            WEB_ADAPTER_WRAPPER
        )
        if (
            not isinstance(code_uri, str)
            or not isinstance(handler, str)
            or ("." not in handler and not web_adapter)
        ):
            raise TemplateError(
                f"function {logical_id}: CodeUri must be a local path and Handler "
                "'module.function' to run it locally"
            )
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=(base_dir / code_uri).resolve(),
            handler=handler,
            timeout_s=int(props.get("Timeout", defaults.get("Timeout", DEFAULT_TIMEOUT_S))),
            memory_mb=int(props.get("MemorySize", defaults.get("MemorySize", DEFAULT_MEMORY_MB))),
            web_adapter=web_adapter,
        )
    return functions


def _environment(defaults: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """The function's environment variables over those of Globals."""
    merged: dict[str, Any] = {}
    for source in (defaults, props):
        variables = (source.get("Environment") or {}).get("Variables") or {}
        if isinstance(variables, Mapping):
            merged.update(variables)
    return merged


def routes_from_template(template: Mapping[str, Any], base_dir: Path) -> RouteTable:
    """The `Api` events of the template's functions."""
    functions = functions_from_template(template, base_dir)
    routes = []
    for logical_id, resource in _function_resources(template).items():
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_name, event in events.items():
            if not isinstance(event, Mapping) or event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            path, method = props.get("Path"), str(props.get("Method", "")).upper()
            if not isinstance(path, str) or method not in HTTP_METHODS | {ANY_METHOD}:
                raise TemplateError(
                    f"{logical_id}.{event_name}: an Api event needs a Path and a Method "
                    f"(got {path!r}, {method!r})"
                )
            routes.append(
                Route(
                    method=method,
                    path=path,
                    function=functions[logical_id],
                    event_name=event_name,
                )
            )
    return RouteTable(routes)


def function_in_dir(functions: Mapping[str, FunctionSpec], directory: str) -> FunctionSpec | None:
    """The function whose code lives in a folder of that name (`config_reload`, `retention`)."""
    return next((f for f in functions.values() if f.code_dir.name == directory), None)
