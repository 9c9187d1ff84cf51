"""A tool's stored JSON Schema -> the pydantic model the LLM sees and the call is validated with.

Only a subset of JSON Schema is expressible as a pydantic model. Everything outside it ($ref,
oneOf/anyOf/allOf, additionalProperties schemas, type lists, unknown types or keywords, ...) is
refused with the path of the offending keyword, so a stored schema always means exactly what
the model enforces: nothing is silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, SchemaError

from agenthub.errors import ValidationFailedError

ROOT_PATH = "input_schema"
MAX_DEPTH = 8
MAX_PROPERTIES = 100

# Portable across providers (Anthropic's rule for input_schema property keys is the strictest).
PROPERTY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Top-level names LangChain/LangGraph give a meaning of their own (ToolNode injects `runtime`).
RESERVED_ARGUMENT_NAMES = frozenset(
    {"runtime", "config", "callbacks", "run_manager", "tool_call_id"}
)

_PYDANTIC_PROTECTED = ("model_validate", "model_dump")
_SCALARS: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
_NUMERIC = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum"}
)
_KEYWORDS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"enum", "pattern", "minLength", "maxLength"}),
    "integer": _NUMERIC,
    "number": _NUMERIC,
    "boolean": frozenset({"enum"}),
    "object": frozenset({"properties", "required", "additionalProperties"}),
    "array": frozenset({"items", "minItems", "maxItems"}),
}
# Annotations: carried to the model-visible schema (or harmlessly ignored), never enforced.
_ANNOTATIONS = frozenset(
    {"type", "title", "description", "default", "examples", "format", "$comment", "deprecated"}
)
_ROOT_ONLY = frozenset({"$schema", "$id"})
_REFUSAL_REASONS = {
    "$ref": "references ($ref) are not supported: inline the referenced schema",
    "$defs": "definitions ($defs) are not supported: inline them",
    "definitions": "definitions are not supported: inline them",
    "oneOf": "oneOf is not supported: use one type (an enum for alternatives)",
    "anyOf": "anyOf is not supported: use one type (an enum for alternatives)",
    "allOf": "allOf is not supported: merge the schemas into one",
    "not": "not is not supported",
    "nullable": "nullable is not supported: leave the property out of `required` instead",
}
_CONSTRAINT_FIELDS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
}
_EXTRA_BY_ADDITIONAL: dict[bool | None, Literal["allow", "ignore", "forbid"]] = {
    None: "ignore",
    True: "allow",
    False: "forbid",
}


def json_schema_to_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """The args model for a tool named `name`; ValidationFailedError lists what cannot be used."""
    converter = _Converter()
    model = converter.root_model(_model_name(name), schema)
    if converter.problems:
        first = converter.problems[0]
        raise ValidationFailedError(
            f"the input schema cannot be used for tool arguments: {first['field']}: "
            f"{first['message']}",
            details=converter.problems,
        )
    return model


def validate_input_schema(schema: Any) -> None:
    """Refuse a schema that is not valid JSON Schema (Draft 2020-12) or that we cannot express."""
    if not isinstance(schema, dict):
        raise ValidationFailedError(
            "the input schema must be a JSON object",
            details=[{"field": ROOT_PATH, "message": "must be a JSON object"}],
        )
    # Imported here: only saving a tool needs it, and it costs ~0.1 s of a chat cold start.
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    problems = [
        {"field": _join(ROOT_PATH, *error.absolute_path), "message": _short(error.message)}
        for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        raise ValidationFailedError(
            f"the input schema is not valid JSON Schema: {problems[0]['field']}: "
            f"{problems[0]['message']}",
            details=problems,
        )
    json_schema_to_model("ToolInput", schema)


class _JsonSchemaAnnotations:
    """Adds annotation keywords (format, examples, item descriptions) to the generated schema.

    Kept as type metadata rather than `json_schema_extra`, because LangChain's model-visible
    schema (`tool_call_schema`) copies a field's metadata but not its `json_schema_extra`.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        json_schema.update(self.values)
        return json_schema


