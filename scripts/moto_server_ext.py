"""moto_server, with the few AWS calls moto 5.2.5 lacks that the collection makes.

    python scripts/moto_server_ext.py [moto_server options: -H HOST -p PORT ...]

The demo's local AWS (scripts/local-aws.sh) and the tests' (tests/local_aws.py) run this
instead of ``moto_server``.  It adds to moto's own backends, in this process, then runs
moto's server unchanged:

* AWS Backup selections (CreateBackupSelection, GetBackupSelection, ListBackupSelections,
  DeleteBackupSelection), which moto answers with HTTP 500; and, as AWS does, DeleteBackupPlan
  refuses a plan that still has selections.
* The idempotency token (CreatorRequestId) of CreateBackupPlan and CreateBackupSelection, which
  moto ignores: a request repeating the token and the body of an earlier one answers the plan or
  selection that request made, instead of AlreadyExistsException or a second selection.  AWS
  documents it ("If the request includes a CreatorRequestId that matches an existing backup plan,
  that plan is returned"); botocore fills the token in and sends the same one on each retry, so a
  create whose answer was lost is retried without running twice.
* UpdateBackupPlan, which moto does not implement (a new version of the plan's rules).
* CreateBackupPlan with the name of a deleted plan, which moto refuses (AlreadyExistsException) as if the deleted
  plan still held its name; on AWS a deleted plan's name can be used again, so a stack destroyed and provisioned
  again gets its plan back.
* DescribeBackupVault of a vault that does not exist answers AccessDeniedException (HTTP 403),
  as AWS does, where moto answers ResourceNotFoundException (amazon.aws.backup_vault expects AWS's
  answer).
* RDS event subscriptions: ModifyEventSubscription, AddSourceIdentifierToSubscription and
  RemoveSourceIdentifierFromSubscription, which moto does not implement.
* AWS managed IAM policies (MOTO_IAM_LOAD_MANAGED_POLICIES=true unless set otherwise), so that
  arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole can be attached.
* RDS DescribeDBEngineVersions and DescribeEngineDefaultClusterParameters, which moto does not
  implement (HTTP 500): they answer as an endpoint without these catalogues would, with empty
  lists (no engine versions; no parameters for the family asked for), never with made-up data.
  vitality.aurora.aurora_preflight then uses its shipped catalogue, and says so.

* The RDS-managed master user secret (ManageMasterUserPassword) holds the cluster's master user name
  and a generated password, as AWS makes it; moto writes a fixed user name ("admin") and password.

* ModifyDBCluster's EnableIAMDatabaseAuthentication, which moto records under another name than the one
  DescribeDBClusters reports (IAMDatabaseAuthenticationEnabled stayed as created).

* Aurora Serverless v2, where moto stores ServerlessV2ScalingConfiguration as sent and checks nothing: a
  db.serverless instance (CreateDBInstance, or ModifyDBInstance to that class) in a cluster without a capacity
  range is refused with InvalidParameterCombination, as AWS refuses it ("An Aurora cluster must have a
  ServerlessV2ScalingConfiguration attribute before you can add any DB instances that use the db.serverless DB
  instance class", Aurora user guide); and the range is kept as DescribeDBClusters shows it on AWS:
  SecondsUntilAutoPause only with a MinCapacity of 0, then 300 when the request left it out (RDS API reference,
  ServerlessV2ScalingConfigurationInfo).

* Aurora storage configurations (StorageType): moto gives an Aurora cluster created without one "gp2" and fails
  (HTTP 500) on "aurora" or "aurora-iopt1"; here an Aurora cluster is "aurora" (Standard) unless it asks for
  "aurora-iopt1", as AWS answers. A ModifyDBCluster switching to "aurora-iopt1" sets
  IOOptimizedNextAllowedModificationTime 30 days on, and one asking for it before that time is refused with
  InvalidParameterCombination (AWS allows a switch to I/O-Optimized once every 30 days, Aurora user guide, "Storage
  configurations for Amazon Aurora DB clusters"); a switch back to Standard is allowed at any time.

* Aurora custom endpoints (CreateDBClusterEndpoint, DescribeDBClusterEndpoints with its filters,
  ModifyDBClusterEndpoint, DeleteDBClusterEndpoint), which moto does not implement, modelled on the RDS API
  reference: an endpoint of type READER or ANY over StaticMembers or all but ExcludedMembers (each an instance of
  the cluster), at <name>.cluster-custom-<the cluster's suffix>.<region>.rds.amazonaws.com, tagged through its ARN
  (arn:...:cluster-endpoint:<name>), listed in the cluster's CustomEndpoints; a deleted instance leaves the member
  lists and a deleted cluster takes its endpoints with it. Every endpoint is "available" at once.

* UpdateSecretVersionStage moving AWSCURRENT: moto moves the label but GetSecretValue without a version or
  stage still answers the former current version; AWS answers the version AWSCURRENT is on (what applications
  read after a rotation).

* Blue/Green deployments of an Aurora cluster (SwitchoverBlueGreenDeployment): moto renames the two clusters only, so
  the blue instances keep their names and the green ones their "-green-xxxxxx" names, and every instance keeps the
  cluster identifier it was created with (the new cluster then lists the old one's instances). As AWS does ("Switching
  a blue/green deployment", Aurora user guide): the blue cluster and each of its instances are renamed with "-old1",
  and each green instance takes the name of the blue instance it copies; each instance follows its cluster's new
  identifier. CreateBlueGreenDeployment: moto's green copy leaves out settings AWS copies (the cluster's subnet group,
  IAM authentication, storage type, Serverless v2 range; each instance's class, zone, promotion tier, CA, monitoring,
  Performance Insights, tags): they are copied from the blue resource, as the green environment is a copy of it.

* RDS snapshot export tasks (StartExportTask, DescribeExportTasks): moto makes a task "complete" (lower case) at
  once, with no progress and no size. As the RDS API reference describes ExportTask: a task starts STARTING with 0
  percent and a TaskStartTime, is IN_PROGRESS at the next DescribeExportTasks that names it, then COMPLETE with
  PercentProgress 100, a TaskEndTime and TotalExtractedDataInGB (0: a local cluster holds no data); its SnapshotTime
  is the snapshot's. CancelExportTask gives CANCELED, in upper case as AWS does.

* Aurora Global Database switchover and failover, which moto lacks, modelled on the RDS API reference:
  SwitchoverGlobalCluster (GlobalClusterIdentifier, TargetDbClusterIdentifier: the ARN, or identifier, of a secondary
  member) and FailoverGlobalCluster (the same, with AllowDataLoss or Switchover, never both). The target becomes the
  writer (GlobalClusterMembers' IsWriter swapped, the writer's Readers list updated) and the former primary a
  secondary; as on AWS, the global cluster's FailoverState (Status pending/failing-over, FromDbClusterArn,
  ToDbClusterArn, IsDataLossAllowed) and Status (switching-over or failing-over) describe the operation while it runs:
  here it ends at once, bench/moto_latency.py keeps it running a while. Refused as AWS refuses them: a global cluster
  that does not exist (GlobalClusterNotFoundFault) or is not available (InvalidGlobalClusterStateFault), a target that
  is not a member (DBClusterNotFoundFault) or is already the primary (InvalidDBClusterStateFault). Around them:
  CreateGlobalCluster from an existing cluster makes that cluster the writer (moto left IsWriter false);
  DescribeGlobalClusters honours GlobalClusterIdentifier (moto answered every global cluster, and no
  GlobalClusterNotFoundFault); RemoveFromGlobalCluster works from any Region (moto looked for the global cluster in
  the request's Region only, where it is not unless that is us-east-1, and answered nothing) and leaves the detached
  cluster a standalone writable cluster without GlobalClusterIdentifier; the primary cannot be removed while
  secondaries remain (InvalidGlobalClusterStateFault). A second CreateGlobalCluster of an identifier is refused with
  GlobalClusterAlreadyExistsFault, as AWS does (moto replaced the first global cluster with a new one, so a create
  retried after a lost answer went unnoticed).

* Aurora Global Database engine upgrades, modelled on the RDS API reference (ModifyGlobalCluster) and the Aurora user
  guide ("Upgrading an Amazon Aurora global database"): ModifyGlobalCluster, which moto lacks, with EngineVersion
  upgrades the global cluster and every member (each cluster takes the version; after a major one each cluster has
  the new family's default cluster parameter group, as ModifyGlobalCluster sets no parameter group), with
  DeletionProtection; refused as AWS refuses them: a major version without AllowMajorVersionUpgrade
  or a lower version (InvalidParameterCombination), a global cluster not available
  (InvalidGlobalClusterStateFault), a member not available (InvalidDBClusterStateFault). ModifyDBCluster's
  EngineVersion on a member (moto changed the cluster and never the global cluster, and refused nothing): refused
  for a major version (made with ModifyGlobalCluster) and, on the primary, while a secondary runs a lower version
  (AWS's order: the secondary clusters first); the primary's version is the global cluster's. Every upgrade ends at
  once (no "upgrading" status is shown).

Only test and demo infrastructure uses this; the collection's code knows nothing of it.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import sys
import uuid
from urllib.parse import unquote

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.backup.exceptions import (  # noqa: E402
    AlreadyExistsException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Plan  # noqa: E402
from moto.backup.responses import BackupResponse  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.core.utils import unix_time  # noqa: E402
from moto.rds.exceptions import (  # noqa: E402
    DBClusterNotFoundError,
    InvalidParameterCombination,
    InvalidParameterValue,
    RDSClientError,
)
from moto.rds.models import (  # noqa: E402
    BlueGreenDeployment,
    DBCluster,
    GlobalCluster,
    MasterUserSecret,
    RDSBackend,
    TaggingMixin,
    rds_backends,
)
from moto.rds.responses import RDSResponse  # noqa: E402
from moto.secretsmanager.models import SecretsManagerBackend  # noqa: E402
from moto.server import main as moto_server_main  # noqa: E402

# -- AWS Backup selections ---------------------------------------------------------------

EMPTY_CONDITIONS = {"StringEquals": [], "StringNotEquals": [], "StringLike": [], "StringNotLike": []}


def backup_selections(backend: BackupBackend, plan_id: str) -> dict[str, dict]:
    """The selections of a live plan, by id (ResourceNotFoundException when there is no such plan)."""
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(msg=f"Backup plan {plan_id} not found")
    store = backend.__dict__.setdefault("vitality_selections", {})
    return store.setdefault(plan_id, {})


def request_fingerprint(*parts) -> str:
    """The body of a create request, to tell a retry (same token, same body) from another request."""
    return json.dumps(parts, sort_keys=True, default=str)


def create_backup_selection(backend, plan_id, selection, creator_request_id):
    selections = backup_selections(backend, plan_id)
    if not selection.get("SelectionName") or not selection.get("IamRoleArn"):
        raise InvalidRequestException(msg="SelectionName and IamRoleArn are required")
    fingerprint = request_fingerprint(plan_id, selection)
    if creator_request_id:
        for earlier in selections.values():
            if earlier["CreatorRequestId"] == creator_request_id and earlier["vitality_request"] == fingerprint:
                return earlier  # the retry of the request that made it
    selection_id = str(uuid.uuid4())
    selections[selection_id] = {
        "vitality_request": fingerprint,
        "SelectionId": selection_id,
        "BackupPlanId": plan_id,
        "CreationDate": unix_time(),
        "CreatorRequestId": creator_request_id,
        "BackupSelection": {
            "SelectionName": selection["SelectionName"],
            "IamRoleArn": selection["IamRoleArn"],
            "Resources": selection.get("Resources", []),
            "ListOfTags": selection.get("ListOfTags", []),
            "NotResources": selection.get("NotResources", []),
            "Conditions": {**EMPTY_CONDITIONS, **(selection.get("Conditions") or {})},
        },
    }
    return selections[selection_id]


def get_backup_selection(backend, plan_id, selection_id):
    selection = backup_selections(backend, plan_id).get(selection_id)
    if selection is None:
        raise ResourceNotFoundException(msg=f"Backup selection {selection_id} not found")
    return selection


def delete_backup_selection(backend, plan_id, selection_id):
    get_backup_selection(backend, plan_id, selection_id)
    del backup_selections(backend, plan_id)[selection_id]


def create_backup_plan(backend, backup_plan, backup_plan_tags, creator_request_id):
    fingerprint = request_fingerprint(backup_plan, backup_plan_tags)
    if creator_request_id:
        for plan in backend.plans.values():
            if (
                plan.deletion_date is None
                and plan.creator_request_id == creator_request_id
                and getattr(plan, "vitality_request", None) == fingerprint
            ):
                return plan  # the retry of the request that made it
    # A deleted plan's name is free again on AWS (a stack destroyed and provisioned again makes its plan anew); moto
    # refuses any name a plan ever had, deleted or not. So the name is checked here, against live plans only.
    name = backup_plan["BackupPlanName"]
    if any(p.deletion_date is None and p.backup_plan["BackupPlanName"] == name for p in backend.plans.values()):
        raise AlreadyExistsException(msg="Backup plan with the same plan document already exists")
    plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=backend)
    if backup_plan_tags:
        backend.tag_resource(plan.backup_plan_arn, backup_plan_tags)
    backend.plans[plan.backup_plan_id] = plan
    plan.vitality_request = fingerprint
    return plan


original_delete_backup_plan = BackupBackend.delete_backup_plan


def delete_backup_plan(backend, backup_plan_id):
    if backend.__dict__.get("vitality_selections", {}).get(backup_plan_id):
        raise InvalidRequestException(
            msg="Related backup plan selections must be deleted prior to backup plan deletion"
        )
    return original_delete_backup_plan(backend, backup_plan_id)


class AccessDeniedException(JsonRESTError):
    code = 403

    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "Insufficient privileges to perform this action.")


original_describe_backup_vault = BackupBackend.describe_backup_vault


def describe_backup_vault(backend, backup_vault_name):
    if backup_vault_name not in backend.vaults:
        raise AccessDeniedException()
    return original_describe_backup_vault(backend, backup_vault_name)


def update_backup_plan(backend, plan_id, backup_plan):
    plan = backend.get_backup_plan(plan_id, None)
    rules = backup_plan.get("Rules") or []
    for rule in rules:
        rule.setdefault("ScheduleExpression", "cron(0 5 ? * * *)")
        rule.setdefault("StartWindowMinutes", 480)
        rule.setdefault("CompletionWindowMinutes", 10080)
        rule.setdefault("ScheduleExpressionTimezone", "Etc/UTC")
        rule["RuleId"] = str(uuid.uuid4())
    plan.backup_plan = {**plan.backup_plan, **backup_plan, "Rules": rules}
    plan.advanced_backup_settings = backup_plan.get("AdvancedBackupSettings") or []
    plan.version_id = uuid.uuid4().hex
    return plan


def respond_update_backup_plan(response):
    plan_id = unquote(response.path.split("/backup/plans/", 1)[1]).strip("/")
    body = json.loads(response.body or "{}")
    plan = update_backup_plan(response.backup_backend, plan_id, body.get("BackupPlan") or {})
    return json.dumps(plan.to_dict())


def selection_path(response: BackupResponse) -> tuple[str, str]:
    """(plan id, selection id or '') of /backup/plans/<plan>/selections/[<selection>]."""
    parts = unquote(response.path.split("/backup/plans/", 1)[1]).strip("/").split("/")
    return parts[0], parts[2] if len(parts) > 2 else ""


def respond_create_backup_selection(response):
    plan_id = selection_path(response)[0]
    body = json.loads(response.body or "{}")
    selection = create_backup_selection(
        response.backup_backend, plan_id, body.get("BackupSelection") or {}, body.get("CreatorRequestId")
    )
    return json.dumps({key: selection[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})


def respond_get_backup_selection(response):
    selection = get_backup_selection(response.backup_backend, *selection_path(response))
    return json.dumps({key: value for key, value in selection.items() if not key.startswith("vitality_")})


def respond_list_backup_selections(response):
    plan_id = selection_path(response)[0]
    listed = [
        {
            "SelectionId": s["SelectionId"],
            "SelectionName": s["BackupSelection"]["SelectionName"],
            "BackupPlanId": plan_id,
            "CreationDate": s["CreationDate"],
            "CreatorRequestId": s["CreatorRequestId"],
            "IamRoleArn": s["BackupSelection"]["IamRoleArn"],
        }
        for s in backup_selections(response.backup_backend, plan_id).values()
    ]
    return json.dumps({"BackupSelectionsList": listed})


def respond_delete_backup_selection(response):
    delete_backup_selection(response.backup_backend, *selection_path(response))
    return "{}"


# -- RDS event subscriptions -------------------------------------------------------------


def subscription(backend: RDSBackend, name: str):
    return backend.describe_event_subscriptions(name)[0]  # SubscriptionNotFound when missing


def respond_modify_event_subscription(response):
    params = response.params
    found = subscription(response.backend, params.get("SubscriptionName"))
    if params.get("SnsTopicArn") is not None:
        found.sns_topic_arn = params["SnsTopicArn"]
    if params.get("SourceType") is not None:
        found.source_type = params["SourceType"]
    if params.get("EventCategories") is not None:
        found.event_categories = list(params["EventCategories"])
    if params.get("Enabled") is not None:
        found.enabled = params["Enabled"]
    return ActionResult({"EventSubscription": found})


def respond_add_source_identifier(response):
    found = subscription(response.backend, response.params.get("SubscriptionName"))
    source_id = response.params.get("SourceIdentifier")
    if not source_id:
        raise InvalidParameterValue("SourceIdentifier is required")
    if source_id not in found.source_ids:
        found.source_ids = [*found.source_ids, source_id]
    return ActionResult({"EventSubscription": found})


def respond_remove_source_identifier(response):
    found = subscription(response.backend, response.params.get("SubscriptionName"))
    found.source_ids = [s for s in found.source_ids if s != response.params.get("SourceIdentifier")]
    return ActionResult({"EventSubscription": found})


# -- RDS engine and parameter catalogues -----------------------------------------------------


def respond_describe_db_engine_versions(response):
    return ActionResult({"DBEngineVersions": []})


def respond_describe_engine_default_cluster_parameters(response):
    family = response.params.get("DBParameterGroupFamily")
    return ActionResult({"EngineDefaults": {"DBParameterGroupFamily": family, "Parameters": []}})


def master_user_secret_string(self: MasterUserSecret) -> str:
    # AWS: {"username": <MasterUsername>, "password": <generated>} (a resource restored without a
    # master user name keeps moto's).
    username = getattr(self.resource, "master_username", None) or "admin"
    return json.dumps({"username": username, "password": uuid.uuid4().hex + uuid.uuid4().hex[:8]})


_modify_db_cluster = RDSBackend.modify_db_cluster


def modify_db_cluster(self: RDSBackend, kwargs):
    wanted = kwargs.pop("enable_iam_database_authentication", None)
    name = kwargs.get("new_db_cluster_identifier") or kwargs["db_cluster_identifier"]
    switch_storage(self.clusters.get(kwargs["db_cluster_identifier"]), kwargs.get("storage_type"))
    version = kwargs.get("engine_version")
    refuse_member_engine_change(self.clusters.get(kwargs["db_cluster_identifier"]), version)
    cluster = _modify_db_cluster(self, kwargs)
    stored = self.clusters.get(name)
    if version and stored is not None:
        # A primary's version is the global cluster's (moto left the global cluster's as created).
        follow_writer_version(stored)
    if wanted is not None:
        # What DescribeDBClusters reports (DBCluster.iam_auth), on the stored cluster and the answer alike.
        for found in (self.clusters.get(name), cluster):
            if found is not None:
                found.iam_auth = bool(wanted)
    for found in (self.clusters.get(name), cluster):
        if found is not None:
            shape_scaling_configuration(found)
    return cluster


# -- Aurora Serverless v2 -----------------------------------------------------------------------------------------

SERVERLESS_CLASS = "db.serverless"
AUTO_PAUSE_DEFAULT_SECONDS = 300


def shape_scaling_configuration(cluster) -> None:
    """The range as AWS describes it: the pause delay only with a minimum of 0, AWS's default when none was sent."""
    configuration = getattr(cluster, "serverless_v2_scaling_configuration", None)
    if not configuration:
        return
    # moto keeps the request's members snake_cased (min_capacity, ...) and serializes them back.
    configuration = dict(configuration)
    if float(configuration.get("min_capacity", 0.5)) == 0:
        configuration.setdefault("seconds_until_auto_pause", AUTO_PAUSE_DEFAULT_SECONDS)
    else:
        configuration.pop("seconds_until_auto_pause", None)
    cluster.serverless_v2_scaling_configuration = configuration


