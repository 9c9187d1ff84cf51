"""HTTP_GET / HTTP_POST tools: call a business API with the user's JWT or the tenant's secret.

Config (`ToolSpec.config`):
    url                 "https://erp.example/customers/{mst}/debt": {arg} fills a path segment
    query               ["status"] or {"param": "arg"}; GET default: every arg not in the path
    body                POST only, ["arg"] or {"json_key": "arg"}; default: every arg not in
                        the path or query
    headers             static headers (no credentials: use auth_mode)
    timeout_s           whole call, redirects included (default settings.tools.default_timeout_s)
    response_fields     dotted paths kept from the JSON response, e.g. ["customer.name"]
    max_response_bytes  default settings.tools.max_response_bytes
    auth_mode           "user_jwt" | "tenant_secret" | "none" (default)
    secret_header       tenant_secret: send the secret raw in this header, not as Bearer
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import httpx2
from langchain_core.tools import BaseTool
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from agenthub.domain import ToolContext, ToolSpec
from agenthub.errors import (
    ConfigurationError,
    DecryptionError,
    SsrfBlockedError,
    ValidationFailedError,
)
from agenthub.observability import redact
from agenthub.tools.base import CallResult, ToolFailure, compact_json, runtime_tool
from agenthub.tools.redaction import Redactor
from agenthub.tools.schema import PROPERTY_NAME, json_schema_to_model
from agenthub.tools.ssrf import parse_target

HttpClientFactory = Callable[[], httpx2.Client]
# A stored (Fernet) token -> the secret, in memory only.
Decrypt = Callable[[str], SecretStr]

METHOD_BY_TYPE = {"HTTP_GET": "GET", "HTTP_POST": "POST"}
MAX_REDIRECTS = 3
MAX_TIMEOUT_S = 60.0
MAX_RESPONSE_BYTES_LIMIT = 5_000_000
MAX_DETAIL_CHARS = 2_000
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
# Credentials belong in auth_mode, framing headers to httpx2.
# Names that carry credentials, which belong in an encrypted tenant secret, not in the config.
_CREDENTIAL_NAME = re.compile(
    r"(api[-_]?key|token|secret|password|passwd|credential|signature|^key$|auth)", re.IGNORECASE
)
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "accept-encoding",
    }
)
_REDIRECT_TO_GET = frozenset({301, 302, 303})


class HttpToolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1, max_length=2048)
    query: list[str] | dict[str, str] | None = None
    body: list[str] | dict[str, str] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_S)
    response_fields: list[str] | None = None
    max_response_bytes: int | None = Field(default=None, ge=1, le=MAX_RESPONSE_BYTES_LIMIT)
    auth_mode: Literal["user_jwt", "tenant_secret", "none"] = "none"
    secret_header: str | None = None

    @field_validator("url")
    @classmethod
    def _url_template(cls, url: str) -> str:
        parts = urlsplit(url)
        if any("{" in p or "}" in p for p in (parts.scheme, parts.netloc, parts.query)):
            raise ValueError("placeholders are only allowed in the path (use `query` for query)")
        if parts.fragment:
            raise ValueError("a fragment is not allowed")
        for param, _ in parse_qsl(parts.query, keep_blank_values=True):
            if _CREDENTIAL_NAME.search(param):
                raise ValueError(
                    f"the query parameter {param!r} looks like a credential: use auth_mode "
                    "tenant_secret instead"
                )
        leftover = _PLACEHOLDER.sub("", parts.path)
        if "{" in leftover or "}" in leftover:
            raise ValueError("unbalanced braces in the path")
        for name in _PLACEHOLDER.findall(parts.path):
            if not PROPERTY_NAME.fullmatch(name):
                raise ValueError(f"{{{name}}} is not a valid argument name")
        try:
            parse_target(_PLACEHOLDER.sub("0", url))
        except SsrfBlockedError as exc:
            raise ValueError(exc.message) from None
        return url

    @field_validator("headers")
    @classmethod
    def _static_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"the {name} header cannot be set here (credentials: auth_mode)")
            if _CREDENTIAL_NAME.search(name):
                # Tool configs are readable by every admin: a credential here would leak to them.
                raise ValueError(
                    f"the {name} header looks like a credential: use auth_mode tenant_secret "
                    "with secret_header instead"
                )
            if any(c in value for c in "\r\n\0"):
                raise ValueError(f"the {name} header value has a line break")
        return headers

    @field_validator("response_fields")
    @classmethod
    def _dotted_paths(cls, paths: list[str] | None) -> list[str] | None:
        for path in paths or []:
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"{path!r} is not a dotted path such as 'customer.name'")
        return paths

    @model_validator(mode="after")
    def _secret_header(self) -> HttpToolConfig:
        if self.secret_header is None:
            return self
        if self.auth_mode != "tenant_secret":
            raise ValueError("secret_header is only used with auth_mode tenant_secret")
        if not _HEADER_NAME.fullmatch(self.secret_header):
            raise ValueError(f"{self.secret_header!r} is not a valid header name")
        if self.secret_header.lower() in _RESERVED_HEADERS - {"authorization"}:
            raise ValueError(f"the secret cannot be sent in the {self.secret_header} header")
        return self

    @property
    def example_url(self) -> str:
        """The URL with every placeholder filled: what the SSRF check looks at."""
        return _PLACEHOLDER.sub("0", self.url)

    @property
    def path_params(self) -> list[str]:
        return list(dict.fromkeys(_PLACEHOLDER.findall(urlsplit(self.url).path)))

    def query_map(self, method: str) -> dict[str, str] | None:
        """param -> arg; None on GET means "every arg not in the path"."""
        if self.query is None:
            return None if method == "GET" else {}
        return _as_mapping(self.query)

    def body_map(self) -> dict[str, str] | None:
        """json key -> arg; None means "every arg not in the path or query"."""
        return None if self.body is None else _as_mapping(self.body)


def parse_http_config(
    tool_type: str, config: Any, *, input_schema: dict[str, Any] | None = None
) -> HttpToolConfig:
    """The typed config of an HTTP tool, or ValidationFailedError naming each bad field.

    With `input_schema`, also checks that every argument the URL, query and body use exists.
    No DNS here: the SSRF check of the host is `ssrf.check_url` (save) and the transport (call).
    """
    try:
        parsed = HttpToolConfig.model_validate(config)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(("config", *map(str, error["loc"]))),
                "message": error["msg"].removeprefix("Value error, "),
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailedError(
            f"invalid {tool_type} config: {problems[0]['field']}: {problems[0]['message']}",
            details=problems,
        ) from None
    problems = []
    if tool_type == "HTTP_GET" and parsed.body is not None:
        problems.append({"field": "config.body", "message": "an HTTP_GET tool sends no body"})
    if input_schema is not None:
        problems += _argument_problems(parsed, METHOD_BY_TYPE[tool_type], input_schema)
    if problems:
        raise ValidationFailedError(
            f"invalid {tool_type} config: {problems[0]['field']}: {problems[0]['message']}",
            details=problems,
        )
    return parsed


def build_http_tool(
    spec: ToolSpec,
    *,
    http_client_factory: HttpClientFactory,
    decrypt: Decrypt,
    default_timeout_s: float,
    max_response_bytes: int,
) -> BaseTool:
    """The StructuredTool for an HTTP_GET / HTTP_POST spec (ValidationFailedError if unusable).

    `default_timeout_s` / `max_response_bytes` apply when the tool's config sets none.
    """
    config = parse_http_config(spec.type, spec.config, input_schema=spec.input_schema)
    if config.auth_mode == "tenant_secret" and not spec.encrypted_secret:
        raise ValidationFailedError(
            f"tool {spec.name!r} uses auth_mode tenant_secret but has no stored secret",
            details=[{"field": "secret", "message": "required by auth_mode tenant_secret"}],
        )
    call = HttpCall(
        spec=spec,
        method=METHOD_BY_TYPE[spec.type],
        config=config,
        client_factory=http_client_factory,
        decrypt=decrypt,
        timeout_s=config.timeout_s or default_timeout_s,
        max_bytes=config.max_response_bytes or max_response_bytes,
    )
    return runtime_tool(
        tool_id=str(spec.id),
        name=spec.name,
        description=spec.description,
        args_model=json_schema_to_model(spec.name, spec.input_schema),
        execute=call,
    )


@dataclass(frozen=True)
class _Reply:
    status: int
    content: bytes


@dataclass(frozen=True)
class HttpCall:
    """One configured HTTP tool: arguments + caller -> request(s) -> selected JSON."""

    spec: ToolSpec
    method: str
    config: HttpToolConfig
    client_factory: HttpClientFactory
    decrypt: Decrypt
    timeout_s: float
    max_bytes: int

    def __call__(self, args: dict[str, Any], context: ToolContext) -> CallResult:
        secret = self.tenant_secret() if self.config.auth_mode == "tenant_secret" else None
        redactor = Redactor([secret, context.user_jwt.get_secret_value()])
        try:
            result = self.call(args, context, secret)
        except ToolFailure as failure:
            if not redactor:
                raise
            # Whatever the upstream echoed back, its own credentials never leave the tool.
            raise ToolFailure(
                failure.error_type,
                redactor.text(failure.message),
                status=failure.status,
                detail=redactor.value(failure.detail),
            ) from None
        return CallResult(content=redactor.text(result.content), http_status=result.http_status)

    def call(self, args: dict[str, Any], context: ToolContext, secret: str | None) -> CallResult:
        url = self.url_for(args)
        body = self.body_for(args) if self.method == "POST" else None
        reply = self.fetch(url, self.headers_for(context, secret), body)
        if not 200 <= reply.status < 300:
            raise ToolFailure(
                "http_status",
                f"the service answered HTTP {reply.status}",
                status=reply.status,
                detail=_upstream_detail(reply.content),
            )
        try:
            data = json.loads(reply.content) if reply.content.strip() else None
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise ToolFailure(
                "invalid_json", "the service did not answer with JSON", status=reply.status
            ) from None
        if self.config.response_fields:
            data = select_fields(data, self.config.response_fields)
        return CallResult(content=compact_json(data), http_status=reply.status)

    def url_for(self, args: dict[str, Any]) -> httpx2.URL:
        def path_segment(match: re.Match[str]) -> str:
            value = args.get(match[1])
            text = "" if value is None else _as_text(value)
            if text in ("", ".", ".."):
                raise ToolFailure(
                    "bad_arguments", f"{match[1]!r} cannot be empty, '.' or '..' in the URL path"
                )
            return quote(text, safe="")  # a value never adds path segments

        url = httpx2.URL(_PLACEHOLDER.sub(path_segment, self.config.url))
        params = self.query_for(args)
        return url.copy_merge_params(tuple(params)) if params else url

    def query_for(self, args: dict[str, Any]) -> list[tuple[str, str]]:
        mapping = self.config.query_map(self.method)
        if mapping is None:
            path = set(self.config.path_params)
            mapping = {name: name for name in args if name not in path}
        params: list[tuple[str, str]] = []
        for param, arg in mapping.items():
            value = args.get(arg)
            values = value if isinstance(value, list) else [value]
            params += [(param, _as_text(v)) for v in values if v is not None]
        return params

    def body_for(self, args: dict[str, Any]) -> dict[str, Any]:
        mapping = self.config.body_map()
        if mapping is None:
            query = self.config.query_map("POST") or {}
            used = set(self.config.path_params) | set(query.values())
            return {name: value for name, value in args.items() if name not in used}
        return {key: args[arg] for key, arg in mapping.items() if arg in args}

    def headers_for(self, context: ToolContext, secret: str | None = None) -> httpx2.Headers:
        headers = httpx2.Headers(
            {
                "Accept": "application/json",
                # Uncompressed, so max_response_bytes bounds what is held in memory.
                "Accept-Encoding": "identity",
                "User-Agent": "agenthub-tools",
            }
        )
        headers.update(self.config.headers)
        if context.request_id:
            headers["X-Request-Id"] = context.request_id
        if self.config.auth_mode == "user_jwt":
            headers["Authorization"] = f"Bearer {context.user_jwt.get_secret_value()}"
        elif self.config.auth_mode == "tenant_secret":
            secret = secret if secret is not None else self.tenant_secret()
            if self.config.secret_header:
                headers[self.config.secret_header] = secret
            else:
                headers["Authorization"] = f"Bearer {secret}"
        return headers

    def tenant_secret(self) -> str:
        """Decrypted only now, for this call; never stored or logged."""
        try:
            return self.decrypt(self.spec.encrypted_secret or "").get_secret_value()
        except (DecryptionError, ConfigurationError) as exc:
            raise ToolFailure(
                "configuration", "the tool's stored credential cannot be used"
            ) from exc

    def fetch(self, url: httpx2.URL, headers: httpx2.Headers, body: Any) -> _Reply:
        """Send, following up to MAX_REDIRECTS redirects by hand, each hop SSRF-checked."""
        deadline = time.monotonic() + self.timeout_s
        origin = _origin(url)
        method = self.method
        client = self.client_factory()
        for hop in range(MAX_REDIRECTS + 1):
            try:
                parse_target(str(url))  # the transport checks the addresses when it connects
                request = client.build_request(
                    method, url, headers=headers, json=body, timeout=_remaining(deadline)
                )
                response = client.send(request, stream=True)
                try:
                    if not response.is_redirect:
                        return _Reply(response.status_code, self.read(response, deadline))
                    if hop == MAX_REDIRECTS:
                        raise ToolFailure(
                            "http_status",
                            f"the service redirected more than {MAX_REDIRECTS} times",
                            status=response.status_code,
                        )
                    url = response.url.join(response.headers["Location"])
                    if response.status_code in _REDIRECT_TO_GET and method == "POST":
                        method, body = "GET", None
                finally:
                    response.close()
            except SsrfBlockedError as exc:
                raise ToolFailure("ssrf_blocked", exc.message) from None
            except httpx2.TimeoutException:
                raise ToolFailure(
                    "timeout", f"the service did not answer within {self.timeout_s:g} s"
                ) from None
            except (httpx2.RequestError, httpx2.InvalidURL) as exc:
                raise ToolFailure(
                    "network", f"the service could not be reached ({type(exc).__name__})"
                ) from None
            if _origin(url) != origin:
                # Never hand the user's JWT or the tenant's secret to another origin.
                for name in ("Authorization", self.config.secret_header or "Authorization"):
                    headers.pop(name, None)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def read(self, response: httpx2.Response, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self.oversize(response.status_code)
        # Raw bytes, decompressed here with a bound: httpx2 would inflate a whole compressed chunk
        # (a small "zip bomb" can become gigabytes) before the size check could run.
        inflate = _inflater(response)
        content = bytearray()
        for chunk in _raw_chunks(response):
            data = chunk
            if inflate is not None:
                data = inflate.decompress(chunk, self.max_bytes + 1 - len(content))
                if inflate.unconsumed_tail:
                    raise self.oversize(response.status_code)
            content += data
            if len(content) > self.max_bytes:
                raise self.oversize(response.status_code)
            if time.monotonic() > deadline:
                raise httpx2.ReadTimeout("the whole call took too long")
        return bytes(content)

    def oversize(self, status: int) -> ToolFailure:
        return ToolFailure(
            "oversize",
            f"the response is larger than the {self.max_bytes} bytes allowed",
            status=status,
        )


def _raw_chunks(response: httpx2.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_raw()
    except httpx2.StreamConsumed:
        # A response built in memory (a mock transport) has no stream: its bytes are all here.
        yield response.content


def _inflater(response: httpx2.Response) -> Any:
    """A bounded decompressor for the response's Content-Encoding (None: not compressed)."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise ToolFailure(
        "invalid_json", f"the service answered in an encoding it was not asked for ({encoding})"
    )


