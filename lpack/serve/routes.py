"""The HTTP routes of a project: which function answers which method and path, in which event shape.

A template's triggers (``lpack.inputs.template.http``) each become a route: SAM ``Api`` events and
REST APIs' OpenAPI operations (``api-gateway-v1``), ``HttpApi`` events and HTTP APIs' operations
(``api-gateway-v2``, payload 1.0 or 2.0), function URLs (``function-url``) and ALB target groups
(``alb``), the last two catch-alls. A function without one (and every function of a plain
project) gets ``/{function}`` and ``/{function}/{proxy+}`` in the shape ``--event-shape`` names,
and ``/`` too when it is the only function.

``match`` picks a route as API Gateway does: literal path segments before ``{param}`` before
``{proxy+}`` (greedy paths last), a method's own route before ``ANY``; the ``$default`` route and
function URL / ALB catch-alls only when nothing else matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from lpack.inputs.config import Project
    from lpack.inputs.template.http import HttpTrigger

REST = "api-gateway-v1"
V2 = "api-gateway-v2"
FUNCTION_URL = "function-url"
ALB = "alb"
SHAPES = (REST, V2, FUNCTION_URL, ALB)
CATCH_ALL = "/{proxy+}"
_KIND_SHAPES = {"Api": REST, "HttpApi": V2, "FunctionUrl": FUNCTION_URL, "ALB": ALB}
_SEGMENT = re.compile(r"\{([^{}/]+?)(\+?)\}")


class Route(NamedTuple):
    function: str  # the project's unit name (as `lpack invoke -f NAME` takes it)
    shape: str  # "api-gateway-v1" | "api-gateway-v2" | "function-url" | "alb"
    method: str  # "GET", "POST", ... or "ANY"
    path: str  # "/items/{id}", "/{proxy+}", "/"
    resource: str  # v1 `resource`; v2 the route's path, or "$default"
    stage: str  # v1: "Prod" or the template's StageName; v2: "$default" or the StageName
    where: str  # where it was declared, for messages: "template.yaml: Resources.Fn.Events.Get"
    payload_version: str = ""  # HttpApi PayloadFormatVersion "1.0" | "2.0" (v2 default "2.0")
    binary_types: tuple[str, ...] = ()  # REST API BinaryMediaTypes (v1: bodies of these types are base64)
    multi_value: bool = False  # ALB: the target group has lambda.multi_value_headers.enabled

    @property
    def catch_all(self) -> bool:
        """Matches every path, ``/`` included: HTTP API's ``$default``, a function URL, an ALB target."""
        return self.path == CATCH_ALL and (self.resource == "$default" or self.shape in (FUNCTION_URL, ALB))


def routes(project: Project, event_shape: str | None) -> list[Route]:
    """Every HTTP route of the project, most specific first (see the module's doc)."""
    functions = [unit.name for unit in project.units if unit.kind == "function"]
    found = [route for route in _template_routes(project) if route.function in functions]
    if event_shape is not None:
        if event_shape not in SHAPES:
            from lpack.core.errors import UsageError

            raise UsageError(f"--event-shape {event_shape}: not an event shape; use one of {', '.join(SHAPES)}")
        served = {route.function for route in found}
        plain = [name for name in functions if name not in served]
        found += [r for name in plain for r in _plain_routes(name, event_shape, alone=len(functions) == 1)]
    unique: dict[tuple[str, str, str, str], Route] = {}
    for route in found:  # SAM writes an event's route into its API's OpenAPI body too: keep one
        unique.setdefault((route.function, route.shape, route.method, route.path), route)
    return sorted(unique.values(), key=_precedence)


def _template_routes(project: Project) -> list[Route]:
    from lpack.inputs.template import looks_like_template

    path = project.config_path
    if path is None or not looks_like_template(path):
        return []
    from lpack.analysis.package import display_path
    from lpack.inputs.template.http import http_triggers

    triggers = http_triggers(path)
    shown = display_path(path)
    catch_alls = {t.function for t in triggers if t.kind in ("FunctionUrl", "ALB")}
    return [_route(trigger, shown, prefixed=len(catch_alls) > 1) for trigger in triggers]


def _route(trigger: HttpTrigger, shown: str, *, prefixed: bool) -> Route:
    """A template trigger's route; function URLs and ALB targets take every path, or, when
    several functions have one, the paths under ``/{function}/``."""
    shape = _KIND_SHAPES[trigger.kind]
    where = f"{shown}: {trigger.where}"
    if shape in (FUNCTION_URL, ALB):
        path = f"/{trigger.function}{CATCH_ALL}" if prefixed else CATCH_ALL
        return Route(trigger.function, shape, "ANY", path, path, "$default" if shape == FUNCTION_URL else "",
                     where, multi_value=trigger.multi_value)
    if trigger.path == "$default":
        return Route(trigger.function, shape, "ANY", CATCH_ALL, "$default", trigger.stage, where,
                     payload_version=trigger.payload_version)
    return Route(trigger.function, shape, trigger.method, trigger.path, trigger.path, trigger.stage, where,
                 payload_version=trigger.payload_version, binary_types=trigger.binary_types)


def _plain_routes(function: str, shape: str, *, alone: bool) -> list[Route]:
    stage = "Prod" if shape == REST else "$default"
    version = "2.0" if shape == V2 else ""
    paths = [f"/{function}", f"/{function}{CATCH_ALL}", *(["/"] if alone else [])]
    return [Route(function, shape, "ANY", path, path, stage, "--event-shape", payload_version=version)
            for path in paths]


def _precedence(route: Route) -> tuple[bool, bool, tuple[int, ...], bool, str]:
    """Sort key: catch-alls last, greedy paths after the rest, literal segments before
    parameters, a method before ``ANY``."""
    kinds = tuple(0 if not (m := _SEGMENT.fullmatch(s)) else 2 if m.group(2) else 1
                  for s in _segments(route.path))
    return route.catch_all, 2 in kinds, kinds, route.method == "ANY", route.path


def match(routes: Sequence[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route that answers ``method path`` (a raw, percent-encoded path), and its path
    parameters (``{"id": "42"}``, ``{"proxy": "a/b"}``, still percent-encoded); None when none does."""
    wanted = method.upper()
    for route in _ordered(tuple(routes)):
        if route.method not in (wanted, "ANY"):
            continue
        if route.catch_all:
            return route, {}
        params = _path_match(route.path, path)
        if params is not None:
            return route, params
    return None


@lru_cache(maxsize=16)
def _ordered(routes: tuple[Route, ...]) -> list[Route]:
    """The routes in match order, sorted once per table (a server asks with the same table each time)."""
    return sorted(routes, key=_precedence)


def _path_match(pattern: str, path: str) -> dict[str, str] | None:
    regex, names = _compiled(pattern)
    found = regex.fullmatch(path.rstrip("/") or "/")
    return dict(zip(names, found.groups())) if found is not None else None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """``/items/{id}/{rest+}`` -> a regex with one group per parameter, and their names."""
    names: list[str] = []
    parts: list[str] = []
    for segment in _segments(pattern):
        param = _SEGMENT.fullmatch(segment)
        if param is None:
            parts.append(re.escape(segment))
            continue
        names.append(param.group(1))
        parts.append("(.+)" if param.group(2) else "([^/]+)")
    return re.compile("/" + "/".join(parts)), tuple(names)


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]
