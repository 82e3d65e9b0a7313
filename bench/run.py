"""`make bench`: converge time and AWS calls of the role, the stock playbook and the lower bound.

    python bench/run.py [--envs dev prod] [--only SCENARIO ...] [--no-latency] [--out DIR]

One run, against private local AWS servers on free ports (never 4566):

1. moto (scripts/moto_server_ext.py, as the tests use) behind the recording proxy
   tests/aws_proxy.py.  For each environment and each tool (the role's playbooks/provision.yml,
   bench/stock/provision.yml, bench/lower_bound.py) on a freshly seeded account: first converge,
   no-op re-run, ``--check`` plan; wall time and the calls by action, read or mutating (scenario
   ``converge``).  In prod the role then runs once more with one setting changed, the cluster's
   backup retention one day longer (``prod-setting``; run alone, it first converges prod).  In dev,
   bench/floor.yml, one debug task run like the role, gives the floor of any ansible-playbook
   (``floor``).  Then 1, 4 and 16 dev stacks (inventories/fleet's shared settings, one host each)
   in one run each, ``--forks 16``: first converge and no-op (``fleet``).
2. moto with simulated latency (bench/moto_latency.py): the role creating prod, then rolling
   an instance class change over it (aurora_cluster_instance_change_strategy=rolling), then the
   class back by surge (prod's strategy); the launcher's busy windows give the instances
   unavailable at any moment, the fewest serving and the write downtime (the cluster failing
   over).  The same three role runs without latency give the baseline that is subtracted
   (Ansible's own time is not compressed 60x like AWS's) (scenario ``latency``).
3. moto with simulated latency: prod (its master password its own, as AWS's blue/green deployments need) upgraded
   from 16 to 17 in place, then, on a new prod, by blue/green (create and wait, then switch over); the write
   downtime of each, from the launcher's busy windows (scenario ``upgrade``).
4. moto with simulated latency: dev converged, then playbooks/drill.yml; the drill report's RTO (restore call to
   cluster and writer available, in simulated minutes) is a measured row (scenario ``drill``).

Writes bench/results/latest.md, latest.json and latest.png; a subset (--only) writes them to
tests/output/bench/ unless --out is given, leaving the recorded results alone.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for extra in (BENCH_DIR, REPO_ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import baseline_figures  # noqa: E402
import latency_config  # noqa: E402
import report  # noqa: E402

from aws_proxy import AwsProxy, round_trip  # noqa: E402
from local_aws import LocalAws  # noqa: E402

ROLE_PLAYBOOK = "playbooks/provision.yml"
STOCK_PLAYBOOK = "bench/stock/provision.yml"
FLOOR_PLAYBOOK = "bench/floor.yml"
NEW_CLASS = "db.r6g.xlarge"
SCENARIOS = (
    "converge",
    "prod-setting",
    "global",
    "floor",
    "fleet",
    "round-trip",
    "latency",
    "upgrade",
    "drill",
    "switchover",
)
# The round-trip scenario's time per AWS call (a host in the Region's area: tens of milliseconds; farther: more).
ROUND_TRIP_SECONDS = 0.1
DRILL_PLAYBOOK = "playbooks/drill.yml"
SWITCHOVER_PLAYBOOK = "playbooks/switchover.yml"
FLEET_GROUP_VARS = REPO_ROOT / "inventories" / "fleet" / "group_vars" / "aurora.yml"
SUBSET_OUT = REPO_ROOT / "tests" / "output" / "bench"


class LatencyAws(LocalAws):
    """LocalAws running bench/moto_latency.py (moto with busy windows) instead of the plain launcher."""

    def _command(self) -> list[str]:
        return [sys.executable, str(BENCH_DIR / "moto_latency.py"), "-H", self.host, "-p", str(self.port)]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def error_text(result) -> str:
    text = (result.stdout or "") + (result.stderr or "")
    for line in text.splitlines():
        if line.startswith(("fatal:", "failed:", "[ERROR]")) or "FAILED!" in line or "Traceback" in line:
            return line.strip()[:300]
    return f"rc={result.returncode}"


# prod's rows are of the stack's own Region, like the stock playbook and the lower bound (and like the latency
# scenarios' rolling changes and in-place upgrade, which concern the primary): prod's us-west-2 secondary, an Aurora
# Global Database, is measured in rows of its own (the `global` scenario), never silently added to or left out of them.
STACK_REGION_ONLY = {"aurora_cluster_secondary_region": ""}


def timed_playbook(view, playbook: str, inventory: str, *, secondary: bool = False, **kwargs) -> tuple[float, object]:
    if playbook == ROLE_PLAYBOOK and inventory == "inventories/prod" and not secondary:
        kwargs["extra_vars"] = {**STACK_REGION_ONLY, **(kwargs.get("extra_vars") or {})}
    started = time.monotonic()
    result = view.run_playbook(playbook, inventory, **kwargs)
    return time.monotonic() - started, result


def timed_lower_bound(view, env: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH_DIR / "lower_bound.py"), "--endpoint-url", view.endpoint_url, "--env", env],
        env=view.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    return time.monotonic() - started, proc


# Steps that change nothing, so they can be run again on the same stack: their wall time is the median of SAMPLES
# runs (each kept in the run's "samples"), which a one-off stall of the shared machine does not move.
REPEATED_STEPS = ("noop", "check", "floor", "global-noop", "global-check")
SAMPLES = 3


def measure(proxy: AwsProxy, env: str, tool: str, step: str, action, *args, **kwargs) -> dict:
    """Run ``action(*args, **kwargs)`` (a timed_* function) with a fresh call record; the run's figures. A step of
    REPEATED_STEPS runs SAMPLES times: the wall time is the median, and the outcome (ok, changed, calls) is the least
    favourable sample's, so a repeat that failed or changed something is never hidden behind the others."""
    samples = [measure_once(proxy, env, tool, step, action, *args, **kwargs)]
    # A failed run's time is no figure: it is not repeated.
    if step in REPEATED_STEPS and samples[0]["ok"]:
        samples += [measure_once(proxy, env, tool, step, action, *args, **kwargs) for _repeat in range(SAMPLES - 1)]
    if len(samples) == 1:
        return samples[0]
    worst = max(samples, key=lambda r: (not r["ok"], r["calls"]["mutating"], r.get("changed") or 0))
    seconds = sorted(r["seconds"] for r in samples)[len(samples) // 2]
    return dict(worst, seconds=seconds, samples=[r["seconds"] for r in samples])


def measure_once(proxy: AwsProxy, env: str, tool: str, step: str, action, *args, **kwargs) -> dict:
    proxy.clear_calls()
    seconds, result = action(*args, **kwargs)
    calls = report.summarize_calls(proxy.calls)
    run = {"env": env, "tool": tool, "step": step, "seconds": round(seconds, 2), "calls": calls}
    if isinstance(result, subprocess.CompletedProcess):
        run["ok"] = result.returncode == 0
        try:
            run["changed"] = int(json.loads(result.stdout.strip().splitlines()[-1])["changed"])
        except (ValueError, IndexError, KeyError):
            run["changed"] = None
        if not run["ok"]:
            run["error"] = (result.stderr.strip().splitlines() or ["?"])[-1][:300]
    else:
        run["ok"] = result.ok
        run["changed"] = result.changed()
        if not result.ok:
            run["error"] = error_text(result)
    log(
        f"{env} {tool} {step}: {seconds:.1f}s ok={run['ok']} changed={run.get('changed')} "
        f"calls={calls['total']} ({calls['mutating']} mutating)"
    )
    return run


def converge_comparison(aws: LocalAws, proxy: AwsProxy, envs: list[str], scenarios: set[str]) -> list[dict]:
    """The runs of the ``converge``, ``prod-setting`` and ``floor`` scenarios on the plain local AWS."""
    view = proxy.front(aws)
    runs: list[dict] = []
    for env in envs:
        inventory = f"inventories/{env}"
        for tool in report.TOOLS if "converge" in scenarios else ():
            aws.reset_and_seed([env])
            if tool == "lower":
                for step in ("first", "noop"):
                    runs.append(measure(proxy, env, tool, step, timed_lower_bound, view, env))
                continue
            playbook = ROLE_PLAYBOOK if tool == "role" else STOCK_PLAYBOOK
            for step in report.STEPS:
                runs.append(
                    measure(proxy, env, tool, step, timed_playbook, view, playbook, inventory, check=step == "check")
                )
            if tool == "role" and env == "prod" and "prod-setting" in scenarios:
                # On the stack the role just converged (and left unchanged twice).
                runs.append(setting_run(proxy, view))
            if tool == "role" and env == "dev" and "floor" in scenarios:
                # Right after the role's dev no-op and plan, in the same conditions.
                runs.append(floor_run(proxy, view))
            if tool == "stock" and not all(run["ok"] for run in runs[-3:]):
                # The playbook as a user writes it fails on moto (see bench/stock/provision.yml): keep those
                # failures on record and measure again with its workarounds, to have figures to compare.
                for run in runs[-3:]:
                    run["tool"] = "stock-as-written"
                aws.reset_and_seed([env])
                for step in report.STEPS:
                    run = measure(
                        proxy,
                        env,
                        tool,
                        step,
                        timed_playbook,
                        view,
                        playbook,
                        inventory,
                        check=step == "check",
                        extra_vars={"bench_stock_workarounds": True},
                    )
                    run["variant"] = "workarounds"
                    runs.append(run)
        if "converge" not in scenarios:
            if env == "dev" and "floor" in scenarios:
                runs.append(floor_run(proxy, view))
            if env == "prod" and "prod-setting" in scenarios:
                aws.reset_and_seed([env])
                runs.append(measure(proxy, env, "role", "first", timed_playbook, view, ROLE_PLAYBOOK, inventory))
                runs.append(setting_run(proxy, view))
    return runs


def round_trip_runs(aws: LocalAws, proxy: AwsProxy) -> list[dict]:
    """prod's no-op by the role and by the stock playbook (with its workarounds), each measured on the local AWS
    as it is, then with every call ROUND_TRIP_SECONDS slower: what the calls' round trips add to a run. The first
    converge before them runs with every call that much slower too."""
    view = proxy.front(aws)
    runs = []
    for tool, playbook, extra_vars in (
        ("role", ROLE_PLAYBOOK, None),
        ("stock", STOCK_PLAYBOOK, {"bench_stock_workarounds": True}),
    ):
        aws.reset_and_seed(["prod"])
        # The first converge at the same distance too, for the record: the role's makes more calls than the stock
        # playbook's (it also builds the operations baseline), and each is a round trip on AWS.
        proxy.set_rules(round_trip(ROUND_TRIP_SECONDS))
        first = measure(
            proxy,
            "prod",
            tool,
            "first-round-trip",
            timed_playbook,
            view,
            playbook,
            "inventories/prod",
            extra_vars=extra_vars,
        )
        first["round_trip"] = ROUND_TRIP_SECONDS
        runs.append(first)
        for step, rules in (("noop-local", ()), ("noop-round-trip", (round_trip(ROUND_TRIP_SECONDS),))):
            proxy.set_rules(*rules)
            run = measure(
                proxy, "prod", tool, step, timed_playbook, view, playbook, "inventories/prod", extra_vars=extra_vars
            )
            if not first["ok"]:
                run.update(ok=False, error=f"its first converge failed: {first.get('error', '?')}")
            run["round_trip"] = ROUND_TRIP_SECONDS if rules else 0.0
            # From the first call's arrival to the last one's answer: the run's time spent talking to AWS, which
            # the machine's load (ansible-playbook's own start, other processes) hardly moves, unlike the wall.
            arrivals = [call.time for call in proxy.calls]
            if arrivals:
                run["call_span"] = round(max(arrivals) - min(arrivals) + run["round_trip"], 2)
            runs.append(run)
        proxy.set_rules()
    return runs


def global_runs(aws: LocalAws, proxy: AwsProxy) -> list[dict]:
    """inventories/prod as written: the stack and its us-west-2 secondary (Aurora Global Database), built, re-run and
    planned on a freshly seeded account."""
    view = proxy.front(aws)
    aws.reset_and_seed(["prod"])
    return [
        measure(
            proxy,
            "prod",
            "role",
            step,
            timed_playbook,
            view,
            ROLE_PLAYBOOK,
            "inventories/prod",
            secondary=True,
            check=step == "global-check",
        )
        for step in report.GLOBAL_STEPS
    ]


def prod_inventory_value(name: str):
    """A variable of inventories/prod/group_vars/aurora.yml (the value the prod runs converge to)."""
    import yaml

    return yaml.safe_load((REPO_ROOT / "inventories" / "prod" / "group_vars" / "aurora.yml").read_text())[name]


SETTING_VAR = "aurora_cluster_backup_retention_period"


def setting_vars() -> dict:
    """One setting of prod changed: the cluster's backup retention one day longer (14 -> 15 today)."""
    return {SETTING_VAR: int(prod_inventory_value(SETTING_VAR)) + 1}


def setting_run(proxy: AwsProxy, view) -> dict:
    """The role on a converged prod with one setting changed (measured; the target counts its mutating calls)."""
    extra_vars = setting_vars()
    run = measure(
        proxy, "prod", "role", "setting", timed_playbook, view, ROLE_PLAYBOOK, "inventories/prod", extra_vars=extra_vars
    )
    run["extra_vars"] = extra_vars
    return run


def floor_run(proxy: AwsProxy, view) -> dict:
    """bench/floor.yml (one debug task) run exactly like the role's dev runs: the floor of any ansible-playbook."""
    return measure(proxy, "dev", "floor", "floor", timed_playbook, view, FLOOR_PLAYBOOK, "inventories/dev")


def fleet_inventory(directory: Path, stacks: int) -> Path:
    """An inventory of ``stacks`` dev stacks, inventories/fleet's shared settings, each host its own name."""
    import yaml

    inventory = directory / f"fleet-{stacks}"
    (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
    (inventory / "group_vars" / "aurora.yml").write_text(FLEET_GROUP_VARS.read_text())
    hosts = {
        f"vitality-fleet-{n:02d}": {"aurora_cluster_name": f"vitality-fleet-{n:02d}"} for n in range(1, stacks + 1)
    }
    group = {"vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"aurora": dict(group, hosts=hosts)}))
    return inventory


def fleet_runs(aws: LocalAws, proxy: AwsProxy, workdir: Path) -> list[dict]:
    """1, 4 and 16 dev stacks in one run each (first converge, then the no-op), on a freshly seeded account."""
    view = proxy.front(aws)
    runs = []
    for stacks in report.FLEET_SIZES:
        aws.reset_and_seed(["dev"])
        inventory = fleet_inventory(workdir, stacks)
        extra_args = [
            "--forks",
            str(report.FLEET_FORKS),
            "-e",
            f"aurora_cluster_outputs_file={workdir}/outputs/{{{{ aurora_cluster_name }}}}.json",
            "-e",
            f"aurora_cluster_report_dir={workdir}/report",
        ]
        for step in ("first", "noop"):
            run = measure(
                proxy,
                "fleet",
                "role",
                report.fleet_step(step, stacks),
                timed_playbook,
                view,
                ROLE_PLAYBOOK,
                str(inventory),
                extra_args=extra_args,
            )
            run["stacks"] = stacks
            runs.append(run)
    return runs


def latency_baselines(aws: LocalAws, proxy: AwsProxy) -> dict:
    """Baseline of the latency scenarios: the role's create and rolling change of prod without latency."""
    view = proxy.front(aws)
    aws.reset_and_seed(["prod"])
    return {
        "create": measure(proxy, "prod", "role", "first", timed_playbook, view, ROLE_PLAYBOOK, "inventories/prod"),
        "rolling": measure(
            proxy,
            "prod",
            "role",
            "rolling",
            timed_playbook,
            view,
            ROLE_PLAYBOOK,
            "inventories/prod",
            extra_vars=rolling_vars(),
        ),
        "surge": measure(
            proxy,
            "prod",
            "role",
            "surge",
            timed_playbook,
            view,
            ROLE_PLAYBOOK,
            "inventories/prod",
            extra_vars=surge_vars(),
        ),
    }


def rolling_vars() -> dict:
    # The rolling strategy named: prod's inventory makes class changes by surge.
    return {
        "aurora_cluster_instance_class": NEW_CLASS,
        "aurora_cluster_apply_immediately": True,
        "aurora_cluster_instance_change_strategy": "rolling",
    }


def surge_vars() -> dict:
    """After the rolling change: the class back to prod's own, by surge (prod's strategy)."""
    return {"aurora_cluster_instance_change_strategy": "surge"}


def read_windows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# The latency server runs AWS time 60 times faster (1 s stands for 1 minute); the role's longest pause between
# polls (20 s on real AWS) is scaled the same way, or each wait would overshoot by up to 20 AWS minutes.
REAL_MAX_POLL_SECONDS = 20.0
SCALED_POLL = {"aurora_cluster_wait_max_poll_interval": round(REAL_MAX_POLL_SECONDS / 60, 2)}


def latency_run(view, proxy: AwsProxy, window_log: Path, name: str, extra_vars=None) -> dict:
    """One role run against the latency server: wall time, busy windows and where the time went."""
    extra_vars = {**SCALED_POLL, **(extra_vars or {})}
    window_log.write_text("")
    proxy.clear_calls()
    t_start = time.time()
    seconds, result = timed_playbook(view, ROLE_PLAYBOOK, "inventories/prod", extra_vars=extra_vars)
    t_end = time.time()
    windows = read_windows(window_log)
    calls = report.summarize_calls(proxy.calls)
    log(f"latency: role {name} in {seconds:.1f}s ok={result.ok} calls={calls['total']}")
    run = {"wall": seconds, "ok": result.ok, "calls": calls, "busy_windows": windows}
    if not result.ok:
        run["error"] = error_text(result)
    if windows:
        first = min(w["start"] for w in windows)
        last = max(w["end"] for w in windows)
        spans = [(w["start"], w["end"]) for w in windows]
        run["timeline"] = (
            f"{name}: the first slow request came {first - t_start:.1f} s into the run; from it to the last "
            f"resource available {last - first:.1f} s passed, of which {report.union_length(spans):.1f} s had "
            f"a resource busy; the run ended {t_end - last:.1f} s after that; "
            f"{calls['read']} read and {calls['mutating']} mutating calls"
        )
    return run


def latency_scenarios(baselines: dict, workdir: Path, durations: dict) -> dict:
    window_log = workdir / "windows.jsonl"
    extra_env = {"BENCH_LATENCY": json.dumps(durations), "BENCH_LATENCY_LOG": str(window_log)}
    instances = 3  # prod: writer + 2 readers
    latency: dict = {"durations": durations, "notes": []}
    with LatencyAws(log_dir=workdir, extra_env=extra_env) as aws, AwsProxy(aws.endpoint_url) as proxy:
        view = proxy.front(aws)
        aws.reset_and_seed(["prod"])
        lower_wall, proc = timed_lower_bound(view, "prod")
        lower_wall = lower_wall if proc.returncode == 0 else None
        log(f"latency: lower bound creates prod in {lower_wall}")

        aws.reset_and_seed(["prod"])
        create = latency_run(view, proxy, window_log, "create prod")
        create_base = report.run_seconds(baselines.get("create"))
        latency["create"] = {
            "wall": create["wall"] if create["ok"] else None,
            "baseline": create_base,
            "net": create["wall"] - create_base if create["ok"] and create_base is not None else None,
            "sequential": durations["cluster_create"] + instances * durations["instance_create"],
            "slowest": max(durations["cluster_create"], durations["instance_create"]),
            "lower_wall": lower_wall,
            "run": create,
        }
        latency["notes"].append(create.get("timeline") or create.get("error", "create: no busy window"))
        if not create["ok"]:
            return latency

        roll = latency_run(view, proxy, window_log, "rolling class change", extra_vars=rolling_vars())
        roll_base = report.run_seconds(baselines.get("rolling"))
        instance_windows = [(w["start"], w["end"]) for w in roll["busy_windows"] if w["kind"] == "instance"]
        latency["rolling"] = {
            "wall": roll["wall"] if roll["ok"] else None,
            "baseline": roll_base,
            "net": roll["wall"] - roll_base if roll["ok"] and roll_base is not None else None,
            "sequential": instances * durations["instance_class_change"],
            "slowest": durations["instance_class_change"],
            "bound": (instances + 1) * durations["instance_class_change"],
            "max_unavailable": report.max_overlap(instance_windows) if instance_windows else None,
            "run": roll,
        }
        latency["notes"].append(roll.get("timeline") or roll.get("error", "rolling: no busy window"))
        order = [
            f"{w['id'].removeprefix('vitality-prod-aurora') or 'cluster'} {w['status']}" for w in roll["busy_windows"]
        ]
        latency["notes"].append("rolling class change, in order: " + ", ".join(order))
        latency["rolling"].update(instance_change_figures(roll["busy_windows"], instances))
        if not roll["ok"]:
            return latency

        surge = latency_run(view, proxy, window_log, "surge class change", extra_vars=surge_vars())
        latency["surge"] = surge_row(surge, report.run_seconds(baselines.get("surge")), durations, instances)
        latency["notes"].append(surge.get("timeline") or surge.get("error", "surge: no busy window"))
        order = [
            f"{w['id'].removeprefix('vitality-prod-aurora') or 'cluster'} {w['status']}" for w in surge["busy_windows"]
        ]
        latency["notes"].append("surge class change, in order: " + ", ".join(order))
    return latency


# Blue/green deployments need a master password of the stack's own (AWS refuses one Secrets Manager manages).
OWN_PASSWORD = {
    "aurora_cluster_manage_master_user_password": False,
    "aurora_cluster_master_user_password": "Bench-upgrade-2026",
}
MAJOR_UPGRADE = {"aurora_cluster_engine_version": "17.4", "aurora_cluster_allow_major_version_upgrade": True}


def upgrade_scenario(workdir: Path, durations: dict) -> dict:
    """A major upgrade of prod in place, then by blue/green on a new prod: wall time and write downtime of each."""
    window_log = workdir / "upgrade-windows.jsonl"
    extra_env = {"BENCH_LATENCY": json.dumps(durations), "BENCH_LATENCY_LOG": str(window_log)}
    instances = 3
    figures: dict = {"durations": durations, "notes": []}
    strategies = {
        "in-place": [dict(MAJOR_UPGRADE, aurora_cluster_major_upgrade_strategy="in-place")],
        # Two runs, as the guide's commands: the deployment made and waited for, then the switchover.
        "blue-green": [
            dict(MAJOR_UPGRADE, aurora_cluster_major_upgrade_strategy="blue-green"),
            dict(
                MAJOR_UPGRADE,
                aurora_cluster_major_upgrade_strategy="blue-green",
                aurora_cluster_blue_green_switchover=True,
            ),
        ],
    }
    with LatencyAws(log_dir=workdir, extra_env=extra_env) as aws, AwsProxy(aws.endpoint_url) as proxy:
        view = proxy.front(aws)
        for strategy, steps in strategies.items():
            aws.reset_and_seed(["prod"])
            created = latency_run(view, proxy, window_log, f"create prod for {strategy}", extra_vars=OWN_PASSWORD)
            if not created["ok"]:
                figures[strategy] = {"ok": False, "error": created.get("error", "create failed")}
                continue
            runs = [
                latency_run(
                    view,
                    proxy,
                    window_log,
                    f"major upgrade {strategy} ({n + 1}/{len(steps)})",
                    extra_vars={**OWN_PASSWORD, **vars_},
                )
                for n, vars_ in enumerate(steps)
            ]
            windows = [w for run in runs for w in run["busy_windows"]]
            ok = all(run["ok"] for run in runs)
            figures[strategy] = {
                "ok": ok,
                "wall": sum(run["wall"] for run in runs),
                "runs": runs,
                "write_downtime": report.write_downtime(windows),
                "simulated_upgrade": durations["cluster_major_upgrade"],
                "instances": instances,
            }
            if strategy == "in-place":
                # The blue/green's green instances are new ones, not serving: "fewest serving" is the in-place's only.
                figures[strategy]["min_available"] = report.fewest_available(instances, windows)
            if not ok:
                figures[strategy]["error"] = next(run.get("error", "") for run in runs if not run["ok"])
            figures["notes"] += [run.get("timeline") or run.get("error", "no busy window") for run in runs]
            log(f"upgrade {strategy}: write downtime {figures[strategy]['write_downtime']:.1f} s, ok={ok}")
    return figures


def drill_scenario(workdir: Path, durations: dict) -> dict:
    """The restore drill's RTO under latency: dev converged, then playbooks/drill.yml; its report's figures."""
    extra_env = {"BENCH_LATENCY": json.dumps(durations)}
    with LatencyAws(log_dir=workdir, extra_env=extra_env) as aws:
        aws.reset_and_seed(["dev"])
        converged = aws.run_playbook(ROLE_PLAYBOOK, "inventories/dev", extra_vars=SCALED_POLL)
        if not converged.ok:
            return {"ok": False, "error": "dev converge: " + error_text(converged)}
        seconds, drilled = timed_playbook(aws, DRILL_PLAYBOOK, "inventories/dev", extra_vars=SCALED_POLL)
        reports = sorted((aws.outputs_dir / "report").glob("vitality-dev-drill-*.json"))
        found = json.loads(reports[-1].read_text()) if reports else {}
    drill = {
        "ok": drilled.ok,
        "wall": seconds,
        "rto": found.get("rto_seconds"),
        "cluster": found.get("cluster_available_seconds"),
        "rpo": found.get("rpo_seconds"),
        "left": (found.get("cleanup") or {}).get("left"),
        # The launcher restores as it creates (a cluster create's window), then the writer's create.
        "simulated": durations["cluster_create"] + durations["instance_create"],
    }
    if not drilled.ok:
        drill["error"] = error_text(drilled)
    log(f"drill: RTO {drill['rto']} s (simulated minutes), wall {seconds:.1f}s ok={drilled.ok}")
    return drill


def global_database(aws: LocalAws) -> None:
    """prod's global database as the runbooks find it (plugins/module_utils/naming.py's names), made with boto3: the
    stack's cluster primary in us-east-1, its secondary in us-west-2; returns once both are available."""
    east, west = aws.client("rds"), aws.client("rds", "us-west-2")
    primary = east.create_db_cluster(
        DBClusterIdentifier="vitality-prod-aurora",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="vitality_admin",
        MasterUserPassword="Bench-switchover-2026",
    )["DBCluster"]
    east.create_global_cluster(
        GlobalClusterIdentifier="vitality-prod-global", SourceDBClusterIdentifier=primary["DBClusterArn"]
    )
    west.create_db_cluster(
        DBClusterIdentifier="vitality-prod-us-west-2",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        GlobalClusterIdentifier="vitality-prod-global",
    )
    for client, identifier in ((east, "vitality-prod-aurora"), (west, "vitality-prod-us-west-2")):
        while client.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["Status"] != "available":
            time.sleep(0.2)


def switchover_scenario(workdir: Path, durations: dict) -> dict:
    """A managed switchover of prod's global database to us-west-2 under latency: the writes' downtime (the former
    primary switching over) and the run's wall time, the guide's command."""
    window_log = workdir / "switchover-windows.jsonl"
    extra_env = {"BENCH_LATENCY": json.dumps(durations), "BENCH_LATENCY_LOG": str(window_log)}
    with LatencyAws(log_dir=workdir, extra_env=extra_env) as aws:
        aws.reset()
        global_database(aws)
        window_log.write_text("")
        seconds, switched = timed_playbook(
            aws,
            SWITCHOVER_PLAYBOOK,
            "inventories/prod",
            extra_vars={**SCALED_POLL, "aurora_cluster_switchover_target_region": "us-west-2"},
        )
        windows = read_windows(window_log)
        members = aws.client("rds").describe_global_clusters(GlobalClusterIdentifier="vitality-prod-global")[
            "GlobalClusters"
        ][0]
        writer = [m["DBClusterArn"].split(":")[3] for m in members["GlobalClusterMembers"] if m["IsWriter"]]
    figures = {
        "ok": switched.ok and writer == ["us-west-2"],
        "wall": seconds,
        "write_downtime": report.write_downtime(windows),
        "simulated": durations["global_switchover"],
        "writer": writer,
    }
    if not figures["ok"]:
        figures["error"] = error_text(switched) if not switched.ok else f"the writer is in {writer}, not us-west-2"
    log(
        f"switchover: write downtime {figures['write_downtime']:.1f} s (simulated minutes), wall {seconds:.1f}s ok={figures['ok']}"
    )
    return figures


def instance_change_figures(windows: list[dict], instances: int) -> dict:
    """Write downtime (the cluster failing over) and the fewest instances serving, of an instance change."""
    return {
        "instances": instances,
        "write_downtime": report.write_downtime(windows),
        "min_available": report.fewest_available(instances, windows),
    }


def surge_row(surge: dict, baseline: float | None, durations: dict, instances: int) -> dict:
    """The surge's figures: its target is 1.5 x one instance creation (the creates run together, one wait)."""
    unavailable = [
        (w["start"], w["end"]) for w in surge["busy_windows"] if w["kind"] == "instance" and w["status"] != "creating"
    ]
    return {
        "wall": surge["wall"] if surge["ok"] else None,
        "baseline": baseline,
        "net": surge["wall"] - baseline if surge["ok"] and baseline is not None else None,
        "sequential": instances * durations["instance_create"] + durations["cluster_failover"],
        "slowest": durations["instance_create"],
        "bound": 1.5 * durations["instance_create"],
        "max_unavailable": report.max_overlap(unavailable) if unavailable else 0,
        "run": surge,
        **instance_change_figures(surge["busy_windows"], instances),
    }


def method_notes(runs: list[dict], baselines: dict) -> list[str]:
    today = baseline_figures.TODAY["setting"]
    notes = [
        "dev is like for like. In prod the role also builds the inventory's operations baseline (Enhanced "
        "Monitoring IAM role, SNS topic and RDS event subscriptions, AWS Backup plan); the stock playbook and the "
        "lower bound build the core stack only (security group, subnet group, parameter group, cluster, instances).",
        "prod's rows are of the stack's Region (`-e aurora_cluster_secondary_region=`), as are the latency "
        "scenarios' prod runs; the rows 'with the us-west-2 secondary' run inventories/prod as written, which also "
        "builds and reads the Aurora Global Database's secondary cluster, its reader and its network in us-west-2.",
        f"The no-op, --check and floor wall times are the median of {SAMPLES} runs of the same step, one after the "
        "other (all in latest.json's samples; calls and changed are the least favourable run's); every other "
        "figure is one run. On a 2-core machine shared with other work, wall times move by tens of percent from "
        "run to run.",
        "The role's waits (plugins/module_utils/waiting.py) poll after 1, 2, 4, 8, 16, then every 20 s on real "
        "AWS (aurora_cluster_wait_max_poll_interval). Time runs 60 times faster on the latency server, so its runs "
        f"scale that bound the same way ({SCALED_POLL['aurora_cluster_wait_max_poll_interval']} s); unscaled, a "
        "10 s step would be seen about 15 s after it began. The runs without latency keep the default. "
        "The lower bound polls every 0.25 s.",
        "Floor: bench/floor.yml (hosts: aurora, gather_facts: false, one ansible.builtin.debug task) is run with "
        "the same ansible-playbook, environment (ANSIBLE_*, AWS_*), -e arguments and inventory (inventories/dev: "
        "the host vitality-dev, connection local, the controller's Python) as the role's dev runs, right after "
        "them: what is left of the dev no-op above it is the role's own work (its module process, its tasks, the "
        "outputs file). `-i localhost,` would skip the inventory and group_vars the role's runs load.",
        "One setting changed: after prod's first converge, no-op and plan, the role runs with "
        f"`-e {SETTING_VAR}=<inventories/prod's + 1>`. Only the cluster differs, so the target passes only if "
        "every mutating call is ModifyDBCluster (AWS Backup's REST writes count as mutating too). Its wall time "
        f"is compared with today's figure, {today['seconds']:.1f} s, measured on commit {today['commit'][:7]} "
        f"on {today['date']} (bench/baseline_figures.py).",
    ]
    first = report.run_seconds(report.find_run(runs, "prod", "role", "first"))
    again = report.run_seconds(baselines.get("create"))
    if first is not None and again is not None:
        notes.append(
            f"Noise in this run: the role's prod first converge took {first:.1f} s and, measured again as the "
            f"latency baseline, {again:.1f} s."
        )
    return notes


def versions() -> str:
    names = ("ansible-core", "ansible", "boto3", "moto", "matplotlib")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} ?")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def machine() -> str:
    return f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["dev", "prod"], choices=["dev", "prod"])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIOS,
        metavar="SCENARIO",
        help=f"run only these scenarios ({', '.join(SCENARIOS)}; default: all): converge = role, stock and lower "
        "bound, first converge / no-op / plan per env; prod-setting = the role with one prod setting changed "
        "(alone, after a first converge of its own); floor = bench/floor.yml on dev; fleet = 1, 4 and "
        "16 dev stacks in one run each (first converge and no-op); round-trip = prod's no-op by the role and the "
        f"stock playbook, as is and with {ROUND_TRIP_SECONDS * 1000:.0f} ms per AWS call; latency = the simulated-latency "
        "scenarios and their baselines (prod); upgrade = a major upgrade in place vs blue/green under latency (prod); "
        "drill = the restore drill's RTO under latency (dev); switchover = the global database's managed switchover "
        "under latency (prod). The report says 'not measured' for every target left out. "
        f"Writes to {SUBSET_OUT.relative_to(REPO_ROOT)}/ unless --out is given.",
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the simulated-latency scenarios")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: bench/results)")
    args = parser.parse_args(argv)
    scenarios = set(args.only or SCENARIOS)
    if args.no_latency:
        scenarios.discard("latency")
    out = args.out or (SUBSET_OUT if args.only else BENCH_DIR / "results")
    out.mkdir(parents=True, exist_ok=True)
    for scenario, env in (
        ("prod-setting", "prod"),
        ("global", "prod"),
        ("latency", "prod"),
        ("upgrade", "prod"),
        ("floor", "dev"),
        ("drill", "dev"),
        ("switchover", "prod"),
    ):
        if scenario in scenarios and env not in args.envs:
            log(f"{scenario}: skipped, it needs --envs {env}")
            scenarios.discard(scenario)
    started = time.monotonic()
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "scenarios": sorted(scenarios),
    }
    baselines: dict = {}
    with tempfile.TemporaryDirectory(prefix="vitality-bench-") as tmp:
        workdir = Path(tmp)
        with LocalAws(log_dir=workdir) as aws, AwsProxy(aws.endpoint_url) as proxy:
            runs = converge_comparison(aws, proxy, args.envs, scenarios)
            if "global" in scenarios:
                runs += global_runs(aws, proxy)
            if "fleet" in scenarios:
                runs += fleet_runs(aws, proxy, workdir)
            if "round-trip" in scenarios and "prod" in args.envs:
                runs += round_trip_runs(aws, proxy)
            if "latency" in scenarios:
                baselines = latency_baselines(aws, proxy)
        latency = None
        if "latency" in scenarios:
            latency = latency_scenarios(baselines, workdir, latency_config.durations())
        if "upgrade" in scenarios:
            latency = latency or {"durations": latency_config.durations(), "notes": []}
            latency["upgrade"] = upgrade_scenario(workdir, latency_config.durations())
            latency["notes"] += latency["upgrade"].pop("notes")
        if "drill" in scenarios:
            latency = latency or {"durations": latency_config.durations(), "notes": []}
            latency["drill"] = drill_scenario(workdir, latency_config.durations())
        if "switchover" in scenarios:
            latency = latency or {"durations": latency_config.durations(), "notes": []}
            latency["switchover"] = switchover_scenario(workdir, latency_config.durations())
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["notes"] = method_notes(runs, baselines)
    text = report.render_markdown(meta, runs, latency, args.envs)
    targets = report.evaluate_targets(runs, latency)
    (out / "latest.md").write_text(text)
    (out / "latest.json").write_text(
        json.dumps(
            {"meta": meta, "runs": runs, "baselines": baselines, "latency": latency, "targets": targets},
            indent=2,
            default=str,
        )
    )
    report.render_chart(runs, latency, args.envs, out / "latest.png")
    print(text)
    log(f"done in {meta['seconds']}s: {out / 'latest.md'}, latest.json, latest.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
