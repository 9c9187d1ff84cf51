"""The suite's own isolation under pytest-xdist: two workers never share a Redis database."""

from __future__ import annotations

from tests.conftest import worker_redis_url


def test_each_worker_gets_its_own_database_on_a_shared_redis() -> None:
    shared = "redis://:secret@redis.internal:6379/0"

    assert worker_redis_url(shared, "gw0") == "redis://:secret@redis.internal:6379/0"
    assert worker_redis_url(shared, "gw1") == "redis://:secret@redis.internal:6379/1"


def test_the_configured_database_number_is_the_first_workers() -> None:
    assert worker_redis_url("redis://127.0.0.1:6379/4", "gw0") == "redis://127.0.0.1:6379/4"
    assert worker_redis_url("redis://127.0.0.1:6379/4", "gw2") == "redis://127.0.0.1:6379/6"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"


def test_without_xdist_the_url_is_unchanged() -> None:
    assert worker_redis_url("redis://127.0.0.1:6379/3", "") == "redis://127.0.0.1:6379/3"
