"""The stack's report: the facts a reviewer checks and the Mermaid diagram, built from one read of the stack."""

from ansible_collections.vitality.aurora.plugins.module_utils.report import (
    LIBRARY_SLOT,
    label,
    stack_report,
    write_report_files,
)

PARAMS = {
    "vpc_name": "vitality-prod-app-vpc",
    "app_security_group_name": "vitality-prod-app-sg",
    "stack_name": "vitality-prod",
    "security_group": {"name": "vitality-prod-db"},
    "parameter_group": {"name": "vitality-prod-aurora-pg16"},
    "cluster": {"db_cluster_identifier": "vitality-prod-aurora", "engine_version": "16.6", "port": 5432},
}


def instance(identifier, az, status="available", cls="db.r6g.large", **more):
    return {
        "DBInstanceIdentifier": identifier,
        "AvailabilityZone": az,
        "DBInstanceClass": cls,
        "DBInstanceStatus": status,
        **more,
    }


def snapshot(**changes):
    read = {
        "network": {
            "vpc_id": "vpc-1",
            "subnets": [
                {"subnet_id": "subnet-c", "availability_zone": "us-east-1c"},
                {"subnet_id": "subnet-d", "availability_zone": "us-east-1d"},
            ],
            "app_security_group_id": "sg-app",
        },
        "security_group": {
            "GroupId": "sg-db",
            "GroupName": "vitality-prod-db",
            "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-app"}]}
            ],
        },
        "parameter_group": {
            "DBClusterParameterGroupName": "vitality-prod-aurora-pg16",
            "DBParameterGroupFamily": "aurora-postgresql16",
        },
        "parameters": {"rds.force_ssl": "1", "log_min_duration_statement": "500"},
        "cluster": {
            "DBClusterIdentifier": "vitality-prod-aurora",
            "Status": "available",
            "Engine": "aurora-postgresql",
            "EngineVersion": "16.6",
            "Endpoint": "w.example",
            "ReaderEndpoint": "r.example",
            "Port": 5432,
            "StorageEncrypted": True,
            "KmsKeyId": "arn:aws:kms:us-east-1:1:key/k",
            "IAMDatabaseAuthenticationEnabled": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 14,
            "PreferredBackupWindow": "03:00-04:00",
            "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
            "MasterUserSecret": {"SecretArn": "arn:secret"},
            "PendingModifiedValues": {},
            "DBClusterMembers": [
                {"DBInstanceIdentifier": "vitality-prod-aurora-writer", "IsClusterWriter": True},
                {"DBInstanceIdentifier": "vitality-prod-aurora-reader-1", "IsClusterWriter": False},
            ],
        },
        "instances": [
            instance(
                "vitality-prod-aurora-reader-1",
                "us-east-1d",
                PendingModifiedValues={"DBInstanceClass": "db.r6g.xlarge"},
            ),
            instance("vitality-prod-aurora-writer", "us-east-1c"),
        ],
    }
    read.update(changes)
    return read


def facts_of(report):
    return {row["fact"]: row["value"] for section in report["facts"] for row in section["rows"]}


def test_the_facts_a_reviewer_checks_are_read_from_the_stack():
    report = stack_report(snapshot(), PARAMS, [], "us-east-1")
    facts = facts_of(report)
    assert facts["State"] == "available" and facts["Region"] == "us-east-1"
    assert facts["Storage encrypted"] == "yes" and facts["Encryption key"] == "arn:aws:kms:us-east-1:1:key/k"
    assert facts["TLS required (rds.force_ssl)"] == "yes"
    assert facts["IAM database authentication"] == "yes" and facts["Deletion protection"] == "yes"
    assert facts["Ingress"] == "tcp 5432 from the application's group"
    assert facts["Backup retention (days)"] == "14" and facts["Maintenance window (UTC)"] == "sun:05:00-sun:06:00"
    # The user-set parameters are the changes from the family's defaults.
    assert facts["Changed from the family defaults"] == "log_min_duration_statement=500, rds.force_ssl=1"
    assert (
        facts["Held by AWS (pending modified values)"] == "vitality-prod-aurora-reader-1: DBInstanceClass=db.r6g.xlarge"
    )
    assert facts["The plan against the inventory now"] == "no change"
    assert facts["Serverless v2 capacity"] == "none (provisioned instances only)"
    assert "# Vitality database: vitality-prod" in report["markdown"]
    assert "| Deletion protection | yes |" in report["markdown"]


