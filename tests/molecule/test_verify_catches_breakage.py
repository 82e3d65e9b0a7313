"""The Molecule verify step fails when the deployed stack is WRONG, not only when it is missing.

The default scenario (extensions/molecule/default, the dev topology) is created and converged with
Molecule itself, against a local AWS on a free port and in an ephemeral directory of the test's own
(so it never meets a `molecule test --all` running beside it).  Verify must pass on the converged
stack; then the stack is broken out of band with boto3, as a hand-made console change would:

* the database security group is opened to 0.0.0.0/0 on TCP 5432: verify must fail and name the
  rule;
* that rule removed, TLS is turned off in the cluster parameter group (rds.force_ssl=0): verify
  must fail and name the parameter.

`molecule destroy` always runs at the end and must stop the local AWS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from local_aws import CREDENTIALS, REGION, REPO_ROOT, collections_path, free_port

pytestmark = pytest.mark.slow

SCENARIO = "default"
DB_SECURITY_GROUP = "vitality-dev-db"
PARAMETER_GROUP = "vitality-dev-aurora-pg16"
MOLECULE_TIMEOUT = 900


def molecule_env(ephemeral_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "ANSIBLE_CONFIG"):
        env.pop(var, None)
    env.update(CREDENTIALS)
    env.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "ANSIBLE_COLLECTIONS_PATH": collections_path(),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "NO_COLOR": "1",
            "ANSIBLE_NOCOLOR": "1",
            "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral_dir),
            "MOLECULE_LOCAL_AWS_PORT": str(port),
        }
    )
    return env


def molecule(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "molecule"
    return subprocess.run(  # noqa: S603
        [str(exe) if exe.exists() else "molecule", command, "--scenario-name", SCENARIO],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=MOLECULE_TIMEOUT,
        check=False,
    )


def flat(output: str) -> str:
    """The output with every run of whitespace made one space (Ansible wraps long messages)."""
    return " ".join(output.split())


def answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint_url + "/moto-api/config", timeout=5) as resp:
            return 200 <= resp.status < 300
    except OSError:
        return False


def aws_client(service: str, endpoint_url: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def converged(tmp_path):
    """The default scenario created and converged; yields (env, endpoint_url); destroys it afterwards."""
    if shutil.which("molecule", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("molecule is not installed in the venv (make venv)")
    port = free_port()
    assert port != 4566
    env = molecule_env(tmp_path / "ephemeral", port)
    endpoint_url = f"http://127.0.0.1:{port}"
    try:
        result = molecule("converge", env)
        assert result.returncode == 0, f"molecule converge failed:\n{result.stdout[-6000:]}"
        assert answers(endpoint_url), "create did not start the local AWS on the port given"
        yield env, endpoint_url
    finally:
        destroyed = molecule("destroy", env)
        assert destroyed.returncode == 0, f"molecule destroy failed:\n{destroyed.stdout[-6000:]}"
        assert not answers(endpoint_url), "molecule destroy left the local AWS running"


def test_verify_fails_on_a_wrong_stack(converged):
    env, endpoint_url = converged

    # The converged stack verifies: the check below is about the breakage, nothing else.
    result = molecule("verify", env)
    assert result.returncode == 0, f"verify fails on the converged stack:\n{result.stdout[-6000:]}"

    # 1. Database port opened to the world.
    ec2 = aws_client("ec2", endpoint_url)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [DB_SECURITY_GROUP]}])
    group_id = groups["SecurityGroups"][0]["GroupId"]
    world_rule = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[world_rule])

    result = molecule("verify", env)
    assert result.returncode != 0, f"verify passed with 0.0.0.0/0 on TCP 5432:\n{result.stdout[-6000:]}"
    assert "has a CIDR ingress rule" in flat(result.stdout), result.stdout[-6000:]
    assert "tcp 5432-5432 from 0.0.0.0/0" in flat(result.stdout), result.stdout[-6000:]
    assert group_id in result.stdout, result.stdout[-6000:]

    # 2. The rule gone again, TLS turned off in the cluster parameter group.
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[world_rule])
    rds = aws_client("rds", endpoint_url)
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=PARAMETER_GROUP,
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "pending-reboot"}],
    )

    result = molecule("verify", env)
    assert result.returncode != 0, f"verify passed with rds.force_ssl=0:\n{result.stdout[-6000:]}"
    assert "rds.force_ssl is 0, wanted 1" in flat(result.stdout), result.stdout[-6000:]
