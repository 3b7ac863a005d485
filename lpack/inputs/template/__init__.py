"""SAM and CloudFormation templates -> a Project lpack checks and builds, with the template's lines.

One module per concept:

- ``loader``: the YAML/JSON reader that keeps every key's line (``Located``), CloudFormation's
  short-form tags, and which files are templates;
- ``intrinsics``: intrinsic functions, Parameters' defaults and SAM's Globals, read as deployment
  would as far as the template tells;
- ``project``: the functions and layers -> ``Project`` of ``Unit``s, their settings and lines;
- ``policies``: each function's IAM documents (execution role, managed policies, trust and
  resource-based policies) in the model of policy files, for the IAM rules ``check`` runs.
"""

from __future__ import annotations

from lpack.inputs.template.intrinsics import (
    PSEUDO_PARAMETERS,
    SAM_FUNCTION,
    is_intrinsic,
    ref_target,
)
from lpack.inputs.template.loader import (
    SAM_TRANSFORM,
    TEMPLATE_NAMES,
    TEMPLATE_SUFFIXES,
    Located,
    LocatedList,
    find_template,
    is_template,
    looks_like_template,
    read_template,
)
from lpack.inputs.template.policies import BASIC_EXECUTION_ROLE, FunctionIam
from lpack.inputs.template.project import CFN_FUNCTION, LAYER_TYPES, Template, load_template

__all__ = [
    "BASIC_EXECUTION_ROLE",
    "CFN_FUNCTION",
    "LAYER_TYPES",
    "PSEUDO_PARAMETERS",
    "SAM_FUNCTION",
    "SAM_TRANSFORM",
    "TEMPLATE_NAMES",
    "TEMPLATE_SUFFIXES",
    "FunctionIam",
    "Located",
    "LocatedList",
    "Template",
    "find_template",
    "is_intrinsic",
    "is_template",
    "load_template",
    "looks_like_template",
    "read_template",
    "ref_target",
]
