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


# --- instance generations (the surge strategy) -------------------------------------------------------------------
#
# A surge creates the new instances beside the old ones, so they need other names. The names alternate between two
# generations of the configured ones: the configured writer and readers (<writer>, <prefix>N), and their alternates
# (<writer>-b, <prefix without its trailing hyphens>-b-N). A surge goes from the generation that holds the writer to
# the other one; the next run adopts the generation that holds the writer as the desired instances, and a later surge
# goes back. Every name the role derives from the instances (alarms, event subscriptions, custom endpoint members,
# outputs, report) comes from the adopted pair, so it follows.

GENERATION_SUFFIX = "-b"


def alternate_names(writer, reader_prefix):
    """The other generation's (writer, reader prefix) of the configured pair."""
    return f"{writer}{GENERATION_SUFFIX}", f"{reader_prefix.rstrip('-')}{GENERATION_SUFFIX}-"


def generations(writer, reader_prefix):
    """Both generations: the configured names first."""
    return [(writer, reader_prefix), alternate_names(writer, reader_prefix)]


def reader_number(identifier, reader_prefix):
    """N of <prefix>N, or None when the identifier is not one of that prefix's readers."""
    if identifier and identifier.startswith(reader_prefix) and identifier[len(reader_prefix) :].isdigit():
        return int(identifier[len(reader_prefix) :])
    return None


def generation_members(identifiers, names):
    """The identifiers that belong to a generation (its writer, its numbered readers)."""
    writer, prefix = names
    return sorted(i for i in identifiers if i == writer or reader_number(i, prefix) is not None)


def generation_of(identifier, writer, reader_prefix):
    """0 (the configured names), 1 (their alternates) or None (neither: a reader the autoscaler made, say)."""
    for index, names in enumerate(generations(writer, reader_prefix)):
        if generation_members([identifier], names):
            return index
    return None


def adopted_generation(writer, reader_prefix, identifiers, cluster_writer):
    """The generation the cluster runs on: the one of its writer; without one (a new cluster, an autoscaled writer),
    the only one with instances; the configured names otherwise."""
    index = generation_of(cluster_writer, writer, reader_prefix) if cluster_writer else None
    if index is None:
        having = [
            n for n, names in enumerate(generations(writer, reader_prefix)) if generation_members(identifiers, names)
        ]
        index = having[0] if len(having) == 1 else 0
    return index


# --- Aurora Global Database (disaster recovery across Regions) ----------------------------------------------------
#
# Both the role (which builds the global cluster and its secondary) and the switchover/failover runbooks derive the
# names from the stack's cluster name, so neither needs the other's variables to find them.


def global_cluster_identifier(cluster_name):
    """The stack's global cluster: '<cluster>-global'."""
    return f"{cluster_name}-global"


def secondary_cluster_identifier(cluster_name, region):
    """The stack's cluster in another Region: '<cluster>-<region>', e.g. vitality-prod-us-west-2. The cluster in the
    stack's own Region keeps its name, whichever of the two writes."""
    return f"{cluster_name}-{region}"
