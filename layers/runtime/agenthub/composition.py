"""The composition root: every client is built here, lazily, once per process (warm container).

Nothing is created at import time or in a FastAPI lifespan (Mangum runs it per invocation).
`reset()` forgets everything, for tests and for the local stack after it changes settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import SecretStr

from agenthub.errors import ConfigurationError
from agenthub.settings import get_settings, reset_settings

if TYPE_CHECKING:
    import ssl
    from contextlib import AbstractContextManager

    import httpx2
    import redis
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool
    from psycopg_pool import ConnectionPool
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from agenthub.agents.runtime import GraphCache
    from agenthub.auth.jwt import JwtVerifier
    from agenthub.cache.redis_cache import RedisConfigCache
    from agenthub.crypto import KeyRing
    from agenthub.db.chat_store import ChatStore
    from agenthub.db.pool import PoolConnection
    from agenthub.db.turn_saver import TurnSaver
    from agenthub.domain import LlmSpec, ToolSpec
    from agenthub.embedded import EmbeddedRedis
    from agenthub.knowledge.chroma import ChromaClient
    from agenthub.knowledge.embeddings import Embedder, EmbeddingModel
    from agenthub.knowledge.ingest import Ingestor
    from agenthub.knowledge.queue import SqsIngestPublisher
    from agenthub.knowledge.search import KnowledgeSearch
    from agenthub.llm.providers import ModelCache
    from agenthub.services.chat import ChatService, HeldCheckpoint
    from agenthub.services.chat_stream import ChatStreamService
    from agenthub.services.config_cache import CachedConfigSource
    from agenthub.services.reload import SqsReloadPublisher
    from agenthub.services.retention import RetentionService
    from agenthub.services.sessions import SessionService, ThreadStore
    from agenthub.services.uploads import UploadService
    from agenthub.storage.objects import ObjectStore
    from agenthub.tools.db_pools import DataSourcePools
    from agenthub.tools.ocr import DocumentDependencies
    from agenthub.tools.registry import ToolDependencies


_T = TypeVar("_T")
_UNBUILT: Any = object()


class component(Generic[_T]):
    """A factory run at most once per process, even when threads race for it (the local
    gateway serves requests in parallel: two pools for one database would leak one)."""

    def __init__(self, factory: Callable[[], _T]) -> None:
        self._factory = factory
        self._value: _T = _UNBUILT
        self._lock = threading.Lock()
        update_wrapper(self, factory)

    def __call__(self) -> _T:
        value = self._value
        if value is not _UNBUILT:
            return value
        with self._lock:
            if self._value is _UNBUILT:
                self._value = self._factory()
            return self._value

    @property
    def built(self) -> bool:
        return self._value is not _UNBUILT

    def cache_clear(self) -> None:
        with self._lock:
            self._value = _UNBUILT


@component
def database_url() -> str:
    """The configured PostgreSQL URL, or the embedded server's in local mode."""
    settings = get_settings()
    if settings.database.url is not None:
        return settings.database.url.get_secret_value()
    if not settings.is_local:
        raise ConfigurationError("DATABASE_URL is required outside local mode")
    from agenthub.embedded import start_postgres

    return start_postgres(settings.state_dir / "postgres")


@component
def _embedded_redis() -> EmbeddedRedis:
    from agenthub.embedded import EmbeddedRedis

    return EmbeddedRedis(data_dir=get_settings().state_dir / "redis")


@component
def redis_url() -> str:
    """The configured Redis URL, or the embedded server's in local mode."""
    settings = get_settings()
    if settings.redis.url is not None:
        return settings.redis.url.get_secret_value()
    if not settings.is_local:
        raise ConfigurationError("REDIS_URL is required outside local mode")
    return _embedded_redis().start()


@component
def get_pool() -> ConnectionPool[PoolConnection]:
    """The container's one PostgreSQL pool: the checkpointer, the chat store and SQLAlchemy
    all draw from it (works behind RDS Proxy without pinning: agenthub.db.pool)."""
    from agenthub.db.pool import build_pool

    settings = get_settings()
    db = settings.database
    return build_pool(
        database_url(),
        max_size=db.pool_size + db.max_overflow,
        timeout_s=db.pool_timeout_s,
        # Deployed, connections go through RDS Proxy, which refuses startup options: the
        # timeout is set on the database role there (docs/deploy.md).
        statement_timeout_ms=db.statement_timeout_ms if settings.is_local else None,
    )


