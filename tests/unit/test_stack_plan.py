"""stack_plan.plan_stack: the one planner, pure, on AWS-shaped snapshots of the stack.

Each test starts from a stack that is in sync with ``params()`` (``snapshot()``: the descriptions
AWS returns, as read_stack keeps them), changes one thing, and pins the whole plan: for every
action its order, resource, name, change, impact, when, runner and calls; and its text line where
the words matter (a rule, a tag, a maintenance window, a failover target).
"""

import copy

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    ALL_INSTANCES_RESTART,
    FAILOVER,
    IMPOSSIBLE,
    MAINTENANCE_WINDOW,
    NEXT_RESTART,
    NOW,
    ONLINE,
    PENDING_REBOOT,
    REBOOT,
    STACK,
    WRITER_RESTART,
)

APP_SG = "sg-app"
DB_SG = "sg-db"
TAGS = {"Stack": "s", "ManagedBy": "vitality.aurora"}
LARGE, XLARGE = "db.r6g.large", "db.r6g.xlarge"
WINDOWS = {"w": "sun:05:00-sun:05:30", "r-1": "mon:05:00-mon:05:30", "r-2": "tue:05:00-tue:05:30"}


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def params():
    """The desired state as main() hands it to the planner (after the argument spec's defaults)."""
    return {
        "security_group": {
            "name": "db",
            "description": "database",
            "app_port": 5432,
            "app_rule_description": "from app",
            "extra_ingress": [],
            "egress": [],
            "tags": dict(TAGS, Name="db"),
        },
        "subnet_group": {"name": "subnets", "description": "private", "tags": dict(TAGS)},
        "parameter_group": {
            "name": "pg",
            "family": "aurora-postgresql16",
            "description": "parameters",
            "parameters": {"rds.force_ssl": 1},
            "tags": dict(TAGS),
        },
        "cluster": {
            "db_cluster_identifier": "c",
            "engine": "aurora-postgresql",
            "engine_version": "16.6",
            "allow_major_version_upgrade": False,
            "manage_master_user_password": True,
            "update_password": "on_create",
            "storage_encrypted": True,
            "port": 5432,
            "db_subnet_group_name": "subnets",
            "db_cluster_parameter_group_name": "pg",
            "backup_retention_period": 7,
            "deletion_protection": True,
            "apply_immediately": False,
            "tags": dict(TAGS),
        },
        "instances": {
            "writer_identifier": "w",
            "reader_identifier_prefix": "r-",
            "reader_count": 2,
            "allow_rolling_reboot": False,
            "db_instance_class": LARGE,
            "enable_performance_insights": False,
            "monitoring_interval": 0,
            "apply_immediately": False,
            "tags": dict(TAGS),
        },
    }


def instance(identifier, zone, tier, role, **extra):
    described = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceArn": f"arn:aws:rds:us-east-1:123456789012:db:{identifier}",
        "DBClusterIdentifier": "c",
        "Engine": "aurora-postgresql",
        "DBInstanceStatus": "available",
        "DBInstanceClass": LARGE,
        "AvailabilityZone": zone,
        "PromotionTier": tier,
        "PubliclyAccessible": False,
        "PerformanceInsightsEnabled": False,
        "MonitoringInterval": 0,
        "PreferredMaintenanceWindow": WINDOWS.get(identifier, "wed:05:00-wed:05:30"),
        "DBParameterGroups": [
            {"DBParameterGroupName": "default.aurora-postgresql16", "ParameterApplyStatus": "in-sync"}
        ],
        "TagList": tag_list(dict(TAGS, Role=role)),
    }
    described.update(extra)
    return described


def member(identifier, writer=False):
    return {
        "DBInstanceIdentifier": identifier,
        "IsClusterWriter": writer,
        "DBClusterParameterGroupStatus": "in-sync",
        "PromotionTier": 0 if writer else int(identifier.rsplit("-", 1)[-1]),
    }


def snapshot():
    """A stack in sync with params(): what read_stack returns for it."""
    return {
        "network": {
            "vpc_id": "vpc-1",
            "subnets": [
                {"subnet_id": "subnet-a", "availability_zone": "us-east-1c"},
                {"subnet_id": "subnet-b", "availability_zone": "us-east-1d"},
            ],
            "app_security_group_id": APP_SG,
        },
        "security_group": {
            "GroupName": "db",
            "GroupId": DB_SG,
            "VpcId": "vpc-1",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "UserIdGroupPairs": [{"GroupId": APP_SG, "Description": "from app"}],
                }
            ],
            "IpPermissionsEgress": [],
            "Tags": tag_list(dict(TAGS, Name="db")),
        },
        "subnet_group": {
            "DBSubnetGroupName": "subnets",
            "DBSubnetGroupArn": "arn:aws:rds:us-east-1:123456789012:subgrp:subnets",
            "DBSubnetGroupDescription": "private",
            "Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}],
        },
        "subnet_group_tags": dict(TAGS),
        "parameter_group": {
            "DBClusterParameterGroupName": "pg",
            "DBClusterParameterGroupArn": "arn:aws:rds:us-east-1:123456789012:cluster-pg:pg",
            "DBParameterGroupFamily": "aurora-postgresql16",
        },
        "parameter_group_tags": dict(TAGS),
        "parameters": {"rds.force_ssl": "1"},
        "cluster": {
            "DBClusterIdentifier": "c",
            "DBClusterArn": "arn:aws:rds:us-east-1:123456789012:cluster:c",
            "Status": "available",
            "Engine": "aurora-postgresql",
            "EngineVersion": "16.6",
            "Port": 5432,
            "StorageEncrypted": True,
            "DBSubnetGroup": "subnets",
            "DBClusterParameterGroup": "pg",
            "VpcSecurityGroups": [{"VpcSecurityGroupId": DB_SG, "Status": "active"}],
            "BackupRetentionPeriod": 7,
            "DeletionProtection": True,
            "IAMDatabaseAuthenticationEnabled": False,
            "MasterUserSecret": {"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-c"},
            "PreferredMaintenanceWindow": "sat:03:00-sat:03:30",
            "TagList": tag_list(TAGS),
            "DBClusterMembers": [member("w", writer=True), member("r-1"), member("r-2")],
        },
        "instances": [
            instance("w", "us-east-1c", 0, "writer"),
            instance("r-1", "us-east-1d", 1, "reader"),
            instance("r-2", "us-east-1d", 2, "reader"),
        ],
    }


