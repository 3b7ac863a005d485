"""What deployment makes of a template's values, as far as the template alone tells.

Intrinsic functions (``!Ref``, ``!Sub``, ...) are unknown before deployment: a setting that is one
is left out, so no rule sees it, except ``!Ref`` to a parameter with a ``Default``, read as the
default. In policies and environment values, ``!Sub`` keeps its text and unknown references read
as ``${Name}``, which the IAM rules treat as "some text", never as a wildcard; a ``!Ref`` to a list
parameter is a list. SAM's ``Globals: Function:`` apply to each ``AWS::Serverless::Function`` as SAM
applies them, ``IgnoreGlobals`` too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lpack.inputs.template.loader import Located, LocatedList

SAM_FUNCTION = "AWS::Serverless::Function"
PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix")


def is_intrinsic(value: object) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


class Resolver:
    """Reads values as deployment would, as far as the template alone tells."""

    def __init__(self, data: Mapping[Any, Any]) -> None:
        params = data.get("Parameters")
        self.defaults = {name: p["Default"] for name, p in (params.items() if isinstance(params, dict) else ())
                         if isinstance(p, dict) and "Default" in p and not is_intrinsic(p["Default"])}
        # CommaDelimitedList and List<...> parameters: a !Ref to one is a list
        self.lists = {name: [item.strip() for item in str(self.defaults[name]).split(",")]
                      for name, p in (params.items() if isinstance(params, dict) else ())
                      if name in self.defaults and isinstance(p, dict)
                      and str(p.get("Type", "")).startswith(("CommaDelimitedList", "List<"))}
        globals_ = data.get("Globals")
        function_globals = globals_.get("Function") if isinstance(globals_, dict) else None
        self.globals: Located = function_globals if isinstance(function_globals, Located) else Located(1)

    def properties(self, resource: Located) -> Located:
        """The function's properties, with SAM's Globals applied (the function's own value wins)
        except those its ``IgnoreGlobals`` attribute names (``'*'``: all of them)."""
        props = resource.get("Properties")
        own = props if isinstance(props, Located) else Located(resource.line)
        if resource.get("Type") != SAM_FUNCTION or not self.globals:
            return own
        ignored = resource.get("IgnoreGlobals")
        if ignored == "*":
            return own
        global_props = Located(self.globals.line)
        for key, value in self.globals.items():
            if not (isinstance(ignored, list) and key in ignored):
                global_props[key], global_props.lines[key] = value, self.globals.line_of(key)
        merged = _merge(global_props, own)
        assert isinstance(merged, Located)
        return merged

    def items(self, value: object) -> list[str] | None:
        """A list an intrinsic makes, when the template tells it: ``!Ref`` to a list parameter with
        a default, ``!Split`` of known text."""
        if not is_intrinsic(value):
            return None
        assert isinstance(value, dict)
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str) and arg in self.lists:
            return list(self.lists[arg])
        if key == "Fn::Split" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]:
            text = self.text(arg[1])
            return text.split(arg[0]) if text is not None else None
        return None

    def value(self, value: object) -> object:
        """The value, with ``!Ref`` to a parameter with a default resolved; None when unknown."""
        if isinstance(value, dict) and is_intrinsic(value):
            ref = value.get("Ref")
            if isinstance(ref, str) and ref in self.defaults:
                return self.defaults[ref]
            return None
        return value

    def text(self, value: object) -> str | None:
        """A string as the deployed template would have it; unknowns as ``${Name}``."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not is_intrinsic(value):
            return None
        assert isinstance(value, dict)
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return str(self.defaults[arg]) if arg in self.defaults else _placeholder(arg)
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return _placeholder(".".join(str(p) for p in parts))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            items = [self.text(item) for item in arg[1]]
            if isinstance(arg[0], str) and all(item is not None for item in items):
                return arg[0].join(item for item in items if item is not None)
        return _placeholder(str(key))

    def _sub(self, arg: object) -> str | None:
        template, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if not isinstance(template, str):
            return None
        names = variables if isinstance(variables, dict) else {}

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in names and (text := self.text(names[name])) is not None:
                return text
            if name in self.defaults:
                return str(self.defaults[name])
            return _placeholder(name)

        return re.sub(r"\$\{(?!!)([^}]*)\}", replace, template).replace("${!", "${")


def _placeholder(name: str) -> str:
    """``${Name}`` for a value known only at deployment: IAM rules read it as some text. Colons
    become dots (``${AWS.Region}``), so an ARN keeps its six fields."""
    return "${" + name.replace("::", ".").replace(":", ".") + "}"


def as_written(text: str) -> str:
    """``text`` with the pseudo parameters a placeholder renamed shown as a template writes them:
    ``${AWS.Region}`` -> ``${AWS::Region}``, for messages (matching keeps the colon-free form)."""
    return re.sub(r"\$\{AWS\.(\w+)\}", r"${AWS::\1}", text)


def ref_target(value: object) -> str | None:
    """The logical ID a ``!Ref X`` or ``!GetAtt X.Attr`` names."""
    if not is_intrinsic(value):
        return None
    assert isinstance(value, dict)
    (key, arg), = value.items()
    if key == "Ref" and isinstance(arg, str):
        return arg
    if key == "Fn::GetAtt":
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return str(parts[0]) if parts else None
    return None


def has_intrinsic(value: object) -> bool:
    if is_intrinsic(value):
        return True
    if isinstance(value, dict):
        return any(has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(has_intrinsic(v) for v in value)
    return False


def _merge(global_value: object, own: object) -> object:
    """SAM's Globals: maps merge (the function's keys win), lists add up (globals first),
    anything else is replaced."""
    if isinstance(global_value, Located) and isinstance(own, Located) and not is_intrinsic(own):
        merged = Located(own.line)
        for source in (global_value, own):
            for key, value in source.items():
                merged[key] = _merge(merged.get(key), value)
                merged.lines[key] = source.line_of(key)
        return merged
    if isinstance(global_value, LocatedList) and isinstance(own, LocatedList):
        joined = LocatedList(own.line)
        joined.extend([*global_value, *own])
        joined.lines.extend([*global_value.lines, *own.lines])
        return joined
    return own