@dataclass
class _Converter:
    problems: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, path: str, message: str) -> None:
        self.problems.append({"field": path, "message": message})

    def root_model(self, model_name: str, schema: Any) -> type[BaseModel]:
        if not isinstance(schema, dict):
            self.refuse(ROOT_PATH, "must be a JSON object")
            return create_model(model_name)
        if schema.get("type") != "object":
            self.refuse(
                _join(ROOT_PATH, "type"),
                'the top level must be {"type": "object"}: tool arguments are named',
            )
            return create_model(model_name)
        model = self.object_type(model_name, schema, ROOT_PATH, depth=0, root=True)
        return model if isinstance(model, type) else create_model(model_name)

    def type_of(self, schema: Any, path: str, model_name: str, depth: int) -> Any:
        """The annotation for one (sub)schema; refusals are recorded and `Any` stands in."""
        if not isinstance(schema, dict):
            self.refuse(path, "must be a JSON Schema object")
            return Any
        if depth > MAX_DEPTH:
            self.refuse(path, f"nesting deeper than {MAX_DEPTH} levels is not supported")
            return Any
        type_name = schema.get("type")
        if type_name is None:
            self.check_keywords(schema, path, allowed=frozenset())
            if not _REFUSAL_REASONS.keys() & schema.keys():  # already explained
                self.refuse(_join(path, "type"), "a type is required")
            return Any
        if isinstance(type_name, list):
            self.refuse(_join(path, "type"), "a list of types is not supported: use one type")
            return Any
        if type_name not in _KEYWORDS_BY_TYPE:
            self.refuse(
                _join(path, "type"),
                f"type {type_name!r} is not supported "
                "(use string, number, integer, boolean, object or array)",
            )
            return Any
        self.check_keywords(schema, path, allowed=_KEYWORDS_BY_TYPE[type_name])
        if type_name == "object":
            return self.object_type(model_name, schema, path, depth=depth)
        if type_name == "array":
            return self.array_type(schema, path, model_name, depth)
        return self.scalar_type(type_name, schema, path)

    def check_keywords(
        self, schema: dict[str, Any], path: str, *, allowed: frozenset[str], root: bool = False
    ) -> None:
        for keyword in schema:
            if keyword in allowed or keyword in _ANNOTATIONS or (root and keyword in _ROOT_ONLY):
                continue
            reason = _REFUSAL_REASONS.get(keyword, f"keyword {keyword!r} is not supported here")
            self.refuse(_join(path, keyword), reason)

    def object_type(
        self, model_name: str, schema: dict[str, Any], path: str, *, depth: int, root: bool = False
    ) -> Any:
        if root:
            self.check_keywords(schema, path, allowed=_KEYWORDS_BY_TYPE["object"], root=True)
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        additional = schema.get("additionalProperties")
        if not isinstance(properties, dict):
            self.refuse(_join(path, "properties"), "must be an object of property schemas")
            properties = {}
        if len(properties) > MAX_PROPERTIES:
            self.refuse(_join(path, "properties"), f"at most {MAX_PROPERTIES} properties")
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            self.refuse(_join(path, "required"), "must be a list of property names")
            required = []
        for missing in [r for r in required if r not in properties]:
            self.refuse(_join(path, "required"), f"{missing!r} is required but not a property")
        if additional is not None and not isinstance(additional, bool):
            self.refuse(
                _join(path, "additionalProperties"),
                "only true or false is supported, not a schema",
            )
            additional = None
        if not properties and not root:
            return dict[str, Any]  # a free-form object
        fields: dict[str, Any] = {}
        for prop_name, prop_schema in properties.items():
            prop_path = _join(path, "properties", prop_name)
            if not self.usable_name(prop_name, prop_path, root=root):
                continue
            annotation = self.type_of(
                prop_schema, prop_path, model_name + _camel(prop_name), depth + 1
            )
            fields[prop_name] = (
                annotation,
                self.field_info(prop_schema, annotation, prop_path, prop_name in required),
            )
        description = schema.get("description")
        try:
            return create_model(
                model_name,
                __config__=ConfigDict(extra=_EXTRA_BY_ADDITIONAL[additional]),
                __doc__=description if isinstance(description, str) else None,
                **fields,
            )
        except (SchemaError, TypeError, ValueError) as exc:  # pragma: no cover - guarded above
            self.refuse(path, f"cannot build a model: {_short(str(exc))}")
            return Any

    def usable_name(self, name: str, path: str, *, root: bool) -> bool:
        if not PROPERTY_NAME.fullmatch(name):
            self.refuse(
                path,
                "property names must be 1-64 letters, digits, '_', '.' or '-' "
                "and start with a letter or digit",
            )
            return False
        if hasattr(BaseModel, name) or name.startswith(_PYDANTIC_PROTECTED):
            self.refuse(path, f"the property name {name!r} is reserved by pydantic")
            return False
        if root and name in RESERVED_ARGUMENT_NAMES:
            self.refuse(path, f"the argument name {name!r} is reserved by LangChain")
            return False
        return True

    def field_info(self, schema: Any, annotation: Any, path: str, required: bool) -> Any:
        description = schema.get("description") if isinstance(schema, dict) else None
        if not isinstance(description, str):
            description = None
        if required:
            return Field(description=description)
        if not isinstance(schema, dict) or "default" not in schema:
            # Absent means absent: None never validates (no nullable types) and is dropped.
            return Field(default=None, description=description)
        default = schema["default"]
        try:
            TypeAdapter(annotation).validate_python(default)
        except ValidationError:
            self.refuse(_join(path, "default"), "the default does not match the property's schema")
        return Field(default=default, description=description, validate_default=True)

    def array_type(self, schema: dict[str, Any], path: str, model_name: str, depth: int) -> Any:
        items = schema.get("items")
        if items is None:
            item_type: Any = Any
        elif isinstance(items, dict):
            item_type = self.type_of(items, _join(path, "items"), model_name + "Item", depth + 1)
            if isinstance(items.get("description"), str):  # a field carries its own; an item not
                item_type = Annotated[
                    item_type, _JsonSchemaAnnotations({"description": items["description"]})
                ]
        else:
            self.refuse(_join(path, "items"), "must be one schema (tuple forms are not supported)")
            item_type = Any
        return self.constrained(list[item_type], schema, path, ("minItems", "maxItems"))

    def scalar_type(self, type_name: str, schema: dict[str, Any], path: str) -> Any:
        base: Any = _SCALARS[type_name]
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                self.refuse(_join(path, "enum"), "must be a non-empty list")
            elif not all(_is_json_type(v, type_name) for v in values):
                self.refuse(_join(path, "enum"), f"every value must be of type {type_name}")
            else:
                base = Literal[tuple(values)]
        keywords = (
            ("minLength", "maxLength", "pattern")
            if type_name == "string"
            else ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        )
        return self.constrained(base, schema, path, keywords)

    def constrained(
        self, base: Any, schema: dict[str, Any], path: str, keywords: tuple[str, ...]
    ) -> Any:
        constraints: dict[str, Any] = {}
        for keyword in keywords:
            if keyword not in schema:
                continue
            value = schema[keyword]
            if keyword == "pattern":
                if self.valid_pattern(value, _join(path, keyword)):
                    constraints["pattern"] = value
            elif keyword in ("minLength", "maxLength", "minItems", "maxItems"):
                if _is_json_type(value, "integer") and value >= 0:
                    constraints[_CONSTRAINT_FIELDS[keyword]] = value
                else:
                    self.refuse(_join(path, keyword), "must be a non-negative integer")
            elif _is_json_type(value, "number") and not (keyword == "multipleOf" and value <= 0):
                constraints[_CONSTRAINT_FIELDS[keyword]] = value
            else:
                self.refuse(_join(path, keyword), "must be a number (positive for multipleOf)")
        metadata: list[Any] = [Field(**constraints)] if constraints else []
        extra: dict[str, Any] = {k: schema[k] for k in ("format", "examples") if k in schema}
        if extra:
            metadata.append(_JsonSchemaAnnotations(extra))
        return Annotated[(base, *metadata)] if metadata else base

    def valid_pattern(self, pattern: Any, path: str) -> bool:
        if not isinstance(pattern, str):
            self.refuse(path, "must be a string")
            return False
        try:
            # pydantic's default (Rust) regex engine runs in linear time: no ReDoS from
            # model-written input. It has no lookaround or backreferences.
            TypeAdapter(Annotated[str, Field(pattern=pattern)])
        except SchemaError:
            self.refuse(
                path,
                "not a supported regular expression (lookaround and backreferences "
                "are not available)",
            )
            return False
        return True


def _is_json_type(value: Any, type_name: str) -> bool:
    if isinstance(value, bool):
        return type_name == "boolean"
    if type_name == "integer":
        return isinstance(value, int)
    if type_name == "number":
        return isinstance(value, int | float)
    return isinstance(value, _SCALARS.get(type_name, object))


def _model_name(name: str) -> str:
    camel = _camel(name)
    return f"{camel}Args" if camel and camel[0].isalpha() else f"Tool{camel}Args"


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def _join(*parts: object) -> str:
    return ".".join(str(part) for part in parts)


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
