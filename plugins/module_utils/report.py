# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack as it is, in a picture and the facts a reviewer checks: built from the planner's one read.

``stack_report(...)`` takes what ``aurora_stack`` read (the snapshot of stack_plan.read_stack, the operations
baseline as baseline_plan.read_baseline read it, with what was asked of it) and the plan, and returns
``{"facts": [...], "mermaid": str, "markdown": str, "html": str}``. Pure: no AWS call.

The diagram follows the architecture document's (``flowchart TB``, its colours): the VPC, a private subnet per
AZ with the instances placed in it (writer and readers, with class and state), the application's and the
database's security groups with the rule between them, the cluster, its endpoints, and, when they exist, the
operations baseline (monitoring, backup, event notifications, CloudWatch alarms). The HTML carries the diagram for Mermaid and the
facts as tables; the library itself goes where ``LIBRARY_SLOT`` is (the role puts the bundled copy there).
"""

from __future__ import annotations

import html
import os
import re
import tempfile

from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import capacity_words

LIBRARY_SLOT = '<script data-library="mermaid"></script>'

STYLES = (
    "classDef vpc fill:#F7FBFF,stroke:#3F8624,stroke-width:2px,color:#0A3200,font-weight:bold",
    "classDef subnet fill:#F1F8E9,stroke:#7CB342,stroke-width:1px,color:#2E5014,font-weight:bold",
    "classDef db fill:#E1F5FE,stroke:#0288D1,stroke-width:2px,color:#01579B,font-weight:bold",
    "classDef securityGroup fill:#FFEBEE,stroke:#D32F2F,stroke-width:1px,color:#7A0000,font-weight:bold",
    "classDef component fill:#ECEFF1,stroke:#607D8B,stroke-width:1px,color:#263238,font-weight:bold",
    "classDef missing fill:#FFF8E1,stroke:#F9A825,stroke-width:1px,stroke-dasharray:4 3,color:#5D4037",
)


def node_id(*parts):
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", "_".join(str(p) for p in parts))


def label(*lines):
    """A Mermaid node label: the lines joined by <br>, with what Mermaid would read as syntax escaped."""
    escaped = [
        str(line).replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;")
        for line in lines
        if line not in (None, "")
    ]
    return '"' + "<br>".join(escaped) + '"'


def _members(cluster):
    return {m.get("DBInstanceIdentifier"): m for m in (cluster or {}).get("DBClusterMembers") or []}


def _parameters(snapshot):
    current = snapshot.get("parameters") or {}
    if isinstance(current, dict):
        return {str(k): v.get("value") if isinstance(v, dict) else v for k, v in current.items()}
    return {p.get("ParameterName"): p.get("ParameterValue") for p in current if isinstance(p, dict)}


def _ingress_words(group, app_group_id):
    """The database group's rules, as 'tcp 5432 from <group>' words; [] when it has none."""
    words = []
    for permission in (group or {}).get("IpPermissions") or []:
        ports = permission.get("FromPort")
        if permission.get("ToPort") not in (None, ports):
            ports = f"{ports}-{permission.get('ToPort')}"
        proto = permission.get("IpProtocol")
        proto = "all" if proto == "-1" else proto
        for pair in permission.get("UserIdGroupPairs") or []:
            source = "the application's group" if pair.get("GroupId") == app_group_id else pair.get("GroupId")
            words.append(f"{proto} {ports} from {source}")
        for cidr in permission.get("IpRanges") or []:
            words.append(f"{proto} {ports} from {cidr.get('CidrIp')}")
        for cidr in permission.get("Ipv6Ranges") or []:
            words.append(f"{proto} {ports} from {cidr.get('CidrIpv6')}")
    return words


def _yes(value, yes="yes", no="no"):
    if value is None:
        return "unknown"
    return yes if value else no