def catalog(**apply_types):
    """The family's parameters as DescribeDBClusterParameters lists them (complete: engine defaults listed)."""
    listed = {
        "rds.force_ssl": "dynamic",
        "log_statement": "dynamic",
        "shared_preload_libraries": "static",
        **apply_types,
    }
    return (
        {
            name: {"ParameterName": name, "ApplyType": kind, "Source": "engine-default", "IsModifiable": True}
            for name, kind in listed.items()
        },
        True,
    )


def plan(state, wanted, baseline=()):
    return sp.plan_stack(state, wanted, baseline)


def rows(actions):
    """Each action as (order, resource, name, change, impact, when, runner, calls)."""
    return [(a.order, a.resource, a.name, a.change, a.impact, a.when, a.runner, a.calls) for a in actions]


def planned(state, wanted):
    """The plan, asserting it has no problem and no notice."""
    actions, problems, notice = plan(state, wanted)
    assert (problems, notice) == ([], None)
    return actions


def lines(actions):
    return [a.line() for a in actions]


def cluster_of(state):
    return state["cluster"]


def by_id(state, identifier):
    return next(i for i in state["instances"] if i["DBInstanceIdentifier"] == identifier)


def set_writer(state, identifier):
    for entry in state["cluster"]["DBClusterMembers"]:
        entry["IsClusterWriter"] = entry["DBInstanceIdentifier"] == identifier


def only_writer(state, wanted):
    """A stack of one instance: the writer, no reader."""
    state["instances"] = [by_id(state, "w")]
    state["cluster"]["DBClusterMembers"] = [member("w", writer=True)]
    wanted["instances"]["reader_count"] = 0


# --- the whole stack --------------------------------------------------------------------------------------------------


def test_a_stack_in_sync_plans_nothing():
    assert plan(snapshot(), params()) == ([], [], None)


def absent():
    state = snapshot()
    for key in ("security_group", "subnet_group", "parameter_group", "cluster"):
        state[key] = None
    for key in ("subnet_group_tags", "parameter_group_tags", "parameters"):
        del state[key]
    state["instances"] = []
    return state


def test_nothing_exists_creates_everything_in_order_by_the_stack():
    actions = planned(absent(), params())
    assert rows(actions) == [
        (
            1,
            "security_group",
            "db",
            "create",
            ONLINE,
            NOW,
            STACK,
            ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress"],
        ),
        (2, "subnet_group", "subnets", "create", ONLINE, NOW, STACK, ["CreateDBSubnetGroup"]),
        (
            3,
            "parameter_group",
            "pg",
            "create",
            ONLINE,
            NOW,
            STACK,
            ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup"],
        ),
        (4, "cluster", "c", "create", ONLINE, NOW, STACK, ["CreateDBCluster"]),
        (5, "instance", "w", "create", ONLINE, NOW, STACK, ["CreateDBInstance"]),
        (6, "instance", "r-1", "create", ONLINE, NOW, STACK, ["CreateDBInstance"]),
        (7, "instance", "r-2", "create", ONLINE, NOW, STACK, ["CreateDBInstance"]),
    ]
    assert lines(actions) == [
        "1. security group db: create (ingress (none) -> [tcp 5432 group sg-app (from app)]) [online]",
        "2. DB subnet group subnets: create (subnets (none) -> [subnet-a, subnet-b]) [online]",
        "3. parameter group pg: create (parameters.rds.force_ssl (none) -> 1) [online]",
        "4. cluster c: create (engine_version (none) -> 16.6; port (none) -> 5432; storage_encrypted (none) -> true; "
        "manage_master_user_password (none) -> true; deletion_protection (none) -> true; backup_retention_period "
        "(none) -> 7) [online]",
        "5. instance w: create (db_instance_class (none) -> db.r6g.large) [online]. writer in us-east-1c",
        "6. instance r-1: create (db_instance_class (none) -> db.r6g.large) [online]. reader in us-east-1d",
        "7. instance r-2: create (db_instance_class (none) -> db.r6g.large) [online]. reader in us-east-1d",
    ]
    assert sp.runners_of(actions) == [STACK]
    # What the apply creates each instance with: the layout's zone, tier and Role tag.
    writer, reader = actions[4].request["params"], actions[5].request["params"]
    assert (writer["availability_zone"], writer["promotion_tier"], writer["tags"]["Role"]) == (
        "us-east-1c",
        0,
        "writer",
    )
    assert (reader["availability_zone"], reader["promotion_tier"], reader["tags"]["Role"]) == (
        "us-east-1d",
        1,
        "reader",
    )


def test_a_new_security_group_with_egress_plans_its_egress_call_too():
    wanted = params()
    wanted["security_group"]["egress"] = [{"proto": "tcp", "ports": [443], "cidr_ip": "10.0.0.0/8"}]
    (group, *_rest) = planned(absent(), wanted)
    assert group.calls == [
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "AuthorizeSecurityGroupEgress",
    ]


def test_a_new_parameter_group_sets_its_parameters_twenty_a_call():
    wanted = params()
    wanted["parameter_group"]["parameters"] = {f"p{n:02d}": n for n in range(41)}
    group = planned(absent(), wanted)[2]
    assert group.calls == ["CreateDBClusterParameterGroup"] + ["ModifyDBClusterParameterGroup"] * 3


def test_a_cluster_restored_from_a_snapshot_is_created_then_converged():
    wanted = params()
    wanted["cluster"]["restore_from_snapshot"] = "c-final-20250101-000000"
    cluster = planned(absent(), wanted)[3]
    assert (cluster.change, cluster.calls, cluster.request) == (
        "create",
        ["RestoreDBClusterFromSnapshot", "ModifyDBCluster"],
        {"restore": True},
    )
    assert cluster.line() == (
        "4. cluster c: create (restored from (none) -> c-final-20250101-000000) [online]. then its settings are "
        "converged to the inventory's (what differs is known once it exists)"
    )


# --- security group ---------------------------------------------------------------------------------------------------


