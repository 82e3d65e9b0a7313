"""The supported versions: each leg provisions dev, re-runs with no change and destroys, from the installed tarball.

``make test-release`` runs the main venv's leg (the newest ansible-core and amazon.aws);
``make test-matrix`` runs the legs it builds (the oldest declared ansible-core with the oldest
declared amazon.aws and community.aws), named in AURORA_MATRIX_LEGS.  The declared ranges are
galaxy.yml's dependencies and meta/runtime.yml's requires_ansible.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from release_support import GALAXY, MATRIX_ENV, REPO_ROOT, matrix_legs

LEGS = matrix_legs()
REQUIRES_ANSIBLE = SpecifierSet(
    yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["requires_ansible"]
)
AMAZON_AWS = SpecifierSet(GALAXY["dependencies"]["amazon.aws"].replace(" ", ""))
COMMUNITY_AWS = SpecifierSet(GALAXY["dependencies"]["community.aws"].replace(" ", ""))
DEV = "vitality-dev"
CLUSTER = "vitality-dev-aurora"


def _minimum(spec: SpecifierSet) -> Version:
    (low,) = [s for s in spec if s.operator == ">="]
    return Version(low.version)


@pytest.fixture(params=LEGS, ids=[f"{leg.name}-core{leg.ansible_core}-aws{leg.amazon_aws}" for leg in LEGS])
def leg(request):
    return request.param


def test_leg_is_inside_the_declared_ranges(leg):
    assert Version(leg.ansible_core) in REQUIRES_ANSIBLE, f"meta/runtime.yml requires_ansible excludes {leg}"
    assert Version(leg.amazon_aws) in AMAZON_AWS, f"galaxy.yml's amazon.aws range excludes {leg}"
    assert Version(leg.community_aws) in COMMUNITY_AWS, f"galaxy.yml's community.aws range excludes {leg}"


def test_the_sns_topic_module_of_the_event_notifications_is_there(leg):
    """The role's notifications create the topic with community.aws.sns_topic, from the leg's collections."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(leg.deps_path))
    doc = subprocess.run(
        [str(leg.bin / "ansible-doc"), "-t", "module", "--json", "community.aws.sns_topic"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert doc.returncode == 0, doc.stderr[-2000:]
    options = json.loads(doc.stdout)["community.aws.sns_topic"]["doc"]["options"]
    assert {"name", "policy", "state"} <= set(options)


@pytest.mark.skipif(not os.environ.get(MATRIX_ENV), reason="the oldest leg runs in `make test-matrix`")
def test_matrix_covers_the_declared_minimums():
    oldest_core = min(Version(leg.ansible_core) for leg in LEGS)
    oldest_aws = min(Version(leg.amazon_aws) for leg in LEGS)
    oldest_community_aws = min(Version(leg.community_aws) for leg in LEGS)
    assert oldest_core.release[:2] == _minimum(REQUIRES_ANSIBLE).release[:2], "requires_ansible's minimum is untested"
    assert oldest_aws == _minimum(AMAZON_AWS), "galaxy.yml's amazon.aws minimum is untested"
    assert oldest_community_aws == _minimum(COMMUNITY_AWS), "galaxy.yml's community.aws minimum is untested"


def test_dev_stack_lifecycle_from_the_installed_collection(leg, install_collection, local_aws):
    installed = install_collection(leg)
    assert installed.locations() == [installed.root]
    local_aws.reset_and_seed(("dev",))
    rds = local_aws.client("rds")
    playbook = installed.workdir / "provision-by-fqcn.yml"
    playbook.write_text(
        "---\n- name: Provision from the installed collection\n  hosts: aurora\n  gather_facts: false\n"
        "  roles:\n    - role: vitality.aurora.aurora_cluster\n",
        encoding="utf-8",
    )
    inventory = REPO_ROOT / "inventories" / "dev"

    first = installed.playbook(playbook, inventory, local_aws)
    assert first.ok, first
    assert first.changed(DEV) > 0, first
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["Status"] == "available"
    assert [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"]] == [
        f"{CLUSTER}-writer"
    ]
    # The shipped playbooks, by FQCN: the second run changes nothing.
    again = installed.playbook("vitality.aurora.provision", inventory, local_aws)
    assert again.ok, again
    assert again.changed(DEV) == 0, again

    gone = installed.playbook("vitality.aurora.destroy", inventory, local_aws)
    assert gone.ok, gone
    assert not [c for c in rds.describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == CLUSTER]
    snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=CLUSTER)["DBClusterSnapshots"]
    assert [s for s in snapshots if s["DBClusterSnapshotIdentifier"].startswith(f"{CLUSTER}-final-")], snapshots
