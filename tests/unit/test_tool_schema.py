"""A tool's stored JSON Schema becomes the args model, or is refused with the offending path."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

from agenthub.errors import ValidationFailedError
from agenthub.tools.schema import json_schema_to_model, validate_input_schema


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required is not None:
        schema["required"] = required
    return schema


def model_of(properties: dict[str, Any], required: list[str] | None = None) -> type[BaseModel]:
    return json_schema_to_model("probe", obj(properties, required))


def refusal(schema: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailedError) as caught:
        json_schema_to_model("probe", schema)
    assert caught.value.details, "a refusal names its paths"
    return caught.value.details


def fields_refused(schema: Any) -> set[str]:
    return {problem["field"] for problem in refusal(schema)}


def valid(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)


def invalid(model: type[BaseModel], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


# --- supported keywords ------------------------------------------------------------------------


def test_scalar_types_validate_their_values() -> None:
    model = model_of(
        {
            "s": {"type": "string"},
            "i": {"type": "integer"},
            "n": {"type": "number"},
            "b": {"type": "boolean"},
        },
        required=["s", "i", "n", "b"],
    )
    assert valid(model, {"s": "x", "i": 3, "n": 2.5, "b": True}) == {
        "s": "x",
        "i": 3,
        "n": 2.5,
        "b": True,
    }
    invalid(model, {"s": "x", "i": 3.5, "n": 2.5, "b": True})
    invalid(model, {"s": "x", "i": 3, "n": "many", "b": True})
    invalid(model, {"s": {"a": 1}, "i": 3, "n": 2.5, "b": True})


def test_required_arguments_must_be_given_and_optional_ones_are_left_out() -> None:
    model = model_of({"mst": {"type": "string"}, "page": {"type": "integer"}}, required=["mst"])
    invalid(model, {"page": 1})
    assert valid(model, {"mst": "0123456789"}) == {"mst": "0123456789"}


def test_an_optional_argument_with_a_default_gets_it() -> None:
    model = model_of({"page": {"type": "integer", "default": 1}})
    assert valid(model, {}) == {"page": 1}
    assert model.model_json_schema()["properties"]["page"]["default"] == 1


def test_null_is_not_a_value_for_a_typed_argument() -> None:
    model = model_of({"page": {"type": "integer"}})
    invalid(model, {"page": None})


def test_enum_allows_only_the_listed_values() -> None:
    model = model_of({"status": {"type": "string", "enum": ["open", "paid"]}}, ["status"])
    assert valid(model, {"status": "paid"}) == {"status": "paid"}
    invalid(model, {"status": "other"})
    assert model.model_json_schema()["properties"]["status"]["enum"] == ["open", "paid"]


def test_string_pattern_and_lengths_are_enforced() -> None:
    model = model_of(
        {
            "mst": {"type": "string", "pattern": "^[0-9]{10}$"},
            "note": {"type": "string", "minLength": 2, "maxLength": 4},
        }
    )
    assert valid(model, {"mst": "0123456789", "note": "abc"})
    invalid(model, {"mst": "01234"})
    invalid(model, {"note": "a"})
    invalid(model, {"note": "abcde"})
    shown = model.model_json_schema()["properties"]
    assert shown["mst"]["pattern"] == "^[0-9]{10}$"
    assert (shown["note"]["minLength"], shown["note"]["maxLength"]) == (2, 4)


def test_a_pattern_matches_anywhere_like_json_schema() -> None:
    model = model_of({"code": {"type": "string", "pattern": "[0-9]"}})
    assert valid(model, {"code": "ab1cd"})


def test_numeric_bounds_inclusive_and_exclusive_are_enforced() -> None:
    model = model_of(
        {
            "inclusive": {"type": "integer", "minimum": 1, "maximum": 10},
            "exclusive": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "step": {"type": "integer", "multipleOf": 5},
        }
    )
    assert valid(model, {"inclusive": 1, "exclusive": 0.5, "step": 10})
    assert valid(model, {"inclusive": 10})
    invalid(model, {"inclusive": 0})
    invalid(model, {"inclusive": 11})
    invalid(model, {"exclusive": 0})
    invalid(model, {"exclusive": 1})
    invalid(model, {"step": 7})
    shown = model.model_json_schema()["properties"]
    assert shown["exclusive"]["exclusiveMinimum"] == 0
    assert shown["inclusive"]["maximum"] == 10


def test_nested_objects_are_validated_with_their_own_required_and_extras() -> None:
    model = model_of(
        {
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            }
        },
        required=["address"],
    )
    assert valid(model, {"address": {"city": "Hanoi"}}) == {"address": {"city": "Hanoi"}}
    invalid(model, {"address": {"zip": "100000"}})
    invalid(model, {"address": {"city": "Hanoi", "street": "x"}})


def test_a_free_form_object_accepts_any_json_object() -> None:
    model = model_of({"filters": {"type": "object"}})
    assert valid(model, {"filters": {"a": [1, 2]}}) == {"filters": {"a": [1, 2]}}
    invalid(model, {"filters": [1]})


def test_arrays_validate_items_and_counts() -> None:
    model = model_of(
        {
            "ids": {
                "type": "array",
                "items": {"type": "string", "maxLength": 3},
                "minItems": 1,
                "maxItems": 2,
            },
            "anything": {"type": "array"},
        }
    )
    assert valid(model, {"ids": ["a", "b"], "anything": [1, "x"]})
    invalid(model, {"ids": []})
    invalid(model, {"ids": ["a", "b", "c"]})
    invalid(model, {"ids": ["abcd"]})
    shown = model.model_json_schema()["properties"]["ids"]
    assert (shown["minItems"], shown["maxItems"]) == (1, 2)
    assert shown["items"]["maxLength"] == 3


def test_arrays_of_objects_validate_each_object() -> None:
    model = model_of(
        {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                    "required": ["sku"],
                },
            }
        }
    )
    assert valid(model, {"lines": [{"sku": "A", "qty": 2}]}) == {"lines": [{"sku": "A", "qty": 2}]}
    invalid(model, {"lines": [{"qty": 2}]})


def test_descriptions_reach_the_model_visible_schema() -> None:
    model = model_of(
        {
            "mst": {"type": "string", "description": "Vietnamese tax code"},
            "tags": {"type": "array", "items": {"type": "string", "description": "one tag"}},
            "customer": {
                "type": "object",
                "description": "who",
                "properties": {"name": {"type": "string", "description": "full name"}},
            },
        }
    )
    # WHEN the model is shown to an LLM the way LangChain shows tool arguments
    shown = convert_to_openai_tool(model)["function"]["parameters"]["properties"]
    # THEN every description is there, at every level
    assert shown["mst"]["description"] == "Vietnamese tax code"
    assert shown["tags"]["items"]["description"] == "one tag"
    assert shown["customer"]["description"] == "who"
    assert shown["customer"]["properties"]["name"]["description"] == "full name"


def test_format_and_examples_are_shown_but_not_enforced() -> None:
    model = model_of({"day": {"type": "string", "format": "date", "examples": ["2024-01-31"]}})
    shown = model.model_json_schema()["properties"]["day"]
    assert (shown["format"], shown["examples"]) == ("date", ["2024-01-31"])
    assert valid(model, {"day": "not a date"})  # format is an annotation in JSON Schema


def test_additional_properties_false_refuses_unknown_arguments_and_default_drops_them() -> None:
    strict = json_schema_to_model(
        "strict", obj({"a": {"type": "string"}}, additionalProperties=False)
    )
    lenient = json_schema_to_model("lenient", obj({"a": {"type": "string"}}))
    invalid(strict, {"a": "x", "b": "y"})
    assert valid(lenient, {"a": "x", "b": "y"}) == {"a": "x"}


def test_a_tool_without_arguments_has_an_empty_model() -> None:
    model = json_schema_to_model("no_args", {"type": "object"})
    assert valid(model, {}) == {}


def test_the_model_is_named_after_the_tool() -> None:
    assert json_schema_to_model("get_customer_debt", {"type": "object"}).__name__ == (
        "GetCustomerDebtArgs"
    )


# --- refused constructs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "path"),
    [
        ({"$ref": "#/$defs/x"}, "input_schema.properties.p.$ref"),
        ({"oneOf": [{"type": "string"}]}, "input_schema.properties.p.oneOf"),
        ({"anyOf": [{"type": "string"}]}, "input_schema.properties.p.anyOf"),
        ({"allOf": [{"type": "string"}]}, "input_schema.properties.p.allOf"),
        ({"type": "string", "not": {"enum": ["x"]}}, "input_schema.properties.p.not"),
        ({"type": ["string", "null"]}, "input_schema.properties.p.type"),
        ({"type": "null"}, "input_schema.properties.p.type"),
        ({"type": "strin"}, "input_schema.properties.p.type"),
        ({"description": "no type"}, "input_schema.properties.p.type"),
        (
            {"type": "object", "additionalProperties": {"type": "string"}},
            "input_schema.properties.p.additionalProperties",
        ),
        (
            {"type": "object", "patternProperties": {}},
            "input_schema.properties.p.patternProperties",
        ),
        ({"type": "array", "items": [{"type": "string"}]}, "input_schema.properties.p.items"),
        ({"type": "array", "prefixItems": []}, "input_schema.properties.p.prefixItems"),
        ({"type": "array", "uniqueItems": True}, "input_schema.properties.p.uniqueItems"),
        ({"type": "string", "const": "x"}, "input_schema.properties.p.const"),
        ({"type": "string", "nullable": True}, "input_schema.properties.p.nullable"),
        ({"type": "string", "minimum": 1}, "input_schema.properties.p.minimum"),
        ({"type": "integer", "pattern": "x"}, "input_schema.properties.p.pattern"),
        ({"type": "string", "pattern": "(?=a)b"}, "input_schema.properties.p.pattern"),
        ({"type": "string", "pattern": r"(a)\1"}, "input_schema.properties.p.pattern"),
        ({"type": "string", "pattern": "(unclosed"}, "input_schema.properties.p.pattern"),
        ({"type": "string", "minLength": -1}, "input_schema.properties.p.minLength"),
        ({"type": "integer", "minimum": "1"}, "input_schema.properties.p.minimum"),
        ({"type": "integer", "multipleOf": 0}, "input_schema.properties.p.multipleOf"),
        ({"type": "string", "enum": []}, "input_schema.properties.p.enum"),
        ({"type": "string", "enum": ["a", 1]}, "input_schema.properties.p.enum"),
        ({"type": "integer", "enum": [1, True]}, "input_schema.properties.p.enum"),
        ({"type": "integer", "default": "many"}, "input_schema.properties.p.default"),
        ({"type": "string", "enum": ["a"], "default": "b"}, "input_schema.properties.p.default"),
        ("not a schema", "input_schema.properties.p"),
    ],
)
def test_a_construct_we_cannot_express_is_refused_at_its_path(prop: Any, path: str) -> None:
    assert path in fields_refused(obj({"p": prop}))


def test_a_refusal_inside_nested_objects_and_arrays_names_the_full_path() -> None:
    schema = obj(
        {
            "order": {
                "type": "object",
                "properties": {
                    "lines": {
                        "type": "array",
                        "items": {"type": "string", "format": 1, "$ref": "x"},
                    }
                },
            }
        }
    )
    assert "input_schema.properties.order.properties.lines.items.$ref" in fields_refused(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"properties": {"a": {"type": "string"}}},
        ["not", "an", "object"],
    ],
)
def test_the_top_level_must_be_an_object(schema: Any) -> None:
    assert fields_refused(schema) & {"input_schema", "input_schema.type"}


def test_required_must_name_existing_properties() -> None:
    problems = refusal(obj({"a": {"type": "string"}}, required=["a", "b"]))
    assert problems == [{"field": "input_schema.required", "message": problems[0]["message"]}]
    assert "'b'" in problems[0]["message"]


@pytest.mark.parametrize(
    "name", ["json", "schema", "copy", "model_dump", "model_validate_x", "_private", "a b", ""]
)
def test_property_names_that_cannot_be_model_fields_are_refused(name: str) -> None:
    assert f"input_schema.properties.{name}" in fields_refused(obj({name: {"type": "string"}}))


@pytest.mark.parametrize("name", ["runtime", "config", "callbacks", "run_manager", "tool_call_id"])
def test_top_level_names_langchain_injects_are_refused(name: str) -> None:
    assert f"input_schema.properties.{name}" in fields_refused(obj({name: {"type": "string"}}))


def test_names_reserved_only_at_the_top_level_are_fine_when_nested() -> None:
    model = model_of({"meta": {"type": "object", "properties": {"config": {"type": "string"}}}})
    assert valid(model, {"meta": {"config": "x"}}) == {"meta": {"config": "x"}}


def test_business_names_with_dots_dashes_and_model_prefix_are_accepted() -> None:
    model = model_of(
        {
            "model_number": {"type": "string"},
            "order-id": {"type": "string"},
            "a.b": {"type": "string"},
        }
    )
    assert valid(model, {"model_number": "X1", "order-id": "7", "a.b": "c"}) == {
        "model_number": "X1",
        "order-id": "7",
        "a.b": "c",
    }


def test_nesting_too_deep_is_refused() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(10):
        schema = {"type": "object", "properties": {"x": schema}}
    assert any("nesting" in p["message"] for p in refusal(schema))


def test_every_problem_is_reported_at_once() -> None:
    problems = refusal(obj({"a": {"$ref": "#/x"}, "b": {"type": "strin"}, "c": {"type": "string"}}))
    assert {p["field"] for p in problems} == {
        "input_schema.properties.a.$ref",
        "input_schema.properties.b.type",
    }


def test_the_error_message_names_the_first_problem() -> None:
    with pytest.raises(ValidationFailedError) as caught:
        json_schema_to_model("t", obj({"a": {"type": "object", "additionalProperties": {}}}))
    assert "input_schema.properties.a.additionalProperties" in caught.value.message
    assert caught.value.code == "validation_error"


# --- validate_input_schema (save time) ---------------------------------------------------------


def test_a_supported_schema_passes_validation() -> None:
    validate_input_schema(
        obj(
            {"mst": {"type": "string", "pattern": "^[0-9]{10}$"}, "page": {"type": "integer"}},
            required=["mst"],
            **{"$schema": "https://json-schema.org/draft/2020-12/schema"},
        )
    )


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (obj({"a": {"type": "strin"}}), "input_schema.properties.a.type"),
        (obj({"a": {"type": "string", "minLength": -1}}), "input_schema.properties.a.minLength"),
        (obj({"a": {"type": "string"}}, required="a"), "input_schema.required"),
    ],
)
def test_invalid_json_schema_is_refused_by_the_meta_schema(schema: dict, path: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_input_schema(schema)
    assert "not valid JSON Schema" in caught.value.message
    assert path in {p["field"] for p in caught.value.details}


def test_valid_json_schema_we_cannot_express_is_refused_too() -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_input_schema(obj({"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}))
    assert caught.value.details[0]["field"] == "input_schema.properties.a.anyOf"


def test_a_schema_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_input_schema([{"type": "object"}])
    assert caught.value.details == [{"field": "input_schema", "message": "must be a JSON object"}]
