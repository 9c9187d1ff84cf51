"""The LLM manager: chat models built from an `LlmSpec`, the offline model, usage, errors.

Importing this package imports no provider SDK; each is imported when its model is built.
"""

from agenthub.llm.errors import translate_provider_error
from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.providers import PROVIDERS, ModelCache, ModelOptions, build_chat_model
from agenthub.llm.usage import LlmCall, Usage, UsageCollector

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
