"""A tool's JSON result mapped onto a card or table without a model call, only when it fits."""

from __future__ import annotations

import json

from agenthub.agents.direct import direct_answer
from agenthub.domain import OutputFormatSpec
from agenthub.services.seed import OUTPUT_FORMATS


def _format(name: str) -> OutputFormatSpec:
    hint, description, schema = OUTPUT_FORMATS[name]
    return OutputFormatSpec(
        name=name, renderer_hint=hint, json_schema=schema, description=description
    )


DEBT = {
    "mst": "0123456789",
    "customer_name": "Minh Phát",
    "total_debt": 269_750_000,
    "currency": "VND",
    "invoices": [{"id": "HD-1"}],
    "active": True,
}


def test_an_object_becomes_a_card_titled_by_its_name_with_its_figures_in_the_text() -> None:
    answer = direct_answer("get_customer_debt_by_mst", json.dumps(DEBT), _format("card"))

    assert answer is not None
    assert answer.data["title"] == "Minh Phát"
    # Scalars only (no nested list, no boolean), labelled from their keys.
    assert answer.data["fields"] == [
        {"label": "Mst", "value": "0123456789"},
        {"label": "Customer name", "value": "Minh Phát"},
        {"label": "Total debt", "value": 269_750_000},
        {"label": "Currency", "value": "VND"},
    ]
    assert answer.text == "Minh Phát - Total debt: 269750000; Mst: 0123456789; Currency: VND."


def test_a_list_of_objects_becomes_a_table() -> None:
    rows = [{"tracking_id": "SHP-1", "status": "ok"}, {"tracking_id": "SHP-2", "eta": None}]

    answer = direct_answer("search_shipments", json.dumps({"items": rows}), _format("table"))

    assert answer is not None
    assert answer.data == {
        "columns": ["Tracking id", "Status", "Eta"],
        "rows": [["SHP-1", "ok", None], ["SHP-2", None, None]],
    }
    assert answer.text == "Search shipments: 2 rows."


def test_errors_non_json_and_results_that_do_not_fit_are_left_to_the_model() -> None:
    card, table = _format("card"), _format("table")

    assert direct_answer("t", json.dumps({"error": {"status": 404}}), card) is None
    assert direct_answer("t", "not json", card) is None
    assert direct_answer("t", json.dumps([1, 2]), card) is None
    assert direct_answer("t", json.dumps({"a": [1], "b": [2]}), table) is None
    assert direct_answer("t", json.dumps({"only": {"nested": 1}}), card) is None
    # Formats without a direct mapping (chart, list, text) always go to the model.
    assert direct_answer("t", json.dumps(DEBT), _format("chart")) is None


def test_a_mapped_answer_that_breaks_the_formats_schema_is_not_used() -> None:
    strict = OutputFormatSpec(
        name="card",
        renderer_hint="card",
        json_schema={"type": "object", "required": ["title", "fields", "footer"]},
    )

    assert direct_answer("t", json.dumps(DEBT), strict) is None