def test_a_rule_added_is_allowed_before_the_stack_by_the_security_group_step():
    wanted = params()
    wanted["security_group"]["extra_ingress"] = [
        {"proto": "tcp", "ports": [5432], "cidr_ip": "10.1.0.0/16", "rule_desc": "bastion"}
    ]
    actions = planned(snapshot(), wanted)
    assert rows(actions) == [
        (1, "security_group", "db", "allow ingress", ONLINE, NOW, "security_group", ["AuthorizeSecurityGroupIngress"])
    ]
    assert lines(actions) == [
        "1. security group db: allow ingress (ingress rule (none) -> tcp 5432 cidr 10.1.0.0/16 (bastion)) [online]"
    ]
    assert sp.runners_of(actions) == ["security_group"]


def test_a_rule_aws_has_and_the_inventory_not_is_revoked_after_the_stack():
    state = snapshot()
    state["security_group"]["IpPermissions"].append(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    )
    state["cluster"]["BackupRetentionPeriod"] = 1
    actions = planned(state, params())
    assert rows(actions) == [
        (1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"]),
        (
            2,
            "security_group",
            "db",
            "revoke ingress",
            ONLINE,
            NOW,
            "security_group_revoke",
            ["RevokeSecurityGroupIngress"],
        ),
    ]
    assert (
        actions[1].line()
        == "2. security group db: revoke ingress (ingress rule tcp 22 cidr 0.0.0.0/0 -> (none)) [online]"
    )
    assert sp.runners_of(actions) == [STACK, "security_group_revoke"]


def test_a_changed_rule_description_is_one_rule_allowed_and_one_revoked():
    state = snapshot()
    state["security_group"]["IpPermissions"][0]["UserIdGroupPairs"][0]["Description"] = "old words"
    actions = planned(state, params())
    assert lines(actions) == [
        "1. security group db: allow ingress (ingress rule (none) -> tcp 5432 group sg-app (from app)) [online]",
        "2. security group db: revoke ingress (ingress rule tcp 5432 group sg-app (old words) -> (none)) [online]",
    ]
    assert [a.runner for a in actions] == ["security_group", "security_group_revoke"]


def test_the_default_egress_of_a_group_is_revoked_when_the_inventory_has_none():
    state = snapshot()
    state["security_group"]["IpPermissionsEgress"] = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    actions = planned(state, params())
    assert rows(actions) == [
        (
            1,
            "security_group",
            "db",
            "revoke egress",
            ONLINE,
            NOW,
            "security_group_revoke",
            ["RevokeSecurityGroupEgress"],
        )
    ]
    assert (
        actions[0].line()
        == "1. security group db: revoke egress (egress rule -1 all ports cidr 0.0.0.0/0 -> (none)) [online]"
    )


def test_security_group_tags_removed_then_set_as_ec2_security_group_makes_the_calls():
    state = snapshot()
    state["security_group"]["Tags"] = tag_list({"Stack": "s", "Name": "old", "Owner": "someone"})
    actions = planned(state, params())
    assert rows(actions) == [
        (1, "security_group", "db", "remove tags", ONLINE, NOW, "security_group", ["DeleteTags"]),
        (2, "security_group", "db", "set tags", ONLINE, NOW, "security_group", ["CreateTags"]),
    ]
    assert lines(actions) == [
        "1. security group db: remove tags (tags.Owner someone -> (none)) [online]",
        "2. security group db: set tags (tags.ManagedBy (none) -> vitality.aurora; tags.Name old -> db) [online]",
    ]


def test_a_rule_form_not_modelled_is_a_network_problem():
    wanted = params()
    wanted["security_group"]["extra_ingress"] = [{"proto": "tcp", "ports": [5432], "group_name": "bastion"}]
    with pytest.raises(sp.NetworkProblem, match=r"security group db: rule keys \['group_name'\]"):
        plan(snapshot(), wanted)


# --- subnet group -----------------------------------------------------------------------------------------------------


def test_a_subnet_missing_from_the_group_is_added_by_the_subnet_group_step():
    state = snapshot()
    state["subnet_group"]["Subnets"] = [{"SubnetIdentifier": "subnet-a"}]
    actions = planned(state, params())
    assert rows(actions) == [
        (1, "subnet_group", "subnets", "modify", ONLINE, NOW, "subnet_group", ["ModifyDBSubnetGroup"])
    ]
    assert lines(actions) == ["1. DB subnet group subnets: modify (subnet (none) -> subnet-b) [online]"]


def test_a_subnet_no_longer_named_is_removed_and_the_description_follows():
    state = snapshot()
    state["subnet_group"]["Subnets"].append({"SubnetIdentifier": "subnet-z"})
    state["subnet_group"]["DBSubnetGroupDescription"] = "old"
    actions = planned(state, params())
    assert lines(actions) == [
        "1. DB subnet group subnets: modify (subnet subnet-z -> (none); description old -> private) [online]"
    ]
    assert actions[0].calls == ["ModifyDBSubnetGroup"]


def test_subnet_group_tags_are_set_and_removed_by_the_subnet_group_step():
    state = snapshot()
    state["subnet_group_tags"] = {"Stack": "old", "ManagedBy": "vitality.aurora", "Extra": "x"}
    actions = planned(state, params())
    assert rows(actions) == [
        (1, "subnet_group", "subnets", "set tags", ONLINE, NOW, "subnet_group", ["AddTagsToResource"]),
        (2, "subnet_group", "subnets", "remove tags", ONLINE, NOW, "subnet_group", ["RemoveTagsFromResource"]),
    ]
    assert lines(actions) == [
        "1. DB subnet group subnets: set tags (tags.Stack old -> s) [online]",
        "2. DB subnet group subnets: remove tags (tags.Extra x -> (none)) [online]",
    ]


# --- parameter group --------------------------------------------------------------------------------------------------


def with_parameter(name, value, apply_type=None):
    state, wanted = snapshot(), params()
    wanted["parameter_group"]["parameters"][name] = value
    state["parameter_catalog"] = catalog(**({name: apply_type} if apply_type else {}))
    return state, wanted


def test_a_dynamic_parameter_is_set_online():
    state, wanted = with_parameter("log_statement", "all")
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "parameter_group", "pg", "set parameters", ONLINE, NOW, STACK, ["ModifyDBClusterParameterGroup"])
    ]
    assert lines(actions) == ["1. parameter group pg: set parameters (parameters.log_statement (none) -> all) [online]"]
    assert actions[0].request["changes"][0]["apply_method"] == "immediate"


