"""A distribution's licence as an SBOM states it: an SPDX expression where its metadata says one
without doubt, else the name it gives.

In order (core metadata 2.4, https://packaging.python.org/en/latest/specifications/core-metadata/):
``License-Expression`` is an SPDX expression by definition; else a one-line ``License`` that is
an SPDX identifier, or one of the common spellings below that names exactly one; else a single
``License ::`` classifier that names exactly one licence (``MIT License`` is MIT; ``Apache
Software License`` and ``BSD License`` name no version or variant, so they stay names). Several
classifiers, or a ``License`` of several lines (a licence's whole text), give a name, never a
guessed expression: an SBOM consumer reads a wrong identifier as a fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

# Trove classifiers (https://pypi.org/classifiers/) that name exactly one SPDX licence.
CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}

# One-line ``License:`` values seen on PyPI that name exactly one SPDX licence (compared lowercased).
SPELLINGS = {
    "mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "mit-0": "MIT-0",
    "apache-2.0": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache 2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0", "asl 2": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "3-clause bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause", "new bsd": "BSD-3-Clause", "new bsd license": "BSD-3-Clause",
    "modified bsd license": "BSD-3-Clause", "simplified bsd": "BSD-2-Clause",
    "isc": "ISC", "isc license": "ISC", "mpl-2.0": "MPL-2.0", "mpl 2.0": "MPL-2.0",
    "psf-2.0": "PSF-2.0", "psf": "PSF-2.0", "psf license": "PSF-2.0", "unlicense": "Unlicense",
    "lgpl-2.1-or-later": "LGPL-2.1-or-later", "lgpl-3.0-or-later": "LGPL-3.0-or-later",
    "gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-3.0-or-later": "GPL-3.0-or-later",
    "gpl-3.0-only": "GPL-3.0-only", "gpl-2.0-only": "GPL-2.0-only", "zlib": "Zlib",
    "bsl-1.0": "BSL-1.0", "cc0-1.0": "CC0-1.0", "0bsd": "0BSD", "epl-2.0": "EPL-2.0",
}


class Licence(NamedTuple):
    expression: str  # an SPDX license expression, or ""
    name: str  # what the metadata calls it when no expression is certain, or ""
    source: str  # "License-Expression", "License", "Classifier" or "" (none stated)


NONE = Licence("", "", "")


def licence(expression: str, text: str, classifiers: Sequence[str]) -> Licence:
    """The licence core metadata states (see the module's doc for the order)."""
    if expression.strip():
        return Licence(expression.strip(), "", "License-Expression")
    line = text.strip()
    one_line = bool(line) and "\n" not in line and len(line) <= 80 and line.lower() not in ("unknown", "none", "")
    if one_line and line.lower() in SPELLINGS:
        return Licence(SPELLINGS[line.lower()], "", "License")
    if len(classifiers) == 1 and classifiers[0] in CLASSIFIERS:
        return Licence(CLASSIFIERS[classifiers[0]], "", "Classifier")
    if one_line:
        return Licence("", line, "License")
    if classifiers:
        return Licence("", " / ".join(c.rsplit(" :: ", 1)[-1] for c in classifiers), "Classifier")
    return NONE