def refuse_serverless_without_range(backend: RDSBackend, cluster_id) -> None:
    cluster = backend.clusters.get(cluster_id) if cluster_id else None
    if cluster is not None and not getattr(cluster, "serverless_v2_scaling_configuration", None):
        raise InvalidParameterCombination(
            f"DB cluster {cluster_id} has no ServerlessV2ScalingConfiguration: set its Serverless v2 capacity range "
            f"before adding a {SERVERLESS_CLASS} DB instance to it"
        )


# -- Aurora storage configurations ---------------------------------------------------------------------------------

AURORA_STORAGE_TYPES = ("aurora", "aurora-iopt1")
IO_OPTIMIZED_SWITCH_DAYS = 30


def switch_storage(cluster, wanted) -> None:
    """A ModifyDBCluster's StorageType, as AWS takes it: to I/O-Optimized once every 30 days, back at any time."""
    if cluster is None or wanted != "aurora-iopt1" or getattr(cluster, "storage_type", None) == wanted:
        return
    now = datetime.datetime.now(datetime.UTC)
    allowed = getattr(cluster, "io_optimized_next_allowed_modification_time", None)
    if allowed is not None and now < allowed:
        raise InvalidParameterCombination(
            f"You can't modify the storage type of DB cluster {cluster.db_cluster_identifier} to aurora-iopt1 "
            f"until {allowed.isoformat()}"
        )
    cluster.io_optimized_next_allowed_modification_time = now + datetime.timedelta(days=IO_OPTIMIZED_SWITCH_DAYS)


