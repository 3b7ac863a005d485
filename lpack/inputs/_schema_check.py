"""lpack's own check of a configuration table against lpack's schema (schemas/lpack.schema.json),
without importing jsonschema: ~50 ms of imports (referencing, attrs, the format modules) that every
cold build paid for a table of a few keys.

It knows the part of JSON Schema draft 7 that lpack's schema uses and reports each mistake as
jsonschema's ``Draft7Validator.iter_errors`` does (the same keyword, value, instance, path,
message and, under ``anyOf``, the branches' errors), so that config.py turns either into the same
lines; tests/inputs/test_schema_check.py holds the two to the same answers. A schema keyword it
does not know, a ``$ref`` outside the document or another draft raises ``Unsupported``: the
caller then asks jsonschema rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

DRAFT7 = "http://json-schema.org/draft-07/schema#"
# Keywords that describe and never fail, and that draft 7 validators skip
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "definitions", "examples"})


class Unsupported(Exception):
    """The schema uses something this checker does not implement."""


class SchemaError(NamedTuple):
    """One mistake, with the attributes of jsonschema's ValidationError that lpack reads."""

    validator: str  # the keyword that failed: "type", "enum", "additionalProperties" ...
    validator_value: Any  # its value in the schema
    instance: Any  # the value that failed it
    absolute_path: tuple[str | int, ...]  # keys and indexes from the table to the value
    schema: Mapping[str, Any]  # the (sub)schema holding the keyword
    message: str
    context: tuple[SchemaError, ...] = ()  # under anyOf: every branch's errors


def iter_errors(schema: Mapping[str, Any], instance: object) -> Iterator[SchemaError]:
    """Each mistake of ``instance`` against ``schema`` (a draft-07 document), in jsonschema's order."""
    if schema.get("$schema", DRAFT7) != DRAFT7:
        raise Unsupported(f"$schema {schema['$schema']!r}")
    return _Checker(schema).errors(schema, instance, ())


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.steps: dict[int, tuple[tuple[str, Any, Any], ...]] = {}  # by id(schema): its keywords' checks

    def errors(self, schema: object, instance: object, path: tuple[str | int, ...]) -> Iterator[SchemaError]:
        for keyword, check, value in self.steps_of(schema):
            for failed in check(self, value, instance, schema, path):
                if isinstance(failed, str):  # a message: the mistake is this keyword's, here
                    yield SchemaError(keyword, value, instance, path, schema, failed)  # type: ignore[arg-type]
                else:
                    yield failed

    def steps_of(self, schema: object) -> tuple[tuple[str, Any, Any], ...]:
        """The checks a (sub)schema makes, in its keywords' order: worked out once per schema,
        as a large project's 400 functions share theirs."""
        steps = self.steps.get(id(schema))
        if steps is None:
            steps = self.steps[id(schema)] = self._steps(schema)
        return steps

    def _steps(self, schema: object) -> tuple[tuple[str, Any, Any], ...]:
        if not isinstance(schema, dict):
            raise Unsupported(f"a boolean or {type(schema).__name__} schema")
        if "$ref" in schema:  # draft 7: a $ref's siblings are ignored
            return (("$ref", _ref, self.resolve(schema["$ref"])),)
        steps = []
        for keyword, value in schema.items():
            if keyword not in ANNOTATIONS:
                check = _KEYWORDS.get(keyword)
                if check is None:
                    raise Unsupported(f"keyword {keyword!r}")
                steps.append((keyword, check, value))
        return tuple(steps)

    def resolve(self, ref: object) -> object:
        if not isinstance(ref, str) or not ref.startswith("#/definitions/") or ref.count("/") != 2:
            raise Unsupported(f"$ref {ref!r}")
        definitions = self.root.get("definitions", {})
        name = ref.rsplit("/", 1)[1]
        if name not in definitions:
            raise Unsupported(f"$ref {ref!r}")
        return definitions[name]


# Each keyword's check yields a message (a mistake of that keyword at this value) or the
# SchemaErrors of the subschemas it descends into.
_Found = Iterator["str | SchemaError"]


def _ref(checker: _Checker, target: object, instance: object, schema: Mapping[str, Any],
         path: tuple[str | int, ...]) -> _Found:
    yield from checker.errors(target, instance, path)  # its errors are the target's, as jsonschema's are


def _type(checker: _Checker, types: object, instance: object, schema: Mapping[str, Any],
          path: tuple[str | int, ...]) -> _Found:
    names = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else None
    if names is None or any(name not in _TYPES for name in names):
        raise Unsupported(f"type {types!r}")
    for name in names:
        if _TYPES[name](instance):
            return
    yield f"{instance!r} is not of type {', '.join(repr(name) for name in names)}"


