# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDS naming rules, checked before any AWS call.

Each check returns an error message that names the option, the value and the
rule, or None when the value is valid.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")

# Longest identifiers RDS accepts, by kind of resource.
MAX_LENGTH = {
    "cluster": 63,
    "instance": 63,
    "parameter group": 255,
    "subnet group": 255,
    "snapshot": 255,
}


def identifier_error(option, value, kind):
    """RDS identifier rules: 1..N characters, a letter first, letters/digits/hyphens,
    no two consecutive hyphens, no trailing hyphen."""
    limit = MAX_LENGTH[kind]
    rule = (
        f"an RDS {kind} identifier is 1 to {limit} letters, digits or hyphens, starts with a letter, "
        "and has no two consecutive hyphens and no trailing hyphen"
    )
    if not value or len(value) > limit or not _IDENTIFIER.match(value) or "--" in value or value.endswith("-"):
        return f"{option}={value!r} is invalid: {rule}"
    return None


def engine_major(version):
    """'16.4' -> '16'; '16' -> '16'."""
    return str(version).split(".", 1)[0]


def version_tuple(version):
    parts = []
    for part in str(version).split("."):
        digits = re.match(r"\d+", part)
        parts.append(int(digits.group(0)) if digits else 0)
    return tuple(parts)