_create_db_cluster = RDSBackend.create_db_cluster


def create_db_cluster(self: RDSBackend, kwargs):
    # As AWS: a second create of an identifier is refused and leaves the cluster alone. moto 5.2.5 builds a new
    # cluster over the old one, then fails on its automated snapshot's name (so a create retried after a lost
    # answer replaced the cluster with a default-shaped one).
    if kwargs.get("db_cluster_identifier") in self.clusters:
        raise RDSClientError("DBClusterAlreadyExistsFault", "DB Cluster already exists")
    if str(kwargs.get("engine") or "").startswith("aurora"):
        wanted = kwargs.get("storage_type") or "aurora"
        if wanted in AURORA_STORAGE_TYPES:
            # moto sizes the volume from the storage type, and knows neither of Aurora's: its own default, then
            # Aurora's type set on the cluster.
            kwargs = dict(kwargs, storage_type=None)
            cluster = _create_db_cluster(self, kwargs)
            for found in (self.clusters.get(cluster.db_cluster_identifier), cluster):
                if found is not None:
                    found.storage_type = wanted
            shape_scaling_configuration(cluster)
            return cluster
    cluster = _create_db_cluster(self, kwargs)
    shape_scaling_configuration(cluster)
    return cluster


_create_db_instance = RDSBackend.create_db_instance


