# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CloudWatch alarms of the operations baseline: which alarms the stack wants, read once, planned as Actions.

Every alarm the role makes is named ``vitality.aurora/<cluster>/<metric>`` (the cluster's own alarms) or
``vitality.aurora/<cluster>/<instance>/<metric>`` (an instance's), and that prefix is what makes it the role's:
one DescribeAlarms with ``AlarmNamePrefix`` reads all of them, and an alarm under the prefix that is no longer
wanted (its instance left the cluster, its metric no longer applies) is deleted. An alarm named otherwise is never
read, changed or deleted. Tags are sent when an alarm is created (PutMetricAlarm ignores them on an update) and
not compared afterwards: comparing them would cost a ListTagsForResource per alarm on every run.

``desired`` is the ``alarms`` part of the baseline (baseline_plan's docstring), completed by aurora_stack::

    {
      "cluster_identifier": "vitality-prod-aurora",
      "topic_arn": "arn:aws:sns:...:vitality-prod-db-events",   # alarm and OK actions
      "tags": {...},                                            # sent on create
      "max_connections": None or the cluster parameter group's max_connections (number or RDS formula),
      "period": 60, "evaluation_periods": 5,
      "cpu_percent": 80, "freeable_memory_percent": 10, "connections_percent": 80, "replica_lag_ms": 1000,
      "deadlocks_per_second": 0, "free_local_storage_gib": 2, "acu_utilization_percent": 90,
      "serverless_max_capacity": None,   # ACU: the cluster's Serverless v2 max_capacity, when it has one
    }

``members`` (``alarm_members``) are the instances the cluster has once the plan's instance steps are made: the
ones it has now, those the plan creates, less those it deletes, each with the instance class in effect then and
whether it is the writer. ``plan_alarms`` is pure: no AWS call.
"""

from __future__ import annotations

import math
import re

from ansible_collections.vitality.aurora.plugins.module_utils.plan import NOW, ONLINE, STACK, Action

NAMESPACE = "AWS/RDS"
NAME_PREFIX = "vitality.aurora/"
# DeleteAlarms takes at most 100 names a call.
DELETE_BATCH = 100
GIB = 1024**3
# Aurora PostgreSQL's default max_connections is LEAST({DBInstanceClassMemory/9531392}, 5000).
MAX_CONNECTIONS_DIVISOR = 9531392
MAX_CONNECTIONS_CAP = 5000
# An Aurora capacity unit (ACU) is about 2 GiB of memory.
GIB_PER_ACU = 2
SERVERLESS = "db.serverless"

# The memory (GiB) of each provisioned DB instance class Aurora PostgreSQL 16 and 17 offer (validation.py's list, the
# shipped catalogue's orderable classes): 8 GiB per vCPU for the memory optimised r classes, 16 for x2g, and the two
# burstable sizes. db.serverless has no fixed memory: its capacity range decides it.
INSTANCE_CLASS_MEMORY_GIB = {
    "db.r5.large": 16,
    "db.r5.xlarge": 32,
    "db.r5.2xlarge": 64,
    "db.r5.4xlarge": 128,
    "db.r5.8xlarge": 256,
    "db.r5.12xlarge": 384,
    "db.r5.16xlarge": 512,
    "db.r5.24xlarge": 768,
    "db.r6g.large": 16,
    "db.r6g.xlarge": 32,
    "db.r6g.2xlarge": 64,
    "db.r6g.4xlarge": 128,
    "db.r6g.8xlarge": 256,
    "db.r6g.12xlarge": 384,
    "db.r6g.16xlarge": 512,
    "db.r6gd.large": 16,
    "db.r6gd.xlarge": 32,
    "db.r6gd.2xlarge": 64,
    "db.r6gd.4xlarge": 128,
    "db.r6gd.8xlarge": 256,
    "db.r6gd.12xlarge": 384,
    "db.r6gd.16xlarge": 512,
    "db.r6i.large": 16,
    "db.r6i.xlarge": 32,
    "db.r6i.2xlarge": 64,
    "db.r6i.4xlarge": 128,
    "db.r6i.8xlarge": 256,
    "db.r6i.12xlarge": 384,
    "db.r6i.16xlarge": 512,
    "db.r6i.24xlarge": 768,
    "db.r6i.32xlarge": 1024,
    "db.r6id.large": 16,
    "db.r6id.xlarge": 32,
    "db.r6id.2xlarge": 64,
    "db.r6id.4xlarge": 128,
    "db.r6id.8xlarge": 256,
    "db.r6id.12xlarge": 384,
    "db.r6id.16xlarge": 512,
    "db.r6id.24xlarge": 768,
    "db.r6id.32xlarge": 1024,
    "db.r7g.large": 16,
    "db.r7g.xlarge": 32,
    "db.r7g.2xlarge": 64,
    "db.r7g.4xlarge": 128,
    "db.r7g.8xlarge": 256,
    "db.r7g.12xlarge": 384,
    "db.r7g.16xlarge": 512,
    "db.r7i.large": 16,
    "db.r7i.xlarge": 32,
    "db.r7i.2xlarge": 64,
    "db.r7i.4xlarge": 128,
    "db.r7i.8xlarge": 256,
    "db.r7i.12xlarge": 384,
    "db.r7i.16xlarge": 512,
    "db.r7i.24xlarge": 768,
    "db.r7i.48xlarge": 1536,
    "db.r8g.large": 16,
    "db.r8g.xlarge": 32,
    "db.r8g.2xlarge": 64,
    "db.r8g.4xlarge": 128,
    "db.r8g.8xlarge": 256,
    "db.r8g.12xlarge": 384,
    "db.r8g.16xlarge": 512,
    "db.r8g.24xlarge": 768,
    "db.r8g.48xlarge": 1536,
    "db.t3.medium": 4,
    "db.t3.large": 8,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
    "db.x2g.large": 32,
    "db.x2g.xlarge": 64,
    "db.x2g.2xlarge": 128,
    "db.x2g.4xlarge": 256,
    "db.x2g.8xlarge": 512,
    "db.x2g.12xlarge": 768,
    "db.x2g.16xlarge": 1024,
}

# What to do with a period without data, metric by metric. An instance reports every minute while it runs, so a gap
# means it is being created, restarted or replaced, or has failed: the RDS event subscriptions report those, so a gap
# must not page, and must not send an "OK" either while the instance is down.
#   ignore       - the alarm keeps the state it had (no page, no false recovery).
#   notBreaching - a gap counts as good: for metrics whose absence is the quiet state.
TREAT_MISSING = {
    # Gauges of a running instance: a gap is an outage the RDS events report; keep the state.
    "CPUUtilization": "ignore",
    "FreeableMemory": "ignore",
    "DatabaseConnections": "ignore",
    "FreeLocalStorage": "ignore",
    # Only a reader reports it; after a failover the new writer stops reporting it, which is no lag.
    "AuroraReplicaLag": "ignore",
    # A count of events: no data is no deadlock.
    "Deadlocks": "notBreaching",
    # A Serverless v2 instance paused at 0 ACU reports nothing: idle, the opposite of overloaded.
    "ACUUtilization": "notBreaching",
    # Only a global database's secondary cluster reports it; a gap (the secondary restarting, or writing after a
    # switchover) is reported by the RDS events: keep the state.
    "AuroraGlobalDBReplicationLag": "ignore",
}

# What each alarm means, in its description. Thresholds and periods are left out of it, so that changing one of them
# changes only that field of the alarm (and the plan says just that).
MEANINGS = {
    "CPUUtilization": "The instance's CPU has stayed busy: queries queue behind each other. Look at Performance "
    "Insights' top SQL; move readers' load to the reader endpoint, or take a larger instance class",
    "FreeableMemory": "The instance is running out of memory: it may swap or restart. Look for large work_mem sorts "
    "and connection counts, or take an instance class with more memory",
    "DatabaseConnections": "The instance nears max_connections: new connections will be refused. Look for "
    "connection leaks, pool sizes, or put RDS Proxy in front",
    "FreeLocalStorage": "The instance's local storage (temporary files and logs) is nearly full: sorts and index "
    "builds will fail. Look at temp_files in pg_stat_database and the log retention",
    "AuroraReplicaLag": "The reader lags behind the writer: reads through it are stale. Look for long write bursts or "
    "a reader busier or smaller than the writer",
    "Deadlocks": "Transactions keep deadlocking: each deadlock aborts one of them. Look at the PostgreSQL log for "
    "the statements involved and order the locks they take",
    "ACUUtilization": "The Serverless v2 instance is near its maximum capacity: it cannot scale further. Raise the "
    "maximum ACU or move load to readers",
    "AuroraGlobalDBReplicationLag": "The global database's secondary cluster lags behind the primary Region: reads "
    "there are stale, and a failover to it (playbooks/failover.yml) would lose the writes not yet replicated. Look for "
    "write bursts in the primary Region or a secondary smaller than the primary",
}

ABOVE = "GreaterThanThreshold"
BELOW = "LessThanThreshold"
SYMBOLS = {ABOVE: ">", BELOW: "<"}

# The order of an instance's alarms in the plan and the outputs.
INSTANCE_METRICS = (
    "CPUUtilization",
    "FreeableMemory",
    "DatabaseConnections",
    "FreeLocalStorage",
    "AuroraReplicaLag",
    "ACUUtilization",
)

# PutMetricAlarm's fields the plan compares, with the words the plan gives them.
COMPARED = (
    ("Namespace", "namespace"),
    ("MetricName", "metric_name"),
    ("Dimensions", "dimensions"),
    ("Statistic", "statistic"),
    ("ComparisonOperator", "comparison_operator"),
    ("Threshold", "threshold"),
    ("Period", "period"),
    ("EvaluationPeriods", "evaluation_periods"),
    ("DatapointsToAlarm", "datapoints_to_alarm"),
    ("TreatMissingData", "treat_missing_data"),
    ("ActionsEnabled", "actions_enabled"),
    ("AlarmActions", "alarm_actions"),
    ("OKActions", "ok_actions"),
    ("InsufficientDataActions", "insufficient_data_actions"),
    ("AlarmDescription", "description"),
)


# -- names --------------------------------------------------------------------------------------


def alarm_prefix(cluster_identifier):
    """Every alarm of the stack's cluster begins with this; the trailing / keeps cluster c1 apart from c10."""
    return f"{NAME_PREFIX}{cluster_identifier}/"


def alarm_name(cluster_identifier, metric, instance=None):
    prefix = alarm_prefix(cluster_identifier)
    return f"{prefix}{instance}/{metric}" if instance else f"{prefix}{metric}"


# -- what each instance class allows -------------------------------------------------------------


def class_memory_gib(instance_class, serverless_max_capacity=None):
    """GiB of memory of a class; for db.serverless, that of its maximum capacity; None when not known."""
    if instance_class == SERVERLESS:
        return float(serverless_max_capacity) * GIB_PER_ACU if serverless_max_capacity else None
    return INSTANCE_CLASS_MEMORY_GIB.get(instance_class)


_FORMULA_TOKEN = re.compile(r"\s*(LEAST|GREATEST|\{[^}]*\}|\d+(?:\.\d+)?|[(),])", re.IGNORECASE)
_MEMORY_TERM = re.compile(r"^\{\s*DBInstanceClassMemory\s*(?:\*\s*(\d+)\s*)?/\s*(\d+)\s*\}$", re.IGNORECASE)


def evaluate_formula(text, memory_bytes):
    """An RDS parameter formula of the forms max_connections takes (a number, {DBInstanceClassMemory/N},
    {DBInstanceClassMemory*M/N}, LEAST(...), GREATEST(...)) for an instance of that much memory; None when it is
    another form (the role then cannot know the value)."""
    tokens = []
    position = 0
    text = str(text).strip()
    while position < len(text):
        match = _FORMULA_TOKEN.match(text, position)
        if not match:
            return None
        tokens.append(match.group(1))
        position = match.end()

    def parse(index):
        """(value, next index) of the expression at tokens[index]; ValueError when malformed."""
        if index >= len(tokens):
            raise ValueError("end of formula")
        token = tokens[index]
        if token.upper() in ("LEAST", "GREATEST"):
            if index + 1 >= len(tokens) or tokens[index + 1] != "(":
                raise ValueError("( expected")
            values = []
            index += 2
            while True:
                value, index = parse(index)
                values.append(value)
                if index < len(tokens) and tokens[index] == ",":
                    index += 1
                    continue
                if index < len(tokens) and tokens[index] == ")":
                    break
                raise ValueError(", or ) expected")
            return (min(values) if token.upper() == "LEAST" else max(values)), index + 1
        if token.startswith("{"):
            term = _MEMORY_TERM.match(token)
            if not term or memory_bytes is None:
                raise ValueError("unknown term")
            multiplier = int(term.group(1) or 1)
            return memory_bytes * multiplier // int(term.group(2)), index + 1
        if token[0].isdigit():
            return float(token), index + 1
        raise ValueError("unexpected token")

    try:
        value, end = parse(0)
    except ValueError:
        return None
    return int(value) if end == len(tokens) else None


def max_connections(instance_class, parameter=None, serverless_max_capacity=None):
    """(max_connections of an instance of the class, how it was found); (None, why not) when it cannot be known.

    DBInstanceClassMemory is the class's memory less what Aurora keeps for itself, a figure AWS does not publish;
    the class's memory stands for it, as AWS's own worked example does, so the value is a little above the real one.
    """
    memory = class_memory_gib(instance_class, serverless_max_capacity)
    memory_bytes = int(memory * GIB) if memory is not None else None
    if parameter not in (None, ""):
        value = evaluate_formula(parameter, memory_bytes)
        if value is None:
            return None, (
                f"max_connections={parameter} (cluster parameter group) is not a number or formula the role can "
                f"evaluate for {instance_class}"
            )
        return value, f"max_connections {value} (cluster parameter group: {parameter})"
    if memory_bytes is None:
        return None, unknown_memory(instance_class)
    value = min(memory_bytes // MAX_CONNECTIONS_DIVISOR, MAX_CONNECTIONS_CAP)
    return value, f"max_connections {value} (the default for {memory:g} GiB)"


def unknown_memory(instance_class):
    if instance_class == SERVERLESS:
        return (
            "the memory of a db.serverless instance follows the cluster's maximum capacity (ACU), and no Serverless v2 "
            "capacity range is asked for"
        )
    return f"the memory of {instance_class} is not in the collection's table of instance classes"


# -- the alarms wanted ---------------------------------------------------------------------------


def number_words(value):
    """80.0 -> '80', 0.5 -> '0.5'."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def spec(desired, metric, threshold, comparison, unit, note, instance=None, cluster=False):
    """One alarm: the PutMetricAlarm request, with the words the plan and the outputs use."""
    identifier = desired["cluster_identifier"]
    dimension = (
        {"Name": "DBClusterIdentifier", "Value": identifier}
        if cluster
        else {"Name": "DBInstanceIdentifier", "Value": instance}
    )
    period = int(desired["period"])
    evaluation_periods = int(desired["evaluation_periods"])
    threshold = float(threshold)
    subject = f"Cluster {identifier}" if cluster else f"Instance {instance} of cluster {identifier}"
    condition = f"Average {metric} {SYMBOLS[comparison]} {number_words(threshold)} {unit}"
    description = (
        f"{MEANINGS[metric]}. {subject}. Made by vitality.aurora (its aurora_cluster_alarm_* variables set the "
        "threshold and the period): a change made here is set back by its next run."
    )
    topic = desired["topic_arn"]
    request = {
        "AlarmName": alarm_name(identifier, metric, None if cluster else instance),
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "OKActions": [topic],
        "AlarmActions": [topic],
        "InsufficientDataActions": [],
        "MetricName": metric,
        "Namespace": NAMESPACE,
        "Statistic": "Average",
        "Dimensions": [dimension],
        "Period": period,
        "EvaluationPeriods": evaluation_periods,
        # Every period of the window must breach: a single bad minute is not a page.
        "DatapointsToAlarm": evaluation_periods,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "TreatMissingData": TREAT_MISSING[metric],
    }
    tags = desired.get("tags") or {}
    if tags:
        request["Tags"] = [{"Key": str(key), "Value": str(value)} for key, value in sorted(tags.items())]
    return {
        "name": request["AlarmName"],
        "metric": metric,
        "instance": None if cluster else instance,
        "condition": f"{condition} for {evaluation_periods} x {period} s",
        "threshold": threshold,
        "comparison": comparison,
        "note": note,
        "request": request,
    }


def instance_alarms(desired, member):
    """(alarms, skipped) of one instance: [spec], [{instance, metric, reason}]."""
    instance, instance_class = member["id"], member.get("instance_class")
    capacity = desired.get("serverless_max_capacity")
    wanted, skipped = [], []

    def skip(metric, reason):
        skipped.append({"instance": instance, "metric": metric, "reason": reason})

    wanted.append(spec(desired, "CPUUtilization", desired["cpu_percent"], ABOVE, "percent", "", instance))
    memory = class_memory_gib(instance_class, capacity)
    if memory is None:
        skip("FreeableMemory", unknown_memory(instance_class))
    else:
        percent = float(desired["freeable_memory_percent"])
        threshold = math.floor(memory * GIB * percent / 100)
        where = f"{float(capacity):g} ACU x {GIB_PER_ACU} GiB" if instance_class == SERVERLESS else instance_class
        note = f"{number_words(percent)}% of the {memory:g} GiB of {where}"
        wanted.append(spec(desired, "FreeableMemory", threshold, BELOW, "bytes", note, instance))
    limit, how = max_connections(instance_class, desired.get("max_connections"), capacity)
    if limit is None:
        skip("DatabaseConnections", how)
    else:
        percent = float(desired["connections_percent"])
        threshold = math.floor(limit * percent / 100)
        note = f"{number_words(percent)}% of {how}"
        wanted.append(spec(desired, "DatabaseConnections", threshold, ABOVE, "connections", note, instance))
    gib = float(desired["free_local_storage_gib"])
    wanted.append(spec(desired, "FreeLocalStorage", math.floor(gib * GIB), BELOW, "bytes", f"{gib:g} GiB", instance))
    if not member.get("writer"):
        wanted.append(spec(desired, "AuroraReplicaLag", desired["replica_lag_ms"], ABOVE, "ms", "", instance))
    if instance_class == SERVERLESS:
        wanted.append(
            spec(desired, "ACUUtilization", desired["acu_utilization_percent"], ABOVE, "percent", "", instance)
        )
    return wanted, skipped


def desired_alarms(desired, members):
    """([spec] in plan order, [skipped]): the cluster's alarms, then each member's, the writer first.

    ``desired["global_replication_lag"]``: the cluster is a global database's secondary, whose lag behind the primary
    Region (AuroraGlobalDBReplicationLag, ms) has the readers' replica lag threshold."""
    wanted = [spec(desired, "Deadlocks", desired["deadlocks_per_second"], ABOVE, "per second", "", cluster=True)]
    if desired.get("global_replication_lag"):
        wanted.append(
            spec(desired, "AuroraGlobalDBReplicationLag", desired["replica_lag_ms"], ABOVE, "ms", "", cluster=True)
        )
    skipped = []
    for member in sorted(members, key=lambda m: (not m.get("writer"), m["id"])):
        alarms, missing = instance_alarms(desired, member)
        wanted += alarms
        skipped += missing
    return wanted, skipped


def alarm_members(snapshot, writer_identifier, actions):
    """The instances of the cluster once the plan's instance steps are made, with their class and role then.

    Those of the cluster now (an instance being deleted aside), those the plan creates, less those it deletes.
    The class is the one in effect after the run: a class change made now counts, one held for the maintenance
    window does not yet (the run after the window moves the thresholds). Roles are the configured ones: the writer
    identifier is the writer; an instance the role does not name (a reader the autoscaler made) is a reader unless
    the cluster reports it as the writer.
    """
    cluster = snapshot.get("cluster") or {}
    writers = {m.get("DBInstanceIdentifier") for m in cluster.get("DBClusterMembers") or [] if m.get("IsClusterWriter")}
    classes = {}
    for instance in snapshot.get("instances") or []:
        if instance.get("DBInstanceStatus") != "deleting":
            classes[instance.get("DBInstanceIdentifier")] = instance.get("DBInstanceClass")
    deleted = set()
    for action in actions:
        # An instance of another Region (a global database's secondary) is not this cluster's.
        if action.resource != "instance" or getattr(action, "region", None):
            continue
        if action.change == "create":
            classes[action.name] = (action.request.get("params") or {}).get("db_instance_class")
        elif action.change == "delete":
            deleted.add(action.name)
        elif action.change == "modify" and action.when == NOW:
            for change in action.changes:
                if change.get("attribute") == "db_instance_class":
                    classes[action.name] = change.get("after")
    members = []
    for identifier, instance_class in sorted(classes.items()):
        if identifier in deleted or not identifier:
            continue
        # The configured writer is the writer, whatever AWS moved meanwhile (the plan fails it back first).
        writer = identifier == writer_identifier or (writer_identifier not in classes and identifier in writers)
        members.append({"id": identifier, "instance_class": instance_class, "writer": writer})
    return members


# -- reading -------------------------------------------------------------------------------------


def read_alarms(cloudwatch, cluster_identifier):
    """The role's alarms of the cluster, by name: one DescribeAlarms with the name prefix (paginated)."""
    prefix = alarm_prefix(cluster_identifier)
    listed = cloudwatch.paginate(
        "describe_alarms", "MetricAlarms", context=f"CloudWatch alarms {prefix}*", AlarmNamePrefix=prefix
    )
    # Defensive: only what carries the prefix is the role's, whatever the endpoint answered.
    return {alarm["AlarmName"]: alarm for alarm in listed or [] if str(alarm.get("AlarmName", "")).startswith(prefix)}


# -- planning ------------------------------------------------------------------------------------


def comparable(field, value):
    if field == "Threshold":
        return float(value)
    if field == "Dimensions":
        return sorted((str(d.get("Name")), str(d.get("Value"))) for d in value or [])
    if field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        return sorted(value or [])
    return value


def shown(field, value):
    if field == "Threshold":
        return number_words(value)
    if field == "Dimensions":
        return [f"{d.get('Name')}={d.get('Value')}" for d in value or []]
    if field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        return sorted(value or [])
    return value


def alarm_changes(current, request):
    """[{attribute, before, after}] of what differs; a field missing from the answer is unknown, not a change."""
    changes = []
    for field, words in COMPARED:
        if field not in current:
            continue
        if comparable(field, current[field]) != comparable(field, request[field]):
            changes.append(
                {"attribute": words, "before": shown(field, current[field]), "after": shown(field, request[field])}
            )
    return changes


def condition_words(alarm):
    """An alarm as read, in a few words: 'Average CPUUtilization > 80'."""
    symbol = SYMBOLS.get(alarm.get("ComparisonOperator"), alarm.get("ComparisonOperator"))
    threshold = alarm.get("Threshold")
    threshold = number_words(threshold) if threshold is not None else "?"
    return f"{alarm.get('Statistic') or ''} {alarm.get('MetricName') or '?'} {symbol} {threshold}".strip()


def plan_alarms(current, desired, members):
    """(actions, wanted, skipped): creates and updates in the alarms' order, then deletions in batches of 100."""
    wanted, skipped = desired_alarms(desired, members)
    current = current or {}
    actions = []
    for alarm in wanted:
        request = alarm["request"]
        found = current.get(alarm["name"])
        if found is None:
            actions.append(
                Action(
                    "alarm",
                    alarm["name"],
                    "create",
                    [
                        {"attribute": "condition", "before": None, "after": alarm["condition"]},
                        {"attribute": "actions", "before": None, "after": desired["topic_arn"]},
                    ],
                    impact=ONLINE,
                    runner=STACK,
                    calls=["PutMetricAlarm"],
                    note=alarm["note"],
                    request={"put": request},
                )
            )
            continue
        changes = alarm_changes(found, request)
        if changes:
            change = f"change {changes[0]['attribute'].replace('_', ' ')}" if len(changes) == 1 else "update"
            actions.append(
                Action(
                    "alarm",
                    alarm["name"],
                    change,
                    changes,
                    impact=ONLINE,
                    runner=STACK,
                    calls=["PutMetricAlarm"],
                    note=alarm["note"],
                    request={"put": request},
                )
            )
    names = {alarm["name"] for alarm in wanted}
    unwanted = sorted(name for name in current if name not in names)
    prefix = alarm_prefix(desired["cluster_identifier"])
    for start in range(0, len(unwanted), DELETE_BATCH):
        batch = unwanted[start : start + DELETE_BATCH]
        actions.append(
            Action(
                "alarms",
                f"{prefix}*",
                "delete",
                [{"attribute": name, "before": condition_words(current[name]), "after": None} for name in batch],
                impact=ONLINE,
                runner=STACK,
                calls=["DeleteAlarms"],
                note="the role's alarms no longer wanted: their instance left the cluster or their metric no longer applies",
                request={"names": batch},
            )
        )
    return actions, wanted, skipped


def alarm_outputs(desired, wanted, skipped):
    """The alarms as the module returns them: names, metric, threshold; and those left out, with the reason."""
    return {
        "prefix": alarm_prefix(desired["cluster_identifier"]),
        "topic_arn": desired["topic_arn"],
        "alarms": [
            {
                "name": alarm["name"],
                "metric": alarm["metric"],
                "instance": alarm["instance"],
                "comparison": alarm["comparison"],
                "threshold": alarm["threshold"],
                "condition": alarm["condition"],
            }
            for alarm in wanted
        ],
        "skipped": [dict(entry) for entry in skipped],
    }
