"""`hours_between`: which hourly counters a hit-rate period reads (they live STATS_TTL_S)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agenthub.cache.redis_cache import STATS_TTL_S
from agenthub.services.cache_stats import hours_between

NOW = datetime(2025, 3, 20, 14, 35, tzinfo=UTC)
KEPT_HOURS = STATS_TTL_S // 3600 + 1  # the oldest hour may still be alive while it expires


def test_a_short_period_reads_each_of_its_hours_once() -> None:
    hours = hours_between(NOW - timedelta(hours=2), NOW, now=NOW)

    assert sorted(hours) == ["2025032012", "2025032013", "2025032014"]


def test_a_period_starting_long_ago_still_reads_the_latest_hours() -> None:
    # GIVEN a period of 60 days ending now (counters older than the retention are gone)
    hours = hours_between(NOW - timedelta(days=60), NOW, now=NOW)

    # THEN it reads the current hour and every hour still kept, and nothing older
    assert "2025032014" in hours
    assert len(hours) == KEPT_HOURS
    oldest_kept = (NOW - timedelta(seconds=STATS_TTL_S)).strftime("%Y%m%d%H")
    assert min(hours) == oldest_kept


def test_by_default_the_period_is_read_up_to_the_current_hour() -> None:
    end = datetime.now(UTC)

    hours = hours_between(end - timedelta(days=40), end)

    assert end.strftime("%Y%m%d%H") in hours
    assert len(hours) <= KEPT_HOURS


def test_a_period_that_ended_before_the_retention_reads_nothing() -> None:
    end = NOW - timedelta(days=30)

    assert hours_between(end - timedelta(days=5), end, now=NOW) == []


def test_hours_after_now_are_not_read() -> None:
    hours = hours_between(NOW - timedelta(hours=1), NOW + timedelta(days=3), now=NOW)

    assert sorted(hours) == ["2025032013", "2025032014"]


def test_times_in_other_zones_are_read_as_utc_hours() -> None:
    hanoi = NOW.astimezone(datetime.fromisoformat("2025-01-01T00:00+07:00").tzinfo)

    assert hours_between(hanoi, hanoi, now=NOW) == ["2025032014"]
