"""Every `ansible-playbook` command line that the README and the user guide show in a shell block runs, exactly as
written, in the order each document gives it, against the local AWS, and succeeds.

The only things added are where the local AWS is (`-e aurora_cluster_aws_endpoint_url=...`, replacing the demo's
port where the command names it) and, as the local AWS has no database server, the database part turned off (its
commands run in tests/integration/test_demo.py): the documents are for real AWS or the demo, the test has a local
AWS of its own.
`-e name=value` stays the string it is on a real command line, which is how the README's teardown of a protected
prod stack once failed while the tests, passing real booleans, passed.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from local_aws import ENDPOINT_VAR, REPO_ROOT, ansible_env, parse_recap

DOCUMENTS = ["README.md", "docs/user-guide.md"]
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
# A block a test of its own runs as written, on a stack it needs (the marker names the test): the user guide's
# blue/green upgrade needs a prod stack with a self-managed password (tests/integration/test_blue_green.py).
RUN_ELSEWHERE = re.compile(r"<!-- [a-z/ -]+ commands: (tests/integration/\S+) runs them[^>]*-->\n```sh\n(.*?)```", re.S)


def commands_of(block: str) -> list[str]:
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if re.match(r"^(\S*/)?ansible-playbook ", line):
            commands.append(" ".join(line.split()))
    return commands


def commands_run_by(test: str, document: str = "docs/user-guide.md") -> list[str]:
    """The commands of the blocks marked as run by ``test`` (a path under tests/integration)."""
    text = (REPO_ROOT / document).read_text()
    return [c for found, block in RUN_ELSEWHERE.findall(text) if found == test for c in commands_of(block)]


def documented_commands(document: str) -> list[str]:
    commands = []
    text = RUN_ELSEWHERE.sub("", (REPO_ROOT / document).read_text())
    for block in SHELL_BLOCK.findall(text):
        commands += commands_of(block)
    return commands


def localised(command: str, endpoint: str) -> list[str]:
    args = shlex.split(command)
    args[0] = str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook")
    for index, arg in enumerate(args):
        if arg.startswith(f"{ENDPOINT_VAR}="):
            args[index] = f"{ENDPOINT_VAR}={endpoint}"
            return args
    return [*args, "-e", f"{ENDPOINT_VAR}={endpoint}"]


def test_the_documents_show_commands():
    assert len(commands_run_by("tests/integration/test_blue_green.py")) == 4
    assert not any("blue_green" in c for c in documented_commands("docs/user-guide.md"))
    assert any(
        "destroy" in c and "aurora_cluster_destroy_disable_deletion_protection=true" in c
        for c in documented_commands("docs/user-guide.md")
    )
    assert any("provision" in c for c in documented_commands("README.md"))


def test_the_readme_runbook_commands_are_those_their_tests_run():
    """The README's switchover, failover and drill blocks need a stack of their own (a global database, a converged
    stack with a snapshot): each is marked with the test that runs the user guide's commands, and each of its
    commands is one of those, character for character."""
    marked = RUN_ELSEWHERE.findall((REPO_ROOT / "README.md").read_text())
    assert {test for test, _block in marked} >= {
        "tests/integration/test_switchover.py",
        "tests/integration/test_drill.py",
    }
    for test, block in marked:
        commands = commands_of(block)
        run = commands_run_by(test)
        assert commands, f"README block marked for {test} shows no command"
        assert [c for c in commands if c not in run] == [], f"README commands marked for {test} that it does not run"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_documented_command_runs_as_written(local_aws, document, tmp_path):
    local_aws.reset_and_seed()
    env = ansible_env(local_aws.endpoint_url)
    for command in documented_commands(document):
        args = localised(command, local_aws.endpoint_url)
        # Outputs and reports go to the test's own directory, not the repository's.
        # One file per stack: a fleet inventory's stacks may not share one.
        args += ["-e", f"aurora_cluster_outputs_file={tmp_path}/{{{{ aurora_cluster_name }}}}.json"]
        args += ["-e", f"aurora_cluster_report_dir={tmp_path}/report"]
        # No PostgreSQL at the local AWS's writer endpoint: tests/integration/test_database.py runs that part
        # against a server standing in for it.
        args += ["-e", "aurora_database_enabled=false"]
        proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
        recap = parse_recap(proc.stdout)
        assert proc.returncode == 0 and recap, f"$ {command}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        assert all(counts["failed"] == 0 for counts in recap.values()), f"$ {command}\n{proc.stdout[-4000:]}"