# The authority AWS gives an instance created without CACertificateIdentifier (AWS's default since January 2024;
# moto 5.2.5 answers "rds-ca-default", which no AWS region has). Readers AWS adds itself, such as the autoscaler's,
# carry it.
DEFAULT_CA = "rds-ca-rsa2048-g1"


def create_db_instance(self: RDSBackend, db_kwargs):
    if db_kwargs.get("db_instance_class") == SERVERLESS_CLASS:
        refuse_serverless_without_range(self, db_kwargs.get("db_cluster_identifier"))
    if not db_kwargs.get("ca_certificate_identifier"):
        db_kwargs["ca_certificate_identifier"] = DEFAULT_CA
    return _create_db_instance(self, db_kwargs)


_modify_db_instance = RDSBackend.modify_db_instance


def modify_db_instance(self: RDSBackend, db_instance_identifier, db_kwargs):
    if db_kwargs.get("db_instance_class") == SERVERLESS_CLASS:
        database = self.describe_db_instances(db_instance_identifier)[0]
        refuse_serverless_without_range(self, getattr(database, "db_cluster_identifier", None))
    return _modify_db_instance(self, db_instance_identifier, db_kwargs)


# -- Aurora custom endpoints --------------------------------------------------------------------------------------

ENDPOINT_FILTERS = {
    "db-cluster-endpoint-type": lambda e: e.endpoint_type.lower(),
    "db-cluster-endpoint-custom-type": lambda e: e.custom_endpoint_type.lower(),
    "db-cluster-endpoint-status": lambda e: e.status,
    "db-cluster-endpoint-id": lambda e: e.identifier,
    "db-cluster-id": lambda e: e.cluster_identifier,
}


class ClusterEndpoint(TaggingMixin):
    """A custom endpoint as DescribeDBClusterEndpoints describes it (RDS API reference, DBClusterEndpoint)."""

    resource_type = "cluster-endpoint"

    def __init__(self, backend: RDSBackend, cluster, identifier, kind, static, excluded, tags):
        self.backend = backend
        self.identifier = identifier
        self.cluster_identifier = cluster.db_cluster_identifier
        self.endpoint_type = "CUSTOM"
        self.custom_endpoint_type = kind
        self.static_members = list(static)
        self.excluded_members = list(excluded)
        self.status = "available"
        self.resource_identifier = "cluster-endpoint-" + uuid.uuid4().hex[:26]
        # <name>.cluster-custom-<the cluster's own suffix>.<region>.rds.amazonaws.com
        self.address = f"{identifier}.cluster-custom-{cluster.url_identifier}.{backend.region_name}.rds.amazonaws.com"
        self.arn = (
            f"arn:{backend.partition}:rds:{backend.region_name}:{backend.account_id}:cluster-endpoint:{identifier}"
        )
        self.tags = tags

    def describe(self) -> dict:
        return {
            "DBClusterEndpointIdentifier": self.identifier,
            "DBClusterIdentifier": self.cluster_identifier,
            "DBClusterEndpointResourceIdentifier": self.resource_identifier,
            "Endpoint": self.address,
            "Status": self.status,
            "EndpointType": self.endpoint_type,
            "CustomEndpointType": self.custom_endpoint_type,
            "StaticMembers": self.static_members,
            "ExcludedMembers": self.excluded_members,
            "DBClusterEndpointArn": self.arn,
        }