def test_a_static_parameter_is_pending_reboot_until_the_next_restart():
    state, wanted = with_parameter("shared_preload_libraries", "pg_stat_statements")
    actions = planned(state, wanted)
    assert rows(actions) == [
        (
            1,
            "parameter_group",
            "pg",
            "set parameters",
            PENDING_REBOOT,
            NEXT_RESTART,
            STACK,
            ["ModifyDBClusterParameterGroup"],
        )
    ]
    assert lines(actions) == [
        "1. parameter group pg: set parameters (parameters.shared_preload_libraries (none) -> pg_stat_statements) "
        "[pending-reboot, next-restart]. static parameters take effect when each instance restarts"
    ]
    assert actions[0].request["changes"][0]["apply_method"] == "pending-reboot"


def test_a_parameter_left_out_of_the_inventory_is_reset():
    state = snapshot()
    state["parameters"]["log_statement"] = "all"
    state["parameter_catalog"] = catalog()
    actions = planned(state, params())
    assert rows(actions) == [
        (1, "parameter_group", "pg", "reset parameters", ONLINE, NOW, STACK, ["ResetDBClusterParameterGroup"])
    ]
    assert lines(actions) == [
        "1. parameter group pg: reset parameters (parameters.log_statement all -> (none)) [online]"
    ]


def test_more_than_twenty_parameters_are_several_actions_of_one_call_each():
    state, wanted = snapshot(), params()
    names = [f"p{n:02d}" for n in range(45)]
    wanted["parameter_group"]["parameters"].update({name: n for n, name in enumerate(names)})
    # One static parameter, in the last batch: only that batch waits for a restart.
    state["parameter_catalog"] = catalog(**{name: "dynamic" for name in names[:-1]}, **{names[-1]: "static"})
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "parameter_group", "pg", "set parameters", ONLINE, NOW, STACK, ["ModifyDBClusterParameterGroup"]),
        (2, "parameter_group", "pg", "set parameters", ONLINE, NOW, STACK, ["ModifyDBClusterParameterGroup"]),
        (
            3,
            "parameter_group",
            "pg",
            "set parameters",
            PENDING_REBOOT,
            NEXT_RESTART,
            STACK,
            ["ModifyDBClusterParameterGroup"],
        ),
    ]
    assert [len(a.changes) for a in actions] == [20, 20, 5]
    assert [c["attribute"] for a in actions for c in a.changes] == [f"parameters.{name}" for name in names]


def test_a_parameter_the_family_lacks_is_a_problem():
    state, wanted = with_parameter("no_such_parameter", "1")
    actions, problems, _notice = plan(state, wanted)
    assert problems == ["parameters.no_such_parameter is not a parameter of parameter group pg"]
    assert actions == []


def test_a_parameter_aws_marks_not_modifiable_is_a_problem():
    state, wanted = with_parameter("rds.extensions", "x", "static")
    state["parameter_catalog"][0]["rds.extensions"]["IsModifiable"] = False
    _actions, problems, _notice = plan(state, wanted)
    assert problems == ["parameters.rds.extensions cannot be modified (AWS marks it not modifiable)"]


def test_a_parameter_group_of_another_family_is_a_problem():
    state = snapshot()
    state["parameter_group"]["DBParameterGroupFamily"] = "aurora-postgresql15"
    _actions, problems, _notice = plan(state, params())
    assert problems == [
        "parameter group pg: its family is aurora-postgresql15, the inventory says aurora-postgresql16 "
        "(impossible-in-place: a parameter group's family cannot change; name a new group)"
    ]


def test_parameter_group_tags_are_the_stacks_to_set():
    state = snapshot()
    state["parameter_group_tags"] = {"Stack": "s"}
    actions = planned(state, params())
    assert rows(actions) == [(1, "parameter_group", "pg", "set tags", ONLINE, NOW, STACK, ["AddTagsToResource"])]


# --- cluster ----------------------------------------------------------------------------------------------------------


def cluster_plan(change=None, **wanted_cluster):
    state, wanted = snapshot(), params()
    if change:
        change(state)
    wanted["cluster"].update(wanted_cluster)
    return plan(state, wanted)


def test_backup_retention_changes_online_now():
    actions, problems, _notice = cluster_plan(backup_retention_period=14)
    assert problems == []
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"])]
    assert lines(actions) == ["1. cluster c: modify (backup_retention_period 7 -> 14) [online]"]


def test_iam_authentication_without_apply_immediately_waits_for_the_maintenance_window():
    actions, problems, _notice = cluster_plan(enable_iam_database_authentication=True)
    assert problems == []
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, MAINTENANCE_WINDOW, STACK, ["ModifyDBCluster"])]
    assert lines(actions) == [
        "1. cluster c: modify (enable_iam_database_authentication false -> true) [online, maintenance-window]"
    ]
    now, _problems, _notice = cluster_plan(enable_iam_database_authentication=True, apply_immediately=True)
    assert rows(now) == [(1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"])]


def test_a_deferred_change_beside_one_made_now_is_named_in_the_note():
    actions, _problems, _notice = cluster_plan(enable_iam_database_authentication=True, backup_retention_period=14)
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"])]
    assert actions[0].note == "enable_iam_database_authentication waits for the maintenance window"


def test_a_port_change_restarts_every_instance_now_between_the_new_rule_and_the_old_ones_revoke():
    state, wanted = snapshot(), params()
    wanted["cluster"]["port"] = 5433
    wanted["security_group"]["app_port"] = 5433
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "security_group", "db", "allow ingress", ONLINE, NOW, "security_group", ["AuthorizeSecurityGroupIngress"]),
        (2, "cluster", "c", "modify", ALL_INSTANCES_RESTART, NOW, STACK, ["ModifyDBCluster"]),
        (
            3,
            "security_group",
            "db",
            "revoke ingress",
            ONLINE,
            NOW,
            "security_group_revoke",
            ["RevokeSecurityGroupIngress"],
        ),
    ]
    assert lines(actions) == [
        "1. security group db: allow ingress (ingress rule (none) -> tcp 5433 group sg-app (from app)) [online]",
        "2. cluster c: modify (port 5432 -> 5433) [all-instances-restart] - every instance restarts together: "
        "the cluster takes no connections for a few minutes",
        "3. security group db: revoke ingress (ingress rule tcp 5432 group sg-app (from app) -> (none)) [online]",
    ]
    # Whatever apply_immediately says: AWS applies a port change at once.
    assert sp.runners_of(actions) == ["security_group", STACK, "security_group_revoke"]


