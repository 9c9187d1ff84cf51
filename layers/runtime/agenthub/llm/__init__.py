"""The LLM manager: chat models built from an `LlmSpec`, the offline model, usage, errors.

Importing this package imports no provider SDK; each is imported when its model is built. The
offline model (`llm/offline*.py`) is a local/dev tool left out of the Lambda layer, so it is
imported on first use only.
"""

from typing import TYPE_CHECKING, Any

from agenthub.llm.errors import translate_provider_error
from agenthub.llm.providers import PROVIDERS, ModelCache, ModelOptions, build_chat_model
from agenthub.llm.usage import LlmCall, Usage, UsageCollector

if TYPE_CHECKING:
    from agenthub.llm.offline import OfflineChatModel


def __getattr__(name: str) -> Any:
    if name == "OfflineChatModel":
        from agenthub.llm.offline import OfflineChatModel

        return OfflineChatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PROVIDERS",
    "LlmCall",
    "ModelCache",
    "ModelOptions",
    "OfflineChatModel",
    "Usage",
    "UsageCollector",
    "build_chat_model",
    "translate_provider_error",
]