def test_a_serverless_v2_range_reads_as_the_plan_words_it():
    state = snapshot()
    state["cluster"]["ServerlessV2ScalingConfiguration"] = {"MinCapacity": 0.0, "MaxCapacity": 4.0}
    facts = facts_of(stack_report(state, PARAMS, [], "us-east-1"))
    assert facts["Serverless v2 capacity"] == "0 to 4 ACU, pause after 300 s idle"


def test_a_weaker_stack_reads_as_such():
    weak = snapshot()
    weak["cluster"] = dict(weak["cluster"], StorageEncrypted=False, DeletionProtection=False)
    weak["parameters"] = {}
    weak["instances"][1]["PubliclyAccessible"] = True
    facts = facts_of(
        stack_report(weak, PARAMS, ["1. cluster vitality-prod-aurora: modify (...) [online]"], "us-east-1")
    )
    assert facts["Storage encrypted"] == "no" and facts["Deletion protection"] == "no"
    assert facts["TLS required (rds.force_ssl)"] == "not set in the parameter group"
    assert facts["Publicly accessible instances"] == "vitality-prod-aurora-writer"
    assert facts["Changed from the family defaults"] == "none"
    assert facts["The plan against the inventory now"] == "1. cluster vitality-prod-aurora: modify (...) [online]"


def test_the_diagram_places_each_instance_in_its_subnet_with_its_role_and_class():
    diagram = stack_report(snapshot(), PARAMS, [], "us-east-1")["mermaid"]
    lines = diagram.splitlines()
    assert lines[0] == "flowchart TB"
    zone_c = lines.index('        subgraph n_az_us_east_1c["Private subnet us-east-1c<br>subnet-c"]')
    assert lines[zone_c + 1] == (
        '            n_i_vitality_prod_aurora_writer["vitality-prod-aurora-writer<br>writer · db.r6g.large<br>available"]'
    )
    zone_d = lines.index('        subgraph n_az_us_east_1d["Private subnet us-east-1d<br>subnet-d"]')
    assert lines[zone_d + 1].startswith(
        '            n_i_vitality_prod_aurora_reader_1["vitality-prod-aurora-reader-1<br>reader'
    )
    assert '    appSg -- "tcp 5432" --> dbSg' in lines
    assert "    writerEp --> n_i_vitality_prod_aurora_writer" in lines
    assert "    readerEp -.-> n_i_vitality_prod_aurora_reader_1" in lines


def test_an_absent_cluster_and_an_empty_subnet_are_drawn_as_such():
    empty = snapshot(cluster=None, instances=[], security_group=None)
    report = stack_report(empty, PARAMS, ["1. security group vitality-prod-db: create (...) [online]"], "us-east-1")
    assert facts_of(report)["State"] == "does not exist"
    assert facts_of(report)["Database security group"] == "does not exist"
    diagram = report["mermaid"]
    assert 'n_none_us_east_1c["no instance"]' in diagram and 'n_none_us_east_1d["no instance"]' in diagram
    assert "does not exist" in diagram and "writerEp" not in diagram