def test_a_cluster_on_another_security_group_is_moved_to_the_stacks_online():
    def elsewhere(state):
        state["cluster"]["VpcSecurityGroups"] = [{"VpcSecurityGroupId": "sg-old", "Status": "active"}]

    actions, problems, _notice = cluster_plan(elsewhere)
    assert problems == []
    assert lines(actions) == ["1. cluster c: modify (vpc_security_group_ids [sg-old] -> [sg-db]) [online]"]


def test_a_minor_upgrade_restarts_every_instance_now_or_in_the_window():
    actions, problems, _notice = cluster_plan(engine_version="16.8", apply_immediately=True)
    assert problems == []
    assert rows(actions) == [(1, "cluster", "c", "modify", ALL_INSTANCES_RESTART, NOW, STACK, ["ModifyDBCluster"])]
    deferred, problems, _notice = cluster_plan(engine_version="16.8")
    assert problems == []
    assert rows(deferred) == [
        (1, "cluster", "c", "modify", ALL_INSTANCES_RESTART, MAINTENANCE_WINDOW, STACK, ["ModifyDBCluster"])
    ]
    assert lines(deferred) == [
        "1. cluster c: modify (engine_version 16.6 -> 16.8) [all-instances-restart, maintenance-window] - every "
        "instance restarts together: the cluster takes no connections for a few minutes"
    ]


def test_a_newer_running_minor_is_kept_with_a_notice():
    actions, problems, notice = cluster_plan(lambda state: state["cluster"].update(EngineVersion="16.8"))
    assert (actions, problems) == ([], [])
    assert notice == "running 16.8, newer than the configured 16.6 within major 16; kept"


def test_a_major_upgrade_without_allow_is_impossible_in_place_and_a_problem():
    actions, problems, _notice = cluster_plan(engine_version="17.2")
    assert rows(actions) == [(1, "cluster", "c", "major version upgrade", IMPOSSIBLE, NOW, STACK, [])]
    assert lines(actions) == [
        "1. cluster c: major version upgrade (engine_version 16.6 -> 17.2) [impossible-in-place]. not allowed"
    ]
    assert problems == [
        "engine_version=17.2: cluster c runs 16.6, the inventory says 17.2, a major version upgrade "
        "(impossible-in-place unless allowed: every instance restarts together, the cluster is unavailable for 10 "
        "to 30 minutes; set aurora_cluster_allow_major_version_upgrade=true to upgrade, after a snapshot)"
    ]
    assert sp.runners_of(actions) == []  # an impossible step has nobody to run it


def test_a_major_upgrade_refused_names_the_roles_variable():
    _actions, problems, _notice = cluster_plan(engine_version="17.2", variable_prefix="aurora_cluster_")
    assert problems[0].startswith("aurora_cluster_engine_version=17.2: cluster c runs 16.6")


def test_an_allowed_major_upgrade_is_one_step_with_the_new_group_then_the_old_group_is_deleted():
    actions, problems, _notice = cluster_plan(
        engine_version="17.2", allow_major_version_upgrade=True, db_cluster_parameter_group_name="pg17"
    )
    assert problems == []
    assert rows(actions) == [
        (1, "cluster", "c", "major version upgrade", ALL_INSTANCES_RESTART, NOW, STACK, ["ModifyDBCluster"]),
        (2, "parameter_group", "pg", "delete", ONLINE, NOW, STACK, ["DeleteDBClusterParameterGroup"]),
    ]
    assert lines(actions) == [
        "1. cluster c: major version upgrade (engine_version 16.6 -> 17.2; db_cluster_parameter_group_name pg -> "
        "pg17) [all-instances-restart] - every instance restarts together: the cluster is unavailable until the "
        "upgrade ends (typically 10 to 30 minutes). strategy in-place: no extra cost; "
        "take a snapshot first",
        "2. parameter group pg: delete (parameter group pg -> (none)) [online]. the major version upgrade replaced it",
    ]
    assert actions[0].request == {"version": "17.2"}


def test_an_allowed_major_upgrade_keeping_its_group_deletes_nothing():
    actions, problems, _notice = cluster_plan(engine_version="17.2", allow_major_version_upgrade=True)
    assert problems == []
    assert [(a.change, a.impact) for a in actions] == [("major version upgrade", ALL_INSTANCES_RESTART)]


def test_an_immutable_attribute_is_a_problem_naming_it():
    actions, problems, _notice = cluster_plan(storage_encrypted=False)
    assert rows(actions) == [(1, "cluster", "c", "change storage_encrypted", IMPOSSIBLE, NOW, STACK, [])]
    assert problems == [
        "cluster c: storage_encrypted is True, the inventory says False (impossible-in-place: AWS cannot change it "
        "on an existing cluster; restore a snapshot into a new cluster)"
    ]


def test_cluster_tags_set_and_removed():
    def retagged(state):
        state["cluster"]["TagList"] = tag_list({"Stack": "other", "ManagedBy": "vitality.aurora", "x": "y"})

    actions, _problems, _notice = cluster_plan(retagged)
    assert rows(actions) == [
        (1, "cluster", "c", "set tags", ONLINE, NOW, STACK, ["AddTagsToResource"]),
        (2, "cluster", "c", "remove tags", ONLINE, NOW, STACK, ["RemoveTagsFromResource"]),
    ]
    assert lines(actions) == [
        "1. cluster c: set tags (tags.Stack other -> s) [online]",
        "2. cluster c: remove tags (tags.x y -> (none)) [online]",
    ]


# --- instances: the rolling order -------------------------------------------------------------------------------------


def class_change(apply_immediately=True):
    state, wanted = snapshot(), params()
    wanted["instances"].update(db_instance_class=XLARGE, apply_immediately=apply_immediately)
    return state, wanted


