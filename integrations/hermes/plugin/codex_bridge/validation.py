"""Checks tool arguments against the tool's own JSON-Schema ``parameters``.

The schema the model reads is the one the handler enforces, so the two cannot drift apart. Only the
subset of JSON Schema the tool schemas use is understood: an object of named properties with
``required`` and ``additionalProperties: false``; strings (``enum``, ``minLength``, ``maxLength``,
``pattern``), integers (``minimum``, ``maximum``) and an object mapping names to arrays of strings.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_JSON_TYPE_NAMES = {
    bool: "boolean", int: "integer", float: "number", str: "string",
    list: "array", dict: "object", type(None): "null",
}


class ArgumentError(ValueError):
    """One sentence saying which argument is wrong and what is expected."""


def validate_arguments(parameters: Mapping[str, Any], args: Any) -> dict[str, Any]:
    """Returns the arguments that were given (``None`` counts as not given); raises ArgumentError."""
    if not isinstance(args, Mapping):
        raise ArgumentError(f"The arguments must be a JSON object, got {_type_name(args)}.")
    properties: Mapping[str, Any] = parameters.get("properties", {})
    unknown = sorted(str(key) for key in args if key not in properties)
    if unknown:
        accepted = ", ".join(properties) or "no arguments"
        raise ArgumentError(f"Unknown argument {unknown[0]!r}; this tool accepts: {accepted}.")

    given = {key: value for key, value in args.items() if value is not None}
    for name in parameters.get("required", []):
        if name not in given:
            raise ArgumentError(f"The argument {name!r} is required.")
    return {name: _check(name, properties[name], value) for name, value in given.items()}


def _check(name: str, schema: Mapping[str, Any], value: Any) -> Any:
    expected = schema.get("type")
    if expected == "string":
        return _check_string(name, schema, value)
    if expected == "integer":
        return _check_integer(name, schema, value)
    if expected == "object":
        return _check_string_lists(name, schema, value)
    raise ArgumentError(f"The argument {name!r} has a schema this plugin cannot check.")


def _check_string(name: str, schema: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"{name!r} must be a string, got {_type_name(value)}.")
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        raise ArgumentError(f"{name!r} must be one of {', '.join(enum)}; got {_preview(value)}.")
    # Whitespace-only text is as empty as "" for a prompt or an id.
    if schema.get("minLength", 0) > 0 and not value.strip():
        raise ArgumentError(f"{name!r} must not be empty.")
    max_length = schema.get("maxLength")
    if max_length is not None and len(value) > max_length:
        raise ArgumentError(f"{name!r} must be at most {max_length} characters, got {len(value)}.")
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        raise ArgumentError(f"{name!r} must match {pattern}; got {_preview(value)}.")
    return value


def _check_integer(name: str, schema: Mapping[str, Any], value: Any) -> int:
    # bool is an int in Python but not in JSON; 5.0 is a fine integer in JSON.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{name!r} must be an integer, got {_type_name(value)}.")
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ArgumentError(f"{name!r} must be between {low} and {high}, got {value}.")
    return value


def _check_string_lists(name: str, schema: Mapping[str, Any], value: Any) -> dict[str, list[str]]:
    """An object whose every value is an array of strings (``answers``: question id → answers)."""
    if not isinstance(value, Mapping):
        raise ArgumentError(f"{name!r} must be an object, got {_type_name(value)}.")
    if len(value) < schema.get("minProperties", 0):
        raise ArgumentError(f"{name!r} must not be empty.")
    checked: dict[str, list[str]] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ArgumentError(f"{name!r} has an empty key; keys are question ids.")
        if not isinstance(item, list):
            raise ArgumentError(f"{name!r} must map each key to a list of strings; "
                                f"{key!r} maps to {_type_name(item)}.")
        strays = [answer for answer in item if not isinstance(answer, str)]
        if strays:
            raise ArgumentError(f"{name!r} must map each key to a list of strings; "
                                f"{key!r} holds {_type_name(strays[0])}.")
        checked[key] = list(item)
    return checked


def _type_name(value: Any) -> str:
    for python_type, json_name in _JSON_TYPE_NAMES.items():
        if type(value) is python_type:
            return json_name
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _preview(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")
