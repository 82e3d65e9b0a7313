"""The live architecture picture: playbooks/report.yml against a provisioned prod stack, opened in Chromium.

Provision prod (its last step writes the report too), then run the report playbook as the README shows it. The
HTML is opened in headless Chromium (Debian's chromium, which `make integration` installs): the Mermaid diagram
must have rendered, with every instance the local AWS lists, the security groups and the operations baseline, and
no Mermaid error. The screenshots it takes are the ones the README shows (tests/output/report-*.png).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from local_aws import OUTPUT_DIR

CHROMIUM = shutil.which("chromium")
SVG = re.compile(r'<svg id="mermaid-\d+".*?</svg>', re.DOTALL)


@pytest.fixture(scope="module")
def prod(local_aws):
    local_aws.reset_and_seed(("prod",))
    provisioned = local_aws.run_playbook("playbooks/provision.yml", "inventories/prod")
    assert provisioned.ok, provisioned
    return local_aws, provisioned


def chromium(*args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is not installed: `make integration` installs it (scripts/ensure_chromium.sh)"
    return subprocess.run(  # noqa: S603
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rendered_svg(page) -> str:
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = SVG.search(dom.stdout)
    assert found, "the Mermaid diagram did not render: no <svg id=mermaid-...> in the page"
    return found.group(0)


def test_the_report_draws_the_real_stack_and_renders_offline(prod):
    local_aws, provisioned = prod
    report_dir = local_aws.outputs_dir / "report"
    # Provision's last step wrote it already.
    assert (report_dir / "vitality-prod.md").is_file() and (report_dir / "vitality-prod.html").is_file()
    assert "Report of the stack written: " in provisioned.stdout

    (report_dir / "vitality-prod.md").unlink()
    (report_dir / "vitality-prod.html").unlink()
    reported = local_aws.run_playbook("playbooks/report.yml", "inventories/prod")
    assert reported.ok and reported.changed() == 0 and "Report of the stack written: " in reported.stdout, reported
    again = local_aws.run_playbook("playbooks/report.yml", "inventories/prod")
    assert again.ok and "Report of the stack unchanged: " in again.stdout, again

    rds = local_aws.client("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="vitality-prod-aurora")["DBClusters"]
    instances = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["vitality-prod-aurora"]}])[
        "DBInstances"
    ]
    assert len(instances) == 3

    markdown = (report_dir / "vitality-prod.md").read_text(encoding="utf-8")
    assert "```mermaid\nflowchart TB" in markdown
    for fact in (
        "| Storage encrypted | yes |",
        "| TLS required (rds.force_ssl) | yes |",
        "| IAM database authentication | yes |",
        "| Deletion protection | yes |",
        f"| Backup retention (days) | {cluster['BackupRetentionPeriod']} |",
        f"| Writer endpoint | {cluster['Endpoint']} |",
        "| The plan against the inventory now | no change |",
    ):
        assert fact in markdown, fact

    page = report_dir / "vitality-prod.html"
    html = page.read_text(encoding="utf-8")
    # The library is inside the page: nothing is fetched when it is opened.
    assert 'globalThis["mermaid"]' in html and not re.search(r"<script[^>]+src=", html)

    svg = rendered_svg(page)
    assert "Syntax error in text" not in svg
    for instance in instances:
        assert instance["DBInstanceIdentifier"] in svg, instance["DBInstanceIdentifier"]
        assert instance["AvailabilityZone"] in svg
    for part in (
        "vitality-prod-app-sg",
        "vitality-prod-db",
        "tcp 5432",
        "Operations baseline",
        "vitality-prod-db-events",
        # Both Regions of the global database (issue #17): the secondary cluster and its reader in us-west-2.
        "vitality-prod-global",
        "us-west-2",
        "vitality-prod-us-west-2",
        "vitality-prod-us-west-2-reader-1",
    ):
        assert part in svg, part

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    shot = chromium("--window-size=1400,2000", f"--screenshot={OUTPUT_DIR / 'report-prod.png'}", page.as_uri())
    assert shot.returncode == 0 and (OUTPUT_DIR / "report-prod.png").stat().st_size > 10_000, shot.stderr[-2000:]


def test_the_dev_report_shows_the_one_writer_and_the_subnet_without_an_instance(prod):
    local_aws, _provisioned = prod
    local_aws.seed(("dev",))
    provisioned = local_aws.run_playbook("playbooks/provision.yml", "inventories/dev")
    assert provisioned.ok, provisioned
    page = local_aws.outputs_dir / "report" / "vitality-dev.html"
    svg = rendered_svg(page)
    assert "Syntax error in text" not in svg
    assert "vitality-dev-aurora-writer" in svg and "no instance" in svg and "Operations baseline" not in svg
    shot = chromium("--window-size=1400,1300", f"--screenshot={OUTPUT_DIR / 'report-dev.png'}", page.as_uri())
    assert shot.returncode == 0 and (OUTPUT_DIR / "report-dev.png").stat().st_size > 10_000, shot.stderr[-2000:]


def task_status(stdout: str, task: str) -> str:
    """The first result word (ok, changed, skipping, ...) printed under ``TASK [... : task]``."""
    found = re.search(re.escape(f": {task}]") + r"[^\n]*\n(?:[^\n]*\n)*?(ok|changed|skipping|fatal)", stdout)
    assert found, f"no result of the task {task!r} in the output"
    return found.group(1)


@pytest.mark.parametrize("connection", ["local", "ansible.builtin.local"])
def test_on_the_machine_running_ansible_a_no_op_writes_no_file_and_runs_no_file_task(prod, connection):
    # The local connection by its short or its full name: aurora_stack writes the report itself and the outputs file
    # is compared on the controller, so an unchanged stack runs none of the file tasks (each is a module run).
    local_aws = prod[0]
    report_dir = local_aws.outputs_dir / "report"
    before = {path.name: path.stat().st_mtime_ns for path in report_dir.iterdir()}
    run = local_aws.run_playbook(
        "playbooks/provision.yml", "inventories/prod", extra_vars={"ansible_connection": connection}
    )
    assert run.ok and run.changed() == 0, run
    assert "Report of the stack unchanged: " in run.stdout, run
    assert task_status(run.stdout, "Write the report files on the host") == "skipping"
    assert task_status(run.stdout, "Write the outputs file") == "skipping"
    assert {path.name: path.stat().st_mtime_ns for path in report_dir.iterdir()} == before
