# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan: the ordered actions a run takes, each with what it changes and what it costs.

One action is one step of the apply: the mutating AWS calls it makes are listed in ``calls``, so
that a test can match what was recorded against what was planned. ``runner`` says who carries the
step out: ``stack`` (the planner's own apply, in aurora_stack) or one of the role's steps that run
an amazon.aws module for a generic resource (security group, subnet group, IAM role, topic, backup).

The JSON form (``plan_document``) is versioned: ``schema`` and ``schema_version`` change only when a
key changes meaning or goes away; new keys may appear within a version. docs/plan-schema.json is
its JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

SCHEMA = "vitality.aurora/plan"
SCHEMA_VERSION = 1

# What a step does to the running database, least to most disruptive.
ONLINE = "online"  # nothing restarts, connections stay
PENDING_REBOOT = "pending-reboot"  # recorded now, takes effect at the instance's next restart
REBOOT = "reboot"  # the one instance named restarts (a reader: its connections drop)
FAILOVER = "failover"  # the writer role moves: writes pause while the endpoint follows (~30 s)
WRITER_RESTART = "writer-restart"  # the writer restarts in place: writes stop until it is back
ALL_INSTANCES_RESTART = "all-instances-restart"  # every instance restarts together: the cluster is down
IMPOSSIBLE = "impossible-in-place"  # AWS cannot do it in place: the run stops before any call
REPLACEMENT = "replacement"  # a new resource takes the place of the old one

IMPACTS = (ONLINE, PENDING_REBOOT, REBOOT, FAILOVER, WRITER_RESTART, ALL_INSTANCES_RESTART, REPLACEMENT, IMPOSSIBLE)

NOW = "now"
MAINTENANCE_WINDOW = "maintenance-window"
NEXT_RESTART = "next-restart"
WHENS = (NOW, MAINTENANCE_WINDOW, NEXT_RESTART)

STACK = "stack"  # carried out by the planner's own apply

# Words for the kinds of resource, in the plan's text.
LABELS = {
    "security_group": "security group",
    "subnet_group": "DB subnet group",
    "parameter_group": "parameter group",
    "cluster": "cluster",
    "instance": "instance",
    "custom_endpoint": "custom endpoint",
    "monitoring_role": "IAM role",
    "backup_role": "IAM role",
    "backup_vault": "backup vault",
    "backup_plan": "backup plan",
    "backup_selection": "backup selection",
    "backup_copy_key": "KMS key",
    "backup_copy_vault": "backup copy vault",
    "event_topic_key": "KMS key",
    "event_topic": "SNS topic",
    "event_subscription": "event subscription",
    "alarm": "CloudWatch alarm",
    "alarms": "CloudWatch alarms",
    "autoscaling_target": "scalable target",
    "scaling_policy": "scaling policy",
    "blue_green_deployment": "blue/green deployment",
    "snapshot_export": "snapshot export",
    "global_cluster": "global cluster",
}


class Action:
    """One step of the plan. ``changes``: [{attribute, before, after}] (values as the plan shows them)."""

    __slots__ = (
        "resource",
        "name",
        "change",
        "changes",
        "impact",
        "when",
        "unavailability",
        "runner",
        "calls",
        "note",
        "request",
        "order",
    )

    def __init__(
        self,
        resource,
        name,
        change,
        changes=(),
        impact=ONLINE,
        when=NOW,
        unavailability="none",
        runner=STACK,
        calls=(),
        note="",
        request=None,
    ):
        if impact not in IMPACTS:
            raise ValueError(f"unknown impact {impact!r}")
        if when not in WHENS:
            raise ValueError(f"unknown when {when!r}")
        self.resource = resource
        self.name = name
        self.change = change
        self.changes = [dict(c) for c in changes]
        self.impact = impact
        self.when = when
        self.unavailability = unavailability
        self.runner = runner
        self.calls = list(calls)
        self.note = note
        # What the apply needs to make the call(s): never shown, never saved (it may hold a secret).
        self.request = request or {}
        self.order = 0

    def label(self):
        return f"{LABELS.get(self.resource, self.resource)} {self.name}"

    def to_dict(self):
        return {
            "order": self.order,
            "resource": self.resource,
            "name": self.name,
            "change": self.change,
            "changes": [dict(c) for c in self.changes],
            "impact": self.impact,
            "when": self.when,
            "unavailability": self.unavailability,
            "runner": self.runner,
            "calls": list(self.calls),
            "note": self.note,
        }

    def line(self):
        details = "; ".join(change_words(c) for c in self.changes)
        text = f"{self.order}. {self.label()}: {self.change}" + (f" ({details})" if details else "")
        cost = self.impact if self.when == NOW else f"{self.impact}, {self.when}"
        text += f" [{cost}]"
        if self.unavailability and self.unavailability != "none":
            text += f" - {self.unavailability}"
        if self.note:
            text += f". {self.note}"
        return text

    def __repr__(self):
        return f"Action({self.line()!r})"


def value_words(value):
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_words(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={value_words(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def change_words(change):
    attribute = change.get("attribute", "")
    if "before" not in change and "after" not in change:
        return attribute
    return f"{attribute} {value_words(change.get('before'))} -> {value_words(change.get('after'))}"


def number(actions):
    """Give the actions their execution order, as listed."""
    for position, action in enumerate(actions, start=1):
        action.order = position
    return actions


def worst(actions):
    worst_seen = None
    for action in actions:
        if worst_seen is None or IMPACTS.index(action.impact) > IMPACTS.index(worst_seen):
            worst_seen = action.impact
    return worst_seen


def digest(value):
    """A stable digest of a JSON-able value: what a saved plan is matched against."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_document(actions, inputs_digest, stack, created_at=None):
    """The plan as JSON: versioned, ordered, with the digests an apply of a saved plan is checked against."""
    steps = [action.to_dict() for action in actions]
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "stack": stack,
        "created_at": created_at,
        "inputs_digest": inputs_digest,
        "actions_digest": digest(steps),
        "changes": len(steps),
        "worst_impact": worst(actions),
        "actions": steps,
        "lines": [action.line() for action in actions],
    }


def unnumbered(line):
    number_part, dot, rest = str(line).partition(". ")
    return rest if dot and number_part.isdigit() else str(line)


def saved_plan_problems(saved, current):
    """Why a saved plan no longer matches the plan made now ([] when it does): the apply then changes nothing."""
    problems = []
    if not isinstance(saved, dict) or saved.get("schema") != SCHEMA:
        return [f"the saved plan is not a {SCHEMA} document"]
    if saved.get("schema_version") != SCHEMA_VERSION:
        return [
            f"the saved plan has schema_version {saved.get('schema_version')!r}, this collection reads {SCHEMA_VERSION}"
        ]
    if saved.get("stack") != current["stack"]:
        problems.append(f"it was made for stack {saved.get('stack')!r}, this run is for {current['stack']!r}")
    if saved.get("inputs_digest") != current["inputs_digest"]:
        problems.append("the inventory's settings have changed since it was made")
    if saved.get("actions_digest") != current["actions_digest"]:
        # Without their step numbers: one step more near the start renumbers every later one.
        before = [unnumbered(line) for line in saved.get("lines") or []]
        now = [unnumbered(line) for line in current["lines"]]
        gone = [line for line in before if line not in now]
        new = [line for line in now if line not in before]
        detail = "; ".join(
            [f"no longer planned: {line}" for line in gone] + [f"now also planned: {line}" for line in new]
        )
        problems.append("the stack has changed since it was made" + (f" ({detail})" if detail else ""))
    return problems


def as_utc(value):
    """A time as botocore gives it (a datetime, aware) or as JSON holds it (ISO 8601 text), in UTC; None if neither.
    The planners compare such times with the run's (a retention, a modification AWS allows again after a date)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