@component
def get_engine() -> Engine:
    """SQLAlchemy (admin, sessions, retention, uploads), on the same pool."""
    from agenthub.db.engine import engine_on_pool

    return engine_on_pool(get_pool(), database_url())


@component
def get_sessionmaker() -> sessionmaker[Session]:
    from agenthub.db.engine import build_sessionmaker

    return build_sessionmaker(get_engine())


@component
def get_redis() -> redis.Redis[bytes]:
    import redis as redis_lib

    cfg = get_settings().redis
    # Short timeouts and no retries: a Redis fault must fall back to PostgreSQL quickly.
    return redis_lib.Redis.from_url(
        redis_url(),
        socket_timeout=cfg.socket_timeout_s,
        socket_connect_timeout=cfg.connect_timeout_s,
        retry_on_timeout=False,
        retry=None,
        health_check_interval=30,
    )


@component
def get_checkpointer() -> TurnSaver:
    from agenthub.db.checkpoints import saver_on_pool

    return saver_on_pool(get_pool())


@component
def get_chat_store() -> ChatStore:
    """The chat turn's session and message writes, in plain SQL on the pool (no SQLAlchemy)."""
    from agenthub.db.chat_store import ChatStore

    return ChatStore(get_pool())


@component
def get_keyring() -> KeyRing:
    from agenthub.crypto import keyring_from_settings

    return keyring_from_settings(get_settings())


@component
def get_jwt_verifier() -> JwtVerifier:
    from agenthub.auth.jwt import JwtVerifier

    return JwtVerifier.from_settings(get_settings())


def reset() -> None:
    """Close and forget every client and the settings (tests, local stack restarts)."""
    if get_engine.built:
        get_engine().dispose()
    if get_pool.built:
        get_pool().close()  # the checkpointer's and the engine's connections too
    if get_redis.built:
        get_redis().close()
    if _embedded_redis.built:
        _embedded_redis().stop()
    for client in (get_guarded_http_client, get_provider_http_client):
        if client.built:
            client().close()
    # The provider's async client is left to be collected: its pool belongs to an event loop
    # that may be gone.
    if get_data_source_pools.built:
        get_data_source_pools().close()
    if get_chroma_client.built:
        get_chroma_client().close()
    for value in list(globals().values()):
        if isinstance(value, component):
            value.cache_clear()
    reset_settings()


@component
def get_config_cache() -> RedisConfigCache:
    from agenthub.cache.redis_cache import RedisConfigCache

    settings = get_settings()
    return RedisConfigCache(
        get_redis, ttl_s=settings.cache.ttl_s, backoff_s=settings.redis.failure_backoff_s
    )


@component
def get_config_source() -> CachedConfigSource:
    from agenthub.db.tenant_config import TenantConfigReader
    from agenthub.services.config_cache import CachedConfigSource

    settings = get_settings()
    return CachedConfigSource(
        # Plain SQL on the pool: not even a miss imports SQLAlchemy.
        store=TenantConfigReader(get_pool()),
        redis=get_config_cache(),
        ttl_s=settings.cache.ttl_s,
        max_tenants=settings.cache.l1_max_tenants,
        lock_hold_s=settings.cache.rebuild_lock_s,
    )


@component
def get_tls_context() -> ssl.SSLContext:
    """The one TLS context the process's guarded clients share (loading the CA bundle costs
    about 20 ms: once per container, not once per client)."""
    from agenthub.tls import tls_context

    return tls_context()


@component
def get_guarded_http_client() -> httpx2.Client:
    """The SSRF-guarded client of HTTP tools (one pool per process)."""
    from agenthub.tools.transport import guarded_http_client

    return guarded_http_client(allow=get_settings().tools.ssrf_allow, tls=get_tls_context())


@component
def get_provider_http_client() -> httpx2.Client:
    """The SSRF-guarded client of provider SDKs: a tenant chooses the LLM `base_url`; a refused
    address is a connection error the SDK reports (the chat answers 502)."""
    from agenthub.tools.transport import guarded_http_client

    allow = get_settings().tools.ssrf_allow
    return guarded_http_client(allow=allow, refuse_as_connect_error=True, tls=get_tls_context())