def cluster_endpoints(backend: RDSBackend) -> dict[str, ClusterEndpoint]:
    if not hasattr(backend, "cluster_endpoints_ext"):
        backend.cluster_endpoints_ext = {}
    return backend.cluster_endpoints_ext


def endpoint_not_found(identifier):
    return RDSClientError("DBClusterEndpointNotFoundFault", f"DBClusterEndpoint {identifier} not found.")


def show_custom_endpoints(backend: RDSBackend, cluster_identifier) -> None:
    """DescribeDBClusters' CustomEndpoints: the addresses of the cluster's custom endpoints."""
    cluster = backend.clusters.get(cluster_identifier)
    if cluster is not None:
        cluster.custom_endpoints = sorted(
            e.address for e in cluster_endpoints(backend).values() if e.cluster_identifier == cluster_identifier
        )


def endpoint_members(backend: RDSBackend, cluster, params) -> tuple[list, list]:
    members = {m.db_instance_identifier for m in cluster.members}
    lists = []
    for key in ("StaticMembers", "ExcludedMembers"):
        value = [m for m in (params.get(key) or []) if m]
        unknown = sorted(set(value) - members)
        if unknown:
            raise InvalidParameterValue(
                f"{key} names instances that are not in DB cluster {cluster.db_cluster_identifier}: {unknown}"
            )
        lists.append(value)
    return lists[0], lists[1]


def endpoint_type(params) -> str:
    kind = str(params.get("EndpointType") or "").upper()
    if kind not in ("READER", "ANY"):
        raise InvalidParameterValue(f"EndpointType {params.get('EndpointType')!r} is invalid: READER or ANY")
    return kind


def respond_create_db_cluster_endpoint(response):
    backend, params = response.backend, response.params
    cluster_identifier = params.get("DBClusterIdentifier")
    cluster = backend.clusters.get(cluster_identifier)
    if cluster is None:
        raise DBClusterNotFoundError(cluster_identifier)
    identifier = str(params.get("DBClusterEndpointIdentifier") or "").lower()
    endpoints = cluster_endpoints(backend)
    if identifier in endpoints:
        raise RDSClientError("DBClusterEndpointAlreadyExistsFault", f"DBClusterEndpoint {identifier} already exists.")
    static, excluded = endpoint_members(backend, cluster, params)
    endpoint = ClusterEndpoint(
        backend, cluster, identifier, endpoint_type(params), static, excluded, params.get("Tags")
    )
    endpoints[identifier] = endpoint
    show_custom_endpoints(backend, cluster_identifier)
    return ActionResult(endpoint.describe())


def respond_describe_db_cluster_endpoints(response):
    backend, params = response.backend, response.params
    found = list(cluster_endpoints(backend).values())
    cluster_identifier = params.get("DBClusterIdentifier")
    if cluster_identifier:
        if cluster_identifier not in backend.clusters:
            raise DBClusterNotFoundError(cluster_identifier)
        found = [e for e in found if e.cluster_identifier == cluster_identifier]
    identifier = params.get("DBClusterEndpointIdentifier")
    if identifier:
        found = [e for e in found if e.identifier == identifier]
        if not found:
            raise endpoint_not_found(identifier)
    for entry in params.get("Filters") or []:
        read = ENDPOINT_FILTERS.get(entry.get("Name"))
        if read is None:
            raise InvalidParameterValue(f"Unrecognized filter name: {entry.get('Name')}")
        values = {str(v).lower() for v in entry.get("Values") or []}
        found = [e for e in found if str(read(e)).lower() in values]
    # Only custom endpoints are kept here; the cluster's own (writer, reader) are asked for by no caller of this file.
    return ActionResult({"DBClusterEndpoints": [e.describe() for e in sorted(found, key=lambda e: e.identifier)]})


def respond_modify_db_cluster_endpoint(response):
    backend, params = response.backend, response.params
    identifier = params.get("DBClusterEndpointIdentifier")
    endpoint = cluster_endpoints(backend).get(identifier)
    if endpoint is None:
        raise endpoint_not_found(identifier)
    cluster = backend.clusters[endpoint.cluster_identifier]
    if params.get("EndpointType"):
        endpoint.custom_endpoint_type = endpoint_type(params)
    static, excluded = endpoint_members(backend, cluster, params)
    # A list sent replaces the one held (an empty one clears it); one left out is kept.
    if "StaticMembers" in params:
        endpoint.static_members = static
    if "ExcludedMembers" in params:
        endpoint.excluded_members = excluded
    return ActionResult(endpoint.describe())


def respond_delete_db_cluster_endpoint(response):
    backend, params = response.backend, response.params
    identifier = params.get("DBClusterEndpointIdentifier")
    endpoint = cluster_endpoints(backend).pop(identifier, None)
    if endpoint is None:
        raise endpoint_not_found(identifier)
    show_custom_endpoints(backend, endpoint.cluster_identifier)
    answer = endpoint.describe()
    answer["Status"] = "deleting"
    return ActionResult(answer)


_get_resource_for_tagging = RDSBackend._get_resource_for_tagging


def get_resource_for_tagging(self: RDSBackend, arn: str):
    # moto's ARN pattern knows no cluster-endpoint resources.
    if f":{ClusterEndpoint.resource_type}:" in arn:
        return cluster_endpoints(self).get(arn.rsplit(":", 1)[1])
    return _get_resource_for_tagging(self, arn)


_delete_db_instance = RDSBackend.delete_db_instance


def delete_db_instance(self: RDSBackend, db_instance_identifier, *args, **kwargs):
    answer = _delete_db_instance(self, db_instance_identifier, *args, **kwargs)
    # As AWS does, a deleted instance leaves the endpoints' member lists.
    for endpoint in cluster_endpoints(self).values():
        for key in ("static_members", "excluded_members"):
            setattr(endpoint, key, [m for m in getattr(endpoint, key) if m != db_instance_identifier])
    return answer


_delete_db_cluster = RDSBackend.delete_db_cluster


