"""moto_server with simulated provisioning latency, for `make bench`.

    BENCH_LATENCY='{"cluster_create": 5, ...}' BENCH_LATENCY_LOG=/tmp/windows.jsonl \
        python bench/moto_latency.py -H 127.0.0.1 -p PORT

moto answers ``available`` at once.  This launcher loads the same extensions as the demo's and
the tests' local AWS (scripts/moto_server_ext.py), then patches moto's RDS models in this
process so that a cluster or an instance reports ``creating`` / ``modifying`` / ``rebooting``
(the cluster ``failing-over``) for a configured number of seconds after each request, and
runs moto's own server unchanged.  The default durations stand for real AWS minutes at
1 s = 1 minute: cluster create 5, instance create 10, instance class change 10, reboot 1, a major version
upgrade in place 20 (the cluster and every instance ``upgrading``), a blue/green switchover 1 (the cluster
``switching-over``; the deployment says SWITCHOVER_IN_PROGRESS meanwhile, and PROVISIONING while its green
cluster or instances are still being created), a global database's switchover or failover 1 (the global cluster
``switching-over`` or ``failing-over`` with its FailoverState ``pending`` for the first third, then ``failing-over``;
the former primary taking no writes until the roles are swapped).

Every busy window is appended to the JSON-lines file named by ``BENCH_LATENCY_LOG`` as
``{"kind": "cluster"|"instance", "id", "status", "start", "end"}`` (time.time() seconds), so
the benchmark can count how many instances were unavailable at any moment; an instance's deletion (at once, as
moto makes it) is a record with status ``deleted`` and start = end, or, with an ``instance_delete`` duration, a
``deleting`` window after which the instance is gone.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
for extra in (BENCH_DIR, BENCH_DIR.parent / "scripts"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import latency_config  # noqa: E402
from moto.rds.models import BlueGreenDeployment, DBCluster, DBInstance, RDSBackend  # noqa: E402
from moto.rds.responses import RDSResponse  # noqa: E402
from moto.server import main as moto_server_main  # noqa: E402

import moto_server_ext  # noqa: E402  (sets moto's environment before moto is imported)

_LOG_LOCK = threading.Lock()
LATENCY = latency_config.durations()
LOG_PATH = os.environ.get("BENCH_LATENCY_LOG", "")


def mark_busy(obj, kind: str, identifier: str, status: str, seconds: float) -> None:
    """``obj`` reports ``status`` for ``seconds`` from now (extending a window already open)."""
    if seconds <= 0:
        return
    now = time.time()
    end = max(now + seconds, obj.__dict__.get("bench_busy_until", 0.0))
    obj.__dict__["bench_busy_until"] = end
    obj.__dict__["bench_busy_status"] = status
    if LOG_PATH:
        record = {"kind": kind, "id": identifier, "status": status, "start": now, "end": end}
        with _LOG_LOCK, open(LOG_PATH, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


def busy_status(obj) -> str | None:
    if time.time() < obj.__dict__.get("bench_busy_until", 0.0):
        return obj.__dict__.get("bench_busy_status")
    return None


def patch_status_properties() -> None:
    """Wrap the ``status`` of clusters and instances: a busy window wins over moto's own status."""
    cluster_status = DBCluster.status  # moto's property

    def get_cluster_status(cluster):
        return busy_status(cluster) or cluster_status.fget(cluster)

    DBCluster.status = property(get_cluster_status, cluster_status.fset)

    def get_instance_status(instance):
        return busy_status(instance) or instance.__dict__.get("bench_status", "available")

    def set_instance_status(instance, value):
        instance.__dict__["bench_status"] = value

    DBInstance.status = property(get_instance_status, set_instance_status)