@component
def get_provider_async_http_client() -> httpx2.AsyncClient:
    from agenthub.tools.transport import guarded_async_http_client

    allow = get_settings().tools.ssrf_allow
    return guarded_async_http_client(
        allow=allow, refuse_as_connect_error=True, tls=get_tls_context()
    )


def _decrypt(token: str) -> SecretStr:
    return get_keyring().decrypt(token.encode("ascii"))


@component
def get_model_cache() -> ModelCache:
    """Built chat models, reused while the container is warm; the API key is decrypted only
    when a model is built, in memory."""
    from agenthub.llm.providers import ModelCache, ModelOptions, ProviderHttp, build_chat_model

    settings = get_settings()
    options = ModelOptions(
        timeout_s=settings.llm.request_timeout_s,
        max_retries=settings.llm.max_retries,
        http=ProviderHttp(sync=get_provider_http_client, async_=get_provider_async_http_client),
        allow_env_key=settings.is_local,
        aws_region=settings.aws.region,
    )
    return ModelCache(lambda spec: build_chat_model(spec, decrypt=_decrypt, options=options))


def build_model(spec: LlmSpec) -> BaseChatModel:
    """A chat model for an LLM spec (from the warm container's cache)."""
    return get_model_cache()(spec)


@component
def get_tool_dependencies() -> ToolDependencies:
    from agenthub.tools.registry import ToolDependencies

    tools = get_settings().tools
    return ToolDependencies(
        http_client_factory=get_guarded_http_client,
        decrypt=_decrypt,
        default_timeout_s=tools.default_timeout_s,
        max_response_bytes=tools.max_response_bytes,
        data_source_pools=get_data_source_pools(),
        documents=get_document_dependencies(),
        knowledge=get_knowledge_search,
    )


@component
def get_data_source_pools() -> DataSourcePools:
    """Pools of the tenants' DB_QUERY data sources; URLs decrypted only when a pool opens."""
    from agenthub.tools.db_pools import DataSourcePools

    return DataSourcePools(
        decrypt=lambda token: get_keyring().decrypt(token.encode("ascii")),
        allow=lambda: get_settings().tools.ssrf_allow,
    )


@component
def get_graph_cache() -> GraphCache:

    from agenthub.agents.graph import build_turn_graph
    from agenthub.agents.runtime import GraphCache

    checkpointer = get_checkpointer()
    return GraphCache(
        lambda config: build_turn_graph(
            config, model_for=build_model, tools_for=_build_tools, checkpointer=checkpointer
        )
    )


def _build_tools(specs: Sequence[ToolSpec]) -> list[BaseTool]:
    """An agent's tools, built when a turn first runs it: the tools' machinery (HTTP, RAG,
    DB_QUERY, OCR) loads then, not on a turn the supervisor answers."""
    from agenthub.tools.registry import build_available_tools

    return build_available_tools(specs, get_tool_dependencies())


class _SaverCheckpoints:
    """The checkpoint housekeeping a chat turn needs, on the shared saver."""

    def marker(self) -> str:
        from agenthub.db.checkpoints import turn_marker

        return turn_marker()

    def turn_metadata(self, marker: str) -> dict[str, str]:
        from agenthub.db.checkpoints import turn_metadata

        return turn_metadata(marker)

    def hold(
        self, marker: str, *, new_thread: bool = False
    ) -> AbstractContextManager[HeldCheckpoint]:
        return get_checkpointer().hold(marker, new_thread=new_thread)


@component
def get_chat_service() -> ChatService:
    from agenthub.services.chat import ChatService

    llm = get_settings().llm
    return ChatService(
        store=get_chat_store(),
        configs=get_config_source(),
        graphs=get_graph_cache(),
        checkpoints=_SaverCheckpoints(),
        turn_timeout_s=llm.turn_timeout_s,
        max_steps=llm.max_steps,
    )


def get_chat_stream_service() -> ChatStreamService:
    """The streamed turn (POST /chat/stream): the chat service's turn, streamed."""
    from agenthub.services.chat_stream import ChatStreamService

    return ChatStreamService(chat=get_chat_service())