def test_a_class_change_now_rolls_readers_then_fails_over_to_the_first_then_the_writer_then_back():
    actions = planned(*class_change())
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (2, "instance", "r-2", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (3, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (4, "instance", "w", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (5, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
    ]
    assert [a.request.get("target") for a in actions] == [None, None, "r-1", None, "w"]
    assert lines(actions) == [
        "1. instance r-1: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot] - r-1 restarts: its "
        "connections drop for a few minutes while the other instances serve",
        "2. instance r-2: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot] - r-2 restarts: its "
        "connections drop for a few minutes while the other instances serve",
        "3. cluster c: failover (writer w -> r-1) [failover] - writes pause while the writer endpoint moves to r-1 "
        "(typically under 30 s). w restarts as a reader",
        "4. instance w: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot] - w restarts: its "
        "connections drop for a few minutes while the other instances serve",
        "5. cluster c: failover (writer r-1 -> w) [failover] - writes pause while the writer endpoint moves to w "
        "(typically under 30 s). the writer role goes back to the configured writer",
    ]


def test_a_class_change_now_of_a_lone_writer_restarts_it_without_a_failover():
    state, wanted = class_change()
    only_writer(state, wanted)
    actions = planned(state, wanted)
    assert rows(actions) == [(1, "instance", "w", "modify", WRITER_RESTART, NOW, STACK, ["ModifyDBInstance"])]
    assert lines(actions) == [
        "1. instance w: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [writer-restart] - w is the only "
        "instance: the cluster takes no connections while it restarts"
    ]


def test_a_class_change_in_the_window_is_each_instances_own_window_without_failover():
    actions = planned(*class_change(apply_immediately=False))
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, MAINTENANCE_WINDOW, STACK, ["ModifyDBInstance"]),
        (2, "instance", "r-2", "modify", REBOOT, MAINTENANCE_WINDOW, STACK, ["ModifyDBInstance"]),
        (3, "instance", "w", "modify", WRITER_RESTART, MAINTENANCE_WINDOW, STACK, ["ModifyDBInstance"]),
    ]
    advice = "set aurora_cluster_apply_immediately=true to roll it now, one instance at a time"
    assert lines(actions) == [
        "1. instance r-1: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot, maintenance-window] - "
        f"r-1 restarts in its maintenance window mon:05:00-mon:05:30. {advice}",
        "2. instance r-2: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot, maintenance-window] - "
        f"r-2 restarts in its maintenance window tue:05:00-tue:05:30. {advice}",
        "3. instance w: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [writer-restart, maintenance-window] "
        "- w restarts in its maintenance window sun:05:00-sun:05:30: as the writer, without a failover, so writes "
        f"stop while it restarts. {advice}",
    ]


def test_a_writer_aws_moved_is_failed_over_back_first():
    state = snapshot()
    set_writer(state, "r-2")
    actions = planned(state, params())
    assert rows(actions) == [(1, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"])]
    assert lines(actions) == [
        "1. cluster c: failover (writer r-2 -> w) [failover] - writes pause while the writer endpoint moves to w "
        "(typically under 30 s). the writer role is back on the configured writer"
    ]
    # And before any rolling work.
    state, wanted = class_change()
    set_writer(state, "r-2")
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change, a.request.get("target")) for a in actions] == [
        ("cluster", "c", "failover", "w"),
        ("instance", "r-1", "modify", None),
        ("instance", "r-2", "modify", None),
        ("cluster", "c", "failover", "r-1"),
        ("instance", "w", "modify", None),
        ("cluster", "c", "failover", "w"),
    ]


def static_parameter(rolling=True):
    state, wanted = with_parameter("shared_preload_libraries", "pg_stat_statements")
    wanted["instances"]["allow_rolling_reboot"] = rolling
    return state, wanted


def test_a_static_parameter_with_rolling_reboots_rolls_like_a_class_change():
    actions = planned(*static_parameter())
    assert rows(actions) == [
        (
            1,
            "parameter_group",
            "pg",
            "set parameters",
            PENDING_REBOOT,
            NEXT_RESTART,
            STACK,
            ["ModifyDBClusterParameterGroup"],
        ),
        (2, "instance", "r-1", "reboot", REBOOT, NOW, STACK, ["RebootDBInstance"]),
        (3, "instance", "r-2", "reboot", REBOOT, NOW, STACK, ["RebootDBInstance"]),
        (4, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (5, "instance", "w", "reboot", REBOOT, NOW, STACK, ["RebootDBInstance"]),
        (6, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
    ]
    assert actions[1].line() == (
        "2. instance r-1: reboot (parameters pending-reboot -> in-sync) [reboot] - r-1 restarts: its connections "
        "drop for a few minutes while the other instances serve"
    )


def test_a_static_parameter_without_rolling_reboots_waits_for_the_next_restart():
    actions = planned(*static_parameter(rolling=False))
    assert [(a.resource, a.change, a.impact, a.when) for a in actions] == [
        ("parameter_group", "set parameters", PENDING_REBOOT, NEXT_RESTART)
    ]


def test_a_static_parameter_on_a_lone_writer_reboots_it_in_place():
    state, wanted = static_parameter()
    only_writer(state, wanted)
    actions = planned(state, wanted)
    assert rows(actions)[1:] == [(2, "instance", "w", "reboot", WRITER_RESTART, NOW, STACK, ["RebootDBInstance"])]
    assert actions[1].unavailability == "w is the only instance: the cluster takes no connections while it restarts"


def test_a_member_pending_reboot_is_rebooted_alone_with_rolling_reboots():
    state, wanted = snapshot(), params()
    state["cluster"]["DBClusterMembers"][1]["DBClusterParameterGroupStatus"] = "pending-reboot"
    assert planned(state, wanted) == []
    wanted["instances"]["allow_rolling_reboot"] = True
    assert rows(planned(state, wanted)) == [(1, "instance", "r-1", "reboot", REBOOT, NOW, STACK, ["RebootDBInstance"])]


def test_a_class_change_now_also_applies_pending_parameters_without_a_reboot_of_its_own():
    state, wanted = static_parameter()
    wanted["instances"].update(db_instance_class=XLARGE, apply_immediately=True)
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change) for a in actions] == [
        ("parameter_group", "pg", "set parameters"),
        ("instance", "r-1", "modify"),
        ("instance", "r-2", "modify"),
        ("cluster", "c", "failover"),
        ("instance", "w", "modify"),
        ("cluster", "c", "failover"),
    ]
    assert {a.note for a in actions if a.change == "modify"} == {
        "the restart also applies the pending static parameters"
    }


def test_a_port_change_with_a_static_parameter_and_rolling_reboots_needs_no_reboot_of_its_own():
    state, wanted = static_parameter()
    wanted["cluster"]["port"] = 5433
    actions = planned(state, wanted)
    assert rows(actions) == [
        (
            1,
            "parameter_group",
            "pg",
            "set parameters",
            PENDING_REBOOT,
            NEXT_RESTART,
            STACK,
            ["ModifyDBClusterParameterGroup"],
        ),
        (2, "cluster", "c", "modify", ALL_INSTANCES_RESTART, NOW, STACK, ["ModifyDBCluster"]),
    ]
    assert actions[1].note == "the restart also applies the static parameters"


def test_a_deferred_minor_upgrade_does_not_spare_the_rolling_reboots():
    state, wanted = static_parameter()
    wanted["cluster"]["engine_version"] = "16.8"  # in the cluster's window, not now
    changes = [(a.name, a.change) for a in planned(state, wanted)]
    assert changes == [
        ("pg", "set parameters"),
        ("c", "modify"),
        ("r-1", "reboot"),
        ("r-2", "reboot"),
        ("c", "failover"),
        ("w", "reboot"),
        ("c", "failover"),
    ]


def test_fewer_readers_deletes_the_highest_numbered_first_after_the_rolling_work():
    state, wanted = class_change()
    state["instances"].append(instance("r-3", "us-east-1d", 3, "reader"))
    state["cluster"]["DBClusterMembers"].append(member("r-3"))
    wanted["instances"]["reader_count"] = 1
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (2, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (3, "instance", "w", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (4, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (5, "instance", "r-3", "delete", ONLINE, NOW, STACK, ["DeleteDBInstance"]),
        (6, "instance", "r-2", "delete", ONLINE, NOW, STACK, ["DeleteDBInstance"]),
    ]
    assert actions[4].line() == (
        "5. instance r-3: delete (instance r-3 -> (none)) [online] - connections to r-3 through the reader endpoint "
        "drop. beyond reader_count=1, highest-numbered first"
    )


def test_an_instance_not_named_like_a_reader_is_never_deleted():
    state = snapshot()
    state["instances"].append(instance("someone-elses", "us-east-1d", 5, "reader"))
    assert planned(state, params()) == []


def test_fewer_readers_deletes_reader_ten_before_reader_three():
    state, wanted = snapshot(), params()
    for number in (3, 10):
        state["instances"].append(instance(f"r-{number}", "us-east-1d", min(number, 15), "reader"))
        state["cluster"]["DBClusterMembers"].append(member(f"r-{number}"))
    actions = planned(state, wanted)
    assert [(a.name, a.change) for a in actions] == [("r-10", "delete"), ("r-3", "delete")]


def test_a_new_reader_is_created_before_the_rolling_work():
    state, wanted = class_change()
    wanted["instances"]["reader_count"] = 3
    actions = planned(state, wanted)
    assert [(a.order, a.name, a.change) for a in actions] == [
        (1, "r-3", "create"),
        (2, "r-1", "modify"),
        (3, "r-2", "modify"),
        (4, "c", "failover"),
        (5, "w", "modify"),
        (6, "c", "failover"),
    ]
    assert (
        actions[0].line()
        == "1. instance r-3: create (db_instance_class (none) -> db.r6g.xlarge) [online]. reader in us-east-1d"
    )
    assert actions[0].request["params"]["promotion_tier"] == 3


def test_an_instance_tag_missing_is_set_on_that_instance():
    state = snapshot()
    by_id(state, "r-1")["TagList"] = tag_list(TAGS)
    actions = planned(state, params())
    assert rows(actions) == [(1, "instance", "r-1", "set tags", ONLINE, NOW, STACK, ["AddTagsToResource"])]
    assert lines(actions) == ["1. instance r-1: set tags (tags.Role (none) -> reader) [online]"]


def test_an_instance_performance_insights_key_is_impossible_in_place():
    state, wanted = snapshot(), params()
    by_id(state, "r-1").update(
        PerformanceInsightsEnabled=True,
        PerformanceInsightsRetentionPeriod=7,
        PerformanceInsightsKMSKeyId="arn:aws:kms:us-east-1:123456789012:key/old",
    )
    for identifier in ("w", "r-2"):
        by_id(state, identifier).update(
            PerformanceInsightsEnabled=True,
            PerformanceInsightsRetentionPeriod=7,
            PerformanceInsightsKMSKeyId="arn:aws:kms:us-east-1:123456789012:key/new",
        )
    wanted["instances"].update(
        enable_performance_insights=True, performance_insights_retention_period=7, performance_insights_kms_key_id="new"
    )
    actions, problems, _notice = plan(state, wanted)
    assert rows(actions) == [
        (1, "instance", "r-1", "change performance_insights_kms_key_id", IMPOSSIBLE, NOW, STACK, [])
    ]
    assert problems == [
        "instance r-1: performance_insights_kms_key_id is 'old', the inventory says 'new' (impossible-in-place: AWS "
        "keeps it for the instance's life; replace the instance)"
    ]


# --- order and runners ------------------------------------------------------------------------------------------------


def test_orders_number_the_list_from_one_and_runners_follow_the_phases():
    state, wanted = class_change()
    wanted["cluster"]["port"] = 5433
    wanted["security_group"]["app_port"] = 5433
    state["subnet_group_tags"] = {}
    state["cluster"]["BackupRetentionPeriod"] = 1
    wanted["instances"]["reader_count"] = 1
    from ansible_collections.vitality.aurora.plugins.module_utils.plan import Action

    baseline = [
        Action("backup_plan", "c", "create", runner="backup", calls=["CreateBackupPlan"]),
        Action("monitoring_role", "c-monitoring", "create", runner="monitoring_role", calls=["CreateRole"]),
    ]
    actions, problems, _notice = plan(state, wanted, baseline)
    assert problems == []
    assert [a.order for a in actions] == list(range(1, len(actions) + 1))
    assert [(a.runner, a.resource, a.change) for a in actions] == [
        ("security_group", "security_group", "allow ingress"),
        ("subnet_group", "subnet_group", "set tags"),
        ("monitoring_role", "monitoring_role", "create"),
        # AWS Backup's role, vaults and plan need nothing of the stack: before its steps.
        ("backup", "backup_plan", "create"),
        (STACK, "cluster", "modify"),
        (STACK, "instance", "modify"),
        (STACK, "cluster", "failover"),
        (STACK, "instance", "modify"),
        (STACK, "cluster", "failover"),
        (STACK, "instance", "delete"),
        ("security_group_revoke", "security_group", "revoke ingress"),
    ]
    assert sp.runners_of(actions) == [
        "security_group",
        "subnet_group",
        "monitoring_role",
        "backup",
        STACK,
        "security_group_revoke",
    ]
    # The cluster's restart already restarts every instance: the class change still rolls (its own restart).
    assert actions[4].impact == ALL_INSTANCES_RESTART


def test_the_events_topic_key_leads_the_stacks_own_steps_and_the_secondarys_stays_in_place():
    """The key and its alias one right after the other, before the stack's creates: no wait for the cluster comes
    between them. The secondary Region's key stays after its stack's steps, where the planner put it."""
    from ansible_collections.vitality.aurora.plugins.module_utils.plan import Action

    state, wanted = class_change()
    baseline = [
        Action("event_topic", "t", "set policy", runner="event_topic", calls=["SetTopicAttributes"]),
        Action("event_topic_key", "alias/t", "create", runner=STACK, calls=["CreateKey"]),
        Action("event_topic_key", "alias/t", "create alias", runner=STACK, calls=["CreateAlias"]),
        Action("event_topic_key", "alias/t", "create", runner=STACK, calls=["CreateKey"], region="us-west-2"),
        Action("event_topic", "t", "set encryption key", runner=STACK, calls=["SetTopicAttributes"]),
    ]
    actions, problems, _notice = plan(state, wanted, baseline)
    assert problems == []
    order = [(a.resource, a.change, a.region) for a in actions]
    assert order[:3] == [
        ("event_topic", "set policy", None),
        ("event_topic_key", "create", None),
        ("event_topic_key", "create alias", None),
    ]
    assert order[3][0] == "instance"
    assert order[-2:] == [("event_topic_key", "create", "us-west-2"), ("event_topic", "set encryption key", None)]
    assert [a.order for a in actions] == list(range(1, len(actions) + 1))


def test_runners_of_leaves_out_impossible_steps_and_orders_by_phase():
    state, wanted = snapshot(), params()
    wanted["cluster"]["storage_encrypted"] = False
    state["security_group"]["IpPermissions"].append(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    )
    actions, problems, _notice = plan(state, wanted)
    assert len(problems) == 1
    assert sp.runners_of(actions) == ["security_group_revoke"]
    assert sp.runners_of([]) == []


def test_the_plan_does_not_change_the_snapshot_or_the_params():
    state, wanted = class_change()
    state_before, wanted_before = copy.deepcopy(state), copy.deepcopy(wanted)
    plan(state, wanted)
    assert (state, wanted) == (state_before, wanted_before)


# --- KMS keys ---------------------------------------------------------------------------------------------------------

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_storage_key_named_by_id_or_resolved_alias_matches_the_arn_aws_reports():
    state = snapshot()
    state["cluster"]["KmsKeyId"] = KEY_ARN
    assert cluster_plan(lambda s: s.update(state), kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab") == ([], [], None)
    assert cluster_plan(lambda s: s.update(state), kms_key_id="alias/db", resolved_keys={"alias/db": KEY_ARN}) == (
        [],
        [],
        None,
    )


def test_another_storage_key_is_impossible_in_place():
    actions, problems, _notice = cluster_plan(
        lambda s: s["cluster"].update(KmsKeyId=KEY_ARN), kms_key_id="alias/other", resolved_keys={}
    )
    assert [(a.change, a.impact) for a in actions] == [("change kms_key_id", IMPOSSIBLE)]
    assert problems == [
        f"cluster c: kms_key_id is {KEY_ARN!r}, the inventory says 'alias/other' (impossible-in-place: AWS cannot "
        "change it on an existing cluster; restore a snapshot into a new cluster)"
    ]


def test_a_key_kms_does_not_know_is_left_to_the_preflight_not_planned_as_a_change():
    # The module found no key behind the alias: the preflight refuses it, naming the variable; no key change.
    actions, problems, _notice = cluster_plan(
        lambda s: s["cluster"].update(KmsKeyId=KEY_ARN),
        kms_key_id="alias/missing",
        resolved_keys={},
        unresolved_keys=["alias/missing"],
    )
    assert (actions, problems) == ([], [])


def test_another_secret_key_is_changed_online():
    def secret_key(state):
        state["cluster"]["MasterUserSecret"]["KmsKeyId"] = KEY_ARN

    actions, problems, _notice = cluster_plan(secret_key, master_user_secret_kms_key_id="alias/secrets")
    assert problems == []
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"])]
    assert lines(actions) == [
        f"1. cluster c: modify (master_user_secret_kms_key_id {KEY_ARN} -> alias/secrets) [online]"
    ]


def test_the_security_group_and_subnet_group_tasks_send_what_the_plan_compares():
    """amazon.aws.ec2_security_group and rds_subnet_group are given the stack_plan's requests: a group as they leave it
    plans nothing, and a rule the inventory adds is both in the request and in the plan."""
    want, stack = params(), snapshot()
    group = sp.security_group_request(want["security_group"], stack["network"])
    assert group == {
        "name": "db",
        "description": "database",
        "vpc_id": "vpc-1",
        "rules": [{"proto": "tcp", "ports": [5432], "group_id": APP_SG, "rule_desc": "from app"}],
        "rules_egress": [],
        "tags": dict(TAGS, Name="db"),
        "purge_tags": True,
    }
    subnets = sp.subnet_group_request(want["subnet_group"], stack["network"])
    assert subnets == {
        "name": "subnets",
        "description": "private",
        "subnets": ["subnet-a", "subnet-b"],
        "tags": dict(TAGS),
        "purge_tags": True,
        "state": "present",
    }
    assert sp.plan_security_group(stack, want["security_group"]) == []
    assert sp.plan_subnet_group(stack, want["subnet_group"]) == []
    extra = {"proto": "tcp", "ports": [5432], "cidr_ip": "10.0.9.0/24", "rule_desc": "bastion"}
    want["security_group"]["extra_ingress"] = [extra]
    assert sp.security_group_request(want["security_group"], stack["network"])["rules"][1] == extra
    planned = sp.plan_security_group(stack, want["security_group"])
    assert [(a.change, a.runner) for a in planned] == [("allow ingress", "security_group")]
    assert "10.0.9.0/24" in planned[0].changes[0]["after"]