def patch_backend() -> None:
    """Open a busy window after each create / modify / reboot / failover request."""
    create_cluster = RDSBackend.create_db_cluster
    modify_cluster = RDSBackend.modify_db_cluster
    create_instance = RDSBackend.create_db_instance
    modify_instance = RDSBackend.modify_db_instance
    reboot_instance = RDSBackend.reboot_db_instance
    failover_cluster = RDSBackend.failover_db_cluster
    delete_instance = RDSBackend.delete_db_instance

    def create_db_cluster(backend, kwargs):
        cluster = create_cluster(backend, kwargs)
        mark_busy(cluster, "cluster", cluster.db_cluster_identifier, "creating", LATENCY["cluster_create"])
        return cluster

    def modify_db_cluster(backend, kwargs):
        before = backend.clusters.get(kwargs.get("db_cluster_identifier"))
        old_major = str(getattr(before, "engine_version", "")).split(".", maxsplit=1)[0]
        cluster = modify_cluster(backend, kwargs)
        new_major = str(kwargs.get("engine_version") or "").split(".", maxsplit=1)[0]
        if new_major and new_major != old_major:
            # In place, every instance is upgraded with the cluster: none serves until it is done.
            seconds = LATENCY["cluster_major_upgrade"]
            mark_busy(cluster, "cluster", cluster.db_cluster_identifier, "upgrading", seconds)
            for member in cluster.members:
                mark_busy(member, "instance", member.db_instance_identifier, "upgrading", seconds)
        else:
            mark_busy(cluster, "cluster", cluster.db_cluster_identifier, "modifying", LATENCY["cluster_modify"])
        return cluster

    def create_db_instance(backend, db_kwargs):
        instance = create_instance(backend, db_kwargs)
        mark_busy(instance, "instance", instance.db_instance_identifier, "creating", LATENCY["instance_create"])
        return instance

    def modify_db_instance(backend, db_instance_identifier, db_kwargs):
        before = backend.databases.get(db_instance_identifier)
        old_class = getattr(before, "db_instance_class", None)
        instance = modify_instance(backend, db_instance_identifier, db_kwargs)
        class_change = db_kwargs.get("db_instance_class") not in (None, old_class)
        seconds = LATENCY["instance_class_change"] if class_change else LATENCY["instance_modify"]
        mark_busy(instance, "instance", instance.db_instance_identifier, "modifying", seconds)
        return instance

    def reboot_db_instance(backend, db_instance_identifier, *args, **kwargs):
        instance = reboot_instance(backend, db_instance_identifier, *args, **kwargs)
        mark_busy(instance, "instance", instance.db_instance_identifier, "rebooting", LATENCY["instance_reboot"])
        return instance

    def failover_db_cluster(backend, db_cluster_identifier, *args, **kwargs):
        cluster = failover_cluster(backend, db_cluster_identifier, *args, **kwargs)
        mark_busy(cluster, "cluster", cluster.db_cluster_identifier, "failing-over", LATENCY["cluster_failover"])
        return cluster

    def delete_db_instance(backend, db_instance_identifier, *args, **kwargs):
        seconds = LATENCY["instance_delete"]
        instance = backend.databases.get(db_instance_identifier)
        if seconds > 0 and instance is not None:
            # As on AWS: ``deleting`` for a while (the window is the record), then gone; asked again meanwhile, the
            # deletion under way goes on.
            if busy_status(instance) != "deleting":
                mark_busy(instance, "instance", db_instance_identifier, "deleting", seconds)
                later = threading.Timer(
                    seconds, delete_instance, args=(backend, db_instance_identifier, *args), kwargs=kwargs
                )
                later.daemon = True
                later.start()
            return instance
        # moto deletes at once: the record (start = end) tells the benchmark when the instance stopped serving.
        instance = delete_instance(backend, db_instance_identifier, *args, **kwargs)
        if LOG_PATH:
            now = time.time()
            record = {"kind": "instance", "id": db_instance_identifier, "status": "deleted", "start": now, "end": now}
            with _LOG_LOCK, open(LOG_PATH, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
        return instance

    RDSBackend.create_db_cluster = create_db_cluster
    RDSBackend.modify_db_cluster = modify_db_cluster
    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.reboot_db_instance = reboot_db_instance
    RDSBackend.failover_db_cluster = failover_db_cluster
    RDSBackend.delete_db_instance = delete_db_instance


def patch_blue_green() -> None:
    """A deployment is PROVISIONING while its green cluster or instances are busy, and SWITCHOVER_IN_PROGRESS while
    the cluster that now serves is ``switching-over``; its switchover opens that window (writes stop meanwhile)."""
    switchover = BlueGreenDeployment.switchover  # with scripts/moto_server_ext.py's renames

    def busy(arn: str, status: str | None = None) -> bool:
        found = [c for c in DEPLOYMENT_BACKENDS[0].clusters.values() if c.arn == arn] if DEPLOYMENT_BACKENDS else []
        for cluster in found:
            for obj in [cluster, *cluster.members]:
                current = busy_status(obj)
                if current and (status is None or current == status):
                    return True
        return False

    def get_status(deployment):
        stored = deployment.__dict__.get("bench_status")
        if stored == "AVAILABLE" and busy(deployment.target):
            return "PROVISIONING"
        if stored == "SWITCHOVER_COMPLETED" and busy(deployment.target, "switching-over"):
            return "SWITCHOVER_IN_PROGRESS"
        return stored

    def set_status(deployment, value):
        deployment.__dict__["bench_status"] = value
        if not DEPLOYMENT_BACKENDS:
            DEPLOYMENT_BACKENDS.append(deployment.backend)

    def switch(deployment):
        switchover(deployment)
        # After the renames the target is the cluster under the blue name, which now takes the writes.
        for cluster in deployment.backend.clusters.values():
            if cluster.arn == deployment.target:
                mark_busy(
                    cluster,
                    "cluster",
                    cluster.db_cluster_identifier,
                    "switching-over",
                    LATENCY["blue_green_switchover"],
                )

    BlueGreenDeployment.status = property(get_status, set_status)
    BlueGreenDeployment.switchover = switch


def patch_global_switch() -> None:
    """A global cluster's switchover or failover takes LATENCY["global_switchover"]: scripts/moto_server_ext.py
    begins it (Status, FailoverState) and finishes it here, at the first DescribeGlobalClusters after that time."""
    RDSBackend.vitality_slow_global_switch = True  # read by moto_server_ext.start_global_switch
    begin = moto_server_ext.begin_global_switch
    describe = moto_server_ext.respond_describe_global_clusters

    def begin_global_switch(global_cluster, target, allow_data_loss):
        begin(global_cluster, target, allow_data_loss)
        seconds = LATENCY["global_switchover"]
        now = time.time()
        global_cluster.__dict__["bench_switch"] = (now, now + seconds)
        status = "failing-over" if allow_data_loss else "switching-over"
        # Writes stop on the primary until the target takes them (one window: the write downtime).
        for cluster in global_cluster.members:
            if cluster.is_writer:
                mark_busy(cluster, "cluster", cluster.db_cluster_identifier, status, seconds)

    def describe_global_clusters(response):
        for global_cluster in moto_server_ext.global_clusters_of(response.backend).values():
            window = global_cluster.__dict__.get("bench_switch")
            state = getattr(global_cluster, "failover_state", None)
            if not window or not state:
                continue
            start, end = window
            if time.time() >= end:
                moto_server_ext.finish_global_switch(global_cluster)
                global_cluster.__dict__.pop("bench_switch")
            elif time.time() >= start + (end - start) / 3:
                state["Status"] = "failing-over"
        return describe(response)

    moto_server_ext.begin_global_switch = begin_global_switch
    RDSResponse.describe_global_clusters = describe_global_clusters


# The RDS backend the deployments live in (one account and Region in the benchmark).
DEPLOYMENT_BACKENDS: list = []


def main(argv: list[str]) -> None:
    moto_server_ext.extend_moto()
    patch_status_properties()
    patch_backend()
    patch_blue_green()
    patch_global_switch()
    moto_server_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
