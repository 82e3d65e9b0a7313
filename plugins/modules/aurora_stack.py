#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_stack
short_description: Plan a whole Aurora PostgreSQL stack in one read, and apply exactly that plan
version_added: 0.2.0
description:
  - The collection's one planner. Reads the network, the database security group, the DB subnet group, the cluster
    parameter group, the cluster and its instances (and, with O(baseline), the operations baseline) once, and returns
    every difference as an ordered list of steps (RV(plan)), each with what it changes, its impact (V(online),
    V(pending-reboot), V(reboot), V(failover), V(writer-restart), V(all-instances-restart), V(replacement),
    V(impossible-in-place)), when it happens (now, in the maintenance window, at the next restart) and what it makes
    unavailable.
  - The steps are in the order they are carried out, in three phases. First the steps of the role's amazon.aws tasks
    that must come first (security group rules added, subnet group, monitoring role, events topic, AWS Backup's
    role); then this module's own steps (runner C(stack)) - those that need nothing of the stack first, the events
    topic's own KMS key and AWS Backup's vault, copy key and copy vault (in the copy Region) and plan, then the
    creates (one pass, one wait), the parameter group, the cluster, the instances rolled
    one at a time (readers, failover to the first reader, the former writer, failback), reader removals, the alarms,
    then the topic's encryption with its key and the event subscriptions (their sources exist by then), and the
    backup plan's selection of the cluster (once the cluster is available); then the steps after them (security
    group rules revoked, so that a port change opens the new port before the cluster moves and closes the old one
    after).
  - With O(mode=plan), or in check mode, it only reads. With O(mode=apply) it plans again and carries out its own
    steps (runner C(stack), the CloudWatch alarms', the keys', the event subscriptions' and AWS Backup's vaults',
    plan's and selection's included, as M(amazon.aws.kms_key), M(vitality.aurora.aurora_event_subscription),
    M(amazon.aws.backup_vault), M(amazon.aws.backup_plan) and M(amazon.aws.backup_selection) make them) exactly as
    planned, in order, each followed by its wait; the other runners' steps are the role's
    (M(amazon.aws.ec2_security_group), M(amazon.aws.rds_subnet_group), M(amazon.aws.iam_role),
    M(community.aws.sns_topic)), which it runs only when the plan has a step for them.
  - A plan with a step AWS cannot take in place (an immutable setting, a major version upgrade not allowed, a
    renamed cluster) fails before any change, with every reason; so do the refusals of the same read-only checks as
    M(vitality.aurora.aurora_preflight), run whenever a step touches the parameter group, the cluster or an instance.
  - With O(saved_plan), a plan made earlier (RV(plan)) is applied as it is; when the stack or the settings no longer
    match it, the module fails before any change, naming what differs.
  - A create that fails fails the module with a message naming the resource it failed at, the AWS error, each
    resource created in this run and left in place (also in RV(created_resources)) and those not created, and the two
    ways forward. Nothing is rolled back; a re-run plans from what exists.
author:
  - Vitality platform team (@vitality)