def instances_of(snapshot):
    """Each instance as the report shows it: id, role, AZ, class, state, promotion tier, monitoring, PI."""
    members = _members(snapshot.get("cluster"))
    shown = []
    for instance in sorted(snapshot.get("instances") or [], key=lambda i: i.get("DBInstanceIdentifier") or ""):
        identifier = instance.get("DBInstanceIdentifier")
        member = members.get(identifier) or {}
        shown.append(
            {
                "id": identifier,
                "role": "writer" if member.get("IsClusterWriter") else "reader",
                "az": instance.get("AvailabilityZone") or "unknown AZ",
                "class": instance.get("DBInstanceClass"),
                "status": instance.get("DBInstanceStatus"),
                "promotion_tier": instance.get("PromotionTier", member.get("PromotionTier")),
                "monitoring_interval": instance.get("MonitoringInterval"),
                "performance_insights": instance.get("PerformanceInsightsEnabled"),
                "pending": sorted((instance.get("PendingModifiedValues") or {}).items()),
            }
        )
    # The writer first, then the readers by name: the order a reader expects.
    return sorted(shown, key=lambda i: (i["role"] != "writer", i["id"]))


def baseline_parts(desired, current):
    """[(kind, name, exists, detail)] of the operations baseline; [] when it is off."""
    if not desired:
        return []
    current = current or {}
    parts = []
    role = desired.get("monitoring_role")
    if role:
        parts.append(("Enhanced Monitoring role", role.get("name"), current.get("monitoring_role") is not None, None))
    topic = desired.get("event_topic")
    if topic:
        key = topic.get("kms_key_id") or topic.get("key_alias") or f"alias/{topic.get('name')}"
        parts.append(
            (
                "SNS topic of the RDS events",
                topic.get("name"),
                current.get("event_topic") is not None,
                f"encrypted with {key}",
            )
        )
    subscriptions = current.get("event_subscriptions") or {}
    for sub in desired.get("event_subscriptions") or []:
        if sub.get("categories"):
            detail = f"{sub.get('source_type')}: {', '.join(sub.get('categories') or [])}"
            parts.append(
                ("RDS event subscription", sub.get("name"), subscriptions.get(sub.get("name")) is not None, detail)
            )
    backup = desired.get("backup")
    if backup:
        detail = f"{backup.get('schedule')}, kept {backup.get('retention_days')} days, vault {backup.get('vault_name')}"
        exists = current.get("backup_plan") is not None and current.get("backup_selection") is not None
        parts.append(("AWS Backup plan", backup.get("plan_name"), exists, detail))
        copy = backup.get("copy_region")
        if copy:
            key = copy.get("kms_key_arn") or f"alias/{copy.get('vault_name')}-backup-copies"
            detail = f"in {copy.get('region')}, copies kept {copy.get('retention_days')} days, encrypted with {key}"
            parts.append(
                ("AWS Backup copy vault", copy.get("vault_name"), current.get("backup_copy_vault") is not None, detail)
            )
        account = backup.get("copy_account")
        if account:
            detail = (
                f"another account's vault, copies kept {account.get('retention_days')} days (not managed by the role)"
            )
            parts.append(("AWS Backup copy vault", account.get("vault_arn"), exists, detail))
    alarms = desired.get("alarm_plan")
    if alarms:
        found = current.get("alarms") or {}
        names = [alarm["name"] for alarm in alarms["alarms"]]
        topic = str(alarms.get("topic_arn") or "").rsplit(":", 1)[-1]
        detail = f"{len(names)} alarms to SNS topic {topic}"
        parts.append(("CloudWatch alarms", alarms["prefix"], all(name in found for name in names), detail))
    return parts


def alarm_rows(desired, current):
    """[(alarm name, its condition and whether it exists)] of the CloudWatch alarms; [] when they are off."""
    alarms = (desired or {}).get("alarm_plan")
    if not alarms:
        return []
    found = (current or {}).get("alarms") or {}
    rows = [
        (alarm["name"], alarm["condition"] + ("" if alarm["name"] in found else "; missing (the plan creates it)"))
        for alarm in alarms["alarms"]
    ]
    rows += [
        (f"{entry['instance']} {entry['metric']}", f"not made: {entry['reason']}")
        for entry in alarms.get("skipped") or []
    ]
    return rows