def delete_db_cluster(self: RDSBackend, cluster_identifier, *args, **kwargs):
    answer = _delete_db_cluster(self, cluster_identifier, *args, **kwargs)
    # The cluster's custom endpoints go with it.
    endpoints = cluster_endpoints(self)
    for identifier in [i for i, e in endpoints.items() if e.cluster_identifier == cluster_identifier]:
        del endpoints[identifier]
    return answer


# -- Restores and deletes of clusters (the restore drill) -------------------------------------------------------


def cluster_cfg(self: DBCluster) -> dict:
    # moto 5.2.5 fails (KeyError, HTTP 500) to restore a snapshot of a cluster whose master password RDS manages:
    # it has no _master_user_password. AWS restores it.
    cfg = self.__dict__.copy()
    cfg.pop("backend")
    cfg["master_user_password"] = cfg.pop("_master_user_password", None)
    cfg["enable_http_endpoint"] = cfg.pop("_enable_http_endpoint", None)
    cfg["vpc_security_group_ids"] = cfg.pop("_vpc_security_group_ids", None)
    return cfg


_respond_delete_db_cluster = RDSResponse.delete_db_cluster


def respond_delete_db_cluster(response):
    # AWS: DeleteAutomatedBackups, true unless given false, deletes the cluster's automated backups with it; moto
    # 5.2.5 keeps its automated snapshots.
    identifier = response._get_param("DBClusterIdentifier")
    keep = str(response._get_param("DeleteAutomatedBackups")).lower() == "false"
    answer = _respond_delete_db_cluster(response)
    if not keep:
        snapshots = response.backend.cluster_snapshots
        for name in [
            n
            for n, s in snapshots.items()
            if s.snapshot_type == "automated" and s.cluster.db_cluster_identifier == identifier
        ]:
            del snapshots[name]
    return answer


# -- Blue/Green deployments --------------------------------------------------------------------------------------

# What AWS copies from each blue resource to its green copy besides what moto copies (the green environment "is a
# copy of the topology of the production environment", with its settings); the engine version and the parameter
# groups are the deployment's targets.
GREEN_CLUSTER_COPIES = (
    "db_subnet_group_name",
    "iam_auth",
    "storage_type",
    "serverless_v2_scaling_configuration",
    "availability_zones",
    "auto_minor_version_upgrade",
)
GREEN_INSTANCE_COPIES = (
    # moto gives each green instance the cluster's deletion protection; an Aurora instance has none of its own.
    "deletion_protection",
    "_db_subnet_group_name",
    "_tags",
    "auto_minor_version_upgrade",
    "availability_zone",
    "ca_certificate_identifier",
    "copy_tags_to_snapshot",
    "db_instance_class",
    "monitoring_interval",
    "monitoring_role_arn",
    "promotion_tier",
    "preferred_maintenance_window",
    "publicly_accessible",
    "enabled_cloudwatch_logs_exports",
)

_create_green_instance = BlueGreenDeployment._create_green_instance


def create_green_instance(self: BlueGreenDeployment, **kwargs) -> str:
    green_arn = _create_green_instance(self, **kwargs)
    source = self._get_valid_instance_or_raise(self.source)
    green = self._get_valid_instance_or_raise(green_arn)
    if isinstance(source, DBCluster) and isinstance(green, DBCluster):
        for key in GREEN_CLUSTER_COPIES:
            if hasattr(source, key):
                setattr(green, key, copy.deepcopy(getattr(source, key)))
        blue_members = {m.db_instance_identifier: m for m in source.members}
        for member in green.members:
            blue = blue_members.get(member.db_instance_identifier.rsplit("-green-", 1)[0])
            for key in GREEN_INSTANCE_COPIES + tuple(k for k in vars(blue or {}) if "performance_insights" in k):
                if blue is not None and hasattr(blue, key):
                    setattr(member, key, copy.deepcopy(getattr(blue, key)))
    return green_arn


_switchover = BlueGreenDeployment.switchover


def switchover(self: BlueGreenDeployment) -> None:
    source = self._get_valid_instance_or_raise(self.source)
    target = self._get_valid_instance_or_raise(self.target)
    if not isinstance(source, DBCluster) or not isinstance(target, DBCluster):
        _switchover(self)
        return
    backend = self.backend
    blue_id = source.db_cluster_identifier
    old_id = f"{blue_id}-old1"
    blue_names = [m.db_instance_identifier for m in source.members]
    # moto names each green instance "<blue instance>-green-<6 letters>".
    green_names = {m.db_instance_identifier: m.db_instance_identifier.rsplit("-green-", 1)[0] for m in target.members}
    _switchover(self)  # the clusters: blue -> <blue>-old1, green -> <blue>
    old, new = backend.clusters[old_id], backend.clusters[blue_id]
    for name in blue_names:
        instance = backend.databases.pop(name)
        instance.db_instance_identifier = f"{name}-old1"
        instance.db_cluster_identifier = old_id
        backend.databases[instance.db_instance_identifier] = instance
    for green_name, blue_name in green_names.items():
        instance = backend.databases.pop(green_name)
        instance.db_instance_identifier = blue_name
        instance.db_cluster_identifier = blue_id
        backend.databases[blue_name] = instance
    self.source, self.target = old.arn, new.arn


_update_secret_version_stage = SecretsManagerBackend.update_secret_version_stage


def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
    answer = _update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
    if version_stage == "AWSCURRENT" and move_to_version_id:
        secret = self.secrets[secret_id]
        # The secret's own value is what GetSecretValue answers without a version: the new current one.
        secret.set_default_version_id(move_to_version_id)
        version = secret.versions[move_to_version_id]
        secret.secret_string = version.get("secret_string")
        secret.secret_binary = version.get("secret_binary")
    return answer


# -- RDS snapshot export tasks --------------------------------------------------------------------------------

MOTO_START_EXPORT_TASK = RDSBackend.start_export_task
MOTO_CANCEL_EXPORT_TASK = RDSBackend.cancel_export_task
MOTO_DESCRIBE_EXPORT_TASKS = RDSBackend.describe_export_tasks
# ExportTask.Status's course on AWS: STARTING, IN_PROGRESS, then COMPLETE (one step per DescribeExportTasks here).
EXPORT_COURSE = {"STARTING": ("IN_PROGRESS", 50), "IN_PROGRESS": ("COMPLETE", 100)}


def start_export_task(self: RDSBackend, kwargs):
    task = MOTO_START_EXPORT_TASK(self, kwargs)
    task.status = "STARTING"
    task.percent_progress = 0
    task.task_start_time = task.created_at
    task.snapshot_time = getattr(task.snapshot, "created", None) or getattr(task.snapshot, "snapshot_create_time", None)
    return task