@component
def get_sqs_client() -> Any:
    import boto3
    from botocore.config import Config

    aws = get_settings().aws
    # Short timeouts, few retries: an admin request must not hang on an unreachable queue.
    return boto3.client(
        "sqs",
        region_name=aws.region,
        endpoint_url=aws.endpoint_url,
        config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2}),
    )


@component
def get_s3_client() -> Any:
    import boto3
    from botocore.config import Config

    aws = get_settings().aws
    # Virtual-hosted addressing would not resolve against a local endpoint (moto, LocalStack).
    addressing: Literal["path", "auto"] = "path" if aws.endpoint_url else "auto"
    return boto3.client(
        "s3",
        region_name=aws.region,
        endpoint_url=aws.endpoint_url,
        config=Config(
            connect_timeout=2,
            read_timeout=10,
            retries={"max_attempts": 2},
            signature_version="s3v4",
            s3={"addressing_style": addressing},
        ),
    )


@component
def get_object_store() -> ObjectStore:
    from agenthub.storage.objects import ObjectStore

    return ObjectStore(get_s3_client(), get_settings().aws.files_bucket)


@component
def get_reload_publisher() -> SqsReloadPublisher:
    from agenthub.services.reload import SqsReloadPublisher

    return SqsReloadPublisher(get_sqs_client(), get_settings().aws.reload_queue_url)


class _SaverThreads:
    """Whole-thread checkpoint housekeeping (deleted and expired conversations) on the saver."""

    def delete_threads(self, thread_ids: Sequence[str]) -> int:
        from agenthub.db.checkpoints import delete_threads

        return delete_threads(get_engine(), thread_ids)

    def count_threads(self, thread_ids: Sequence[str]) -> int:
        from agenthub.db.checkpoints import count_threads

        return count_threads(get_engine(), thread_ids)


@component
def get_thread_store() -> ThreadStore:
    return _SaverThreads()


@component
def get_session_service() -> SessionService:
    from agenthub.services.sessions import SessionService

    return SessionService(sessions=get_sessionmaker(), threads=get_thread_store())


@component
def get_retention_service() -> RetentionService:
    from agenthub.services.retention import RetentionService
    from agenthub.services.uploads import UploadCleaner

    settings = get_settings()
    files = None
    if settings.aws.files_bucket:
        files = UploadCleaner(
            store=get_object_store(),
            sessions=get_sessionmaker(),
            unlinked_ttl_s=settings.uploads.unlinked_ttl_s,
        )
    return RetentionService(
        sessions=get_sessionmaker(),
        threads=get_thread_store(),
        files=files,
        tenant_data_sweep=_tenant_data_sweep(),
    )


# --- Chat attachments and OCR ---------------------------------------------------------------------


@component
def get_upload_service() -> UploadService:
    from agenthub.services.uploads import UploadService

    return UploadService(
        sessions=get_sessionmaker(),
        store=get_object_store(),
        settings=get_settings().uploads,
    )


@component
def get_textract_client() -> Any:
    import boto3
    from botocore.config import Config

    aws = get_settings().aws
    return boto3.client(
        "textract",
        region_name=aws.region,
        endpoint_url=aws.endpoint_url,
        config=Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 2}),
    )


def build_ocr_engine() -> Any:
    """The OCR engine the settings choose: Tesseract offline (local mode), Textract on AWS."""
    settings = get_settings()
    engine = settings.ocr.engine
    if engine == "auto":
        engine = "tesseract" if settings.is_local else "textract"
    if engine == "textract":
        from agenthub.documents.textract import TextractEngine

        return TextractEngine(get_textract_client())
    from agenthub.documents.tesseract import TesseractEngine

    return TesseractEngine(languages=settings.ocr.languages)


@component
def get_document_dependencies() -> DocumentDependencies:
    """What OCR tools need; the store and the engine are built on the first document read."""
    from agenthub.documents.ocr import OcrLimits
    from agenthub.tools.ocr import DocumentDependencies

    settings = get_settings()
    ocr = settings.ocr
    engine = component(build_ocr_engine)
    return DocumentDependencies(
        store=get_object_store,
        engine=engine,
        limits=OcrLimits(
            max_pages=ocr.max_pages,
            max_pixels=ocr.max_pixels,
            timeout_s=ocr.timeout_s,
            render_dpi=ocr.render_dpi,
        ),
        max_bytes=settings.uploads.max_bytes,
    )