def stack_facts(snapshot, params, plan_lines, region, baseline=None):
    """[(section, [(fact, value)])]: what a reviewer checks, as read."""
    cluster = snapshot.get("cluster") or {}
    network = snapshot.get("network") or {}
    group = snapshot.get("security_group") or {}
    parameters = _parameters(snapshot)
    spec = params.get("cluster") or {}
    identifier = spec.get("db_cluster_identifier")
    if not cluster:
        status = "does not exist"
    else:
        status = cluster.get("Status")
    force_ssl = parameters.get("rds.force_ssl")
    sections = [
        (
            "Cluster",
            [
                ("Identifier", identifier),
                ("State", status),
                ("Region", region),
                (
                    "Engine",
                    f"{cluster.get('Engine', 'aurora-postgresql')} {cluster.get('EngineVersion', spec.get('engine_version') or '')}".strip(),
                ),
                ("Writer endpoint", cluster.get("Endpoint")),
                ("Reader endpoint", cluster.get("ReaderEndpoint")),
                ("Port", cluster.get("Port")),
                (
                    "Serverless v2 capacity",
                    (
                        capacity_words(cluster.get("ServerlessV2ScalingConfiguration"))
                        or "none (provisioned instances only)"
                    )
                    if cluster
                    else None,
                ),
                ("Database", cluster.get("DatabaseName")),
                ("Master user", cluster.get("MasterUsername")),
                (
                    "Master password",
                    "in Secrets Manager (RDS-managed secret)"
                    if cluster.get("MasterUserSecret")
                    else "set by the operator"
                    if cluster
                    else None,
                ),
            ],
        ),
        (
            "Security",
            [
                ("Storage encrypted", _yes(cluster.get("StorageEncrypted")) if cluster else None),
                ("Encryption key", cluster.get("KmsKeyId")),
                (
                    "TLS required (rds.force_ssl)",
                    {"1": "yes", "0": "no"}.get(str(force_ssl), "unknown")
                    if force_ssl is not None
                    else "not set in the parameter group",
                ),
                (
                    "IAM database authentication",
                    _yes(cluster.get("IAMDatabaseAuthenticationEnabled")) if cluster else None,
                ),
                ("Deletion protection", _yes(cluster.get("DeletionProtection")) if cluster else None),
                (
                    "Publicly accessible instances",
                    ", ".join(
                        i.get("DBInstanceIdentifier")
                        for i in snapshot.get("instances") or []
                        if i.get("PubliclyAccessible")
                    )
                    or "none",
                ),
                (
                    "Database security group",
                    f"{group.get('GroupName')} ({group.get('GroupId')})" if group else "does not exist",
                ),
                ("Ingress", "; ".join(_ingress_words(group, network.get("app_security_group_id"))) or "none"),
            ],
        ),
        (
            "Backups and maintenance",
            [
                ("Backup retention (days)", cluster.get("BackupRetentionPeriod")),
                ("Backup window (UTC)", cluster.get("PreferredBackupWindow")),
                ("Maintenance window (UTC)", cluster.get("PreferredMaintenanceWindow")),
                # The drill's own reports hold its figures; this report reads nothing but the stack.
                (
                    "Restore drills",
                    "playbooks/drill.yml writes each drill's report beside this one (<name>-drill-<time>.md)",
                ),
            ],
        ),
        (
            "Parameter group",
            [
                (
                    "Name",
                    (snapshot.get("parameter_group") or {}).get("DBClusterParameterGroupName")
                    or (params.get("parameter_group") or {}).get("name"),
                ),
                ("Family", (snapshot.get("parameter_group") or {}).get("DBParameterGroupFamily")),
                (
                    "Changed from the family defaults",
                    ", ".join(f"{k}={v}" for k, v in sorted(parameters.items())) or "none",
                ),
            ],
        ),
    ]
    pending = [f"cluster: {k}={v}" for k, v in sorted((cluster.get("PendingModifiedValues") or {}).items())]
    for instance in instances_of(snapshot):
        pending += [f"{instance['id']}: {k}={v}" for k, v in instance["pending"]]
    sections.append(
        (
            "Pending changes",
            [
                ("Held by AWS (pending modified values)", "; ".join(pending) or "none"),
                ("The plan against the inventory now", "; ".join(plan_lines) or "no change"),
            ],
        )
    )
    parts = baseline_parts(*(baseline or (None, None)))
    if parts:
        sections.append(
            (
                "Operations baseline",
                [
                    (
                        f"{kind} {name}",
                        ("exists" if exists else "missing (the plan creates it)") + (f"; {detail}" if detail else ""),
                    )
                    for kind, name, exists, detail in parts
                ],
            )
        )
    rows = alarm_rows(*(baseline or (None, None)))
    if rows:
        sections.append(("CloudWatch alarms", rows))
    return [(title, [(k, "" if v is None else str(v)) for k, v in rows]) for title, rows in sections]


