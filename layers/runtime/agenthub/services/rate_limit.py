"""A tenant's requests-per-minute limit, from the counter the front read just incremented."""

from __future__ import annotations

from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import RateLimitedError


class TenantRateLimiter:
    """Refuses a request over the tenant's `rate_limit_per_minute` (429 with Retry-After)."""

    def __init__(self, *, retry_after_s: int = 60) -> None:
        self._retry_after_s = retry_after_s

    def check(self, config: TenantRuntimeConfig, requests_this_minute: int | None) -> None:
        """`requests_this_minute` None: Redis is down and nothing was counted; let it through
        rather than refuse every tenant's traffic."""
        if requests_this_minute is None:
            return
        if requests_this_minute > config.rate_limit_per_minute:
            raise RateLimitedError(
                f"more than {config.rate_limit_per_minute} requests a minute for this tenant",
                details={"retry_after_s": self._retry_after_s},
            )