def advance_export_task(task) -> None:
    step = EXPORT_COURSE.get(task.status)
    if step is None:
        return
    task.status, task.percent_progress = step
    if task.status == "COMPLETE":
        task.task_end_time = datetime.datetime.now(datetime.UTC)
        # The extracted size is the data read; a local cluster holds none.
        task.total_extracted_data_in_gb = 0


def describe_export_tasks(self: RDSBackend, export_task_identifier):
    tasks = list(MOTO_DESCRIBE_EXPORT_TASKS(self, export_task_identifier))
    for task in tasks:
        advance_export_task(task)
    return tasks


def cancel_export_task(self: RDSBackend, export_task_identifier):
    task = MOTO_CANCEL_EXPORT_TASK(self, export_task_identifier)
    task.status = "CANCELED"
    return task


# -- Aurora Global Database: switchover, failover, detach ---------------------------------------------------------

# moto keeps every global cluster in us-east-1's backend (RDSResponse.global_backend).
GLOBAL_REGION = "us-east-1"
MOTO_CREATE_GLOBAL_CLUSTER = RDSBackend.create_global_cluster


def global_clusters_of(backend: RDSBackend):
    return rds_backends[backend.account_id][GLOBAL_REGION].global_clusters


def global_cluster_not_found(identifier) -> RDSClientError:
    return RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


def find_global_cluster(backend: RDSBackend, identifier) -> GlobalCluster:
    found = global_clusters_of(backend).get(str(identifier or ""))
    if found is None:
        raise global_cluster_not_found(identifier)
    return found


def global_member(global_cluster: GlobalCluster, reference) -> DBCluster:
    """The member a request names, by ARN (what AWS asks for) or identifier."""
    for member in global_cluster.members:
        if reference in (member.db_cluster_arn, member.db_cluster_identifier):
            return member
    raise DBClusterNotFoundError(reference)


def create_global_cluster(self: RDSBackend, global_cluster_identifier, *args, **kwargs):
    # AWS refuses a second global cluster of an identifier (moto replaced the first with a new one).
    if global_cluster_identifier in global_clusters_of(self):
        raise RDSClientError(
            "GlobalClusterAlreadyExistsFault", f"Global cluster {global_cluster_identifier} already exists."
        )
    global_cluster = MOTO_CREATE_GLOBAL_CLUSTER(self, global_cluster_identifier, *args, **kwargs)
    # The cluster a global cluster is created from is its primary (moto leaves IsWriter false).
    if len(global_cluster.members) == 1:
        global_cluster.members[0].is_writer = True
    global_cluster.failover_state = None
    return global_cluster


def begin_global_switch(global_cluster: GlobalCluster, target: DBCluster, allow_data_loss: bool) -> None:
    """What AWS shows while a switchover or failover runs: the global cluster's Status and FailoverState."""
    writer = next((m for m in global_cluster.members if m.is_writer), None)
    global_cluster.status = "failing-over" if allow_data_loss else "switching-over"
    global_cluster.failover_state = {
        "Status": "pending",
        "FromDbClusterArn": writer.db_cluster_arn if writer is not None else None,
        "ToDbClusterArn": target.db_cluster_arn,
        "IsDataLossAllowed": bool(allow_data_loss),
    }


def finish_global_switch(global_cluster: GlobalCluster) -> None:
    """The end state: the target writes, every other member (the former primary too) is a secondary."""
    state = getattr(global_cluster, "failover_state", None) or {}
    for member in global_cluster.members:
        member.is_writer = member.db_cluster_arn == state.get("ToDbClusterArn")
    global_cluster.status = "available"
    global_cluster.failover_state = None


def start_global_switch(backend: RDSBackend, params, allow_data_loss: bool) -> GlobalCluster:
    global_cluster = find_global_cluster(backend, params.get("GlobalClusterIdentifier"))
    target = global_member(global_cluster, params.get("TargetDbClusterIdentifier"))
    if global_cluster.status != "available":
        raise RDSClientError(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {global_cluster.global_cluster_identifier} is {global_cluster.status}, not available.",
        )
    if target.is_writer:
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"DB cluster {target.db_cluster_arn} is already the primary cluster of the global cluster.",
        )
    begin_global_switch(global_cluster, target, allow_data_loss)
    # On AWS the operation takes a while (bench/moto_latency.py holds it); here it ends at once.
    if not getattr(backend, "vitality_slow_global_switch", False):
        finish_global_switch(global_cluster)
    return global_cluster


def is_true(value) -> bool:
    return str(value).lower() == "true"


def respond_switchover_global_cluster(response):
    global_cluster = start_global_switch(response.backend, response.params, allow_data_loss=False)
    return ActionResult({"GlobalCluster": global_cluster})


def respond_failover_global_cluster(response):
    params = response.params
    allow_data_loss, switchover = is_true(params.get("AllowDataLoss")), is_true(params.get("Switchover"))
    if allow_data_loss and switchover:
        raise InvalidParameterCombination("AllowDataLoss and Switchover cannot both be specified.")
    global_cluster = start_global_switch(response.backend, params, allow_data_loss=allow_data_loss)
    return ActionResult({"GlobalCluster": global_cluster})


def respond_describe_global_clusters(response):
    backend, identifier = response.backend, response.params.get("GlobalClusterIdentifier")
    found = [find_global_cluster(backend, identifier)] if identifier else list(global_clusters_of(backend).values())
    for global_cluster in found:
        global_cluster.__dict__.setdefault("failover_state", None)
    return ActionResult({"GlobalClusters": found})


def remove_from_global_cluster(self: RDSBackend, global_cluster_identifier, db_cluster_identifier):
    global_cluster = find_global_cluster(self, global_cluster_identifier)
    member = global_member(global_cluster, db_cluster_identifier)
    if member.is_writer and len(global_cluster.members) > 1:
        raise RDSClientError(
            "InvalidGlobalClusterStateFault",
            f"The primary cluster {member.db_cluster_arn} cannot be removed while the global cluster has secondaries.",
        )
    global_cluster.members.remove(member)
    # Detached, it is a standalone cluster that takes writes.
    member.global_cluster_identifier = None
    member.is_writer = False
    return global_cluster


def respond_remove_from_global_cluster(response):
    params = response.params
    global_cluster = remove_from_global_cluster(
        response.backend, params.get("GlobalClusterIdentifier"), params.get("DbClusterIdentifier")
    )
    return ActionResult({"GlobalCluster": global_cluster})


# -- Aurora Global Database engine upgrades ---------------------------------------------------------------------------