def mermaid(snapshot, params, baseline=None):
    """The diagram, in the architecture document's style."""
    cluster = snapshot.get("cluster") or {}
    network = snapshot.get("network") or {}
    group = snapshot.get("security_group") or {}
    spec = params.get("cluster") or {}
    identifier = spec.get("db_cluster_identifier")
    instances = instances_of(snapshot)
    lines = ["flowchart TB"]
    lines += [f"    {style}" for style in STYLES]
    lines.append(f"    subgraph vpc[{label('VPC: ' + str(params.get('vpc_name')), network.get('vpc_id'))}]")
    subnet_ids = []
    empty_zones = []
    by_zone = {}
    for subnet in network.get("subnets") or []:
        by_zone.setdefault(subnet.get("availability_zone"), []).append(subnet.get("subnet_id"))
    for instance in instances:
        by_zone.setdefault(instance["az"], [])
    for zone in sorted(by_zone):
        zone_id = node_id("az", zone)
        subnet_ids.append(zone_id)
        lines.append(f"        subgraph {zone_id}[{label('Private subnet ' + str(zone), ', '.join(by_zone[zone]))}]")
        placed = [i for i in instances if i["az"] == zone]
        for instance in placed:
            words = label(instance["id"], f"{instance['role']} · {instance['class']}", instance["status"])
            lines.append(f"            {node_id('i', instance['id'])}[{words}]")
        if not placed:
            # An empty subgraph collapses to its title; the subnet is there, with no instance in it.
            lines.append(f"            {node_id('none', zone)}[{label('no instance')}]")
            empty_zones.append(node_id("none", zone))
        lines.append("        end")
    lines.append(f"        subgraph security[{label('Security groups')}]")
    app_id = network.get("app_security_group_id")
    lines.append(
        f"            appSg[{label('Application security group', params.get('app_security_group_name'), app_id)}]"
    )
    db_group_name = group.get("GroupName") or (params.get("security_group") or {}).get("name")
    db_group = label("Database security group", db_group_name, group.get("GroupId") or "does not exist")
    lines.append(f"            dbSg[{db_group}]")
    lines.append("        end")
    facts = [
        f"Aurora PostgreSQL {cluster.get('EngineVersion', spec.get('engine_version') or '')}".strip(),
        f"port {cluster.get('Port', spec.get('port'))}",
        "encrypted" if cluster.get("StorageEncrypted") else "NOT encrypted" if cluster else None,
        cluster.get("Status") or "does not exist",
    ]
    lines.append(f"        cluster[{label('Cluster ' + str(identifier), *facts)}]")
    lines.append("    end")
    if cluster.get("Endpoint"):
        lines.append(f"    writerEp[{label('Writer endpoint', cluster.get('Endpoint'))}]")
    if cluster.get("ReaderEndpoint"):
        lines.append(f"    readerEp[{label('Reader endpoint', cluster.get('ReaderEndpoint'))}]")
    for words in _ingress_words(group, app_id):
        if words.endswith("the application's group"):
            lines.append(f'    appSg -- "{words.split(" from ")[0]}" --> dbSg')
    lines.append("    dbSg --- cluster")
    for instance in instances:
        lines.append(f"    cluster --- {node_id('i', instance['id'])}")
        if instance["role"] == "writer" and cluster.get("Endpoint"):
            lines.append(f"    writerEp --> {node_id('i', instance['id'])}")
        if instance["role"] == "reader" and cluster.get("ReaderEndpoint"):
            lines.append(f"    readerEp -.-> {node_id('i', instance['id'])}")
    secondary_nodes = global_database_lines(lines, params.get("global_database_report"))
    missing = []
    parts = baseline_parts(*(baseline or (None, None)))
    if parts:
        lines.append(f"    subgraph ops[{label('Operations baseline')}]")
        for index, (kind, name, exists, detail) in enumerate(parts):
            part_id = node_id("ops", index)
            lines.append(f"        {part_id}[{label(kind, name, detail, None if exists else 'missing')}]")
            if not exists:
                missing.append(part_id)
        lines.append("    end")
        lines.append("    cluster -.- ops")
    lines.append("    class vpc vpc")
    if subnet_ids:
        lines.append(f"    class {','.join(subnet_ids + empty_zones)} subnet")
    db_nodes = ["cluster"] + [node_id("i", i["id"]) for i in instances]
    lines.append(f"    class {','.join(db_nodes + secondary_nodes)} db")
    lines.append("    class security,appSg,dbSg securityGroup")
    endpoints = [n for n, key in (("writerEp", "Endpoint"), ("readerEp", "ReaderEndpoint")) if cluster.get(key)]
    components = endpoints + ([node_id("ops", i) for i in range(len(parts)) if node_id("ops", i) not in missing])
    if components:
        lines.append(f"    class {','.join(components)} component")
    if missing:
        lines.append(f"    class {','.join(missing)} missing")
    return "\n".join(lines) + "\n"