def select_fields(data: Any, paths: Sequence[str]) -> Any:
    """Keep only `paths` (dotted, digits index lists) of a JSON object; a list: of each item."""
    if isinstance(data, list):
        return [select_fields(item, paths) for item in data]
    if not isinstance(data, dict):
        return data
    selected: dict[str, Any] = {}
    for path in paths:
        parts = path.split(".")
        found, value = _lookup(data, parts)
        if found:
            _put(selected, parts, value)
    return selected


def _lookup(value: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _put(target: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    for part in parts[:-1]:
        node = target.setdefault(part, {})
        if not isinstance(node, dict):
            return  # a shorter path already selected the whole value
        target = node
    target[parts[-1]] = value


def _upstream_detail(content: bytes) -> Any:
    """The upstream error's JSON `detail`, bounded and with anything token-like redacted."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict) or "detail" not in data:
        return None
    detail = redact(data["detail"])
    text = compact_json(detail)
    return detail if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 3] + "..."


def _argument_problems(
    config: HttpToolConfig, method: str, input_schema: dict[str, Any]
) -> list[dict[str, str]]:
    properties = input_schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = set(input_schema.get("required") or [])
    problems = []
    for name in config.path_params:
        prop = properties.get(name)
        if not isinstance(prop, dict):
            problems.append(
                {"field": "config.url", "message": f"{{{name}}} is not in the input schema"}
            )
        elif name not in required:
            problems.append(
                {"field": "config.url", "message": f"{{{name}}} must be a required argument"}
            )
        elif prop.get("type") not in ("string", "integer", "number", "boolean"):
            problems.append(
                {"field": "config.url", "message": f"{{{name}}} must be a string or a number"}
            )
    for param, arg in (config.query_map(method) or {}).items():
        prop = properties.get(arg)
        if not isinstance(prop, dict):
            problems.append({"field": f"config.query.{param}", "message": f"no argument {arg!r}"})
        elif prop.get("type") == "object":
            problems.append(
                {"field": f"config.query.{param}", "message": "an object cannot be a query value"}
            )
    for key, arg in (config.body_map() or {}).items():
        if arg not in properties:
            problems.append({"field": f"config.body.{key}", "message": f"no argument {arg!r}"})
    return problems


def _as_mapping(names: list[str] | dict[str, str]) -> dict[str, str]:
    return {name: name for name in names} if isinstance(names, list) else dict(names)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return compact_json(value)  # true/false, numbers as JSON writes them


def _origin(url: httpx2.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _remaining(deadline: float) -> httpx2.Timeout:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx2.TimeoutException("no time left for the next hop")
    return httpx2.Timeout(remaining)