options:
  vpc_name:
    description: The Name tag of the VPC; exactly one VPC must carry it.
    type: str
    required: true
  private_subnet_names:
    description: Name tags of the private subnets of the DB subnet group, in two or more Availability Zones.
    type: list
    elements: str
    required: true
  app_security_group_name:
    description: The application's security group, the only source allowed to the database port.
    type: str
    required: true
  security_group:
    description:
      - The database security group, as the role converges it with M(amazon.aws.ec2_security_group) (rules and tags
        purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      description:
        description: Its description, used when it is created (AWS cannot change it).
        type: str
        required: true
      app_port:
        description: The database port, admitted from the application's security group.
        type: int
        required: true
      app_rule_description:
        description:
          - The description of that rule.
          - Omitted, the rule has no description.
        type: str
      extra_ingress:
        description:
          - More ingress rules, in M(amazon.aws.ec2_security_group)'s format.
          - Omitted or empty, the application's rule is the only ingress rule; any other is revoked.
        type: list
        elements: dict
        default: []
      egress:
        description:
          - The egress rules, in the same format.
          - Omitted or empty, no egress rule; any the group has (the default rule of a new group included) is revoked.
        type: list
        elements: dict
        default: []
      tags:
        description:
          - Its tags.
          - Omitted, the group has no tags; any it has are removed.
        type: dict
  subnet_group:
    description: The DB subnet group, over the private subnets found (tags purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      description:
        description: Its description.
        type: str
        required: true
      tags:
        description:
          - Its tags.
          - Omitted, the subnet group has no tags; any it has are removed.
        type: dict
  parameter_group:
    description: The cluster parameter group (parameters and tags purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      family:
        description: Its family.
        type: str
        required: true
      description:
        description: Its description, used when it is created.
        type: str
        required: true
      parameters:
        description:
          - The user-set parameters, name to value.
          - Omitted or empty, no parameter is set, and every user-set parameter is reset to its default.
        type: dict
        default: {}
      tags:
        description:
          - Its tags.
          - Omitted, the parameter group has no tags; any it has are removed.
        type: dict
  cluster:
    description:
      - The cluster, with the options of M(vitality.aurora.aurora_cluster) of the same names (tags purged); its
        security group is the database security group found or created here.
    type: dict
    required: true
    suboptions:
      db_cluster_identifier:
        description: The cluster identifier.
        type: str
        required: true
      engine:
        description:
          - The engine.
          - Omitted, V(aurora-postgresql), the only engine the module manages.
        type: str
        choices: [aurora-postgresql]
        default: aurora-postgresql
      engine_version:
        description: The engine version.
        type: str
        required: true
      allow_major_version_upgrade:
        description:
          - Whether a major version upgrade may be planned; omitted, V(false), and a newer major version in
            O(cluster.engine_version) is an impossible-in-place step that stops the run before any change.
          - With V(true) the plan upgrades the cluster as O(cluster.major_upgrade_strategy) says.
        type: bool
        default: false
      major_upgrade_strategy:
        description:
          - How an allowed major version upgrade is made.
          - V(in-place) - one step upgrades the cluster with the new family's parameter group (created first, as
            O(parameter_group) names it), restarting every instance together (the cluster is down until the upgrade
            ends, typically 10 to 30 minutes; no extra cost), then removes the old group.
          - V(blue-green) - an RDS Blue/Green deployment named C(<identifier>-bg) (found by that name on every run, so
            an interrupted run resumes it and never makes a second one). The plan sets C(rds.logical_replication=1)
            on the cluster's own parameter group and reboots the writer when it is not set yet, creates the new
            family's group, creates the deployment (a green copy of the cluster on the new version, billed as a
            second cluster of the same size until the old one is deleted) and waits until AWS says it is available;
            the switchover (writes stop for about a minute) only with O(cluster.blue_green_switchover=true). The old
            cluster, renamed C(<identifier>-old1) by AWS, is deleted with a final snapshot by a run
            O(cluster.blue_green_retention_hours) after the switchover. AWS refuses it for a cluster whose master
            password Secrets Manager manages, and the plan says so before any change.
          - Omitted, V(in-place).
        type: str
        choices: [in-place, blue-green]
        default: in-place
        version_added: 0.2.0
      blue_green_switchover:
        description:
          - With O(cluster.major_upgrade_strategy=blue-green), switch over to the green cluster once it is available
            (SwitchoverBlueGreenDeployment). Omitted, V(false); the plan then stops after the green cluster is ready
            and says how to switch over.
        type: bool
        default: false
        version_added: 0.2.0
      blue_green_switchover_timeout:
        description:
          - Seconds AWS may take for the switchover (SwitchoverTimeout, at least 30); beyond it, AWS rolls the
            switchover back and the blue cluster stays as it was. Omitted, V(300) (AWS's default).
        type: int
        default: 300
        version_added: 0.2.0
      blue_green_retention_hours:
        description:
          - Hours the old blue cluster is kept after the switchover (counted from the tag
            C(vitality.aurora:switched-over-at) set on it); a run after that deletes the deployment, the old cluster
            with a final snapshot C(<identifier>-old1-final-YYYYMMDD-HHMMSS) and its parameter group, each a step.
          - Omitted, V(24).
        type: int
        default: 24
        version_added: 0.2.0
      blue_green_rollback:
        description:
          - Before the switchover, delete the blue/green deployment with its green cluster (DeleteTarget); the blue
            cluster is left as it is. After the switchover it is refused (restore the old cluster's final snapshot
            instead).
          - Omitted, V(false).
        type: bool
        default: false
        version_added: 0.2.0
      restore_from_snapshot:
        description:
          - When the cluster does not exist, restore it from this snapshot (V(latest) is the newest
            C(<identifier>-final-YYYYMMDD-HHMMSS) snapshot) and then converge its settings. Omitted, it is created empty.
        type: str
      restore_from_cluster:
        description:
          - When the cluster does not exist, restore it from this cluster at a point in time.
          - Omitted, no point-in-time restore; a missing cluster is created empty, unless
            O(cluster.restore_from_snapshot) is given.
        type: str
      restore_to_time:
        description: With O(cluster.restore_from_cluster), the UTC time; omitted, the latest restorable time.
        type: str
      port:
        description:
          - The database port.
          - Omitted, as in M(vitality.aurora.aurora_cluster); AWS's default for a new cluster, and an existing cluster's
            is not compared.
        type: int
      database_name:
        description:
          - The initial database.
          - Omitted, a new cluster has no database but PostgreSQL's own C(postgres), and an existing cluster's is not
            compared.
        type: str
      master_username:
        description:
          - The master user.
          - Omitted, none is sent; AWS refuses to create a cluster without one (a restored cluster takes the
            snapshot's), and an existing cluster's is not compared.
        type: str
      manage_master_user_password:
        description:
          - Whether AWS Secrets Manager holds the master password.
          - Omitted, V(true).
        type: bool
        default: true
      update_password:
        description:
          - When O(master_user_password) is sent to AWS, as in M(vitality.aurora.aurora_cluster). Omitted,
            V(on_create).
          - V(on_create) sends it only in the request that creates the cluster; a changed password is not a
            difference, so an existing cluster can be in sync.
          - V(always) plans, on every run, a step that sends the self-managed password of an existing cluster (its
            values hidden in the plan), as AWS never returns it to compare. Creating the stack sends the password
            once, with the cluster's create request, whatever this says.
          - Ignored with O(cluster.manage_master_user_password=true).
        type: str
        choices: [always, on_create]
        default: on_create
      master_user_secret_kms_key_id:
        description:
          - The KMS key of the secret.
          - Omitted, the account's C(aws/secretsmanager) key for a new secret; an existing secret's key is not compared.
        type: str
      storage_encrypted:
        description:
          - Whether storage is encrypted.
          - Omitted, V(true).
        type: bool
        default: true
      kms_key_id:
        description:
          - The KMS key of the storage.
          - Omitted, the account's C(aws/rds) key for a new encrypted cluster; an existing cluster's key is not
            compared.
        type: str
      db_subnet_group_name:
        description:
          - The DB subnet group.
          - Omitted, a new cluster goes in the account's default DB subnet group, and an existing cluster's is not
            compared.
        type: str
      db_cluster_parameter_group_name:
        description:
          - The cluster parameter group.
          - Omitted, a new cluster gets the engine's default cluster parameter group, and an existing cluster's group is
            not compared.
        type: str
      backup_retention_period:
        description:
          - Days of automated backups.
          - Omitted, a new cluster keeps backups for AWS's default of 1 day, and an existing cluster's period is not
            compared.
        type: int
      preferred_backup_window:
        description:
          - The daily backup window.
          - Omitted, AWS chooses the window of a new cluster, and an existing cluster's is not compared.
        type: str
      preferred_maintenance_window:
        description:
          - The weekly maintenance window.
          - Omitted, AWS chooses the window of a new cluster, and an existing cluster's is not compared.
        type: str
      copy_tags_to_snapshot:
        description:
          - Whether snapshots get the cluster's tags.
          - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
        type: bool
      deletion_protection:
        description:
          - Whether deletion protection is on.
          - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
        type: bool
      enable_iam_database_authentication:
        description:
          - Whether IAM database authentication is on.
          - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
        type: bool
      enable_cloudwatch_logs_exports:
        description:
          - The log types exported to CloudWatch Logs.
          - Omitted, a new cluster exports no log, and an existing cluster's exports are not compared.
        type: list
        elements: str
      serverless_v2_scaling_configuration:
        description:
          - The cluster's Aurora Serverless v2 capacity range, which every V(db.serverless) instance in it scales within
            (C(ServerlessV2ScalingConfiguration)). Changing it is V(online); parameter defaults AWS derives from the
            capacity follow when each Serverless v2 instance next restarts.
          - Omitted, or given without O(cluster.serverless_v2_scaling_configuration.min_capacity) and
            O(cluster.serverless_v2_scaling_configuration.max_capacity), none is sent, and an existing cluster's range is not
            compared (AWS cannot remove a range once set).
        type: dict
        suboptions:
          min_capacity:
            description:
              - The least Aurora capacity units (ACU) of each instance, in steps of 0.5; V(0) pauses idle instances, on
                engine versions that offer automatic pause (Aurora PostgreSQL 16.3, 15.7, 14.12, 13.15 and later).
              - Given with O(cluster.serverless_v2_scaling_configuration.max_capacity), or neither; omitted, no range.
            type: float
          max_capacity:
            description:
              - The most ACU of each instance, in steps of 0.5, from 1 to 256 (128 on older platform versions).
              - Given with O(cluster.serverless_v2_scaling_configuration.min_capacity), or neither; omitted, no range.
            type: float
          seconds_until_auto_pause:
            description:
              - With a minimum of 0, the seconds an instance without user connections stays up before it pauses (300 to
                86400). Refused with another minimum.
              - Omitted, AWS's default of 300 with a minimum of 0, and compared as such.
            type: int
      storage_type:
        description:
          - The storage configuration, V(aurora) (Standard) or V(aurora-iopt1) (I/O-Optimized); a cluster that reports
            none is Standard. A switch is an V(online) step; a switch to V(aurora-iopt1) before the time AWS reports in
            C(IOOptimizedNextAllowedModificationTime) (once every 30 days) fails the plan before any change.
          - Omitted, AWS's default (Standard) for a new cluster, and an existing cluster's is not compared.
        type: str
        choices: [aurora, aurora-iopt1]
      apply_immediately:
        description:
          - Whether deferrable changes apply now rather than in the maintenance window.
          - Omitted, V(false); the changes AWS can hold wait for the next maintenance window.
        type: bool
        default: false
      tags:
        description:
          - The cluster's tags.
          - Omitted, the cluster has no tags; any it has are removed.
        type: dict
  master_user_password:
    description:
      - The master password, when O(cluster.manage_master_user_password=false); sent to create the cluster, and to
        an existing one only with O(cluster.update_password=always).
      - It never appears in the result.
      - Omitted, no password is sent; with O(cluster.manage_master_user_password=false) the run then fails before any
        AWS call.
    type: str
  instances:
    description:
      - The writer and the readers, laid out over the subnets' Availability Zones as the
        P(vitality.aurora.instance_layout#filter) filter does, each with the options of
        M(vitality.aurora.aurora_instance) of the same names (tags purged).
    type: dict
    required: true
    suboptions:
      writer_identifier:
        description: The writer's identifier.
        type: str
        required: true
      reader_identifier_prefix:
        description: Readers are named this prefix and their number.
        type: str
        required: true
      reader_count:
        description:
          - How many readers.
          - Omitted, V(0); the writer alone, and every reader is deleted.
        type: int
        default: 0
      allow_rolling_reboot:
        description:
          - Whether static parameters waiting for a restart are applied by rebooting the instances one at a time (the
            readers, a failover to the first reader, the former writer, a failback), each a step of the plan.
          - Omitted, V(false); static parameters waiting for a restart wait for the instances' next restart.
        type: bool
        default: false
      instance_change_strategy:
        description:
          - How a change that restarts the instances (a class change above all) is made.
          - V(rolling) - each instance is modified in place, the readers one at a time, then the writer after a
            failover to a reader and a failback (two pauses of writes; one instance fewer while each restarts; held for
            the maintenance window unless O(cluster.apply_immediately=true)).
          - V(surge) - new instances with every asked-for setting are created beside the old ones (together, one
            wait), each in its old one's Availability Zone with its promotion tier; one failover moves the writer role
            to the new writer; the old instances are then deleted. Never fewer instances than before, one pause of
            writes, made now; twice the instances (and their cost) while it runs. The new instances take the other
            generation of names (the writer's identifier and the reader prefix with C(-b), and back on the next surge),
            which every later run adopts. A run killed midway resumes from the instances it finds.
          - The readers Application Auto Scaling made take the change in place, after the surge.
          - Omitted, V(rolling).
        type: str
        choices: [rolling, surge]
        default: rolling
        version_added: 0.2.0
      db_instance_class:
        description:
          - The writer's instance class, and the readers' unless O(instances.reader_db_instance_class) names another.
            V(db.serverless) (Aurora Serverless v2) needs the cluster's capacity range
            (O(cluster.serverless_v2_scaling_configuration), or one the cluster has); the plan fails before any change
            otherwise.
        type: str
        required: true
      reader_db_instance_class:
        description:
          - The readers' instance class, to mix provisioned and Serverless v2 instances in one cluster.
          - Omitted or empty, the readers have O(instances.db_instance_class).
        type: str
      auto_minor_version_upgrade:
        description:
          - Whether AWS applies minor versions in the maintenance window.
          - Omitted, on for a new instance (AWS's default), and an existing instance's setting is not compared.
        type: bool
      enable_performance_insights:
        description:
          - Whether Performance Insights is on.
          - Omitted, off for a new instance (AWS's default), and an existing instance's setting is not compared.
        type: bool
      performance_insights_retention_period:
        description:
          - Its retention, in days.
          - Omitted, AWS's default of 7 days when Performance Insights is turned on, and an existing instance's period
            is not compared.
        type: int
      performance_insights_kms_key_id:
        description:
          - Its KMS key.
          - Omitted, the account's C(aws/rds) key when Performance Insights is turned on, and an existing instance's key
            is not compared.
        type: str
      monitoring_interval:
        description:
          - The Enhanced Monitoring interval, 0 for none.
          - Omitted, V(0); Enhanced Monitoring is off.
        type: int
        default: 0
      monitoring_role_arn:
        description: The Enhanced Monitoring role's ARN. Omitted, the ARN of O(instances.monitoring_role_name).
        type: str
      monitoring_role_name:
        description:
          - The name of the role's own Enhanced Monitoring role (its ARN follows from the account).
          - Omitted, O(instances.monitoring_role_arn) names the role when O(instances.monitoring_interval) is above 0.
        type: str
      db_parameter_group_name:
        description: The instances' DB parameter group. Omitted, the engine's default, never compared.
        type: str
      ca_certificate_identifier:
        description:
          - The certificate authority of every instance's server certificate, for example V(rds-ca-rsa2048-g1); a
            change is planned as a restart of each instance (one at a time, the writer after a failover to a reader,
            or in the maintenance window without O(instances.apply_immediately)).
          - Omitted, AWS's default for a new instance, and an existing instance's is not compared.
        type: str
      apply_immediately:
        description:
          - Whether deferrable changes apply now rather than in the maintenance window.
          - Omitted, V(false); the changes AWS can hold wait for the next maintenance window.
        type: bool
        default: false
      tags:
        description:
          - The tags of every instance; each also gets C(Role) (C(writer) or C(reader)), as the role tags them.
          - Omitted, each instance has only its C(Role) tag; any other is removed.
        type: dict
  custom_endpoints:
    description:
      - The cluster's custom endpoints, each a DNS name over chosen instances, created, changed and deleted as
        V(online) steps after the instances' creates and rolling changes and before any instance is deleted.
      - An endpoint's identifier is C(<cluster identifier>-<name>); it is tagged C(ManagedBy=vitality.aurora) with
        O(cluster.tags) and its own O(custom_endpoints[].tags). Endpoints of the cluster with that tag that the list no
        longer names are deleted; endpoints without it are never changed, and one of a wanted name fails the plan.
      - Members are named V(writer), V(reader-<n>) or by their identifiers, and must be instances O(instances) makes.
        With O(custom_endpoints[].static_members), only those; with O(custom_endpoints[].excluded_members), every
        eligible instance but those (new readers, and the readers Application Auto Scaling adds, join it by
        themselves); with neither, every instance of its type.
      - Omitted or empty, no endpoint is wanted; the cluster's custom endpoints are read only when it reports some.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Its name, lower-case letters, digits and hyphens, a letter first; not V(writer) nor V(reader-<n>).
        type: str
        required: true
      type:
        description:
          - V(READER) (readers only) or V(ANY) (the writer too).
          - Omitted, V(READER).
        type: str
        choices: [READER, ANY]
        default: READER
      static_members:
        description:
          - The only instances it spans.
          - Omitted or empty, see O(custom_endpoints[].excluded_members).
        type: list
        elements: str
        default: []
      excluded_members:
        description:
          - The instances it leaves out; every other eligible instance is in it. Not with
            O(custom_endpoints[].static_members).
          - Omitted or empty, with no static members, every instance of its type.
        type: list
        elements: str
        default: []
      tags:
        description:
          - Its own tags, over O(cluster.tags).
          - Omitted, O(cluster.tags) and C(ManagedBy=vitality.aurora).
        type: dict
  baseline:
    description:
      - The operations baseline to plan beside the stack (its shape is documented in
        C(plugins/module_utils/baseline_plan.py)), with C(monitoring_role), C(backup), C(event_topic),
        C(event_topic_arn), C(event_subscriptions) and C(alarms), each empty when off.
      - C(alarms) (its keys in C(plugins/module_utils/alarm_plan.py)) are the CloudWatch alarms of the cluster
        (C(Deadlocks)) and of each instance it has once the plan's instance steps are made, its own and those AWS added
        (C(CPUUtilization), C(FreeableMemory), C(DatabaseConnections), C(FreeLocalStorage), C(AuroraReplicaLag) on
        readers, C(ACUUtilization) on C(db.serverless) instances), each notifying C(event_topic_arn) or the role's
        topic. They are named C(vitality.aurora/<cluster>/[<instance>/]<metric>); every alarm under that prefix is
        the module's, read with one DescribeAlarms, put (PutMetricAlarm) when it is missing or differs, and deleted
        (DeleteAlarms, up to 100 a call) when it is no longer wanted. Their steps are the module's own (runner
        C(stack)), after the instances' steps. A C(db.serverless) instance's memory, which the memory and connections
        thresholds derive from, is the C(max_capacity) of O(cluster.serverless_v2_scaling_configuration) times 2 GiB.
      - Omitted, the baseline is neither read nor planned.
    type: dict
  autoscaling:
    description:
      - Reader autoscaling (Application Auto Scaling on C(rds:cluster:ReadReplicaCount), resource C(cluster:<cluster>)).
        With O(autoscaling.enabled=true), or when the cluster carries the tag C(vitality.aurora:reader-autoscaling=on)
        (which the module adds to O(cluster.tags) while autoscaling is on), the module reads the cluster's scalable
        target (one DescribeScalableTargets) and, when there is one or it is wanted, its scaling policies (one
        DescribeScalingPolicies). A cluster without the tag and with autoscaling off costs no such call, and a target
        registered by someone else is left alone.
      - Enabled, it registers the target with O(instances.reader_count) as its minimum and
        O(autoscaling.max_readers) as its maximum (RegisterScalableTarget; no role is given, so AWS uses the
        service-linked role C(AWSServiceRoleForApplicationAutoScaling_RDSCluster), creating it the first time), and
        puts the target-tracking policy O(autoscaling.policy_name) (PutScalingPolicy). Other policies on the target
        are left alone.
      - Disabled on a cluster with the tag, it deletes the target's policies (DeleteScalingPolicy) and deregisters it
        (DeregisterScalableTarget), and the tag goes with the cluster's other tag changes; with
        O(autoscaling.readers_on_disable=delete) it then deletes the readers Application Auto Scaling made
        (C(application-autoscaling-...)), whether a target was there or not.
      - Readers named C(application-autoscaling-...) are never deleted otherwise, nor counted against
        O(instances.reader_count); the instance steps converge them like any reader (class, parameter group,
        monitoring, a rolling reboot), with the zone and promotion tier AWS gave them.
      - These steps are the module's own (runner C(stack)), after the instances' steps, so a new cluster's writer
        exists (AWS refuses a target for a cluster without one).
      - Omitted, autoscaling is neither read nor planned.
    type: dict
    suboptions:
      enabled:
        description: Whether the cluster's reader count follows the load.
        type: bool
        required: true
      max_readers:
        description:
          - The most readers the autoscaler may keep (the role's included), above O(instances.reader_count) and at
            most 15. Required with O(autoscaling.enabled=true).
          - Omitted, none (allowed with O(autoscaling.enabled=false) only).
        type: int
      metric:
        description:
          - The predefined metric the policy tracks, averaged over the readers.
          - Omitted, V(RDSReaderAverageCPUUtilization).
        type: str
        choices: [RDSReaderAverageCPUUtilization, RDSReaderAverageDatabaseConnections]
        default: RDSReaderAverageCPUUtilization
      target_value:
        description:
          - The value of O(autoscaling.metric) the autoscaler keeps the readers at (percent, or connections).
          - Omitted, V(60.0).
        type: float
        default: 60.0
      scale_in_cooldown:
        description:
          - Seconds after a scale-in before another scale-in.
          - Omitted, V(300).
        type: int
        default: 300
      scale_out_cooldown:
        description:
          - Seconds after a scale-out before another scale-out.
          - Omitted, V(300).
        type: int
        default: 300
      disable_scale_in:
        description:
          - Whether the policy only adds readers (removing them is left to the operator).
          - Omitted, V(false).
        type: bool
        default: false
      readers_on_disable:
        description:
          - With O(autoscaling.enabled=false), what happens to the readers Application Auto Scaling made.
          - V(keep) leaves them (reported, never deleted); V(delete) deletes each, a step of the plan.
          - Omitted, V(keep).
        type: str
        choices: [keep, delete]
        default: keep
      policy_name:
        description:
          - The name of the module's target-tracking policy on the target.
          - Omitted, V(vitality.aurora-readers).
        type: str
        default: vitality.aurora-readers
  global_database:
    description:
      - An Aurora Global Database (the vitality.aurora.aurora_cluster role's; user guide, "Aurora Global Database"), the
        global cluster C(<name>-global) with the stack's cluster as its primary and a secondary cluster
        C(<name>-<region>) in O(global_database.region), read and planned in this call.
      - Omitted, no global database is read or planned. With an empty O(global_database.region), a global cluster
        that exists is planned for removal (detach first), refused unless O(global_database.remove_confirm) names
        the secondary.
      - With O(baseline) C(event_topic), the secondary's Region follows the baseline's rules there
        (C(plugins/module_utils/secondary_ops.py)), steps of this module in that Region - an SNS topic of the same
        name encrypted with a customer managed key C(alias/<topic>) of that Region, the C(event_subscriptions) of
        source types C(db-cluster) and C(db-instance) named after the secondary (its cluster, its readers), and with
        C(alarms) the reader alarms of its instances, its cluster's C(Deadlocks) and C(AuroraGlobalDBReplicationLag)
        to that topic. Its removal deletes those subscriptions and alarms and keeps the topic and its key.
      - An engine version change of the global database is planned over both clusters in AWS's order, each step
        waited for before the next; a minor version with a ModifyDBCluster of the cluster that does not write,
        then of the writer; a major one (allowed, in place) with the new family's parameter group made in both
        Regions, one ModifyGlobalCluster, then a ModifyDBCluster per cluster that sets that group back (AWS gives
        the new family's default) and the old groups deleted. A blue/green deployment of a global database is
        refused, as AWS offers none.
    type: dict
    suboptions:
      name:
        description: The stack's name, from which the global cluster's and the secondary's identifiers derive.
        type: str
        required: true
      region:
        description: The secondary's Region. Omitted or empty, none.
        type: str
        default: ""
      vpc_name:
        description: Name tag of the secondary's VPC. Omitted or empty, none (needed with a Region).
        type: str
        default: ""
      private_subnet_names:
        description: Name tags of the secondary's private subnets. Omitted, none (needed with a Region).
        type: list
        elements: str
        default: []
      app_security_group_name:
        description: The application security group in the secondary's VPC. Omitted or empty, none (needed with a Region).
        type: str
        default: ""
      reader_count:
        description: Readers of the secondary. Omitted, V(0) (headless).
        type: int
        default: 0
      instance_class:
        description: The secondary's instance class. Omitted or empty, the primary's.
        type: str
        default: ""
      remove_confirm:
        description:
          - The secondary cluster's identifier, confirming its deletion when O(global_database.region) is empty.
          - Omitted or empty, no deletion is confirmed (a removal is refused).
        type: str
        default: ""
  need_account:
    description:
      - Learn the account ID and partition (RV(account)) even when the cluster does not exist yet (one STS call); the
        role sets it when the baseline is on, whose ARNs need them.
      - Omitted, V(false); they are still read from the cluster's ARN when it exists.
    type: bool
    default: false
  mode:
    description:
      - V(plan) only reads and returns the plan (check mode does the same); V(apply) carries out the module's own steps.
      - V(converge) plans, and when every step of the plan is the module's own (runner C(stack)) carries them out in the
        same call, from the same read, then reads the stack again for RV(outputs) and RV(report); when the plan has a
        step of another runner, which must come first, it only returns the plan, as V(plan) does (RV(applied) says
        which). Check mode only plans. The role runs it so, then O(mode=apply) after its own steps when it did not apply.
      - Omitted, V(apply).
    type: str
    choices: [plan, apply, converge]
    default: apply
  saved_plan:
    description:
      - A plan document made earlier (RV(plan)). With O(mode=plan), the module fails, changing nothing, when the new
        plan's stack, settings digest or steps differ from it. With O(mode=apply) (the role passes the plan it made
        moments before), only the module's own steps must be the same.
      - Omitted, the plan made now is applied.
    type: dict
  stack_name:
    description: The stack's name, written in the plan. Omitted, the cluster identifier.
    type: str
  wait_timeout:
    description:
      - Seconds each wait (for a create, a modification, a failover, a reboot, a removal) may take.
      - Omitted, V(3600) seconds.
    type: int
    default: 3600
  wait_max_poll_interval:
    description:
      - Longest pause between two reads while waiting, in seconds (polls start 1 s apart and double up to it).
      - Omitted, V(20.0) seconds.
    type: float
    default: 20.0
  variable_prefix:
    description:
      - Prefix of the names the pre-create checks' errors give the settings (the role passes V(aurora_cluster_), so an
        error names C(aurora_cluster_engine_version)); omitted, the errors name the option as the preflight module does.
    type: str
    default: ""
  report_existing:
    description:
      - Only list which of the stack's resources exist (RV(existing)); plan nothing, change nothing. Of the options,
        only the names are used; the required ones must still be given. The role runs it so after a failure.
      - Reads the VPC (to find the database security group in it), the database security group, the DB subnet group,
        the cluster parameter group, the cluster and the instances of the cluster. With O(global_database), also the
        global cluster and the same resources of the secondary in its Region (the inventory's, and that of every other
        member of the global cluster). With O(baseline), also its resources, read as the plan reads them (the account
        from the cluster's ARN, or from STS when there is no cluster and O(need_account=true)).
      - Omitted, V(false); the stack is planned, and with O(mode=apply) the plan is applied.
    type: bool
    default: false
  report:
    description:
      - With O(mode=plan) or O(mode=converge), also return RV(report), the stack as read drawn as a Mermaid diagram
        with the facts a reviewer checks, as Markdown and as HTML (the role writes them to files). Made from the plan's
        read (no extra AWS call), or after O(mode=converge) carried out the plan, from the read that follows it.
      - Omitted, V(false), no report.
    type: bool
    default: false
  report_path:
    description:
      - With O(report=true), also write the report on the host the module runs on, as C(<report_path>.md) and
        C(<report_path>.html) (each mode C(0600); the directory is created mode C(0700) when missing); a file that
        already holds the same report is left alone. Written only when the report is the stack as the call leaves it
        with no step left for another runner (after it carried out the plan, when there is nothing to do, or in
        O(mode=plan)); RV(report.files) says which files were written. Written in check mode too (it is a file on the
        host, not a change in AWS).
      - Omitted, no file is written; the report is only returned.
    type: path
  report_library:
    description:
      - The Mermaid library (C(mermaid.min.js)) the HTML file carries inside, so that it renders with no network (the
        role passes its bundled copy).
      - Omitted, or not readable on the host, only the Markdown file is written (RV(report.files.library_missing)).
    type: path
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Plan the dev stack (reads only)
  vitality.aurora.aurora_stack:
    vpc_name: vitality-dev-app-vpc
    private_subnet_names: [vitality-dev-private-us-east-1c, vitality-dev-private-us-east-1d]
    app_security_group_name: vitality-dev-app-sg
    security_group:
      name: vitality-dev-db
      description: "vitality-dev Aurora PostgreSQL: from the application only"
      app_port: 5432
      app_rule_description: PostgreSQL from the application
      tags: {Stack: vitality-dev, Name: vitality-dev-db}
    subnet_group:
      name: vitality-dev-db-subnets
      description: vitality-dev Aurora PostgreSQL private subnets
      tags: {Stack: vitality-dev}
    parameter_group:
      name: vitality-dev-aurora-pg16
      family: aurora-postgresql16
      description: vitality-dev Aurora PostgreSQL cluster parameters
      parameters: {rds.force_ssl: 1}
      tags: {Stack: vitality-dev}
    cluster:
      db_cluster_identifier: vitality-dev-aurora
      engine_version: "16.6"
      db_subnet_group_name: vitality-dev-db-subnets
      db_cluster_parameter_group_name: vitality-dev-aurora-pg16
      backup_retention_period: 1
      tags: {Stack: vitality-dev}
    instances:
      writer_identifier: vitality-dev-aurora-writer
      reader_identifier_prefix: vitality-dev-aurora-reader-
      reader_count: 0
      db_instance_class: db.r6g.large
      tags: {Stack: vitality-dev}
    mode: plan
  register: stack

- name: Show it
  ansible.builtin.debug:
    msg: "{{ stack.plan.lines or ['no change'] }}"
"""

RETURN = r"""
plan:
  description:
    - The plan, as docs/plan-schema.json describes it (C(schema) V(vitality.aurora/plan), C(schema_version) 1).
  returned: always, also when the module fails after planning
  type: dict
  contains:
    schema:
      description: V(vitality.aurora/plan).
      type: str
      returned: always
      sample: vitality.aurora/plan
    schema_version:
      description: The version of the schema, 1.
      type: int
      returned: always
      sample: 1
    stack:
      description: The stack's name (O(stack_name)).
      type: str
      returned: always
      sample: vitality-dev
    created_at:
      description: When the plan was made (UTC, ISO 8601).
      type: str
      returned: always
      sample: "2026-11-25T06:00:00Z"
    inputs_digest:
      description: SHA-256 of the module's settings (secrets left out), which a saved plan is matched against.
      type: str
      returned: always
      sample: 3f5a0c1e9b7d4a2f8e6c5b4a3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e
    actions_digest:
      description: SHA-256 of RV(plan.actions).
      type: str
      returned: always
      sample: 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f5a0c1e9b7d4a2f8e6c5b4a3d2e1f0a
    changes:
      description: How many steps.
      type: int
      returned: always
      sample: 1
    worst_impact:
      description: The most disruptive step's impact; null when there is none.
      type: str
      returned: always
      sample: online
    actions:
      description: The steps in execution order.
      type: list
      elements: dict
      returned: always
      contains:
        order:
          description: The step's number, from 1.
          type: int
          returned: always
          sample: 1
        resource:
          description: >-
            The kind of resource, for example V(security_group), V(subnet_group), V(parameter_group), V(cluster),
            V(instance), V(event_subscription).
          type: str
          returned: always
          sample: cluster
        name:
          description: The resource's name or identifier.
          type: str
          returned: always
          sample: vitality-dev-aurora
        change:
          description: What the step does, for example V(create), V(modify), V(delete), V(reboot), V(failover).
          type: str
          returned: always
          sample: modify
        changes:
          description: The attributes it changes, each with C(attribute), C(before) and C(after).
          type: list
          elements: dict
          returned: always
          sample: [{"attribute": "backup_retention_period", "before": 1, "after": 3}]
        impact:
          description: What the step costs (see the module's description).
          type: str
          returned: always
          sample: online
        when:
          description: When it takes effect (now, in the maintenance window, at the next restart).
          type: str
          returned: always
          sample: now
        unavailability:
          description: What the step makes unavailable, V(none) when nothing.
          type: str
          returned: always
          sample: none
        runner:
          description: Who carries it out - V(stack) for this module, otherwise the role's task that does.
          type: str
          returned: always
          sample: stack
        calls:
          description: The mutating AWS operations it makes.
          type: list
          elements: str
          returned: always
          sample: [ModifyDBCluster]
        note:
          description: A remark on the step; empty when none.
          type: str
          returned: always
          sample: ""
    lines:
      description: One line per step, as the role prints the plan.
      type: list
      elements: str
      returned: always
      sample: ["1. cluster vitality-dev-aurora: modify (backup_retention_period 1 -> 3) [online]"]
  sample:
    schema: vitality.aurora/plan
    schema_version: 1
    changes: 1
    worst_impact: online
    lines: ["1. cluster vitality-dev-aurora: modify (backup_retention_period 1 -> 3) [online]"]
runners:
  description: The runners that have steps in the plan, in the order the role runs them.
  returned: when planned
  type: list
  elements: str
  sample: [stack]
module_args:
  description:
    - The parameters of the amazon.aws module that makes each generic resource's steps, by the plan's resource name,
      computed from the same desired state the plan compares the stack with. The role's tasks take them as they are.
    - V(security_group) (M(amazon.aws.ec2_security_group), less C(purge_rules)), V(subnet_group)
      (M(amazon.aws.rds_subnet_group)); with the operations baseline, also V(monitoring_role) and V(backup_role)
      (M(amazon.aws.iam_role)) and V(event_topic) (M(community.aws.sns_topic)), each present only when that part of
      the baseline is on. The events topic's own KMS key, AWS Backup's vault, copy key, copy vault and plan, and
      the plan's selection of the cluster are this module's own steps.
  returned: when planned
  type: dict
  sample:
    subnet_group:
      name: vitality-dev-aurora
      description: vitality-dev Aurora PostgreSQL private subnets
      subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
      tags: {Environment: dev}
      purge_tags: true
      state: present
network:
  description: What was found of the network the stack goes in.
  returned: when planned
  type: dict
  contains:
    vpc_id:
      description: The ID of the VPC named O(vpc_name).
      type: str
      returned: always
      sample: vpc-0123456789abcdef0
    subnets:
      description: The private subnets, sorted by Availability Zone.
      type: list
      elements: dict
      returned: always
      contains:
        subnet_id:
          description: The subnet's ID.
          type: str
          returned: always
          sample: subnet-0123456789abcdef0
        availability_zone:
          description: Its Availability Zone.
          type: str
          returned: always
          sample: us-east-1c
    app_security_group_id:
      description: The ID of the application's security group (O(app_security_group_name)).
      type: str
      returned: always
      sample: sg-0123456789abcdef0
  sample:
    vpc_id: vpc-0123456789abcdef0
    subnets: [{"subnet_id": "subnet-0123456789abcdef0", "availability_zone": "us-east-1c"}]
    app_security_group_id: sg-0123456789abcdef0
account:
  description: The stack's account and partition; null when unknown (no cluster yet and O(need_account=false)).
  returned: when planned
  type: dict
  contains:
    account_id:
      description: The AWS account ID.
      type: str
      returned: always
      sample: "123456789012"
    partition:
      description: The AWS partition.
      type: str
      returned: always
      sample: aws
  sample: {"account_id": "123456789012", "partition": "aws"}
instance_layout:
  description: Each instance of the layout, the writer first.
  returned: when planned
  type: list
  elements: dict
  contains:
    id:
      description: The instance identifier.
      type: str
      returned: always
      sample: vitality-dev-aurora-writer
    az:
      description: Its Availability Zone.
      type: str
      returned: always
      sample: us-east-1c
    tier:
      description: Its promotion tier.
      type: int
      returned: always
      sample: 0
    role:
      description: V(writer) or V(reader).
      type: str
      returned: always
      sample: writer
  sample: [{"id": "vitality-dev-aurora-writer", "az": "us-east-1c", "tier": 0, "role": "writer"}]
outputs:
  description: The stack as the run leaves it (read again after an apply that changed it).
  returned: success
  type: dict
  contains:
    cluster:
      description: The cluster as AWS describes it, snake_cased; null when it does not exist.
      type: dict
      returned: always
      sample: {"db_cluster_identifier": "vitality-dev-aurora", "status": "available"}
    writer:
      description: The writer's identifier; null when there is none.
      type: str
      returned: always
      sample: vitality-dev-aurora-writer
    readers:
      description: The readers' identifiers.
      type: list
      elements: str
      returned: always
      sample: [vitality-dev-aurora-reader-1]
    endpoints:
      description: C(writer) and C(reader), the cluster's endpoints, and C(port); each null when there is no cluster.
      type: dict
      returned: always
      sample:
        writer: vitality-dev-aurora.cluster-abc.us-east-1.rds.amazonaws.com
        reader: vitality-dev-aurora.cluster-ro-abc.us-east-1.rds.amazonaws.com
        port: 5432
    global_database:
      description:
        - The Aurora Global Database, null without one; C(writer_region) is the Region whose cluster writes (read from
          the global cluster's members, so it follows a switchover), C(secondary_*) the cluster in the other Region.
        - C(operations) is the secondary Region's operations baseline as planned (its events topic and the topic's
          key alias, its event subscriptions, its alarms and the alarms skipped with why); null when the primary has
          no events topic of the role's (then the secondary gets none) or the secondary is being removed.
      type: dict
      returned: always
      sample:
        global_cluster_identifier: vitality-prod-global
        writer_region: us-east-1
        secondary_region: us-west-2
        secondary_cluster_identifier: vitality-prod-us-west-2
        secondary_cluster_arn: arn:aws:rds:us-west-2:123456789012:cluster:vitality-prod-us-west-2
        secondary_reader_endpoint: vitality-prod-us-west-2.cluster-ro-abc.us-west-2.rds.amazonaws.com
        operations:
          event_topic_arn: arn:aws:sns:us-west-2:123456789012:vitality-prod-db-events
          event_topic_kms_key: alias/vitality-prod-db-events
          event_subscriptions: [vitality-prod-us-west-2-cluster-events, vitality-prod-us-west-2-instance-events]
          alarm_prefix: vitality.aurora/vitality-prod-us-west-2/
          alarms: [vitality.aurora/vitality-prod-us-west-2/Deadlocks]
          alarms_skipped: []
    security_group_id:
      description: The database security group's ID; null when it does not exist.
      type: str
      returned: always
      sample: sg-0fedcba9876543210
    storage_type:
      description: >-
        The cluster's storage configuration, V(aurora) (Standard, also when AWS reports none) or V(aurora-iopt1)
        (I/O-Optimized); null when there is no cluster.
      type: str
      returned: always
      sample: aurora
    certificates:
      description:
        - Each instance of the cluster (the readers AWS added included) with its certificate authority
          (C(ca_certificate_identifier)) and when its server certificate expires (C(valid_till), ISO 8601), null when
          AWS does not say.
      type: list
      elements: dict
      returned: always
      sample: [{"instance": "vitality-dev-aurora-writer", "ca_certificate_identifier": "rds-ca-rsa2048-g1",
                "valid_till": "2025-11-30T12:00:00+00:00"}]
    custom_endpoints:
      description: Each endpoint of O(custom_endpoints), by name, with its DNS name (null until AWS gives it one).
      type: dict
      returned: always
      sample: {"analytics": "vitality-prod-aurora-analytics.cluster-custom-abc.us-east-1.rds.amazonaws.com"}
  sample:
    cluster: null
    writer: null
    readers: []
    endpoints: {"writer": null, "reader": null, "port": null}
    security_group_id: null
    storage_type: null
    certificates: []
    custom_endpoints: {}
applied:
  description:
    - Whether this call carried out the plan's steps (O(mode=apply), or O(mode=converge) with only the module's own
      steps); V(false) when it only planned (check mode, O(mode=plan), nothing to do, or O(mode=converge) with a step
      of another runner to run first).
  returned: success
  type: bool
  sample: true
done:
  description: The C(order) of each of the module's own steps carried out, in order; empty in plan mode.
  returned: success, and on failure of the apply
  type: list
  elements: int
  sample: [3, 4, 5]
throttled_calls:
  description:
    - The answers of this module run's AWS calls that asked it to slow down (throttling error codes or HTTP 429),
      each retried by botocore with jittered backoff up to the retry configuration's attempts. Counted on every
      attempt, so one call throttled twice counts two.
  returned: success
  type: dict
  sample: {"total": 2, "by_operation": {"DescribeDBClusters": 1, "CreateDBInstance": 1}}
  contains:
    total:
      description: All throttled answers of the run.
      type: int
      sample: 2
    by_operation:
      description: The throttled answers by AWS operation name.
      type: dict
      sample: {"DescribeDBClusters": 1, "CreateDBInstance": 1}
created_resources:
  description: Each resource this run created.
  returned: after an apply, and on a failed apply
  type: list
  elements: dict
  contains:
    kind:
      description: >-
        V(security_group), V(db_subnet_group), V(db_cluster_parameter_group), V(db_cluster), V(db_instance) or
        V(db_cluster_endpoint).
      type: str
      returned: always
      sample: db_cluster
    id:
      description: Its ID or identifier.
      type: str
      returned: always
      sample: vitality-dev-aurora
    label:
      description: The resource in words, as messages name it.
      type: str
      returned: always
      sample: DB cluster vitality-dev-aurora
    name:
      description: The security group's name.
      type: str
      returned: for the security group
      sample: vitality-dev-db
  sample: [{"kind": "db_cluster", "id": "vitality-dev-aurora", "label": "DB cluster vitality-dev-aurora"}]
not_created:
  description: >-
    On a failed create, the planned resources not created, each as in RV(created_resources) (C(id) null for a
    security group).
  returned: failure of a create
  type: list
  elements: dict
  sample: [{"kind": "db_instance", "id": "r", "label": "DB instance r"}]
failed_at:
  description: >-
    On a failed create, the resource it failed at, as in RV(created_resources); null when it failed before the
    first.
  returned: failure of a create
  type: dict
  sample: {"kind": "db_cluster", "id": "vitality-dev-aurora", "label": "DB cluster vitality-dev-aurora"}
error:
  description: >-
    On a failed apply whose cause is an AWS error, that error (C(code), C(message)), as
    AnsibleAWSModule's C(fail_json_aws) returns it.
  returned: failure of the apply on an AWS error
  type: dict
  sample: {"code": "DBClusterQuotaExceededFault", "message": "Cluster quota exceeded"}
errors:
  description: Every reason the plan cannot be applied (refusals of the checks, impossible-in-place steps).
  returned: failure, when the plan was refused
  type: list
  elements: str
  sample: ["aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1"]
existing:
  description: >-
    With O(report_existing=true), each of the stack's resources that exists, as in RV(created_resources); with
    O(baseline), the operations baseline's too (IAM roles, KMS keys, SNS topic, event subscriptions, CloudWatch
    alarms, backup vaults, plan and selection; a copy Region's key and vault are labelled C(in <region>)); those of
    another Region (the global database's secondary) have C(region), and their label ends with C(in <region>).
  returned: when O(report_existing=true)
  type: list
  elements: dict
  sample:
    - kind: db_subnet_group
      id: vitality-dev-db-subnets
      label: DB subnet group vitality-dev-db-subnets
alarms:
  description:
    - The CloudWatch alarms the plan leaves the stack with (O(baseline) C(alarms)), and those left out with the reason.
  returned: when O(baseline) has C(alarms)
  type: dict
  contains:
    prefix:
      description: The name prefix that makes an alarm the module's; every alarm under it is read, and deleted when not wanted.
      type: str
      returned: always
      sample: vitality.aurora/vitality-prod-aurora/
    topic_arn:
      description: The SNS topic every alarm notifies when it goes into ALARM and back to OK.
      type: str
      returned: always
      sample: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    alarms:
      description: Each alarm, the cluster's first, then the writer's and the other instances'.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: The alarm's name.
          type: str
          returned: always
          sample: vitality.aurora/vitality-prod-aurora/vitality-prod-aurora-writer/CPUUtilization
        metric:
          description: The C(AWS/RDS) metric it watches.
          type: str
          returned: always
          sample: CPUUtilization
        instance:
          description: The instance it watches; null for the cluster's (C(Deadlocks), by C(DBClusterIdentifier)).
          type: str
          returned: always
          sample: vitality-prod-aurora-writer
        comparison:
          description: V(GreaterThanThreshold) or V(LessThanThreshold).
          type: str
          returned: always
          sample: GreaterThanThreshold
        threshold:
          description: The threshold, in the metric's unit (percent, bytes, connections, milliseconds, per second).
          type: float
          returned: always
          sample: 80.0
        condition:
          description: The alarm's condition in words, with its evaluation window.
          type: str
          returned: always
          sample: Average CPUUtilization > 80 percent for 5 x 60 s
    skipped:
      description:
        - The alarms not made, each with C(instance), C(metric) and C(reason) (a class whose memory the collection does
          not know, a C(db.serverless) instance without its maximum capacity, a C(max_connections) formula it cannot
          evaluate).
      type: list
      elements: dict
      returned: always
      sample: [{"instance": "vitality-dev-aurora-writer", "metric": "FreeableMemory", "reason": "..."}]
  sample:
    prefix: vitality.aurora/vitality-prod-aurora/
    topic_arn: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    alarms: [{"name": "vitality.aurora/vitality-prod-aurora/Deadlocks", "metric": "Deadlocks", "instance": null}]
    skipped: []
autoscaling:
  description:
    - Reader autoscaling as the plan leaves it (O(autoscaling)), and the readers Application Auto Scaling made.
  returned: when O(autoscaling) is given
  type: dict
  contains:
    enabled:
      description: Whether the reader count follows the load.
      type: bool
      returned: always
      sample: true
    resource_id:
      description: The scalable target's resource ID.
      type: str
      returned: always
      sample: cluster:vitality-prod-aurora
    min_readers:
      description: The target's minimum (O(instances.reader_count)); null when off.
      type: int
      returned: always
      sample: 2
    max_readers:
      description: The target's maximum; null when off.
      type: int
      returned: always
      sample: 5
    metric:
      description: The tracked metric; null when off.
      type: str
      returned: always
      sample: RDSReaderAverageCPUUtilization
    target_value:
      description: The tracked value; null when off.
      type: float
      returned: always
      sample: 60.0
    autoscaled_readers:
      description: The readers Application Auto Scaling made (C(application-autoscaling-...)), now in the cluster.
      type: list
      elements: str
      returned: always
      sample: [application-autoscaling-5f1c6b0e-2d4a-4c8e-9b1a-3e7d2c9f0a11]
    other_policies:
      description: Scaling policies on the target that are not the module's, left alone.
      type: list
      elements: str
      returned: always
      sample: []
    notice:
      description: The autoscaled readers in words, for the plan's output; null when there are none.
      type: str
      returned: always
      sample: "Reader autoscaling is on: 1 reader made by Application Auto Scaling (application-autoscaling-...), left to it"
  sample:
    enabled: true
    resource_id: cluster:vitality-prod-aurora
    min_readers: 2
    max_readers: 5
    autoscaled_readers: []
engine_version_notice:
  description:
    - Why the running engine version, newer than the configured one, is kept.
    - With O(cluster.major_upgrade_strategy=blue-green), what waits for the operator, joined with C(; ) - the
      switchover not planned without O(cluster.blue_green_switchover=true) (and how to ask for it or roll back), or
      until when the old blue cluster is kept.
  returned: when the cluster runs a newer minor version than the configured C(engine_version), or a blue/green step waits
  type: str
  sample: running 16.8, newer than the configured 16.6 within major 16; kept
report:
  description:
    - With O(report=true), the stack as read, for people to review; after O(mode=converge) carried out the plan, as
      the call left it.
  returned: when O(report=true) and O(mode=plan) or O(mode=converge)
  type: dict
  sample:
    title: "Vitality database: vitality-dev"
    facts: [{"section": "Cluster", "rows": [{"fact": "Engine version", "value": "16.6"}]}]
    mermaid: "flowchart TB ..."
    markdown: "# Vitality database: vitality-dev ..."
    html: "<!DOCTYPE html> ..."
  contains:
    title:
      description: The report's title, naming the stack.
      type: str
      sample: "Vitality database: vitality-dev"
    facts:
      description: The facts a reviewer checks, by section (C(section), C(rows) of C(fact) and C(value)).
      type: list
      elements: dict
    mermaid:
      description: The diagram, Mermaid C(flowchart TB) text.
      type: str
    markdown:
      description: The report as Markdown (the diagram in a C(mermaid) code block, the facts as tables).
      type: str
    html:
      description:
        - The report as an HTML page; the Mermaid library goes in place of the element
          C(<script data-library="mermaid"></script>).
      type: str
    files:
      description: The report's files on the host, when O(report_path) is given and the report was written there.
      returned: when O(report_path) is given and the report is the stack as the call leaves it
      type: dict
      contains:
        markdown:
          description: The Markdown file's path.
          type: str
          sample: /home/ops/vitality-outputs/report/vitality-dev.md
        html:
          description: The HTML file's path; null when the library could not be read (no HTML written).
          type: str
          sample: /home/ops/vitality-outputs/report/vitality-dev.html
        written:
          description: The files this call wrote; empty when both already held the same report.
          type: list
          elements: str
          sample: [/home/ops/vitality-outputs/report/vitality-dev.md]
        library_missing:
          description: Whether O(report_library) was omitted or could not be read, so no HTML was written.
          type: bool
          sample: false
"""


import copy
import datetime
import re
import time
import traceback
from contextlib import contextmanager

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.alarm_plan import (
    alarm_members,
    alarm_outputs,
    plan_alarms,
)
from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    apply_rds_tags,
    concurrently,
    dict_to_tags,
    throttled_calls,
    to_snake,
)
from ansible_collections.vitality.aurora.plugins.module_utils.autoscaling_plan import (
    DEFAULT_POLICY_NAME,
    MARKER_TAG,
    MARKER_VALUE,
    MAX_READERS,
    marked,
    place_autoscaling,
    plan_autoscaling,
    read_autoscaling,
)
from ansible_collections.vitality.aurora.plugins.module_utils.autoscaling_plan import METRICS as AUTOSCALING_METRICS
from ansible_collections.vitality.aurora.plugins.module_utils.baseline_plan import (
    copy_key_alias,
    impossible_problems,
    plan_baseline,
    read_baseline,
    topic_arn,
)
from ansible_collections.vitality.aurora.plugins.module_utils.baseline_plan import (
    key_alias as baseline_key_alias,
)
from ansible_collections.vitality.aurora.plugins.module_utils.baseline_plan import (
    module_args as baseline_module_args,
)
from ansible_collections.vitality.aurora.plugins.module_utils.blue_green import (
    AVAILABLE as BLUE_GREEN_AVAILABLE,
)
from ansible_collections.vitality.aurora.plugins.module_utils.blue_green import (
    DEPLOYMENT_NOT_FOUND,
    SWITCHED_TAG,
    SWITCHOVER_COMPLETED,
    SWITCHOVER_FAILED,
    find_deployment,
    stamp,
)
from ansible_collections.vitality.aurora.plugins.module_utils.blue_green import (
    FAILED as BLUE_GREEN_FAILED,
)
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    SETTING_OPTIONS,
    clusters_tagged,
    describe_members,
    plan_cluster_changes,
    read_cluster,
    read_members,
    restore_request,
    scaling_configuration,
    storage_type,
)
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    create_request as cluster_create_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    modify_request as cluster_modify_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.endpoint_plan import (
    ENDPOINT_NOT_FOUND,
    endpoint_outputs,
    read_endpoints,
)
from ansible_collections.vitality.aurora.plugins.module_utils.endpoint_plan import (
    create_request as endpoint_create_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.endpoint_plan import (
    modify_request as endpoint_modify_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import MAJOR as MAJOR_UPGRADE_STEP
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import (
    MASTER_SETTINGS,
    engine_problems,
    global_outputs,
    own_cluster_is_reader,
    plan_engine_upgrade,
    plan_global,
    read_global,
    read_global_cluster,
    secondary_params,
    secondary_regions,
    wanted_readers,
)
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import MINOR as MINOR_UPGRADE_STEP
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import SET_GROUP as SET_GROUP_BACK
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import WAIT_MAJOR as WAIT_MAJOR_UPGRADE
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import WAIT_MINOR as WAIT_MINOR_UPGRADE
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    INSTANCE_NOT_FOUND,
    waits_for_reboot,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    create_request as instance_create_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    modify_request as instance_modify_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.naming import global_cluster_identifier
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import (
    apply_parameter_changes,
    classify,
    desired_parameters,
    parameter_catalog,
    plan_parameter_changes,
    read_group,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    IMPOSSIBLE,
    LABELS,
    STACK,
    digest,
    plan_document,
    saved_plan_problems,
    unnumbered,
)
from ansible_collections.vitality.aurora.plugins.module_utils.preflight import FAILURE_PREFIX as PREFLIGHT_FAILURE
from ansible_collections.vitality.aurora.plugins.module_utils.preflight import Preflight
from ansible_collections.vitality.aurora.plugins.module_utils.report import stack_report, write_report_files
from ansible_collections.vitality.aurora.plugins.module_utils.secondary_ops import (
    RESOURCES as SECONDARY_OPERATIONS,
)
from ansible_collections.vitality.aurora.plugins.module_utils.secondary_ops import (
    Operations,
    operations_outputs,
    plan_operations,
    plan_operations_removal,
    plan_reader_monitoring,
    read_operations,
    readers_after,
    removal_desired,
    secondary_desired,
)
from ansible_collections.vitality.aurora.plugins.module_utils.security_group_rules import (
    flatten_permissions,
    to_permission,
)
from ansible_collections.vitality.aurora.plugins.module_utils.stack_plan import (
    DEFAULT_EGRESS,
    PHASE_AFTER,
    SUBNET_GROUP_NOT_FOUND,
    NetworkProblem,
    adopt_generation,
    current_writer,
    order_actions,
    plan_cluster,
    plan_parameter_group,
    plan_security_group,
    plan_stack,
    plan_subnet_group,
    read_stack,
    resolve_generation,
    runners_of,
    security_group_request,
    subnet_group_request,
    wanted_instances,
    wanted_rules,
)
from ansible_collections.vitality.aurora.plugins.module_utils.validation import capacity_names, serverless_v2_errors
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    ProgressLog,
    WaitTimeout,
    check_wait_options,
    wait_for,
)

TAGS = dict(type="dict")
ARGUMENT_SPEC = dict(
    vpc_name=dict(type="str", required=True),
    private_subnet_names=dict(type="list", elements="str", required=True),
    app_security_group_name=dict(type="str", required=True),
    security_group=dict(
        type="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str", required=True),
            app_port=dict(type="int", required=True),
            app_rule_description=dict(type="str"),
            extra_ingress=dict(type="list", elements="dict", default=[]),
            egress=dict(type="list", elements="dict", default=[]),
            tags=TAGS,
        ),
    ),
    subnet_group=dict(
        type="dict",
        required=True,
        options=dict(name=dict(type="str", required=True), description=dict(type="str", required=True), tags=TAGS),
    ),
    parameter_group=dict(
        type="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            family=dict(type="str", required=True),
            description=dict(type="str", required=True),
            parameters=dict(type="dict", default={}),
            tags=TAGS,
        ),
    ),
    cluster=dict(
        type="dict",
        required=True,
        options=dict(
            db_cluster_identifier=dict(type="str", required=True),
            engine=dict(type="str", choices=["aurora-postgresql"], default="aurora-postgresql"),
            engine_version=dict(type="str", required=True),
            allow_major_version_upgrade=dict(type="bool", default=False),
            major_upgrade_strategy=dict(type="str", choices=["in-place", "blue-green"], default="in-place"),
            blue_green_switchover=dict(type="bool", default=False),
            blue_green_switchover_timeout=dict(type="int", default=300),
            blue_green_retention_hours=dict(type="int", default=24),
            blue_green_rollback=dict(type="bool", default=False),
            restore_from_snapshot=dict(type="str"),
            restore_from_cluster=dict(type="str"),
            restore_to_time=dict(type="str"),
            tags=TAGS,
            **SETTING_OPTIONS,
        ),
    ),
    master_user_password=dict(type="str", no_log=True),
    instances=dict(
        type="dict",
        required=True,
        options=dict(
            writer_identifier=dict(type="str", required=True),
            reader_identifier_prefix=dict(type="str", required=True),
            reader_count=dict(type="int", default=0),
            allow_rolling_reboot=dict(type="bool", default=False),
            instance_change_strategy=dict(type="str", choices=["rolling", "surge"], default="rolling"),
            db_instance_class=dict(type="str", required=True),
            reader_db_instance_class=dict(type="str"),
            auto_minor_version_upgrade=dict(type="bool"),
            enable_performance_insights=dict(type="bool"),
            performance_insights_retention_period=dict(type="int"),
            performance_insights_kms_key_id=dict(type="str"),
            monitoring_interval=dict(type="int", default=0),
            monitoring_role_arn=dict(type="str"),
            monitoring_role_name=dict(type="str"),
            db_parameter_group_name=dict(type="str"),
            ca_certificate_identifier=dict(type="str"),
            apply_immediately=dict(type="bool", default=False),
            tags=TAGS,
        ),
    ),
    custom_endpoints=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", choices=["READER", "ANY"], default="READER"),
            static_members=dict(type="list", elements="str", default=[]),
            excluded_members=dict(type="list", elements="str", default=[]),
            tags=TAGS,
        ),
    ),
    baseline=dict(type="dict"),
    autoscaling=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool", required=True),
            max_readers=dict(type="int"),
            metric=dict(type="str", choices=list(AUTOSCALING_METRICS), default=AUTOSCALING_METRICS[0]),
            target_value=dict(type="float", default=60.0),
            scale_in_cooldown=dict(type="int", default=300),
            scale_out_cooldown=dict(type="int", default=300),
            disable_scale_in=dict(type="bool", default=False),
            readers_on_disable=dict(type="str", choices=["keep", "delete"], default="keep"),
            policy_name=dict(type="str", default=DEFAULT_POLICY_NAME),
        ),
    ),
    need_account=dict(type="bool", default=False),
    global_database=dict(
        type="dict",
        options=dict(
            name=dict(type="str", required=True),
            region=dict(type="str", default=""),
            vpc_name=dict(type="str", default=""),
            private_subnet_names=dict(type="list", elements="str", default=[]),
            app_security_group_name=dict(type="str", default=""),
            reader_count=dict(type="int", default=0),
            instance_class=dict(type="str", default=""),
            remove_confirm=dict(type="str", default="", no_log=False),
        ),
    ),
    mode=dict(type="str", choices=["plan", "apply", "converge"], default="apply"),
    saved_plan=dict(type="dict"),
    stack_name=dict(type="str"),
    wait_timeout=dict(type="int", default=3600),
    wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
    report_existing=dict(type="bool", default=False),
    report=dict(type="bool", default=False),
    report_path=dict(type="path"),
    report_library=dict(type="path"),
    variable_prefix=dict(type="str", default=""),
)

# Optional names the role passes as "" when unset.
OPTIONAL_NAMES = {
    "cluster": (
        "master_user_secret_kms_key_id",
        "kms_key_id",
        "restore_from_snapshot",
        "restore_from_cluster",
        "restore_to_time",
    ),
    "instances": (
        "reader_db_instance_class",
        "performance_insights_kms_key_id",
        "monitoring_role_arn",
        "monitoring_role_name",
        "db_parameter_group_name",
    ),
}

# Options that say how to run, not what the stack is: outside the digest a saved plan is matched on.
# Where the report is written says nothing of the stack: a plan saved by --check (which writes none) stays valid.
NOT_SETTINGS = ("mode", "saved_plan", "master_user_password", "report_existing", "report_path", "report_library")


class CreateFailed(Exception):
    """A call of the apply failed: what AwsApi, or a check, would have ended the module with."""

    def __init__(self, msg, exception=None, result=None):
        super().__init__(msg)
        self.msg = msg or ""
        self.exception = exception
        self.result = result or {}

    def text(self):
        """The failure in words, as AnsibleAWSModule.fail_json_aws words it: the call, then AWS's error."""
        if self.exception is None:
            return self.msg
        detail = str(getattr(self.exception, "message", None) or self.exception)
        return f"{self.msg}: {detail}" if self.msg else detail


class RaisingModule:
    """The module as the apply sees it: a failure raises CreateFailed, so that what was done can be named."""

    def __init__(self, module):
        self._module = module

    def fail_json(self, msg, **result):
        raise CreateFailed(msg, result=result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise CreateFailed(msg, exception=exception, result=result)

    def __getattr__(self, name):
        return getattr(self._module, name)


@contextmanager
def failures_raised(module, *apis):
    """While applying, the AwsApi clients raise CreateFailed instead of failing the module."""
    raising = RaisingModule(module)
    saved = [(api, getattr(api, "module", None)) for api in apis]
    for api, _module in saved:
        api.module = raising
    try:
        yield raising
    finally:
        for api, original in saved:
            api.module = original


# The stack Region's operations steps this module carries out with secondary_ops.Operations (runner stack): the
# events topic's own KMS key, the topic's encryption set to it before the first subscription, the event subscriptions,
# AWS Backup's vault, copy key and copy vault (in the copy Region) and plan, and the backup selection of the cluster.
OWN_OPERATIONS = (
    "event_topic_key",
    "event_topic",
    "event_subscription",
    "backup_vault",
    "backup_copy_key",
    "backup_copy_vault",
    "backup_plan",
    "backup_selection",
)
# Steps taken once the creates before them are available: AWS Backup checks the selection's IAM role, which IAM may
# not show everywhere yet when the role is new in this run; the cluster's creation gives it that time.
AFTER_CREATES = ("backup_selection",)

# The kinds of the stack's resources, as the results and the messages name them.
KINDS = {
    "security_group": "security group",
    "db_subnet_group": "DB subnet group",
    "db_cluster_parameter_group": "DB cluster parameter group",
    "db_cluster": "DB cluster",
    "db_instance": "DB instance",
    "db_cluster_endpoint": "custom endpoint",
    "global_cluster": "global cluster",
}
# The operations baseline's resources, in the order a failure's message names those that exist (as read_baseline
# keys them).
BASELINE_ORDER = (
    "monitoring_role",
    "event_topic_key",
    "event_topic",
    "event_subscriptions",
    "alarms",
    "backup_role",
    "backup_vault",
    "backup_plan",
    "backup_selection",
    "backup_copy_key",
    "backup_copy_vault",
)
# The plan's resource kinds, as the created resources are named.
ENTRY_KINDS = {
    "security_group": "security_group",
    "subnet_group": "db_subnet_group",
    "parameter_group": "db_cluster_parameter_group",
    "cluster": "db_cluster",
    "instance": "db_instance",
    "custom_endpoint": "db_cluster_endpoint",
    "global_cluster": "global_cluster",
}


def resource_entry(kind, identifier, name=None):
    """{kind, id, label} (and name, for the security group, whose ID AWS gives it); id is None before it exists."""
    words = f"{KINDS[kind]} {identifier or name}" + (f" ({name})" if identifier and name else "")
    entry = {"kind": kind, "id": identifier, "label": words}
    if name is not None:
        entry["name"] = name
    return entry


def entry_key(entry):
    return entry["kind"], entry.get("name") or entry["id"]


def is_stack_create(action):
    """A create of one of the stack's own resources (an alarm's create is not one: it is named apart)."""
    return action.change == "create" and action.resource in ENTRY_KINDS


def planned_entry(action):
    kind = ENTRY_KINDS[action.resource]
    if kind == "security_group":
        return resource_entry(kind, None, action.name)
    return resource_entry(kind, action.name)


class Progress:
    """What the apply has made so far, and the resource it is at."""

    def __init__(self, planned=()):
        self.planned = list(planned)
        self.created = []
        self.at = None

    def start(self, entry):
        self.at = entry

    def made(self, entry):
        self.created.append(entry)
        self.at = entry


def creation_failure(progress, error):
    """(msg, result) of a create that failed: where, AWS's error, what it left and the ways forward."""
    created = list(progress.created)
    made = {entry_key(entry) for entry in created}
    not_created = [entry for entry in progress.planned if entry_key(entry) not in made]
    where = f" at the {progress.at['label']}" if progress.at else ""
    msg = f"Creating the stack failed{where}: {error.rstrip().rstrip('.')}."
    if created:
        msg += f" Created in this run and left in place: {', '.join(e['label'] for e in created)}."
        if not_created:
            msg += f" Not created: {', '.join(e['label'] for e in not_created)}."
        msg += (
            " Re-run provision to converge them (nothing is duplicated), or run playbooks/destroy.yml to remove them."
        )
    else:
        msg += " Nothing of the stack was created in this run; re-run provision once the cause is fixed."
    result = dict(changed=bool(created), created_resources=created, not_created=not_created, failed_at=progress.at)
    return msg, result


def existing_resources(ec2, rds, params, own_region=None, region_apis=None, module=None):
    """Each of the stack's resources that exists now, whoever made it (O(report_existing)); with O(baseline), the
    operations baseline's too (given ``module``, which makes its clients); with O(global_database), the global cluster
    and the secondary's resources in its Region too (``region_apis(region)``: {ec2, rds})."""
    existing, cluster = existing_stack_resources(ec2, rds, params)
    if module is not None:
        existing += existing_baseline_resources(module, rds, params, cluster)
    if (params.get("global_database") or {}).get("name") and region_apis is not None:
        name = global_cluster_identifier(params["global_database"]["name"])
        glob = read_global_cluster(rds, name)
        if glob is not None:
            existing.append(resource_entry("global_cluster", name))
        for region in secondary_regions(params, glob, own_region):
            apis = region_apis(region)
            for entry in existing_stack_resources(apis["ec2"], apis["rds"], secondary_params(params, region))[0]:
                existing.append(dict(entry, region=region, label=f"{entry['label']} in {region}"))
    return existing


def existing_baseline_resources(module, rds, params, cluster):
    """The operations baseline's resources that exist now (roles, keys, topic, subscriptions, backup, alarms), read as
    the plan reads them; none when the baseline is off or the account cannot be known (from ``cluster``, the stack's
    cluster as just read, or from STS)."""
    given = params.get("baseline") or {}
    if not any(given.values()):
        return []
    account = account_of(module, cluster, params)
    if account is None:
        return []
    desired = baseline_desired(module, params, account, zones=None)
    if desired is None:
        return []
    current = read_baseline(baseline_apis(module, params, rds), desired)
    existing = []
    for resource in BASELINE_ORDER:
        found = current.get(resource)
        if not found:
            continue
        if resource in ("event_subscriptions", "alarms"):
            existing += [baseline_entry(resource, name) for name in sorted(found)]
        else:
            existing.append(baseline_entry(resource, baseline_name(resource, desired)))
    return existing


def baseline_name(resource, desired):
    """The name the inventory gives a baseline resource (the one it is found by)."""
    backup = desired.get("backup") or {}
    return {
        "monitoring_role": lambda: desired["monitoring_role"]["name"],
        "event_topic_key": lambda: baseline_key_alias(desired),
        "event_topic": lambda: desired["event_topic"]["name"],
        "backup_role": lambda: backup["role_name"],
        "backup_vault": lambda: backup["vault_name"],
        "backup_plan": lambda: backup["plan_name"],
        "backup_selection": lambda: backup["plan_name"],
        "backup_copy_key": lambda: f"{copy_key_alias(desired)} in {backup['copy_region']['region']}",
        "backup_copy_vault": lambda: f"{backup['copy_region']['vault_name']} in {backup['copy_region']['region']}",
    }[resource]()


def baseline_entry(resource, name):
    kind = "event_subscription" if resource == "event_subscriptions" else "alarm" if resource == "alarms" else resource
    return {"kind": kind, "id": name, "label": f"{LABELS.get(kind, kind)} {name}"}


def existing_stack_resources(ec2, rds, params):
    """(entries, cluster): the security group, subnet group, parameter group, cluster and instances of one Region that
    exist now, and the cluster's description (None when it does not exist)."""
    existing = []
    vpc_name = params["vpc_name"]
    vpcs = ec2.call("describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}], context=f"VPC {vpc_name}")
    vpcs = (vpcs or {}).get("Vpcs") or []
    if len(vpcs) == 1:
        name = params["security_group"]["name"]
        groups = ec2.call(
            "describe_security_groups",
            Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}, {"Name": "group-name", "Values": [name]}],
            context=f"security group {name}",
        )
        existing += [
            resource_entry("security_group", group["GroupId"], group.get("GroupName", name))
            for group in (groups or {}).get("SecurityGroups") or []
        ]
    subnet_group = params["subnet_group"]["name"]
    if rds.call("describe_db_subnet_groups", DBSubnetGroupName=subnet_group, not_found=SUBNET_GROUP_NOT_FOUND):
        existing.append(resource_entry("db_subnet_group", subnet_group))
    if read_group(rds, params["parameter_group"]["name"]):
        existing.append(resource_entry("db_cluster_parameter_group", params["parameter_group"]["name"]))
    identifier = params["cluster"]["db_cluster_identifier"]
    cluster = read_cluster(rds, identifier)
    if cluster:
        existing.append(resource_entry("db_cluster", identifier))
        members = sorted(i.get("DBInstanceIdentifier") for i in read_members(rds, identifier) or [])
        existing += [resource_entry("db_instance", member) for member in members]
    return existing, cluster


def is_available(instance):
    return instance is not None and instance.get("DBInstanceStatus") == "available"


def writer_of(cluster):
    for member in (cluster or {}).get("DBClusterMembers") or []:
        if member.get("IsClusterWriter"):
            return member.get("DBInstanceIdentifier")
    return None


class Apply:
    """Carries out the plan's own steps (runner ``stack``), in order, each followed by its wait.

    ``clock`` and ``sleep`` are time.monotonic and time.sleep, or a test's fake clock.
    """

    def __init__(
        self,
        module,
        ec2,
        rds,
        params,
        snapshot,
        clock=time.monotonic,
        sleep=time.sleep,
        cloudwatch=None,
        autoscaling=None,
    ):
        self.module = module
        # Application Auto Scaling, for reader autoscaling's steps; None when the plan has none.
        self.autoscaling = autoscaling
        self.ec2 = ec2
        self.rds = rds
        # The CloudWatch alarms' steps need it; None when the plan has none.
        self.cloudwatch = cloudwatch
        self.params = params
        self.snapshot = snapshot
        self.clock = clock
        self.sleep = sleep
        group = snapshot.get("security_group")
        self.group_id = group["GroupId"] if group else None
        self.identifier = params["cluster"]["db_cluster_identifier"]
        self.instances = {i.get("DBInstanceIdentifier"): i for i in snapshot.get("instances") or []}
        self.created_instances = []
        # Instances deleted together (a surge's old generation): one wait for all of them.
        self.deleted_instances = []
        self.cluster_created = False
        self.progress = Progress()
        self.done = []
        self.warnings = []
        self.current = None
        # Each poll of each wait, for the collection's callback to print while this task runs.
        self.progress_log = ProgressLog.from_environment()
        # The Aurora Global Database's secondary Region: its own Apply (that Region's clients), for the steps marked
        # with that Region; the global cluster's steps run here.
        self.secondary = None
        self.global_current = None
        self.kms = None
        self.key = None
        # The secondary Region's topic, subscriptions and alarms (secondary_ops.Operations), on the secondary's Apply.
        self.operations = None

    # waiting

    def wait(self, what, wanted, read, done, describe=None):
        try:
            return wait_for(
                read,
                done,
                what=what,
                wanted=wanted,
                timeout=self.params["wait_timeout"],
                max_delay=self.params["wait_max_poll_interval"],
                clock=self.clock,
                sleep=self.sleep,
                describe=describe,
                progress=self.progress_log,
            )
        except WaitTimeout as e:
            raise CreateFailed(str(e)) from e

    def read_cluster(self):
        return read_cluster(self.rds, self.identifier)

    def read_instance(self, identifier):
        return self.rds.describe_one(
            "describe_db_instances",
            "DBInstances",
            DBInstanceIdentifier=identifier,
            not_found=INSTANCE_NOT_FOUND,
            context=f"instance {identifier}",
        )

    def wait_cluster_available(self):
        return self.wait(
            f"cluster {self.identifier}",
            "available",
            self.read_cluster,
            lambda c: c is not None and c.get("Status") == "available",
        )

    def wait_cluster_available_if_busy(self):
        """Before a change: a wait (and its progress lines) only when the cluster is not available now."""
        cluster = self.read_cluster()
        if cluster is None or cluster.get("Status") != "available":
            self.wait_cluster_available()

    def wait_all_available(self):
        """The cluster and every member available: after a create, a port change or a minor upgrade."""

        def read():
            cluster = self.read_cluster()
            return cluster, (read_members(self.rds, self.identifier) or []) if cluster else []

        def resources(state):
            cluster, members = state
            status = (cluster or {}).get("Status") or "absent"
            listed = [(f"cluster {self.identifier}", status, status == "available")]
            listed += [
                (m.get("DBInstanceIdentifier"), m.get("DBInstanceStatus") or "unknown", is_available(m))
                for m in sorted(members, key=lambda m: m.get("DBInstanceIdentifier") or "")
            ]
            seen = {m.get("DBInstanceIdentifier") for m in members}
            # An instance this run asked for that the read does not list yet is not ready.
            listed += [(i, "absent", False) for i in self.created_instances if i not in seen]
            return listed

        def done(state):
            return all(ready for _name, _state, ready in resources(state))

        self.wait(f"cluster {self.identifier} and its instances", "available", read, done, describe=resources)

    def wait_creates(self):
        if self.cluster_created or self.created_instances:
            self.wait_all_available()
            self.cluster_created = False
            self.created_instances = []

    def wait_deletes(self):
        if not self.deleted_instances:
            return
        doomed = list(self.deleted_instances)

        def read():
            return {i: self.read_instance(i) for i in doomed}

        def resources(state):
            return [
                (i, (state[i] or {}).get("DBInstanceStatus") or "deleted", state[i] is None) for i in sorted(doomed)
            ]

        self.wait(
            f"instances {', '.join(doomed)}",
            "deleted",
            read,
            lambda state: all(v is None for v in state.values()),
            describe=resources,
        )
        self.deleted_instances = []

    # the steps

    def run(self, actions):
        steps = [a for a in actions if a.runner == STACK and a.impact != IMPOSSIBLE]
        self.progress = Progress([planned_entry(a) for a in steps if is_stack_create(a)])
        for action in steps:
            applier = self.secondary if action.region and self.secondary is not None else self
            applier.current = self.current = action
            if action.change != "create" or action.resource in AFTER_CREATES:
                applier.wait_creates()
            if not action.request.get("together"):
                applier.wait_deletes()
            if applier.operations is not None and (
                (action.region and action.resource in SECONDARY_OPERATIONS)
                # The stack's Region: its OWN_OPERATIONS' steps (its alarms' are put_alarm's, below).
                or (not action.region and action.resource in OWN_OPERATIONS)
            ):
                applier.operations.run(action)
                self.done.append(action.order)
                continue
            handler = (
                GLOBAL_HANDLERS.get((action.resource, action.change, bool(action.region)))
                or HANDLERS.get(action.change)
                or HANDLERS.get((action.resource, action.change))
                # An alarm's step, whatever it changes, is one PutMetricAlarm or DeleteAlarms.
                or HANDLERS[action.resource]
            )
            handler(applier, action)
            self.done.append(action.order)
        for applier in filter(None, (self, self.secondary)):
            applier.wait_creates()
            applier.wait_deletes()
        if self.secondary is not None:
            self.warnings += self.secondary.warnings

    def create(self, action, method, exists, already_exists, **request):
        entry = planned_entry(action)
        self.progress.start(entry)
        response = (
            self.rds.create(method, exists=exists, already_exists=already_exists, context=action.label(), **request)
            if method != "create_security_group"
            else self.ec2.create(
                method, exists=exists, already_exists=already_exists, context=action.label(), **request
            )
        )
        if response is None:
            # Made meanwhile: by another run, or by this one's retried request whose answer was lost.
            self.warnings.append(
                f"{action.label()} was found made meanwhile (by another run, or by this run's retried request whose "
                "answer was lost): it is used, with the planned settings applied to it"
            )
        return response

    def create_security_group(self, action):
        spec = self.params["security_group"]
        network = self.snapshot["network"]
        ingress, egress = wanted_rules(spec, network["app_security_group_id"])

        def exists():
            return self.find_security_group() is not None

        response = self.create(
            action,
            "create_security_group",
            exists,
            ("InvalidGroup.Duplicate",),
            GroupName=spec["name"],
            Description=spec["description"],
            VpcId=network["vpc_id"],
            TagSpecifications=[{"ResourceType": "security-group", "Tags": dict_to_tags(spec.get("tags"))}],
        )
        self.group_id = response["GroupId"] if response else self.find_security_group()
        self.progress.made(resource_entry("security_group", self.group_id, spec["name"]))
        # Also on a group found made meanwhile: made by this run's retried request whose answer was lost, it has no
        # rule yet. A rule that is already there (another run's, or a retried request's) is success.
        self.ec2.call(
            "authorize_security_group_ingress",
            GroupId=self.group_id,
            IpPermissions=[to_permission(rule) for rule in sorted(ingress, key=str)],
            not_found=("InvalidPermission.Duplicate",),
            context=action.label(),
        )
        if DEFAULT_EGRESS not in egress:
            self.ec2.call(
                "revoke_security_group_egress",
                GroupId=self.group_id,
                IpPermissions=[to_permission(DEFAULT_EGRESS)],
                not_found=("InvalidPermission.NotFound",),
                context=action.label(),
            )
        if egress - {DEFAULT_EGRESS}:
            self.ec2.call(
                "authorize_security_group_egress",
                GroupId=self.group_id,
                IpPermissions=[to_permission(rule) for rule in sorted(egress - {DEFAULT_EGRESS}, key=str)],
                not_found=("InvalidPermission.Duplicate",),
                context=action.label(),
            )

    def find_security_group(self):
        network = self.snapshot["network"]
        groups = self.ec2.call(
            "describe_security_groups",
            Filters=[
                {"Name": "vpc-id", "Values": [network["vpc_id"]]},
                {"Name": "group-name", "Values": [self.params["security_group"]["name"]]},
            ],
            context=f"security group {self.params['security_group']['name']}",
        )["SecurityGroups"]
        return groups[0]["GroupId"] if groups else None

    def create_subnet_group(self, action):
        spec = self.params["subnet_group"]
        self.create(
            action,
            "create_db_subnet_group",
            lambda: (
                self.rds.call(
                    "describe_db_subnet_groups", DBSubnetGroupName=spec["name"], not_found=SUBNET_GROUP_NOT_FOUND
                )
                is not None
            ),
            ("DBSubnetGroupAlreadyExists", "DBSubnetGroupAlreadyExistsFault"),
            DBSubnetGroupName=spec["name"],
            DBSubnetGroupDescription=spec["description"],
            SubnetIds=[s["subnet_id"] for s in self.snapshot["network"]["subnets"]],
            Tags=dict_to_tags(spec.get("tags")),
        )
        self.progress.made(planned_entry(action))

    def create_parameter_group(self, action):
        spec = self.params["parameter_group"]
        name = spec["name"]
        self.create(
            action,
            "create_db_cluster_parameter_group",
            lambda: read_group(self.rds, name) is not None,
            ("DBParameterGroupAlreadyExists", "DBParameterGroupAlreadyExistsFault"),
            DBClusterParameterGroupName=name,
            DBParameterGroupFamily=spec["family"],
            Description=spec["description"],
            Tags=dict_to_tags(spec.get("tags")),
        )
        self.progress.made(planned_entry(action))
        # Also on a group found made meanwhile (it may be this run's own, lost answer, with no parameter set):
        # setting the planned values again is harmless where another run already set them.
        changes = plan_parameter_changes({}, desired_parameters(spec.get("parameters")), purge=False)
        if changes:
            catalog, complete = parameter_catalog(self.rds, name)
            problems = classify(changes, catalog, complete, name)
            if problems:
                raise CreateFailed("; ".join(problems))
            apply_parameter_changes(self.rds, name, changes)

    def set_parameters(self, action):
        apply_parameter_changes(self.rds, action.name, action.request["changes"])

    def tags(self, action):
        arn = self.arn_of(action)
        to_set = {c["attribute"][len("tags.") :]: c["after"] for c in action.changes if c["after"] is not None}
        to_remove = [c["attribute"][len("tags.") :] for c in action.changes if c["after"] is None]
        apply_rds_tags(self.rds, arn, to_set, to_remove, action.label())

    def arn_of(self, action):
        if action.resource == "subnet_group":
            return self.snapshot["subnet_group"]["DBSubnetGroupArn"]
        if action.resource == "parameter_group":
            return self.snapshot["parameter_group"]["DBClusterParameterGroupArn"]
        if action.resource == "cluster":
            return self.snapshot["cluster"]["DBClusterArn"]
        if action.resource == "custom_endpoint":
            return self.snapshot["custom_endpoints"][action.name][0]["DBClusterEndpointArn"]
        return self.instances[action.name]["DBInstanceArn"]

    def create_cluster(self, action):
        spec = dict(
            self.params["cluster"],
            vpc_security_group_ids=[self.group_id],
            master_user_password=self.params.get("master_user_password"),
        )
        if action.request.get("restore"):
            self.restore_cluster(action, spec)
            return
        self.create(
            action,
            "create_db_cluster",
            lambda: self.read_cluster() is not None,
            ("DBClusterAlreadyExistsFault",),
            **cluster_create_request(self.identifier, spec),
        )
        self.progress.made(planned_entry(action))
        self.cluster_created = True

    def restore_cluster(self, action, spec):
        method, request = restore_request(self.identifier, spec)
        self.create(
            action, method, lambda: self.read_cluster() is not None, ("DBClusterAlreadyExistsFault",), **request
        )
        self.progress.made(planned_entry(action))
        cluster = self.wait_cluster_available()
        changes, _major, _notice, _error = plan_cluster_changes(cluster, spec)
        changes = [c for c in changes if c["impact"] != "impossible-in-place"]
        if changes:
            self.rds.call(
                "modify_db_cluster", context=action.label(), **cluster_modify_request(self.identifier, changes, spec)
            )
            self.wait_cluster_available()
        self.snapshot["cluster"] = self.read_cluster()

    def create_instance(self, action):
        params = action.request["params"]
        identifier = action.name
        self.create(
            action,
            "create_db_instance",
            lambda: self.read_instance(identifier) is not None,
            ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"),
            **instance_create_request(params),
        )
        self.progress.made(planned_entry(action))
        self.created_instances.append(identifier)

    def modify_cluster(self, action):
        self.wait_cluster_available_if_busy()
        spec = dict(
            self.params["cluster"],
            vpc_security_group_ids=[self.group_id] if self.group_id else None,
            master_user_password=self.params.get("master_user_password"),
        )
        request = cluster_modify_request(self.identifier, action.request["changes"], spec)
        self.rds.call("modify_db_cluster", context=action.label(), **request)
        if action.impact == "all-instances-restart" and action.when == "now":
            self.wait_all_available()
        else:
            self.wait_cluster_available()

    def major_upgrade(self, action):
        self.wait_cluster_available_if_busy()
        spec = self.params["cluster"]
        version = action.request["version"]
        request = {
            "DBClusterIdentifier": self.identifier,
            "EngineVersion": version,
            "AllowMajorVersionUpgrade": True,
            "DBClusterParameterGroupName": spec["db_cluster_parameter_group_name"],
            # A major upgrade cannot wait for the maintenance window: the rest of the run depends on it.
            "ApplyImmediately": True,
        }
        if self.params["instances"].get("db_parameter_group_name"):
            request["DBInstanceParameterGroupName"] = self.params["instances"]["db_parameter_group_name"]
        self.rds.call("modify_db_cluster", context=action.label(), **request)
        self.wait(
            f"cluster {self.identifier}",
            f"available on engine version {version}",
            self.read_cluster,
            lambda c: c is not None and c.get("Status") == "available" and c.get("EngineVersion") == version,
        )
        self.wait_all_available()

    def delete_parameter_group(self, action):
        self.rds.call(
            "delete_db_cluster_parameter_group",
            DBClusterParameterGroupName=action.name,
            not_found=("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"),
            context=action.label(),
        )

    def modify_instance(self, action):
        identifier = action.name
        params = dict(action.request["params"], apply_immediately=bool(self.params["instances"]["apply_immediately"]))
        changes = action.request["changes"]
        if not is_available(self.read_instance(identifier)):
            self.wait(f"instance {identifier}", "available", lambda: self.read_instance(identifier), is_available)
        self.rds.call("modify_db_instance", context=action.label(), **instance_modify_request(params, changes))
        new_class = next((c["after"] for c in changes if c["attribute"] == "db_instance_class"), None)

        def applied(instance):
            if not is_available(instance):
                return False
            if new_class is None or action.when != "now":
                return True
            pending = instance.get("PendingModifiedValues") or {}
            return instance.get("DBInstanceClass") == new_class and "DBInstanceClass" not in pending

        self.wait(
            f"instance {identifier}",
            "available with the change applied",
            lambda: self.read_instance(identifier),
            applied,
        )

    def reboot(self, action):
        identifier = action.name
        self.rds.call("reboot_db_instance", DBInstanceIdentifier=identifier, context=action.label())

        def rebooted(instance):
            return is_available(instance) and not waits_for_reboot(instance, None)

        self.wait(
            f"instance {identifier}", "available after the reboot", lambda: self.read_instance(identifier), rebooted
        )

    def failover(self, action):
        target = action.request["target"]
        waiting = action.request.get("wait_for") or []
        if waiting:
            # A surge's new instances, made by this run or by one killed before its failover: all serve first.
            self.created_instances = sorted(set(self.created_instances) | set(waiting))
            self.wait_creates()
        cluster = self.read_cluster()
        if writer_of(cluster) == target:
            return
        self.rds.call(
            "failover_db_cluster",
            DBClusterIdentifier=self.identifier,
            TargetDBInstanceIdentifier=target,
            context=action.label(),
        )
        self.wait(
            f"cluster {self.identifier} failing over to {target}",
            f"available with {target} as writer",
            self.read_cluster,
            lambda c: c is not None and writer_of(c) == target and c.get("Status") == "available",
        )

    def put_alarm(self, action):
        # PutMetricAlarm creates the alarm or replaces its whole definition: the same request for both.
        self.cloudwatch.call("put_metric_alarm", context=action.label(), **action.request["put"])

    def delete_alarms(self, action):
        self.cloudwatch.call(
            "delete_alarms",
            AlarmNames=action.request["names"],
            # Deleted meanwhile: the next run plans from what is left.
            not_found=("ResourceNotFound", "ResourceNotFoundException"),
            context=action.label(),
        )

    def read_endpoint(self, identifier):
        return self.rds.describe_one(
            "describe_db_cluster_endpoints",
            "DBClusterEndpoints",
            DBClusterEndpointIdentifier=identifier,
            not_found=ENDPOINT_NOT_FOUND,
            context=f"custom endpoint {identifier}",
        )

    def wait_endpoint_available(self, identifier):
        self.wait(
            f"custom endpoint {identifier}",
            "available",
            lambda: self.read_endpoint(identifier),
            lambda e: e is not None and e.get("Status") == "available",
        )

    def create_endpoint(self, action):
        # Its members must exist: the cluster and the instances this run creates first.
        self.wait_creates()
        endpoint = action.request["endpoint"]
        self.create(
            action,
            "create_db_cluster_endpoint",
            lambda: self.read_endpoint(action.name) is not None,
            ("DBClusterEndpointAlreadyExistsFault",),
            **endpoint_create_request(self.identifier, endpoint),
        )
        self.progress.made(planned_entry(action))
        self.wait_endpoint_available(action.name)

    def modify_endpoint(self, action):
        self.rds.call(
            "modify_db_cluster_endpoint", context=action.label(), **endpoint_modify_request(action.request["endpoint"])
        )
        self.wait_endpoint_available(action.name)

    def delete_endpoint(self, action):
        self.rds.call(
            "delete_db_cluster_endpoint",
            DBClusterEndpointIdentifier=action.name,
            # Deleted meanwhile: nothing is left to do.
            not_found=ENDPOINT_NOT_FOUND,
            context=action.label(),
        )
        self.wait(
            f"custom endpoint {action.name}", "deleted", lambda: self.read_endpoint(action.name), lambda e: e is None
        )

    def register_target(self, action):
        # RegisterScalableTarget creates the target or updates its minimum and maximum: the same request for both.
        self.autoscaling.call("register_scalable_target", context=action.label(), **action.request)

    def deregister_target(self, action):
        self.autoscaling.call(
            "deregister_scalable_target",
            # Gone meanwhile: the next run plans from what is left.
            not_found=("ObjectNotFoundException",),
            context=action.label(),
            **action.request,
        )

    def put_policy(self, action):
        # PutScalingPolicy creates the policy or replaces its configuration.
        self.autoscaling.call("put_scaling_policy", context=action.label(), **action.request)

    def delete_policy(self, action):
        self.autoscaling.call(
            "delete_scaling_policy", not_found=("ObjectNotFoundException",), context=action.label(), **action.request
        )

    def delete_instance(self, action):
        identifier = action.name
        self.rds.call(
            "delete_db_instance",
            DBInstanceIdentifier=identifier,
            # Already being deleted: the wait below sees it go.
            not_found=INSTANCE_NOT_FOUND + ("InvalidDBInstanceState",),
            context=action.label(),
        )
        if action.request.get("together"):
            self.deleted_instances.append(identifier)
            return
        self.wait(f"instance {identifier}", "deleted", lambda: self.read_instance(identifier), lambda i: i is None)

    # a major upgrade by blue/green (plugins/module_utils/blue_green.py plans these steps)

    def wait_deployment(self, name, wanted, statuses):
        """Wait until the deployment's status is one of ``statuses`` (the wanted one, or a failure); return it."""

        def done(deployment):
            return deployment is not None and deployment.get("Status") in statuses

        deployment = self.wait(f"blue/green deployment {name}", wanted, lambda: find_deployment(self.rds, name), done)
        if deployment.get("Status") != wanted:
            raise CreateFailed(
                f"blue/green deployment {name} is {deployment.get('Status')}: "
                f"{deployment.get('StatusDetails') or 'AWS gives no detail'}"
            )
        return deployment

    def create_blue_green(self, action):
        name = action.name
        request = action.request
        spec = dict(
            BlueGreenDeploymentName=name,
            Source=request["source"],
            TargetEngineVersion=request["version"],
            TargetDBClusterParameterGroupName=request["group"],
            Tags=dict_to_tags(self.params["cluster"].get("tags")),
        )
        if self.params["instances"].get("db_parameter_group_name"):
            spec["TargetDBParameterGroupName"] = self.params["instances"]["db_parameter_group_name"]
        # A lost answer: the deployment is found by its name, never made twice.
        made = self.rds.create(
            "create_blue_green_deployment",
            exists=lambda: find_deployment(self.rds, name) is not None,
            already_exists=("BlueGreenDeploymentAlreadyExistsFault",),
            context=action.label(),
            **spec,
        )
        if made is None:
            self.warnings.append(f"{action.label()} was found made meanwhile; it is waited for, not made again")
        self.wait_deployment(name, BLUE_GREEN_AVAILABLE, (BLUE_GREEN_AVAILABLE,) + BLUE_GREEN_FAILED)

    def wait_blue_green(self, action):
        self.wait_deployment(action.name, BLUE_GREEN_AVAILABLE, (BLUE_GREEN_AVAILABLE,) + BLUE_GREEN_FAILED)

    def switchover_blue_green(self, action):
        name = action.name
        if action.request["call"]:
            deployment = find_deployment(self.rds, name)
            if deployment is None:
                raise CreateFailed(f"blue/green deployment {name} is gone")
            self.rds.call(
                "switchover_blue_green_deployment",
                BlueGreenDeploymentIdentifier=deployment["BlueGreenDeploymentIdentifier"],
                SwitchoverTimeout=action.request["timeout"],
                context=action.label(),
            )
        self.wait_deployment(name, SWITCHOVER_COMPLETED, (SWITCHOVER_COMPLETED, SWITCHOVER_FAILED))
        old = read_cluster(self.rds, action.request["old"])
        if old is not None:
            # The old cluster's retention counts from here (a run killed before this tag starts it later).
            now = stamp(datetime.datetime.now(datetime.timezone.utc))
            apply_rds_tags(self.rds, old["DBClusterArn"], {SWITCHED_TAG: now}, [], action.label())
        self.snapshot["cluster"] = self.wait_cluster_available()

    def delete_blue_green(self, action):
        request = action.request
        if request.get("unprotect"):
            self.rds.call(
                "modify_db_cluster",
                DBClusterIdentifier=request["green"],
                DeletionProtection=False,
                ApplyImmediately=True,
                context=f"green cluster {request['green']}",
            )
        self.rds.call(
            "delete_blue_green_deployment",
            BlueGreenDeploymentIdentifier=request["identifier"],
            DeleteTarget=request["delete_target"],
            not_found=DEPLOYMENT_NOT_FOUND,
            context=action.label(),
        )
        self.wait(
            f"blue/green deployment {action.name}",
            "deleted",
            lambda: find_deployment(self.rds, action.name),
            lambda d: d is None,
        )
        green = request.get("green")
        if green:
            self.wait(f"green cluster {green}", "deleted", lambda: read_cluster(self.rds, green), lambda c: c is None)

    def tag_old_cluster(self, action):
        now = stamp(datetime.datetime.now(datetime.timezone.utc))
        apply_rds_tags(self.rds, action.request["arn"], {SWITCHED_TAG: now}, [], action.label())

    def delete_old_cluster(self, action):
        old = action.name
        request = action.request
        if request["unprotect"]:
            self.rds.call(
                "modify_db_cluster",
                DBClusterIdentifier=old,
                DeletionProtection=False,
                ApplyImmediately=True,
                context=action.label(),
            )
        for member in request["members"]:
            self.rds.call(
                "delete_db_instance",
                DBInstanceIdentifier=member,
                not_found=INSTANCE_NOT_FOUND + ("InvalidDBInstanceState",),
                context=f"instance {member}",
            )
        for member in request["members"]:
            self.wait(f"instance {member}", "deleted", lambda m=member: self.read_instance(m), lambda i: i is None)
        self.rds.call(
            "delete_db_cluster",
            DBClusterIdentifier=old,
            FinalDBSnapshotIdentifier=request["snapshot"],
            not_found=("DBClusterNotFoundFault",),
            context=action.label(),
        )
        self.wait(f"cluster {old}", "deleted", lambda: read_cluster(self.rds, old), lambda c: c is None)

    # the Aurora Global Database (plugins/module_utils/global_plan.py plans these steps)

    def read_global_cluster(self, name):
        found = self.rds.call(
            "describe_global_clusters",
            GlobalClusterIdentifier=name,
            not_found=("GlobalClusterNotFoundFault",),
            context=f"global cluster {name}",
        )
        return next(
            (
                g
                for g in (found or {}).get("GlobalClusters") or []
                if str(g.get("GlobalClusterIdentifier") or "").lower() == name.lower()
            ),
            None,
        )

    def create_global_cluster(self, action):
        # The primary serves first: it is the global cluster's source.
        self.wait_creates()
        cluster = self.wait_cluster_available()
        self.create(
            action,
            "create_global_cluster",
            lambda: self.read_global_cluster(action.name) is not None,
            ("GlobalClusterAlreadyExistsFault",),
            GlobalClusterIdentifier=action.name,
            SourceDBClusterIdentifier=cluster["DBClusterArn"],
        )
        self.wait(
            f"global cluster {action.name}",
            "available",
            lambda: self.read_global_cluster(action.name),
            lambda g: g is not None and g.get("Status") in (None, "available"),
        )

    def delete_global_cluster(self, action):
        self.rds.call(
            "delete_global_cluster",
            GlobalClusterIdentifier=action.name,
            not_found=("GlobalClusterNotFoundFault",),
            context=action.label(),
        )
        self.wait(
            f"global cluster {action.name}",
            "deleted",
            lambda: self.read_global_cluster(action.name),
            lambda g: g is None,
        )

    def create_secondary_key(self, action):
        tags = [
            {"TagKey": k, "TagValue": str(v)} for k, v in sorted((self.params["cluster"].get("tags") or {}).items())
        ]
        key = self.kms.call(
            "create_key",
            Description=f"{self.identifier}: storage of the Aurora global database's secondary cluster",
            Tags=tags,
            context=action.label(),
        )["KeyMetadata"]
        self.kms.call(
            "create_alias", AliasName=action.request["alias"], TargetKeyId=key["KeyId"], context=action.label()
        )
        self.kms.call("enable_key_rotation", KeyId=key["KeyId"], context=action.label())
        self.key = {"arn": key.get("Arn"), "key_id": key.get("KeyId"), "state": key.get("KeyState")}

    def create_secondary_cluster(self, action):
        spec = dict(action.request["spec"], vpc_security_group_ids=[self.group_id])
        if spec.get("storage_encrypted"):
            spec["kms_key_id"] = (self.key or {}).get("arn") or spec.get("kms_key_id")
        request = cluster_create_request(self.identifier, spec)
        # A secondary has no master user of its own: AWS refuses one (the primary's is replicated).
        for key in (
            "MasterUsername",
            "MasterUserPassword",
            "ManageMasterUserPassword",
            "MasterUserSecretKmsKeyId",
            "DatabaseName",
        ):
            request.pop(key, None)
        request["GlobalClusterIdentifier"] = next(
            c["after"] for c in action.changes if c["attribute"] == "global cluster"
        )
        self.create(
            action,
            "create_db_cluster",
            lambda: self.read_cluster() is not None,
            ("DBClusterAlreadyExistsFault",),
            **request,
        )
        self.progress.made(planned_entry(action))
        self.cluster_created = True

    def detach_from_global_cluster(self, action):
        name = action.request["global"]
        arn = action.request["arn"]
        self.rds.call(
            "remove_from_global_cluster",
            GlobalClusterIdentifier=name,
            DbClusterIdentifier=arn,
            not_found=("GlobalClusterNotFoundFault", "DBClusterNotFoundFault"),
            context=action.label(),
        )

        def detached(glob):
            return glob is None or all(m.get("DBClusterArn") != arn for m in glob.get("GlobalClusterMembers") or [])

        self.wait(f"cluster {action.name}", "detached", lambda: self.read_global_cluster(name), detached)

    def wait_engine(self, version):
        """This cluster available on ``version``, each poll listed (the upgrade restarts every instance)."""

        def ready(cluster):
            return (
                cluster is not None and cluster.get("Status") == "available" and cluster.get("EngineVersion") == version
            )

        def resources(cluster):
            state = f"{(cluster or {}).get('Status') or 'absent'} on {(cluster or {}).get('EngineVersion')}"
            return [(f"cluster {self.identifier}", state, ready(cluster))]

        self.wait(
            f"cluster {self.identifier}", f"available on engine version {version}", self.read_cluster, ready, resources
        )
        self.wait_all_available()

    def minor_upgrade(self, action):
        # AWS's order for a global database: this cluster is on the new version before the next one is asked.
        version = action.request["version"]
        self.wait_cluster_available_if_busy()
        self.rds.call(
            "modify_db_cluster",
            DBClusterIdentifier=self.identifier,
            EngineVersion=version,
            ApplyImmediately=True,
            context=action.label(),
        )
        self.wait_engine(version)

    def wait_minor_upgrade(self, action):
        # Asked for by a run before this one (its answer lost, or the run stopped): never asked twice.
        self.wait_engine(action.request["version"])

    def global_major_upgrade(self, action):
        version = action.request["version"]
        members = [(self.secondary if region else self) for region, _identifier in action.request["members"]]
        if action.calls:
            for member in members:
                member.wait_cluster_available_if_busy()
            self.rds.call(
                "modify_global_cluster",
                GlobalClusterIdentifier=action.name,
                EngineVersion=version,
                AllowMajorVersionUpgrade=True,
                context=action.label(),
            )

        def read():
            return self.read_global_cluster(action.name), [member.read_cluster() for member in members]

        def on_version(item):
            return (
                item is not None and item.get("Status") in (None, "available") and item.get("EngineVersion") == version
            )

        def resources(state):
            glob, clusters = state
            listed = [
                (
                    f"global cluster {action.name}",
                    f"{(glob or {}).get('Status') or 'absent'} on {(glob or {}).get('EngineVersion')}",
                    on_version(glob),
                )
            ]
            for position, member in enumerate(members):
                cluster = clusters[position]
                state = f"{(cluster or {}).get('Status') or 'absent'} on {(cluster or {}).get('EngineVersion')}"
                listed.append((f"cluster {member.identifier}", state, on_version(cluster)))
            return listed

        self.wait(
            f"global cluster {action.name} and its clusters",
            f"available on engine version {version}",
            read,
            lambda state: all(ready for _name, _state, ready in resources(state)),
            describe=resources,
        )
        for member in members:
            member.wait_all_available()

    def unprotect_cluster(self, action):
        self.rds.call(
            "modify_db_cluster",
            DBClusterIdentifier=action.name,
            DeletionProtection=False,
            ApplyImmediately=True,
            context=action.label(),
        )
        self.wait_cluster_available()

    def delete_secondary_cluster(self, action):
        self.rds.call(
            "delete_db_cluster",
            DBClusterIdentifier=action.name,
            SkipFinalSnapshot=True,
            not_found=("DBClusterNotFoundFault",),
            context=action.label(),
        )
        self.wait(f"cluster {action.name}", "deleted", self.read_cluster, lambda c: c is None)

    # The secondary's security group and subnet group converge here (in the stack's Region the role's amazon.aws
    # tasks do it): the rules and members as planned, read again so that a rule already there is no error.

    def converge_rules(self, action):
        direction = "ingress" if "ingress" in action.change else "egress"
        group = self.snapshot["security_group"]
        current = self.ec2.call("describe_security_groups", GroupIds=[group["GroupId"]], context=action.label())[
            "SecurityGroups"
        ][0]
        have = flatten_permissions(current.get("IpPermissions" if direction == "ingress" else "IpPermissionsEgress"))
        ingress, egress = wanted_rules(self.params["security_group"], self.snapshot["network"]["app_security_group_id"])
        wanted = ingress if direction == "ingress" else egress
        rules = wanted - have if action.change.startswith("allow") else have - wanted
        if rules:
            verb = "authorize" if action.change.startswith("allow") else "revoke"
            self.ec2.call(
                f"{verb}_security_group_{direction}",
                GroupId=group["GroupId"],
                IpPermissions=[to_permission(rule) for rule in sorted(rules, key=str)],
                context=action.label(),
            )

    def security_group_tags(self, action):
        group_id = self.snapshot["security_group"]["GroupId"]
        to_set = {c["attribute"][len("tags.") :]: c["after"] for c in action.changes if c["after"] is not None}
        to_remove = [c["attribute"][len("tags.") :] for c in action.changes if c["after"] is None]
        if to_set:
            self.ec2.call("create_tags", Resources=[group_id], Tags=dict_to_tags(to_set), context=action.label())
        if to_remove:
            self.ec2.call(
                "delete_tags", Resources=[group_id], Tags=[{"Key": k} for k in to_remove], context=action.label()
            )

    def modify_subnet_group(self, action):
        spec = self.params["subnet_group"]
        self.rds.call(
            "modify_db_subnet_group",
            DBSubnetGroupName=spec["name"],
            DBSubnetGroupDescription=spec["description"],
            SubnetIds=[s["subnet_id"] for s in self.snapshot["network"]["subnets"]],
            context=action.label(),
        )


# (resource, change, in the secondary Region): the global database's steps.
GLOBAL_HANDLERS = {
    ("global_cluster", "create", False): Apply.create_global_cluster,
    ("global_cluster", "delete", False): Apply.delete_global_cluster,
    ("global_cluster", MAJOR_UPGRADE_STEP, False): Apply.global_major_upgrade,
    ("global_cluster", WAIT_MAJOR_UPGRADE, False): Apply.global_major_upgrade,
    ("secondary_key", "create", True): Apply.create_secondary_key,
    ("cluster", "create", True): Apply.create_secondary_cluster,
    ("cluster", "detach from the global cluster", True): Apply.detach_from_global_cluster,
    ("cluster", "detach from the global cluster", False): Apply.detach_from_global_cluster,
    ("cluster", "turn off deletion protection", True): Apply.unprotect_cluster,
    ("cluster", "delete", True): Apply.delete_secondary_cluster,
    ("security_group", "allow ingress", True): Apply.converge_rules,
    ("security_group", "revoke ingress", True): Apply.converge_rules,
    ("security_group", "allow egress", True): Apply.converge_rules,
    ("security_group", "revoke egress", True): Apply.converge_rules,
    ("security_group", "set tags", True): Apply.security_group_tags,
    ("security_group", "remove tags", True): Apply.security_group_tags,
    ("subnet_group", "modify", True): Apply.modify_subnet_group,
}

HANDLERS = {
    ("blue_green_deployment", "create"): Apply.create_blue_green,
    ("blue_green_deployment", "wait until available"): Apply.wait_blue_green,
    ("blue_green_deployment", "switchover"): Apply.switchover_blue_green,
    ("blue_green_deployment", "delete with its green cluster"): Apply.delete_blue_green,
    ("blue_green_deployment", "delete"): Apply.delete_blue_green,
    ("cluster", "delete"): Apply.delete_old_cluster,
    ("cluster", "mark the switchover time"): Apply.tag_old_cluster,
    "set tags": Apply.tags,
    "remove tags": Apply.tags,
    ("security_group", "create"): Apply.create_security_group,
    ("subnet_group", "create"): Apply.create_subnet_group,
    ("parameter_group", "create"): Apply.create_parameter_group,
    ("parameter_group", "set parameters"): Apply.set_parameters,
    ("parameter_group", "reset parameters"): Apply.set_parameters,
    ("cluster", "create"): Apply.create_cluster,
    ("cluster", "modify"): Apply.modify_cluster,
    ("cluster", "failover"): Apply.failover,
    ("cluster", "major version upgrade"): Apply.major_upgrade,
    ("cluster", MINOR_UPGRADE_STEP): Apply.minor_upgrade,
    ("cluster", WAIT_MINOR_UPGRADE): Apply.wait_minor_upgrade,
    ("cluster", SET_GROUP_BACK): Apply.modify_cluster,
    ("parameter_group", "delete"): Apply.delete_parameter_group,
    ("instance", "create"): Apply.create_instance,
    ("instance", "modify"): Apply.modify_instance,
    ("instance", "reboot"): Apply.reboot,
    ("instance", "delete"): Apply.delete_instance,
    ("custom_endpoint", "create"): Apply.create_endpoint,
    ("custom_endpoint", "modify"): Apply.modify_endpoint,
    ("custom_endpoint", "delete"): Apply.delete_endpoint,
    "alarm": Apply.put_alarm,
    "alarms": Apply.delete_alarms,
    ("autoscaling_target", "register"): Apply.register_target,
    ("autoscaling_target", "update"): Apply.register_target,
    ("autoscaling_target", "deregister"): Apply.deregister_target,
    ("scaling_policy", "create"): Apply.put_policy,
    ("scaling_policy", "update"): Apply.put_policy,
    ("scaling_policy", "delete"): Apply.delete_policy,
}


def refuse_what_aws_would_refuse(module, rds, params):
    """The preflight checks: fail with every refusal before any change."""
    cluster, instances = params["cluster"], params["instances"]
    keys = {
        "kms_key_id": cluster.get("kms_key_id") if cluster.get("storage_encrypted") is not False else "",
        "master_user_secret_kms_key_id": (
            cluster.get("master_user_secret_kms_key_id") if cluster.get("manage_master_user_password") else ""
        ),
        "performance_insights_kms_key_id": (
            instances.get("performance_insights_kms_key_id") if instances.get("enable_performance_insights") else ""
        ),
    }
    prefix = params["variable_prefix"]
    classes = [instances["db_instance_class"]]
    class_options = {}
    reader_class = instances.get("reader_db_instance_class")
    if reader_class and reader_class != instances["db_instance_class"]:
        classes.append(reader_class)
        class_options[reader_class] = "reader_instance_class" if prefix else "instances.reader_db_instance_class"
    capacity = scaling_configuration(cluster.get("serverless_v2_scaling_configuration"))
    checks = {
        "engine": cluster["engine"],
        "engine_version": cluster["engine_version"],
        "parameter_group_family": params["parameter_group"]["family"],
        "instance_classes": classes,
        "instance_class_options": class_options,
        "serverless_v2": {
            "min_capacity": capacity["MinCapacity"],
            "max_capacity": capacity["MaxCapacity"],
            "names": capacity_option_names(prefix),
        }
        if capacity
        else {},
        "parameters": params["parameter_group"]["parameters"],
        "kms_keys": {f"{prefix}{name}": key for name, key in keys.items() if key},
        "cloudwatch_logs_exports": cluster.get("enable_cloudwatch_logs_exports") or [],
        "variable_prefix": prefix,
    }
    kms = AwsApi(module, "kms") if checks["kms_keys"] else None
    preflight = Preflight(checks, rds, kms, module.region).run()
    for warning in preflight.warnings:
        module.warn(warning)
    return preflight.errors


def capacity_option_names(prefix):
    """How errors name the capacity range: the role's variables (preflight and capacity_errors put the prefix in
    front of these), or this module's options."""
    if prefix:
        return capacity_names("serverless_v2_", "engine_version")
    return capacity_names("cluster.serverless_v2_scaling_configuration.", "cluster.engine_version")


def autoscaling_option_errors(params):
    """The autoscaling range as the module is given it (the role checks its variables earlier, in their names)."""
    given = params.get("autoscaling")
    if not given or not given["enabled"]:
        return []
    readers, highest = params["instances"]["reader_count"], given.get("max_readers")
    prefix = params["variable_prefix"]
    option = f"{prefix}autoscaling_max_readers" if prefix else "autoscaling.max_readers"
    if highest is None or not readers < highest <= MAX_READERS:
        return [
            f"{option}={highest} is out of range: above the reader count {readers} (the autoscaler's minimum) and at "
            f"most {MAX_READERS} (Aurora's limit of readers in a cluster)"
        ]
    return []


def capacity_errors(params):
    """The capacity range's own rules, before any AWS call (the role checked them already; a direct user has not)."""
    prefix = params["variable_prefix"]
    config = params["cluster"].get("serverless_v2_scaling_configuration") or {}
    names = {key: f"{prefix}{name}" for key, name in capacity_option_names(prefix).items()}
    return serverless_v2_errors(
        names,
        config.get("min_capacity"),
        config.get("max_capacity"),
        config.get("seconds_until_auto_pause"),
        params["cluster"].get("engine_version"),
        [],
    )


# What the preflight checks: a plan that touches none of it needs no preflight.
PREFLIGHT_RESOURCES = ("parameter_group", "cluster", "instance", "blue_green_deployment")


def settings_digest(params):
    """The digest of the stack's settings: this module's own options only, so never the credentials, the profile
    or the endpoint (a plan reviewed against one endpoint of the same account stays valid)."""
    settings = {key: params.get(key) for key in sorted(ARGUMENT_SPEC) if key not in NOT_SETTINGS}
    instances = settings.get("instances")
    if instances and instances.get("configured_names"):
        # As the inventory gives them: the generation the planner adopted is read, not set.
        writer, prefix = instances["configured_names"]
        settings["instances"] = dict(
            {k: v for k, v in instances.items() if k not in ("configured_names", "generation")},
            writer_identifier=writer,
            reader_identifier_prefix=prefix,
        )
    return digest(settings)


def outputs_of(cluster, instances, group_id, endpoints=None, global_database=None):
    """The stack's outputs; ``endpoints``: the custom endpoints asked for, and those read ({identifier: (endpoint,
    tags)}); ``global_database``: global_plan.global_outputs."""
    described = describe_members(cluster, instances) if cluster else []
    wanted, current = endpoints or ([], {})
    return {
        "global_database": global_database,
        "cluster": to_snake(cluster) if cluster else None,
        "writer": next((i["db_instance_identifier"] for i in described if i["role"] == "writer"), None),
        "readers": [i["db_instance_identifier"] for i in described if i["role"] == "reader"],
        "endpoints": {
            "writer": (cluster or {}).get("Endpoint"),
            "reader": (cluster or {}).get("ReaderEndpoint"),
            "port": (cluster or {}).get("Port"),
        },
        "security_group_id": group_id,
        "storage_type": storage_type(cluster) if cluster else None,
        "certificates": [
            certificate_of(i) for i in sorted(instances or [], key=lambda i: i.get("DBInstanceIdentifier") or "")
        ],
        "custom_endpoints": endpoint_outputs(current, wanted, (cluster or {}).get("DBClusterIdentifier")),
    }


def certificate_of(instance):
    """An instance's certificate authority, and when its server certificate expires when AWS says (CertificateDetails)."""
    details = instance.get("CertificateDetails") or {}
    valid_till = details.get("ValidTill")
    return {
        "instance": instance.get("DBInstanceIdentifier"),
        "ca_certificate_identifier": details.get("CAIdentifier") or instance.get("CACertificateIdentifier"),
        "valid_till": valid_till.isoformat() if hasattr(valid_till, "isoformat") else valid_till,
    }


def fail_apply(module, applier, error, document, trace=None, failure=None):
    """The apply stopped: name the step, what was done, what was created, the ways forward."""
    created = applier.progress.created
    if applier.current is None or is_stack_create(applier.current):
        msg, result = creation_failure(applier.progress, error)
    else:
        failed = applier.current
        msg = (
            f"Applying the plan failed at step {failed.order} ({failed.label()}: {failed.change}): "
            f"{error.rstrip().rstrip('.')}. Steps done: {', '.join(map(str, applier.done)) or 'none'}. "
            "Re-run provision: it plans again from what exists now."
        )
        result = dict(changed=bool(applier.done), created_resources=created)
    if failure is not None:
        result.update(failure.result)
        response = getattr(failure.exception, "response", None)
        if response:
            result.update(camel_dict_to_snake_dict(response))
    module.fail_json(msg=msg, exception=trace, plan=document, done=applier.done, **result)


def resolve_key_aliases(module, snapshot, params):
    """KMS keys named by alias, as the ARNs RDS reports, for the resources that exist (a create takes the alias)."""
    cluster, instances = params["cluster"], params["instances"]
    named = []
    if snapshot["cluster"] is not None:
        named += [cluster.get("kms_key_id"), cluster.get("master_user_secret_kms_key_id")]
    if snapshot["instances"] and instances.get("enable_performance_insights"):
        named.append(instances.get("performance_insights_kms_key_id"))
    aliases = sorted({key for key in named if key and "alias/" in key})
    if not aliases:
        return
    kms = AwsApi(module, "kms")
    resolved, unresolved = {}, []
    for alias in aliases:
        answer = kms.call("describe_key", not_found=("NotFoundException",), KeyId=alias, context=f"KMS key {alias}")
        if answer is None:
            # Not compared: the preflight refuses it, naming the variable, with the other refusals.
            unresolved.append(alias)
        else:
            resolved[alias] = answer["KeyMetadata"]["Arn"]
    cluster["resolved_keys"] = resolved
    cluster["unresolved_keys"] = unresolved
    if instances.get("performance_insights_kms_key_id") in resolved:
        instances["performance_insights_kms_key_id"] = resolved[instances["performance_insights_kms_key_id"]]


def baseline_desired(module, params, account, zones):
    """The operations baseline as baseline_plan reads it, completed with what only the run knows; None when off.
    ``zones``: the private subnets' zones, which place the instances the instance subscription names (None: the
    instances are not named, for a read that only looks for what exists)."""
    given = params["baseline"] or {}
    parts = {key: given.get(key) or None for key in ("monitoring_role", "backup", "event_topic", "alarms")}
    subscriptions = given.get("event_subscriptions") or None
    if not any(parts.values()) and not subscriptions:
        return None
    identifier = params["cluster"]["db_cluster_identifier"]
    desired = dict(
        parts,
        account_id=account["account_id"],
        partition=account["partition"],
        region=module.region,
        cluster_identifier=identifier,
        tags=params["cluster"].get("tags") or {},
        event_subscriptions=None,
        # The secondary's readers are monitored with the same role (IAM is global): its trust names their Region too.
        monitoring_regions=[(params.get("global_database") or {}).get("region") or ""],
    )
    if subscriptions:
        topic = given.get("event_topic_arn") or (topic_arn(desired) if desired["event_topic"] else "")
        layout = (
            [w["db_instance_identifier"] for w in wanted_instances(params["instances"], identifier, zones)]
            if zones is not None
            else []
        )
        desired["event_subscriptions"] = [
            dict(
                subscription,
                topic_arn=topic,
                source_ids=subscription.get("source_ids")
                or (layout if subscription["source_type"] == "db-instance" else []),
            )
            for subscription in subscriptions
        ]
    if desired["alarms"]:
        topic = given.get("event_topic_arn") or (topic_arn(desired) if desired["event_topic"] else "")
        if not topic:
            module.fail_json(
                msg=f"baseline.alarms needs an SNS topic for the alarms to notify ({params['variable_prefix'] or 'baseline.'}"
                "event_topic_arn, or the role's own topic): none is given"
            )
        desired["alarms"] = dict(
            desired["alarms"],
            cluster_identifier=identifier,
            topic_arn=topic,
            tags=desired["tags"],
            max_connections=(params["parameter_group"].get("parameters") or {}).get("max_connections"),
            # A db.serverless instance's memory follows the cluster's capacity range, as asked for.
            serverless_max_capacity=(params["cluster"].get("serverless_v2_scaling_configuration") or {}).get(
                "max_capacity"
            ),
        )
    return desired


def secondary_operation_actions(current, params, global_actions):
    """The secondary Region's topic, subscriptions and alarms (secondary_ops), after its stack's steps; with the
    secondary's removal, its subscriptions and alarms deleted. None when the global plan is refused."""
    operations = current.get("operations")
    region = current.get("region") or ""
    if operations is None or not region or any(a.impact == IMPOSSIBLE for a in global_actions):
        return []
    identifier = secondary_params(params, region)["identifier"]
    if not params["global_database"].get("region"):
        if not any(a.resource == "global_cluster" and a.change == "delete" for a in global_actions):
            return []
        return plan_operations_removal(operations, identifier, region)
    actions = []
    stack = current.get("stack") or {}
    if stack.get("network"):
        spec = secondary_params(params, region)
        zones = [subnet["availability_zone"] for subnet in stack["network"]["subnets"]]
        actions += plan_reader_monitoring(stack, wanted_readers(params, spec, zones), region)
    desired = operations.get("desired")
    if desired is None:
        return actions
    members = readers_after(stack, [a for a in global_actions if a.region], identifier)
    operation_actions, wanted, skipped = plan_operations(operations, desired, members, region)
    current["operations_plan"] = {"wanted": wanted, "skipped": skipped}
    return actions + operation_actions


def secondary_operations_outputs(planned_current):
    """The outputs' global_database.operations, as planned (the apply makes exactly the plan); None without them."""
    current = planned_current or {}
    desired, planned = (current.get("operations") or {}).get("desired"), current.get("operations_plan")
    if desired is None or planned is None:
        return None
    return operations_outputs(desired, planned["wanted"], planned["skipped"])


def account_of(module, cluster, params):
    """{account_id, partition}: from the cluster's ARN, or asked of STS when the baseline needs it and there is none."""
    arn = (cluster or {}).get("DBClusterArn") or ""
    parts = arn.split(":")
    if len(parts) > 4 and parts[4]:
        return {"account_id": parts[4], "partition": parts[1]}
    needs = params["need_account"] or (
        int(params["instances"].get("monitoring_interval") or 0) > 0
        and not params["instances"].get("monitoring_role_arn")
    )
    if not needs:
        return None
    sts = AwsApi(module, "sts")
    caller = sts.call("get_caller_identity", context="the account of the stack")
    return {"account_id": caller["Account"], "partition": caller["Arn"].split(":")[1]}


def choose_restore_source(rds, snapshot, params):
    """For a cluster to create: the snapshot or cluster it is restored from (restore_from_snapshot=latest: the newest final one)."""
    cluster = params["cluster"]
    if snapshot["cluster"] is not None or cluster.get("restore_from_snapshot") != "latest":
        return []
    identifier = cluster["db_cluster_identifier"]
    pattern = re.compile(re.escape(identifier) + r"-final-[0-9]{8}-[0-9]{6}$")
    listed = rds.paginate(
        "describe_db_cluster_snapshots",
        "DBClusterSnapshots",
        DBClusterIdentifier=identifier,
        SnapshotType="manual",
        context=f"snapshots of cluster {identifier}",
    )
    finals = sorted(
        s["DBClusterSnapshotIdentifier"]
        for s in listed or []
        if pattern.match(s.get("DBClusterSnapshotIdentifier", ""))
    )
    if not finals:
        return [
            f"restore_from_snapshot=latest: no final snapshot of {identifier} ({identifier}-final-*) exists in this region"
        ]
    cluster["restore_from_snapshot"] = finals[-1]
    return []


def renamed_cluster_problems(rds, params):
    """The stack's cluster exists under another identifier: say how to rename it and its members, or migrate."""
    identifier = params["cluster"]["db_cluster_identifier"]
    stack = (params["cluster"].get("tags") or {}).get("Stack")
    if not stack:
        return []
    others = [other for other in clusters_tagged(rds, {"Stack": stack}) if other != identifier]
    if not others:
        return []
    old = others[0]
    variable = (
        f"{params['variable_prefix']}identifier" if params["variable_prefix"] else "cluster.db_cluster_identifier"
    )
    commands = [
        f"aws rds modify-db-cluster --db-cluster-identifier {old} --new-db-cluster-identifier {identifier} --apply-immediately"
    ]
    layout = params["instances"]
    for member in sorted(read_members(rds, old) or [], key=lambda i: i.get("DBInstanceIdentifier", "")):
        name = member.get("DBInstanceIdentifier", "")
        new = name.replace(old, identifier, 1) if name.startswith(old) else None
        if new and new != name:
            commands.append(
                f"aws rds modify-db-instance --db-instance-identifier {name} --new-db-instance-identifier {new} "
                "--apply-immediately"
            )
    prefix = layout["reader_identifier_prefix"]
    return [
        f"{variable}={identifier}: the stack {stack} already has cluster {', '.join(others)} "
        "(impossible-in-place: an identifier names an existing cluster, and changing it would create a second one). "
        f"To rename it, run, waiting after each until it is available: {'; '.join(commands)}; the instances must end "
        f"up named {layout['writer_identifier']} and {prefix}N. Then delete the event subscriptions named after "
        f"{old} (aws rds delete-event-subscription --subscription-name {old}-...), which the next run makes again "
        "under the new name, and re-run. To migrate instead, restore a snapshot of it under the new identifier and "
        "destroy the old stack."
    ]


def baseline_apis(module, params, rds):
    """The clients the operations baseline's reads need ({} when it is off), as baseline_desired will ask."""
    given = params["baseline"] or {}
    if not any(given.get(key) for key in ("monitoring_role", "backup", "event_topic", "alarms", "event_subscriptions")):
        return {}
    apis = {service: AwsApi(module, service) for service in ("iam", "backup", "sns", "kms")}
    apis["rds"] = rds
    copy = (given.get("backup") or {}).get("copy_region")
    if copy:
        apis["backup_copy"] = AwsApi(module, "backup", region=copy["region"])
        apis["kms_copy"] = AwsApi(module, "kms", region=copy["region"])
    if given.get("alarms"):
        apis["cloudwatch"] = AwsApi(module, "cloudwatch")
    return apis


def plan_pass(module, params, ec2, rds):
    """One read of the whole stack and its plan: every AWS read the plan needs, made once. ``params`` is completed
    in place with what the read resolves (key aliases, the monitoring role's ARN, the snapshot to restore)."""
    try:
        # The baseline's clients are made while the stack's first reads are on their way.
        snapshot = read_stack(ec2, rds, params, meanwhile=lambda: baseline_apis(module, params, rds))
    except NetworkProblem as problem:
        module.fail_json(msg=f"{params['variable_prefix']}{problem}")
    apis = snapshot.pop("meanwhile")
    account = account_of(module, snapshot["cluster"], params)
    instances = params["instances"]
    if int(instances.get("monitoring_interval") or 0) == 0:
        instances["monitoring_role_arn"] = None
    elif not instances.get("monitoring_role_arn") and instances.get("monitoring_role_name"):
        instances["monitoring_role_arn"] = (
            f"arn:{account['partition']}:iam::{account['account_id']}:role/{instances['monitoring_role_name']}"
        )
    restore_problems = choose_restore_source(rds, snapshot, params)
    resolve_key_aliases(module, snapshot, params)
    # The instances' names after this run (a surge moves them to the other generation): before anything named after them.
    generation = resolve_generation(snapshot, params["instances"], params["cluster"]["db_cluster_identifier"])
    params["instances"] = adopt_generation(params["instances"], generation)
    baseline = baseline_desired(
        module, params, account, [s["availability_zone"] for s in snapshot["network"]["subnets"]]
    )
    baseline_actions = []
    baseline_current = None
    cloudwatch = None
    # The baseline's reads and the autoscaling's run side by side (api.concurrently); the clients are made first.
    reads = []
    if baseline is not None:
        cloudwatch = apis.get("cloudwatch")
        reads.append(("baseline", lambda: read_baseline(apis, baseline)))
    autoscaling_api = autoscaling = None
    scaling_current = {"target": None, "policies": {}}
    if params["autoscaling"] is not None:
        identifier = params["cluster"]["db_cluster_identifier"]
        scaling_desired = dict(params["autoscaling"], min_readers=params["instances"]["reader_count"])
        if scaling_desired["enabled"] or marked(snapshot["cluster"]):
            autoscaling_api = AwsApi(module, "application-autoscaling")
            reads.append(
                ("autoscaling", lambda: read_autoscaling(autoscaling_api, identifier, scaling_desired["enabled"]))
            )
    read = concurrently(reads)
    # The event subscriptions' steps (and the topic's key set before the first of them) are this module's, made last:
    # their sources (the cluster, its instances, the parameter group) exist once the stack's own steps are made.
    subscription_actions = []
    if baseline is not None:
        baseline_current = read["baseline"]
        baseline_actions = plan_baseline(baseline_current, baseline)
        subscription_actions = [a for a in baseline_actions if a.runner == STACK]
        baseline_actions = [a for a in baseline_actions if a.runner != STACK]
    params["cluster"]["variable_prefix"] = params["variable_prefix"]
    if (params["autoscaling"] or {}).get("enabled"):
        # The cluster says the collection registered its target: a later run with autoscaling off knows to read it.
        params["cluster"]["tags"] = dict(params["cluster"].get("tags") or {}, **{MARKER_TAG: MARKER_VALUE})
    global_current, region_apis = None, {}
    if params.get("global_database"):

        def apis_for(region):
            if region not in region_apis:
                region_apis[region] = {
                    service: AwsApi(module, service, region=region)
                    for service in ("ec2", "rds", "kms", "sns", "cloudwatch")
                }
            return region_apis[region]

        primary_identifier = params["cluster"]["db_cluster_identifier"]

        def secondary_operations(apis, region, identifier, removal):
            """The secondary Region's topic, subscriptions and alarms (secondary_ops), read beside its stack."""
            if removal:
                return read_operations(apis, removal_desired(baseline, identifier, primary_identifier), removal=True)
            desired = secondary_desired(baseline, region, identifier, primary_identifier)
            if desired is None:
                # No topic of the role's to follow: the readers' monitoring only (planned from the stack's read).
                return {"desired": None}
            return dict(read_operations(apis, desired), desired=desired)

        try:
            global_current = read_global(
                rds, params, snapshot["cluster"], apis_for, read_stack, read_operations=secondary_operations
            )
        except NetworkProblem as problem:
            module.fail_json(msg=f"aurora_cluster_secondary_{problem}")
        if own_cluster_is_reader(global_current, snapshot["cluster"]):
            # A switchover moved the writer to the other Region: this cluster is a secondary now, whose master user
            # is the global cluster's; the plan adopts that (it fails nothing back on its own).
            params["cluster"].update({key: None for key in MASTER_SETTINGS})
    actions, problems, notice = plan_stack(snapshot, params, baseline_actions)
    if global_current is not None:
        parts = {
            "security_group": plan_security_group,
            "subnet_group": plan_subnet_group,
            "parameter_group": plan_parameter_group,
            "cluster": plan_cluster,
        }
        global_actions = plan_global(global_current, params, snapshot, parts, problems)
        global_actions += secondary_operation_actions(global_current, params, global_actions)
        # An engine upgrade of the global database in AWS's order: the stack's own upgrade step becomes steps over
        # both clusters (global_plan.plan_engine_upgrade); what it does not plan is refused below.
        actions, global_actions, _upgrade = plan_engine_upgrade(
            actions, global_actions, global_current, params, snapshot["cluster"], problems
        )
        planned_global = bool(params["global_database"].get("region")) or global_current["global_cluster"] is not None
        refused_problems, refused = engine_problems(
            actions, params["cluster"]["db_cluster_identifier"], global_current["identifier"], planned_global
        )
        problems += refused_problems
        for action in refused:
            action.impact = IMPOSSIBLE
            action.note = "refused: an Aurora global database is upgraded over all its clusters (see the problem)"
        actions = order_actions(list(actions) + global_actions)
    if params["autoscaling"] is not None:
        # After the instances' steps: a new cluster's writer exists before its target is registered.
        scaling_actions, autoscaling = plan_autoscaling(
            read.get("autoscaling", scaling_current),
            scaling_desired,
            identifier,
            snapshot["instances"],
            current_writer(snapshot["cluster"]),
        )
        actions = order_actions(place_autoscaling(actions, scaling_actions))
    alarms = None
    if cloudwatch is not None:
        # The alarms follow the instances the cluster has once the stack's own steps are made.
        members = alarm_members(snapshot, params["instances"]["writer_identifier"], actions)
        alarm_actions, wanted, skipped = plan_alarms(baseline_current["alarms"], baseline["alarms"], members)
        actions = order_actions(list(actions) + alarm_actions)
        alarms = alarm_outputs(baseline["alarms"], wanted, skipped)
        baseline["alarm_plan"] = alarms
    if subscription_actions:
        actions = order_actions(list(actions) + subscription_actions)
    problems = restore_problems + problems + impossible_problems(baseline_actions + subscription_actions)
    if snapshot["cluster"] is None:
        problems += renamed_cluster_problems(rds, params)
    stack_name = params["stack_name"] or params["cluster"]["db_cluster_identifier"]
    document = plan_document(
        actions,
        settings_digest(params),
        stack_name,
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    facts = {
        "network": snapshot["network"],
        "account": account,
        "runners": runners_of(actions),
        "instance_layout": [
            {
                "id": w["db_instance_identifier"],
                "az": w["availability_zone"],
                "tier": w["promotion_tier"],
                "role": w["role"],
            }
            for w in wanted_instances(
                params["instances"],
                params["cluster"]["db_cluster_identifier"],
                [s["availability_zone"] for s in snapshot["network"]["subnets"]],
            )
        ],
    }
    # The role's amazon.aws tasks take their parameters from here: the state the plan compared, described once.
    facts["module_args"] = dict(
        security_group=security_group_request(params["security_group"], snapshot["network"]),
        subnet_group=subnet_group_request(params["subnet_group"], snapshot["network"]),
        **(baseline_module_args(baseline) if baseline is not None else {}),
    )
    if notice:
        facts["engine_version_notice"] = notice
    if alarms is not None:
        facts["alarms"] = alarms
    if autoscaling is not None:
        facts["autoscaling"] = autoscaling
    return dict(
        params=params,
        snapshot=snapshot,
        actions=actions,
        problems=problems,
        document=document,
        facts=facts,
        baseline=baseline,
        baseline_current=baseline_current,
        # The baseline's clients: the event subscriptions' steps run with them.
        baseline_apis=apis,
        cloudwatch=cloudwatch,
        autoscaling_api=autoscaling_api,
        global_current=global_current,
        region_apis=region_apis,
    )


def as_read(module, ec2, rds, planned, final):
    """RV(outputs), and with O(report) RV(report), of the stack as ``planned`` read it; ``final``: the stack as the call
    leaves it, with no step left for another runner, so the report is written to O(report_path) when given."""
    params, snapshot, group = planned["params"], planned["snapshot"], planned["snapshot"]["security_group"]
    result = {
        "outputs": outputs_of(
            snapshot["cluster"],
            snapshot["instances"],
            group["GroupId"] if group else None,
            (params["custom_endpoints"], snapshot.get("custom_endpoints") or {}),
            global_outputs(
                planned["global_current"] or {},
                snapshot["cluster"],
                ec2.client.meta.region_name,
                operations=secondary_operations_outputs(planned["global_current"]),
            )
            if planned.get("global_current")
            else None,
        )
    }
    if params["report"]:
        baseline = planned["baseline"]
        glob = result["outputs"]["global_database"]
        if glob:
            secondary = (planned["global_current"] or {}).get("stack") or {}
            glob = dict(
                glob,
                secondary_instances=sorted(i.get("DBInstanceIdentifier") for i in secondary.get("instances") or []),
            )
        params = dict(params, global_database_report=glob)
        result["report"] = stack_report(
            snapshot,
            params,
            planned["document"]["lines"],
            ec2.client.meta.region_name,
            (baseline, planned["baseline_current"]) if baseline is not None else None,
        )
        if final and params["report_path"]:
            try:
                result["report"]["files"] = write_report_files(
                    params["report_path"], params["report_library"], result["report"]
                )
            except OSError as error:
                module.fail_json(
                    msg=f"report_path={params['report_path']}: the report could not be written ({error})", **result
                )
    return result


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_wait_options(module)
    ec2 = AwsApi(module, "ec2")
    rds = AwsApi(module, "rds")
    if module.params["report_existing"]:
        existing = existing_resources(
            ec2,
            rds,
            module.params,
            own_region=module.region,
            region_apis=lambda region: {service: AwsApi(module, service, region=region) for service in ("ec2", "rds")},
            module=module,
        )
        module.exit_json(changed=False, existing=existing)
    if not module.params["cluster"]["manage_master_user_password"] and not module.params["master_user_password"]:
        module.fail_json(msg="cluster.manage_master_user_password=false needs master_user_password")

    for group, names in OPTIONAL_NAMES.items():
        for name in names:
            if module.params[group].get(name) == "":
                module.params[group][name] = None
    invalid = capacity_errors(module.params) + autoscaling_option_errors(module.params)
    if invalid:
        module.fail_json(msg=PREFLIGHT_FAILURE + "; ".join(invalid), errors=invalid, changed=False)
    # A pass completes its parameters in place: a second pass (the read after a converge) starts from a clean copy.
    given = copy.deepcopy(module.params)
    planned = plan_pass(module, module.params, ec2, rds)
    params, actions, problems, document = (
        planned["params"],
        planned["actions"],
        planned["problems"],
        planned["document"],
    )
    result = dict(plan=document, **planned["facts"])

    if params["saved_plan"] is not None:
        stale = saved_plan_problems(params["saved_plan"], document)
        if params["mode"] == "apply":
            # Within one run the role's own steps have already run: only the stack's steps must be as planned.
            stale = stack_steps_problems(params["saved_plan"], document)
        if stale:
            module.fail_json(
                msg="The saved plan no longer matches the stack or the inventory, so nothing was changed: "
                + "; ".join(stale)
                + ". Make a new plan (--check) and review it.",
                changed=False,
                **result,
            )
    if params["cluster"].get("unresolved_keys") or any(
        a.resource in PREFLIGHT_RESOURCES and a.impact != IMPOSSIBLE for a in actions
    ):
        problems = refuse_what_aws_would_refuse(module, rds, params) + problems
    if problems:
        module.fail_json(
            msg=(
                PREFLIGHT_FAILURE + "; ".join(problems)
                if not any("impossible-in-place" in p for p in problems)
                else "; ".join(problems) + ". Nothing was changed."
            ),
            errors=problems,
            changed=False,
            **result,
        )
    # converge carries the steps out here only when they are all this module's: a step of the role's amazon.aws
    # tasks (a new security group, say) must run first, so the plan goes back to the role, as with mode=plan.
    apply_here = params["mode"] == "apply" or (
        params["mode"] == "converge" and all(runner == STACK for runner in planned["facts"]["runners"])
    )
    if module.check_mode or params["mode"] == "plan" or not actions or not apply_here:
        # A plan with steps left for the rest of the run is not the stack as the run leaves it: no report file then.
        result.update(as_read(module, ec2, rds, planned, final=params["mode"] == "plan" or not actions))
        # In converge mode changed says what this call did, and it changed nothing (check mode included: the plan
        # says what would change).
        changed = bool(actions) and params["mode"] != "converge"
        module.exit_json(changed=changed, applied=False, done=[], throttled_calls=throttled_calls(), **result)

    applier = Apply(
        module,
        ec2,
        rds,
        params,
        planned["snapshot"],
        cloudwatch=planned["cloudwatch"],
        autoscaling=planned["autoscaling_api"],
    )
    current = planned["global_current"]
    secondary_apis = []
    if current is not None and current.get("region") and current.get("stack") is not None:
        region = current["region"]
        apis = planned["region_apis"][region]
        secondary_apis = list(apis.values())
        spec = dict(
            secondary_params(params, region),
            wait_timeout=params["wait_timeout"],
            wait_max_poll_interval=params["wait_max_poll_interval"],
            instances=params["instances"],
        )
        applier.secondary = Apply(
            module, apis["ec2"], apis["rds"], spec, dict(current["stack"], network=current["stack"].get("network"))
        )
        applier.secondary.kms = apis["kms"]
        applier.secondary.key = current.get("key")
        applier.secondary.operations = Operations(apis, current.get("operations"), applier.secondary.warnings)
        applier.global_current = current
    own_apis = []
    if any(a.resource in OWN_OPERATIONS and not a.region and a.runner == STACK for a in actions):
        baseline = planned["baseline"]
        own_apis = [
            planned["baseline_apis"][service]
            for service in ("sns", "kms", "backup", "backup_copy", "kms_copy")
            if service in planned["baseline_apis"]
        ]
        # The role's topic is made before this call (amazon.aws.sns_topic) when it is new: its ARN is the one the
        # subscriptions name.
        known = {baseline["event_topic"]["name"]: topic_arn(baseline)} if baseline.get("event_topic") else {}
        applier.operations = Operations(
            planned["baseline_apis"], planned["baseline_current"], applier.warnings, topic_arns=known
        )
    try:
        with failures_raised(
            module,
            *[api for api in (ec2, rds, planned["cloudwatch"], planned["autoscaling_api"]) if api is not None],
            *secondary_apis,
            *own_apis,
        ):
            applier.run(actions)
    except CreateFailed as failure:
        fail_apply(module, applier, failure.text(), document, traceback.format_exc(), failure)
    except Exception as error:  # noqa: BLE001 - whatever stopped the apply, what it did must be named
        fail_apply(module, applier, f"{type(error).__name__}: {error}", document, traceback.format_exc())
    for warning in applier.warnings:
        module.warn(warning)
    if params["report"] and not set(planned["facts"]["runners"]) & set(PHASE_AFTER):
        # No step of another runner follows: the stack as this call leaves it is the stack as the run leaves it. Read
        # whole once more, for its outputs and its report (with what remains planned: nothing, unless AWS or someone
        # changed the stack meanwhile).
        result.update(as_read(module, ec2, rds, plan_pass(module, given, ec2, rds), final=True))
    else:
        snapshot = planned["snapshot"]
        cluster, instances = snapshot["cluster"], snapshot["instances"]
        endpoints = snapshot.get("custom_endpoints") or {}
        if applier.done:
            identifier = params["cluster"]["db_cluster_identifier"]
            cluster = read_cluster(rds, identifier)
            instances = read_members(rds, identifier) or [] if cluster else []
            endpoints = read_endpoints(rds, cluster, identifier, params["custom_endpoints"])
        global_database = None
        if planned["global_current"] is not None:
            current = planned["global_current"]
            if applier.done:
                current = read_global(rds, given, cluster, lambda r: planned["region_apis"][r], read_stack)
            global_database = global_outputs(
                current,
                cluster,
                ec2.client.meta.region_name,
                operations=secondary_operations_outputs(planned["global_current"]),
            )
        result["outputs"] = outputs_of(
            cluster, instances, applier.group_id, (params["custom_endpoints"], endpoints), global_database
        )
    result["created_resources"] = applier.progress.created + (
        applier.secondary.progress.created if applier.secondary is not None else []
    )
    module.exit_json(
        changed=bool(applier.done), applied=True, done=applier.done, throttled_calls=throttled_calls(), **result
    )


def stack_steps_problems(saved, document):
    """Why the stack's own steps are no longer the planned ones ([] when they are), naming the steps."""
    if stack_steps(saved) == stack_steps(document):
        return []
    lines = {unnumbered(line) for line in (saved or {}).get("lines") or []}
    now = {unnumbered(line) for line in document["lines"]}
    stack_lines = {
        unnumbered(a.get("order") and document["lines"][a["order"] - 1] or "")
        for a in document["actions"]
        if a.get("runner") == STACK
    }
    saved_stack = {
        unnumbered(saved["lines"][a["order"] - 1])
        for a in (saved or {}).get("actions") or []
        if a.get("runner") == STACK and 0 < a.get("order", 0) <= len(saved.get("lines") or [])
    }
    gone = sorted(saved_stack - now)
    new = sorted(stack_lines - lines)
    detail = "; ".join([f"no longer planned: {line}" for line in gone] + [f"now also planned: {line}" for line in new])
    return [
        "the stack's own steps differ from the plan, something changed it meanwhile"
        + (f" ({detail})" if detail else "")
    ]


def stack_steps(document):
    return [
        {k: v for k, v in step.items() if k != "order"}
        for step in (document or {}).get("actions") or []
        if step.get("runner") == STACK
    ]


if __name__ == "__main__":
    main()
