"""Rows of a DB_QUERY result become a chart or a table: the output shaping picks the branch of a
`table_or_chart` format the data fits, the offline model follows the tool's `presentation`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from agenthub.agents.output import shape_answer
from agenthub.domain import OutputFormatSpec
from agenthub.llm.offline_answers import answer_from_result
from agenthub.services.seed_analysis import TABLE_OR_CHART_SCHEMA
from agenthub.tools.data_source_url import parse_data_source_url
from agenthub.tools.db_query import json_value

FORMAT = OutputFormatSpec(
    name="table_or_chart", renderer_hint="auto", json_schema=TABLE_OR_CHART_SCHEMA
)
SALES = {
    "columns": ["month", "revenue"],
    "rows": [{"month": "2025-01", "revenue": 1200}, {"month": "2025-02", "revenue": 900}],
    "row_count": 2,
    "truncated": False,
}


def _reply(result: dict[str, Any]) -> str:
    text, data = answer_from_result(result, format_name=FORMAT.name, schema=FORMAT.json_schema)
    return json.dumps({"text": text, "data": data})


def test_a_chart_presentation_becomes_a_chart_answer() -> None:
    shaped = shape_answer(_reply({**SALES, "presentation": "chart"}), FORMAT)

    assert (shaped.format, shaped.renderer_hint) == ("chart", "chart")
    assert shaped.data == {
        "kind": "line",
        "labels": ["2025-01", "2025-02"],
        "series": [{"name": "Revenue", "values": [1200, 900]}],
    }
    assert shaped.text == "2 rows: 2025-01: revenue 1,200; 2025-02: revenue 900."


def test_a_table_presentation_becomes_a_table_answer() -> None:
    shaped = shape_answer(_reply({**SALES, "presentation": "table"}), FORMAT)

    assert (shaped.format, shaped.renderer_hint) == ("table", "table")
    assert shaped.data == {
        "columns": ["Month", "Revenue"],
        "rows": [["2025-01", 1200], ["2025-02", 900]],
    }


def test_data_fitting_no_branch_falls_back_to_text() -> None:
    shaped = shape_answer(json.dumps({"text": "hi", "data": {"items": ["a"]}}), FORMAT)

    assert shaped.format == "text"
    assert shaped.fallback_reason is not None


def test_an_empty_result_says_so() -> None:
    text, _ = answer_from_result(
        {**SALES, "rows": [], "row_count": 0}, format_name="table", schema=None
    )

    assert text == "The query found no rows."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), 12.5),
        (Decimal("1200"), 1200),
        (Decimal("NaN"), None),
        (date(2025, 1, 31), "2025-01-31"),
        (float("inf"), None),
        (b"\x00\x01", "<2 bytes>"),
        ([Decimal("1")], [1]),
    ],
)
def test_database_values_become_json(value: Any, expected: Any) -> None:
    assert json_value(value) == expected


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql://reporting:pw@db.example.com:6543/sales?sslmode=require",
            "postgresql://reporting:***@db.example.com:6543/sales?sslmode=require",
        ),
        ("postgres://reader@db.example.com/sales", "postgresql://reader@db.example.com/sales"),
        (
            "postgresql://u:pw@/analytics?host=/tmp/pg",
            "postgresql://u:***@/analytics?host=/tmp/pg",
        ),
        ("postgresql://u:pw@[2001:db8::1]:5432/db", "postgresql://u:***@[2001:db8::1]:5432/db"),
    ],
)
def test_a_data_source_url_is_shown_without_its_password(url: str, masked: str) -> None:
    assert parse_data_source_url(url).masked() == masked