def major_of(version) -> str:
    return str(version or "").split(".", maxsplit=1)[0]


def version_key(version) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in str(version or "").split("."))


def global_cluster_of(cluster):
    """The global cluster a cluster is a member of, or None."""
    for global_cluster in global_clusters_of(cluster.backend).values():
        if any(
            member is cluster or member.db_cluster_arn == cluster.db_cluster_arn for member in global_cluster.members
        ):
            return global_cluster
    return None


def take_engine_version(cluster, version, default_group=None) -> None:
    """The cluster on ``version`` (moto's instances of a cluster report the cluster's); with ``default_group``, the
    new family's default cluster parameter group, as AWS gives it after a global major upgrade."""
    cluster.engine_version = version
    if default_group:
        cluster.parameter_group = default_group


def refuse_member_engine_change(cluster, version) -> None:
    """ModifyDBCluster EngineVersion on a member of a global cluster, refused as AWS refuses it."""
    global_cluster = global_cluster_of(cluster) if cluster is not None else None
    if global_cluster is None or not version or version == cluster.engine_version:
        return
    name = global_cluster.global_cluster_identifier
    if major_of(version) != major_of(cluster.engine_version):
        raise InvalidParameterCombination(
            f"DB cluster {cluster.db_cluster_identifier} is a member of global cluster {name}: upgrade the major "
            "version of a global database with ModifyGlobalCluster."
        )
    behind = [
        member.db_cluster_identifier
        for member in global_cluster.members
        if not member.is_writer and version_key(member.engine_version) < version_key(version)
    ]
    if cluster.is_writer and behind:
        raise InvalidParameterCombination(
            f"DB cluster {cluster.db_cluster_identifier} is the primary of global cluster {name}: upgrade its "
            f"secondary clusters ({', '.join(behind)}) to {version} before the primary."
        )


def follow_writer_version(cluster) -> None:
    global_cluster = global_cluster_of(cluster)
    if global_cluster is not None and cluster.is_writer:
        global_cluster.engine_version = cluster.engine_version


def respond_modify_global_cluster(response):
    params = response.params
    global_cluster = find_global_cluster(response.backend, params.get("GlobalClusterIdentifier"))
    if params.get("NewGlobalClusterIdentifier"):
        raise InvalidParameterValue("NewGlobalClusterIdentifier is not supported by the local AWS.")
    if global_cluster.status != "available":
        raise RDSClientError(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {global_cluster.global_cluster_identifier} is {global_cluster.status}, not available.",
        )
    if params.get("DeletionProtection") is not None:
        global_cluster.deletion_protection = is_true(params["DeletionProtection"])
    version = params.get("EngineVersion")
    if version and version != global_cluster.engine_version:
        current = global_cluster.engine_version
        if version_key(version) < version_key(current):
            raise InvalidParameterCombination(
                f"Cannot upgrade global cluster {global_cluster.global_cluster_identifier} from {current} to the "
                f"lower version {version}."
            )
        major = major_of(version) != major_of(current)
        if major and not is_true(params.get("AllowMajorVersionUpgrade")):
            raise InvalidParameterCombination(
                "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version."
            )
        busy = [m.db_cluster_identifier for m in global_cluster.members if m.status != "available"]
        if busy:
            raise RDSClientError(
                "InvalidDBClusterStateFault", f"DB cluster {', '.join(busy)} is not available for an upgrade."
            )
        # As AWS does: every member takes the version; after a major one, the new family's default groups.
        group = f"default.{global_cluster.engine}{major_of(version)}" if major else None
        for member in global_cluster.members:
            take_engine_version(member, version, group)
        global_cluster.engine_version = version
    return ActionResult({"GlobalCluster": global_cluster})


def extend_moto() -> None:
    RDSBackend.create_global_cluster = create_global_cluster
    RDSResponse.remove_from_global_cluster = respond_remove_from_global_cluster
    RDSBackend.start_export_task = start_export_task
    RDSBackend.describe_export_tasks = describe_export_tasks
    RDSBackend.cancel_export_task = cancel_export_task
    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage
    RDSBackend.modify_db_cluster = modify_db_cluster
    RDSBackend.create_db_cluster = create_db_cluster
    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    MasterUserSecret._generate_secret_string = master_user_secret_string
    BackupBackend.create_backup_plan = create_backup_plan
    BackupBackend.delete_backup_plan = delete_backup_plan
    BackupBackend.describe_backup_vault = describe_backup_vault
    BackupResponse.update_backup_plan = respond_update_backup_plan
    BackupResponse.create_backup_selection = respond_create_backup_selection
    BackupResponse.get_backup_selection = respond_get_backup_selection
    BackupResponse.list_backup_selections = respond_list_backup_selections
    BackupResponse.delete_backup_selection = respond_delete_backup_selection
    RDSResponse.modify_event_subscription = respond_modify_event_subscription
    RDSResponse.add_source_identifier_to_subscription = respond_add_source_identifier
    RDSResponse.remove_source_identifier_from_subscription = respond_remove_source_identifier
    RDSResponse.describe_db_engine_versions = respond_describe_db_engine_versions
    RDSResponse.describe_engine_default_cluster_parameters = respond_describe_engine_default_cluster_parameters
    RDSResponse.create_db_cluster_endpoint = respond_create_db_cluster_endpoint
    RDSResponse.describe_db_cluster_endpoints = respond_describe_db_cluster_endpoints
    RDSResponse.modify_db_cluster_endpoint = respond_modify_db_cluster_endpoint
    RDSResponse.delete_db_cluster_endpoint = respond_delete_db_cluster_endpoint
    RDSBackend._get_resource_for_tagging = get_resource_for_tagging
    RDSBackend.delete_db_instance = delete_db_instance
    RDSBackend.delete_db_cluster = delete_db_cluster
    RDSResponse.delete_db_cluster = respond_delete_db_cluster
    DBCluster.get_cfg = cluster_cfg
    BlueGreenDeployment.switchover = switchover
    BlueGreenDeployment._create_green_instance = create_green_instance
    RDSBackend.create_global_cluster = create_global_cluster
    RDSBackend.remove_from_global_cluster = remove_from_global_cluster
    RDSResponse.switchover_global_cluster = respond_switchover_global_cluster
    RDSResponse.failover_global_cluster = respond_failover_global_cluster
    RDSResponse.describe_global_clusters = respond_describe_global_clusters
    RDSResponse.remove_from_global_cluster = respond_remove_from_global_cluster
    RDSResponse.modify_global_cluster = respond_modify_global_cluster


if __name__ == "__main__":
    extend_moto()
    moto_server_main(sys.argv[1:])