def global_database_lines(lines, glob):
    """The Aurora Global Database's other Region beside the stack's (appended to ``lines``): the secondary cluster
    and its readers, the global cluster and which way the storage replicates. The nodes to colour as databases."""
    if not glob or not glob.get("secondary_region"):
        return []
    region = glob["secondary_region"]
    writes = glob.get("writer_region") == region
    identifier = glob.get("secondary_cluster_identifier") or "does not exist"
    lines.append(f"    subgraph region2[{label('Region ' + region)}]")
    role = "primary: writes" if writes else "secondary: reads, replicated from the primary"
    lines.append(f"        secondary[{label('Cluster ' + identifier, role, glob.get('secondary_reader_endpoint'))}]")
    nodes = ["secondary"]
    for reader in glob.get("secondary_instances") or []:
        lines.append(f"        {node_id('i2', reader)}[{label(reader, 'reader')}]")
        nodes.append(node_id("i2", reader))
    lines.append("    end")
    global_words = label(
        "Global cluster " + str(glob.get("global_cluster_identifier")), "writer in " + str(glob.get("writer_region"))
    )
    lines.append(f"    globalCluster[{global_words}]")
    lines.append("    globalCluster -.- cluster")
    lines.append("    globalCluster -.- secondary")
    replication = '"storage replication, typically under 1 s"'
    lines.append(
        f"    secondary -- {replication} --> cluster" if writes else f"    cluster -- {replication} --> secondary"
    )
    for node in nodes[1:]:
        lines.append(f"    secondary --- {node}")
    lines.append("    class globalCluster component")
    return nodes