def _is_integer(value: object) -> bool:
    # draft 6 and 7: a float with no fraction is an integer; a bool never is
    return not isinstance(value, bool) and (isinstance(value, int) or isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}


def _enum(checker: _Checker, allowed: Sequence[object], instance: object, schema: Mapping[str, Any],
          path: tuple[str | int, ...]) -> _Found:
    if not any(_equal(value, instance) for value in allowed):
        yield f"{instance!r} is not one of {allowed!r}"


def _equal(one: object, two: object) -> bool:
    """JSON equality: true is not 1, and lists and tables compare item by item the same way."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # not the same object, so not the same boolean, and never a number
    return one == two


def _pattern(checker: _Checker, pattern: str, instance: object, schema: Mapping[str, Any],
             path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, str) and not re.search(pattern, instance):
        yield f"{instance!r} does not match {pattern!r}"


def _min_length(checker: _Checker, least: int, instance: object, schema: Mapping[str, Any],
                path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, str) and len(instance) < least:
        yield f"{instance!r} {'should be non-empty' if least == 1 else 'is too short'}"


def _max_length(checker: _Checker, most: int, instance: object, schema: Mapping[str, Any],
                path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, str) and len(instance) > most:
        yield f"{instance!r} {'is expected to be empty' if most == 0 else 'is too long'}"


def _max_items(checker: _Checker, most: int, instance: object, schema: Mapping[str, Any],
               path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, list) and len(instance) > most:
        yield f"{instance!r} {'is expected to be empty' if most == 0 else 'is too long'}"


def _unique_items(checker: _Checker, unique: bool, instance: object, schema: Mapping[str, Any],
                  path: tuple[str | int, ...]) -> _Found:
    if unique and isinstance(instance, list) and any(
        _equal(one, two) for index, one in enumerate(instance) for two in instance[index + 1:]
    ):
        yield f"{instance!r} has non-unique elements"


def _items(checker: _Checker, items: object, instance: object, schema: Mapping[str, Any],
           path: tuple[str | int, ...]) -> _Found:
    if not isinstance(items, Mapping):
        raise Unsupported("items as a list or a boolean")
    if isinstance(instance, list):
        for index, item in enumerate(instance):
            yield from checker.errors(items, item, (*path, index))


def _properties(checker: _Checker, properties: Mapping[str, Any], instance: object, schema: Mapping[str, Any],
                path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, dict):
        for key, subschema in properties.items():
            if key in instance:
                yield from checker.errors(subschema, instance[key], (*path, key))


def _additional_properties(checker: _Checker, additional: object, instance: object, schema: Mapping[str, Any],
                           path: tuple[str | int, ...]) -> _Found:
    if not isinstance(instance, dict):
        return
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    known = schema.get("properties", {})
    extras = [key for key in instance if key not in known]
    if isinstance(additional, Mapping):
        for key in extras:
            yield from checker.errors(additional, instance[key], (*path, key))
    elif additional is not False:
        raise Unsupported(f"additionalProperties {additional!r}")
    elif extras:
        listed = ", ".join(repr(key) for key in sorted(extras, key=str))
        yield f"Additional properties are not allowed ({listed} {'was' if len(extras) == 1 else 'were'} unexpected)"


def _property_names(checker: _Checker, names: object, instance: object, schema: Mapping[str, Any],
                    path: tuple[str | int, ...]) -> _Found:
    if isinstance(instance, dict):
        for key in instance:
            yield from checker.errors(names, key, path)  # the table's path: a name is no value


def _all_of(checker: _Checker, schemas: Sequence[object], instance: object, schema: Mapping[str, Any],
            path: tuple[str | int, ...]) -> _Found:
    for subschema in schemas:
        yield from checker.errors(subschema, instance, path)


def _any_of(checker: _Checker, schemas: Sequence[object], instance: object, schema: Mapping[str, Any],
            path: tuple[str | int, ...]) -> _Found:
    branches: list[SchemaError] = []
    for subschema in schemas:
        found = list(checker.errors(subschema, instance, path))
        if not found:
            return
        branches.extend(found)
    yield SchemaError("anyOf", schemas, instance, path, schema,
                      f"{instance!r} is not valid under any of the given schemas", tuple(branches))


_KEYWORDS: dict[str, Callable[..., _Found]] = {
    "type": _type, "enum": _enum, "pattern": _pattern, "minLength": _min_length, "maxLength": _max_length,
    "maxItems": _max_items, "uniqueItems": _unique_items, "items": _items, "properties": _properties,
    "additionalProperties": _additional_properties, "propertyNames": _property_names, "allOf": _all_of,
    "anyOf": _any_of,
}
