"""The LLM manager: chat models built from an `LlmSpec`, the offline model, usage, errors.

Importing this package imports no provider SDK; each is imported when its model is built.
"""

from agenthub.llm.errors import translate_provider_error
from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.providers import PROVIDERS, build_chat_model, clear_model_cache
from agenthub.llm.usage import LlmCall, Usage, UsageCollector

__all__ = [
    "PROVIDERS",
    "LlmCall",
    "OfflineChatModel",
    "Usage",
    "UsageCollector",
    "build_chat_model",
    "clear_model_cache",
    "translate_provider_error",
]
