"""Config cache under load: hit rate and Redis round trips per request.

1,000 chat requests through the chat Lambda handler, spread over 10 tenants, on real (embedded)
PostgreSQL and Redis with the offline model. Prints the hit rate after warm-up and the Redis round
trips per warm request (the target: >= 99 % hits, <= 1 round trip).

    uv run python bench/cache.py [--requests 1000] [--tenants 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--tenants", type=int, default=10)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="agenthub-bench-cache-"))
    os.environ.update(
        {
            "AGENTHUB_ENV": "local",
            "AGENTHUB_STATE_DIR": str(state),
            "AGENTHUB_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    from agenthub import composition
    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token
    from agenthub.db.engine import transaction
    from agenthub.db.migrate import upgrade
    from agenthub.embedded import EmbeddedRedis, start_postgres
    from agenthub.repositories import (
        PermissionRepository,
        TenantLlmConfigRepository,
        TenantRepository,
    )
    from agenthub.services.seed import seed_demo
    from agenthub.settings import get_settings
    from tests.support.counting_redis import CountingRedis
    from tests.support.lambda_events import LambdaContext, load_handler, rest_event

    redis_server = EmbeddedRedis(data_dir=state / "redis")
    redis_url = os.environ.get("REDIS_URL") or redis_server.start()
    database_url = os.environ.get("DATABASE_URL") or start_postgres(state / "postgres")
    os.environ.update({"REDIS_URL": redis_url, "DATABASE_URL": database_url})
    composition.reset()
    upgrade(database_url)
    counting = CountingRedis.from_url(redis_url, socket_timeout=0.25)
    original_get_redis = composition.get_redis
    composition.get_redis = lambda: counting  # type: ignore[assignment]

    tenants = [f"bench-{i:02d}" for i in range(args.tenants)]
    with transaction(composition.get_sessionmaker()) as db:
        seed_demo(db, keyring=composition.get_keyring(), api_url="http://127.0.0.1:9")
        acme_llm = TenantLlmConfigRepository(db).get(tenant_id="acme")
        assert acme_llm is not None
        permissions = PermissionRepository(db)
        acme_agents = [p.agent_id for p in permissions.list_agent_permissions(tenant_id="acme")]
        for tenant_id in tenants:
            TenantRepository(db).create(tenant_id=tenant_id, name=tenant_id)
            for agent_id in acme_agents:
                permissions.set_agent(tenant_id=tenant_id, agent_id=agent_id, enabled=True)
            TenantLlmConfigRepository(db).upsert(
                tenant_id=tenant_id,
                llm_model_id=acme_llm.llm_model_id,
                encrypted_api_key=None,
                api_key_hint=None,
                base_url=None,
                temperature=acme_llm.temperature,
                max_tokens=acme_llm.max_tokens,
                extra={},
            )
            TenantRepository(db).update_settings(
                tenant_id=tenant_id,
                expected_version=TenantRepository(db).require(tenant_id).version,
                changes={"rate_limit_per_minute": 100_000},
            )

    settings = get_settings()
    keys = ensure_dev_key_pair(settings.state_dir)
    tokens = {
        t: mint_token(
            private_key_pem=keys.private_pem,
            kid=keys.kid,
            tenant_id=t,
            user_id="bench",
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
        )
        for t in tenants
    }
    handler = load_handler("chat")

    def request(i: int) -> None:
        tenant = tenants[i % len(tenants)]
        event = rest_event(
            "POST",
            f"/api/{tenant}/chat",
            body={"message": "hello"},
            token=tokens[tenant],
            resource="/api/{tenant_id}/chat",
            path_parameters={"tenant_id": tenant},
        )
        response = handler.handler(event, LambdaContext())
        if response["statusCode"] != 200:
            raise SystemExit(f"request {i} failed: {response['body']}")

    source = composition.get_config_source()
    warm_up = len(tenants)
    started = time.perf_counter()
    for i in range(warm_up):
        request(i)
    warm = source.stats()
    trips_before = CountingRedis.round_trips
    for i in range(warm_up, args.requests):
        request(i)
    elapsed = time.perf_counter() - started
    done = source.stats()
    warm_requests = args.requests - warm_up
    hits = done["hits"] - warm["hits"]
    misses = done["misses"] - warm["misses"]
    trips = CountingRedis.round_trips - trips_before

    print(f"requests               {args.requests} over {len(tenants)} tenants")
    print(f"warm-up requests       {warm_up} (one per tenant)")
    print(
        f"hit rate after warm-up {100 * hits / max(1, hits + misses):.2f} % "
        f"({hits} hits, {misses} misses)"
    )
    print(
        f"overall hit rate       {100 * done['hits'] / max(1, done['hits'] + done['misses']):.2f} %"
    )
    print(f"redis round trips      {trips / max(1, warm_requests):.3f} per warm request")
    print(f"redis errors           {done['redis_errors']}")
    print(f"postgres config loads  {source.database_loads}")
    print(
        f"wall time              {elapsed:.1f} s ({1000 * elapsed / args.requests:.1f} ms/request)"
    )
    composition.get_redis = original_get_redis  # type: ignore[assignment]
    composition.reset()
    redis_server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