def test_the_operations_baseline_is_drawn_with_what_is_missing():
    desired = {
        "monitoring_role": {"name": "vitality-prod-rds-monitoring"},
        "event_topic": {"name": "vitality-prod-db-events", "key_alias": "alias/vitality-prod-db-events"},
        "event_subscriptions": [
            {"name": "vitality-prod-aurora-cluster-events", "source_type": "db-cluster", "categories": ["failover"]},
            {"name": "vitality-prod-aurora-gone", "source_type": "db-instance", "categories": []},
        ],
        "backup": {
            "plan_name": "vitality-prod-aurora",
            "schedule": "cron(0 5 * * ? *)",
            "retention_days": 35,
            "vault_name": "v",
        },
    }
    current = {
        "monitoring_role": {"arn": "x"},
        "event_topic": None,
        "event_subscriptions": {},
        "backup_plan": {},
        "backup_selection": {},
    }
    report = stack_report(snapshot(), PARAMS, [], "us-east-1", (desired, current))
    facts = facts_of(report)
    assert facts["Enhanced Monitoring role vitality-prod-rds-monitoring"] == "exists"
    assert facts["SNS topic of the RDS events vitality-prod-db-events"] == (
        "missing (the plan creates it); encrypted with alias/vitality-prod-db-events"
    )
    assert facts["RDS event subscription vitality-prod-aurora-cluster-events"].startswith("missing")
    # A subscription with no category is one that must not exist: not part of the picture.
    assert not [k for k in facts if "vitality-prod-aurora-gone" in k]
    assert facts["AWS Backup plan vitality-prod-aurora"] == "exists; cron(0 5 * * ? *), kept 35 days, vault v"
    diagram = report["mermaid"]
    assert 'subgraph ops["Operations baseline"]' in diagram
    assert "    class n_ops_1,n_ops_2 missing" in diagram


def test_labels_cannot_break_the_diagram_and_the_page_leaves_a_slot_for_the_library():
    assert label('a "quoted" <b>', None, "x & y") == '"a #quot;quoted#quot; &lt;b&gt;<br>x &amp; y"'
    page = stack_report(snapshot(), PARAMS, [], "us-east-1")["html"]
    assert page.count(LIBRARY_SLOT) == 1 and '<pre class="mermaid">' in page
    assert "<td>Deletion protection</td><td>yes</td>" in page
    # Nothing is fetched when the page is opened.
    assert "src=" not in page and "http" not in page.replace("http://www.w3.org", "")


def test_the_alarms_are_a_part_of_the_baseline_each_listed_with_its_condition():
    prefix = "vitality.aurora/vitality-prod-aurora/"
    desired = {
        "alarm_plan": {
            "prefix": prefix,
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events",
            "alarms": [
                {"name": f"{prefix}Deadlocks", "condition": "Average Deadlocks > 0 per second for 5 x 60 s"},
                {
                    "name": f"{prefix}w/CPUUtilization",
                    "condition": "Average CPUUtilization > 80 percent for 5 x 60 s",
                },
            ],
            "skipped": [{"instance": "s", "metric": "FreeableMemory", "reason": "no maximum capacity"}],
        }
    }
    current = {"alarms": {f"{prefix}Deadlocks": {}}}
    report = stack_report(snapshot(), PARAMS, [], "us-east-1", (desired, current))
    facts = facts_of(report)
    assert facts[f"CloudWatch alarms {prefix}"] == (
        "missing (the plan creates it); 2 alarms to SNS topic vitality-prod-db-events"
    )
    assert facts[f"{prefix}Deadlocks"] == "Average Deadlocks > 0 per second for 5 x 60 s"
    assert facts[f"{prefix}w/CPUUtilization"] == (
        "Average CPUUtilization > 80 percent for 5 x 60 s; missing (the plan creates it)"
    )
    assert facts["s FreeableMemory"] == "not made: no maximum capacity"
    assert "CloudWatch alarms" in report["markdown"]


# --- the report's files ----------------------------------------------------------------------------------------------

PAGES = {"markdown": "# Report\n", "html": f"<html><body>{LIBRARY_SLOT}</body></html>"}


def test_the_files_are_written_readable_by_their_owner_with_the_library_inside(tmp_path):
    library = tmp_path / "mermaid.min.js"
    library.write_text('var m = "</script>";\n\n')
    stem = tmp_path / "new" / "vitality-dev"
    files = write_report_files(str(stem), str(library), PAGES)
    assert files == {
        "markdown": f"{stem}.md",
        "html": f"{stem}.html",
        "written": [f"{stem}.md", f"{stem}.html"],
        "library_missing": False,
    }
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    assert {(p.name, p.stat().st_mode & 0o777) for p in (tmp_path / "new").iterdir()} == {
        ("vitality-dev.md", 0o600),
        ("vitality-dev.html", 0o600),
    }
    # The library inside, its trailing blank space off, and no "</script" in it to end its element early.
    assert (
        tmp_path / "new" / "vitality-dev.html"
    ).read_text() == '<html><body><script>var m = "<\\/script>";</script></body></html>'
    assert (tmp_path / "new" / "vitality-dev.md").read_text() == "# Report\n"