def cell(value):
    """A Markdown table cell: a bar would end the cell early."""
    return value.replace("|", "\\|") if value else "-"


def markdown(title, diagram, facts):
    out = [f"# {title}", "", "```mermaid", diagram.rstrip("\n"), "```", ""]
    for section, rows in facts:
        out += [f"## {section}", "", "| Fact | Value |", "| --- | --- |"]
        out += [f"| {k} | {cell(v)} |" for k, v in rows]
        out.append("")
    return "\n".join(out)


def html_page(title, diagram, facts):
    escape = html.escape
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}</style>",
        "</head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<pre class="mermaid">\n{escape(diagram)}</pre>',
    ]
    for section, rows in facts:
        body.append(f"<h2>{escape(section)}</h2><table><tr><th>Fact</th><th>Value</th></tr>")
        body += [f"<tr><td>{escape(k)}</td><td>{escape(v) or '-'}</td></tr>" for k, v in rows]
        body.append("</table>")
    body += [
        LIBRARY_SLOT,
        '<script>mermaid.initialize({startOnLoad: true, securityLevel: "strict", flowchart: {htmlLabels: true}});</script>',
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


def stack_report(snapshot, params, plan_lines, region, baseline=None):
    """{title, facts, mermaid, markdown, html} of the stack as read; ``baseline`` is (desired, current) or None.

    Nothing in it changes unless the stack does (no time of reading): a run that changes nothing rewrites nothing.
    """
    name = params.get("stack_name") or (params.get("cluster") or {}).get("db_cluster_identifier")
    title = f"Vitality database: {name}"
    facts = stack_facts(snapshot, params, plan_lines, region, baseline)
    diagram = mermaid(snapshot, params, baseline)
    return {
        "title": title,
        "facts": [{"section": s, "rows": [{"fact": k, "value": v} for k, v in rows]} for s, rows in facts],
        "mermaid": diagram,
        "markdown": markdown(title, diagram, facts),
        "html": html_page(title, diagram, facts),
    }


def with_library(page, library_text):
    """The HTML page with the Mermaid library inside, so it renders with no network. A ``</script`` inside the library
    would end its script element early: written ``<\\/script``, which JavaScript reads the same."""
    return page.replace(LIBRARY_SLOT, "<script>" + library_text.replace("</script", "<\\/script") + "</script>")


def write_report_files(stem, library, report):
    """Write ``report`` as ``<stem>.md`` and ``<stem>.html`` (the latter with the library at path ``library`` inside;
    only the Markdown when it cannot be read). Each file mode 0600, its directory 0700 when created here; a file that
    already holds the same text is left alone (its mode too). Returns what RV(report.files) documents."""
    directory = os.path.dirname(stem) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    markdown, page = stem + ".md", stem + ".html"
    has_library = bool(library) and os.path.isfile(library)
    written = [markdown] if _write_changed(markdown, report["markdown"], directory) else []
    # The HTML says what the Markdown says, with a 5 MB library inside: beside an unchanged Markdown an existing HTML
    # is the same report, and a no-op run need not read either of them (as the role's copy tasks decided).
    if has_library and (written or not os.path.isfile(page)):
        with open(library, encoding="utf-8") as handle:
            # As Ansible's file lookup reads it, trailing blank space off.
            library_text = handle.read().rstrip()
        if _write_changed(page, with_library(report["html"], library_text), directory):
            written.append(page)
    return {
        "markdown": markdown,
        "html": page if has_library else None,
        "written": written,
        "library_missing": not has_library,
    }


def _write_changed(path, text, directory):
    """Write ``text`` to ``path`` (mode 0600) unless it holds it already; whether it was written."""
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read().strip() == text.strip():
                return False
    except (OSError, UnicodeDecodeError):
        pass  # absent or unreadable: written anew
    # Written beside it then renamed over it: a reader never sees half a report.
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".report-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True
