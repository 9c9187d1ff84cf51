"""The openai SDK's chat completions resource, posting the body langchain-openai built as it is.

The SDK's `create` runs every request through `maybe_transform`, which walks the messages and
the tools' JSON schemas against its TypedDict annotations to apply key aliases and value
formats. No chat completion parameter type declares either (a test checks the installed SDK:
tests/integration/test_openai_completions.py), so for the plain JSON langchain-openai sends, the
walk only drops the omitted arguments. With our prompts and tools it cost 1.85 ms of CPU a call,
three calls a turn (bench/chat_turn.py). These resources post the same body through the same
client (auth, retries, timeouts, errors and response parsing stay the SDK's), and hand anything
that is not plain JSON to the SDK's own `create`.
"""

from __future__ import annotations

from typing import Any, cast

from openai import AsyncOpenAI, AsyncStream, OpenAI, Stream
from openai._base_client import make_request_options
from openai._types import NotGiven, Omit
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.types.chat import ChatCompletion, ChatCompletionChunk

PATH = "/chat/completions"
# Keyword arguments of `create` that configure the request rather than fill its body.
_REQUEST_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
_SCALARS = frozenset({str, int, float, bool, type(None)})


class PlainJsonCompletions(Completions):
    def create(self, **params: Any) -> Any:
        post = _plain_post(params, Stream[ChatCompletionChunk])
        return super().create(**params) if post is None else self._post(PATH, **post)


class AsyncPlainJsonCompletions(AsyncCompletions):
    async def create(self, **params: Any) -> Any:
        post = _plain_post(params, AsyncStream[ChatCompletionChunk])
        if post is None:
            return await super().create(**params)
        return await self._post(PATH, **post)


def plain_json_completions(
    sync: OpenAI | None, async_: AsyncOpenAI | None
) -> tuple[PlainJsonCompletions | None, AsyncPlainJsonCompletions | None]:
    """The resources for a langchain `ChatOpenAI`'s `client` and `async_client`."""
    return (
        PlainJsonCompletions(sync) if sync is not None else None,
        AsyncPlainJsonCompletions(async_) if async_ is not None else None,
    )


def _plain_post(params: dict[str, Any], stream_cls: type[Any]) -> dict[str, Any] | None:
    """The `_post` arguments the SDK's `create` would pass, with the body as it came, or None
    when a value is not plain JSON (a model object, a tuple, a generator: the SDK converts
    those)."""
    body = {
        key: value
        for key, value in params.items()
        if key not in _REQUEST_OPTIONS and not isinstance(value, NotGiven | Omit)
    }
    if "model" not in body or "messages" not in body or not _is_plain_json(body):
        return None  # the SDK's `create` says what is wrong, or converts it
    options = make_request_options(
        **{key: params[key] for key in _REQUEST_OPTIONS if key in params},
        security={"bearer_auth": True},
    )
    return {
        "body": body,
        "options": options,
        "cast_to": ChatCompletion,
        "stream": bool(body.get("stream")),
        "stream_cls": stream_cls,
    }


def _is_plain_json(value: object) -> bool:
    # Exact types (a str subclass goes to the SDK): a third of isinstance's cost per node.
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        for key, item in cast("dict[object, object]", value).items():
            if type(key) is not str or not _is_plain_json(item):
                return False
        return True
    if kind is list:
        return all(_is_plain_json(item) for item in cast("list[object]", value))
    return False