def _tenant_data_sweep() -> Callable[[set[str]], Sequence[str]] | None:
    """Retention's sweep of deleted tenants' vectors and files, where those stores exist."""
    from agenthub.knowledge.purge import TenantDataPurger

    settings = get_settings()
    chroma = get_chroma_client if settings.tools.chroma_url else None
    store = get_object_store if settings.aws.files_bucket else None
    if chroma is None and store is None:
        return None
    purger = TenantDataPurger(chroma=chroma, store=store)
    return lambda known: purger.sweep(known).tenants


# --- Knowledge (RAG): Chroma, embeddings, ingestion ------------------------------------------


@component
def get_chroma_client() -> ChromaClient:
    from agenthub.knowledge.chroma import ChromaClient

    url = get_settings().tools.chroma_url
    if not url:
        raise ConfigurationError("CHROMA_URL (the knowledge store's endpoint) is not configured")
    return ChromaClient(url)


@component
def get_bedrock_runtime_client() -> Any:
    import boto3
    from botocore.config import Config

    aws = get_settings().aws
    return boto3.client(
        "bedrock-runtime",
        region_name=aws.region,
        config=Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 2}),
    )


@component
def _local_embedder() -> Embedder:
    from agenthub.knowledge.embeddings import LocalEmbedder

    return LocalEmbedder()


def _tenant_openai(tenant_id: str) -> tuple[str | None, bytes]:
    """The tenant's OpenAI base URL and encrypted key (from its LLM config)."""
    from agenthub.db.engine import transaction
    from agenthub.errors import ValidationFailedError
    from agenthub.repositories import TenantLlmConfigRepository

    with transaction(get_sessionmaker()) as db:
        config = TenantLlmConfigRepository(db).get(tenant_id=tenant_id)
        if (
            config is None
            or config.llm_model.provider != "openai"
            or config.encrypted_api_key is None
        ):
            raise ValidationFailedError(
                "OpenAI embeddings use the tenant's OpenAI key: configure an OpenAI LLM with a key"
            )
        return config.base_url, bytes(config.encrypted_api_key)


def get_embedder(*, tenant_id: str, model: EmbeddingModel) -> Embedder:
    """The embedder of a knowledge base's model, for one tenant (its own key for OpenAI)."""
    from agenthub.knowledge import embeddings

    if model.provider == "local":
        return _local_embedder()
    if model.provider == "bedrock":
        return embeddings.BedrockTitanEmbedder(get_bedrock_runtime_client(), model)
    base_url, token = _tenant_openai(tenant_id)
    return embeddings.OpenAIEmbedder(
        http_client_factory=get_provider_http_client,
        api_key=lambda: get_keyring().decrypt(token).get_secret_value(),
        model=model,
        base_url=base_url,
    )


@component
def get_knowledge_search() -> KnowledgeSearch:
    from agenthub.knowledge.search import KnowledgeSearch

    return KnowledgeSearch(
        sessions=get_sessionmaker(), chroma=get_chroma_client(), embedders=get_embedder
    )


@component
def get_ingest_publisher() -> SqsIngestPublisher:
    from agenthub.knowledge.queue import SqsIngestPublisher

    return SqsIngestPublisher(get_sqs_client(), get_settings().aws.ingest_queue_url)


@component
def get_ingestor() -> Ingestor:
    from agenthub.knowledge.ingest import Ingestor

    return Ingestor(
        sessions=get_sessionmaker(),
        store=get_object_store(),
        chroma=get_chroma_client(),
        embedders=get_embedder,
        ocr=_ocr_text,
    )


def _ocr_text(data: bytes, content_type: str, key: str) -> str:
    """Knowledge ingestion reads scans and images as chat attachments are read (one engine)."""
    from agenthub.documents.ocr import Document
    from agenthub.documents.reader import read_document

    documents = get_document_dependencies()
    bucket = get_settings().aws.files_bucket
    document = Document(
        data=data,
        content_type=content_type,
        filename=key.rsplit("/", 1)[-1],
        location=(bucket, key) if bucket else None,
    )
    return read_document(
        document, engine=documents.engine(), kind="text", limits=documents.limits
    ).text