def test_files_holding_the_same_report_are_left_alone_and_a_changed_one_is_replaced(tmp_path):
    library = tmp_path / "mermaid.min.js"
    library.write_text("var m;")
    stem = str(tmp_path / "vitality-dev")
    write_report_files(stem, str(library), PAGES)
    (tmp_path / "vitality-dev.md").chmod(0o644)
    assert write_report_files(stem, str(library), PAGES)["written"] == []
    # Left alone: its mode too.
    assert (tmp_path / "vitality-dev.md").stat().st_mode & 0o777 == 0o644
    changed = dict(PAGES, markdown="# Report\n\nretention 15\n")
    assert write_report_files(stem, str(library), changed)["written"] == [f"{stem}.md"]
    assert (tmp_path / "vitality-dev.md").read_text() == changed["markdown"]
    assert (tmp_path / "vitality-dev.md").stat().st_mode & 0o777 == 0o600
    # No temporary file left beside them.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mermaid.min.js", "vitality-dev.html", "vitality-dev.md"]


def test_without_the_library_only_the_markdown_is_written(tmp_path):
    stem = str(tmp_path / "vitality-dev")
    files = write_report_files(stem, str(tmp_path / "absent.js"), PAGES)
    assert files == {"markdown": f"{stem}.md", "html": None, "written": [f"{stem}.md"], "library_missing": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vitality-dev.md"]


def test_beside_an_unchanged_markdown_an_existing_html_is_not_read_again_and_a_missing_one_is_written(tmp_path):
    library = tmp_path / "mermaid.min.js"
    library.write_text("var m;")
    stem = str(tmp_path / "vitality-dev")
    write_report_files(stem, str(library), PAGES)
    html = tmp_path / "vitality-dev.html"
    # The same report: the 5 MB page is taken as it is (a no-op run reads neither it nor the library).
    html.write_text("left as it is")
    assert write_report_files(stem, str(library), PAGES)["written"] == []
    assert html.read_text() == "left as it is"
    html.unlink()
    assert write_report_files(stem, str(library), PAGES)["written"] == [f"{stem}.html"]
    assert html.read_text() == "<html><body><script>var m;</script></body></html>"


GLOBAL = {
    "global_cluster_identifier": "vitality-prod-global",
    "writer_region": "us-east-1",
    "secondary_region": "us-west-2",
    "secondary_cluster_identifier": "vitality-prod-us-west-2",
    "secondary_reader_endpoint": "vitality-prod-us-west-2.cluster-ro-x.us-west-2.rds.amazonaws.com",
    "secondary_instances": ["vitality-prod-us-west-2-reader-1"],
}


def test_a_global_database_draws_both_regions_and_which_way_the_storage_replicates():
    lines = stack_report(snapshot(), dict(PARAMS, global_database_report=GLOBAL), [], "us-east-1")[
        "mermaid"
    ].splitlines()
    assert '    subgraph region2["Region us-west-2"]' in lines
    assert any(line.startswith('        secondary["Cluster vitality-prod-us-west-2<br>secondary') for line in lines)
    assert '    cluster -- "storage replication, typically under 1 s" --> secondary' in lines
    assert "    secondary --- n_i2_vitality_prod_us_west_2_reader_1" in lines
    # After a switchover the other Region writes: the arrow turns round.
    moved = dict(GLOBAL, writer_region="us-west-2")
    lines = stack_report(snapshot(), dict(PARAMS, global_database_report=moved), [], "us-east-1")[
        "mermaid"
    ].splitlines()
    assert '    secondary -- "storage replication, typically under 1 s" --> cluster' in lines
    # Without one, one Region only.
    assert "region2" not in stack_report(snapshot(), PARAMS, [], "us-east-1")["mermaid"]
