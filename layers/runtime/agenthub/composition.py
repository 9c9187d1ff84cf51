"""The composition root: every client is built here, lazily, once per process (warm container).

Nothing is created at import time or in a FastAPI lifespan (Mangum runs it per invocation).
`reset()` forgets everything, for tests and for the local stack after it changes settings.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from agenthub.errors import ConfigurationError
from agenthub.settings import get_settings, reset_settings

if TYPE_CHECKING:
    import redis
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from agenthub.auth.jwt import JwtVerifier
    from agenthub.crypto import KeyRing
    from agenthub.embedded import EmbeddedRedis


@cache
def database_url() -> str:
    """The configured PostgreSQL URL, or the embedded server's in local mode."""
    settings = get_settings()
    if settings.database.url is not None:
        return settings.database.url.get_secret_value()
    if not settings.is_local:
        raise ConfigurationError("DATABASE_URL is required outside local mode")
    from agenthub.embedded import start_postgres

    return start_postgres(settings.state_dir / "postgres")


@cache
def _embedded_redis() -> EmbeddedRedis:
    from agenthub.embedded import EmbeddedRedis

    return EmbeddedRedis(data_dir=get_settings().state_dir / "redis")


@cache
def redis_url() -> str:
    """The configured Redis URL, or the embedded server's in local mode."""
    settings = get_settings()
    if settings.redis.url is not None:
        return settings.redis.url.get_secret_value()
    if not settings.is_local:
        raise ConfigurationError("REDIS_URL is required outside local mode")
    return _embedded_redis().start()


@cache
def get_engine() -> Engine:
    from agenthub.db.engine import build_engine

    db = get_settings().database
    return build_engine(
        database_url(),
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout_s=db.pool_timeout_s,
        statement_timeout_ms=db.statement_timeout_ms,
    )


@cache
def get_sessionmaker() -> sessionmaker[Session]:
    from agenthub.db.engine import build_sessionmaker

    return build_sessionmaker(get_engine())


@cache
def get_redis() -> redis.Redis:
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


@cache
def get_keyring() -> KeyRing:
    from agenthub.crypto import keyring_from_settings

    return keyring_from_settings(get_settings())


@cache
def get_jwt_verifier() -> JwtVerifier:
    from agenthub.auth.jwt import JwtVerifier

    return JwtVerifier.from_settings(get_settings())


def reset() -> None:
    """Close and forget every client and the settings (tests, local stack restarts)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    if get_redis.cache_info().currsize:
        get_redis().close()
    if _embedded_redis.cache_info().currsize:
        _embedded_redis().stop()
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    reset_settings()
