"""Pure logic of the benchmark: call summaries, ratios, targets, the Markdown table and the chart.

Nothing here talks to AWS or runs a playbook (bench/run.py does); tests/unit/test_bench_report.py
covers it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import baseline_figures

TOOLS = ("role", "stock", "lower")
TOOL_TITLES = {
    "role": "vitality.aurora role",
    "stock": "stock amazon.aws",
    "stock-as-written": "stock amazon.aws as written",
    "lower": "boto3 lower bound",
    "floor": "one-task ansible-playbook (bench/floor.yml)",
}
STEPS = ("first", "noop", "check")
# inventories/prod as written, with its us-west-2 secondary (the `global` scenario); prod's other rows are of the
# stack's Region only, like the stock playbook's.
GLOBAL_STEPS = ("global-first", "global-noop", "global-check")
# Runs of the role only (no stock or lower-bound counterpart): a setting changed after prod's first converge, and
# prod with its secondary.
ROLE_ONLY_STEPS = ("setting", *GLOBAL_STEPS)
STEP_TITLES = {
    "first": "first converge",
    "noop": "no-op re-run",
    "check": "--check plan",
    "setting": "one setting changed",
    "global-first": "first converge, with the us-west-2 secondary",
    "global-noop": "no-op re-run, with the us-west-2 secondary",
    "global-check": "--check plan, with the us-west-2 secondary",
    "floor": "one debug task",
}
READ_PREFIXES = ("Describe", "List", "Get")
# The fleet scenario: this many dev stacks in one run (env "fleet", steps "first-<n>" and "noop-<n>").
FLEET_SIZES = (1, 4, 16)
FLEET_FORKS = 16
# AWS calls per stack may vary a little between runs (a wait's polls); beyond this share it is not linear.
FLEET_LINEAR_SLACK = 1.10
FLEET_NOOP_LIMIT = 4.0
# The only mutating action a change of the cluster's backup retention may make: it touches the cluster alone.
SETTING_CHANGE_ACTIONS = frozenset({"ModifyDBCluster"})


def summarize_calls(calls: Iterable) -> dict:
    """{total, read, mutating, other, by_action: {action: n}} of recorded calls (.service, .action, .operation).

    The proxy names the action of query and JSON-protocol calls, and the operation of the REST calls
    it knows (AWS Backup's: tests/aws_proxy.py REST_OPERATIONS); either is read (Describe*/List*/Get*)
    or mutating (any other).  A REST call it cannot name is counted as ``other`` (neither read nor
    mutating: unclassified) under "<service> REST".  A request with neither action nor service is
    moto's own API (reset), not an AWS call.
    """
    by_action: Counter = Counter()
    read = mutating = other = 0
    for call in calls:
        name = call.action or getattr(call, "operation", "")
        if name:
            by_action[name] += 1
            if name.startswith(READ_PREFIXES):
                read += 1
            else:
                mutating += 1
        elif getattr(call, "service", ""):
            by_action[f"{call.service} REST"] += 1
            other += 1
    return {
        "total": read + mutating + other,
        "read": read,
        "mutating": mutating,
        "other": other,
        "by_action": dict(sorted(by_action.items())),
    }


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return value / reference


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def fmt_seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def max_overlap(windows: Sequence[tuple[float, float]]) -> int:
    """The largest number of [start, end) windows open at one moment."""
    opened = [(start, 1) for start, end in windows if end > start]
    closed = [(end, -1) for start, end in windows if end > start]
    # At equal times the closing (-1) sorts first: a window ending as another starts is not an overlap.
    most = current = 0
    for event in sorted(opened + closed):
        current += event[1]
        most = max(most, current)
    return most


def union_length(windows: Sequence[tuple[float, float]]) -> float:
    """Total time covered by at least one [start, end) window."""
    total = 0.0
    reach = None
    for start, end in sorted(windows):
        if reach is None or start > reach:
            total += max(0.0, end - start)
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def fewest_available(initial: int, windows: Sequence[dict]) -> int:
    """The fewest instances serving at any moment of a run that starts with ``initial`` instances serving.

    ``windows`` are the latency launcher's instance records: a ``creating`` window is a new instance, serving from
    its end; a ``modifying`` or ``rebooting`` one takes an instance out of service for its length; a ``deleted`` one
    (start = end) removes an instance for good."""
    events = []
    for window in windows:
        if window.get("kind") != "instance":
            continue
        status, start, end = window.get("status"), window["start"], window["end"]
        if status == "creating":
            events.append((end, 1))
        elif status == "deleted":
            events.append((start, -1))
        elif end > start:
            events += [(start, -1), (end, 1)]
    # At equal times an instance back in service counts before one leaving it.
    fewest = current = initial
    for _at, change in sorted(events, key=lambda e: (e[0], -e[1])):
        current += change
        fewest = min(fewest, current)
    return fewest


# The cluster states in which it takes no writes: a failover, a blue/green switchover, a major upgrade in place.
WRITE_STOPPED = ("failing-over", "switching-over", "upgrading")


def write_downtime(windows: Sequence[dict]) -> float:
    """Seconds the cluster took no writes (failing over, switching over, or upgrading in place)."""
    return union_length(
        [(w["start"], w["end"]) for w in windows if w.get("kind") == "cluster" and w.get("status") in WRITE_STOPPED]
    )


def find_run(runs: Sequence[dict], env: str, tool: str, step: str) -> dict | None:
    for run in runs:
        if (run["env"], run["tool"], run["step"]) == (env, tool, step):
            return run
    return None


def run_seconds(run: dict | None) -> float | None:
    """Wall time of a run that succeeded; None when it failed or was not run."""
    if run is None or not run.get("ok"):
        return None
    return run["seconds"]


def calls_cell(run: dict | None) -> str:
    if run is None:
        return "n/a"
    calls = run.get("calls")
    if not calls:
        return "n/a"
    text = f"{calls['total']} ({calls['read']} r / {calls['mutating']} m"
    if calls.get("other"):
        text += f" / {calls['other']} REST"
    return text + ")"


def time_cell(run: dict | None) -> str:
    if run is None:
        return "n/a"
    text = fmt_seconds(run["seconds"])
    if run.get("variant"):
        text += "*"
    if not run.get("ok"):
        text += " FAILED"
    elif run.get("changed") is not None and not run["step"].startswith("first"):
        text += f", changed={run['changed']}"
    return text


def comparison_rows(runs: Sequence[dict], envs: Sequence[str]) -> list[list[str]]:
    rows = []
    for env in envs:
        for step in STEPS:
            cells = {tool: find_run(runs, env, tool, step) for tool in TOOLS}
            role_s = run_seconds(cells["role"])
            rows.append(
                [
                    env,
                    STEP_TITLES[step],
                    time_cell(cells["role"]),
                    calls_cell(cells["role"]),
                    time_cell(cells["stock"]),
                    calls_cell(cells["stock"]),
                    time_cell(cells["lower"]),
                    calls_cell(cells["lower"]),
                    fmt_ratio(ratio(role_s, run_seconds(cells["stock"]))),
                    fmt_ratio(ratio(role_s, run_seconds(cells["lower"]))),
                ]
            )
        for step in ROLE_ONLY_STEPS:
            run = find_run(runs, env, "role", step)
            if run is not None:
                rows.append([env, STEP_TITLES[step], time_cell(run), calls_cell(run)] + ["-"] * 6)
    return rows


COMPARISON_HEADER = [
    "env",
    "step",
    "role wall",
    "role calls",
    "stock wall",
    "stock calls",
    "lower-bound wall",
    "lower-bound calls",
    "role / stock",
    "role / lower",
]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for column in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def target(name: str, measured: str, limit: str, passed: bool | None, why: str = "", reference: bool = False) -> dict:
    """One row of the Targets table; ``passed`` None: could not be measured (never a pass).

    A ``reference`` row is a measurement other targets are relative to (passed True: measured).
    """
    row = {"name": name, "measured": measured, "limit": limit, "passed": passed, "why": why}
    if reference:
        row["reference"] = True
    return row


def not_measured_why(run: dict | None) -> str:
    """Why a run gives no figure ("" when it does): not run, or failed."""
    if run is None:
        return "not run"
    if not run.get("ok"):
        return "the run failed" + (f": {run['error']}" if run.get("error") else "")
    if not run.get("calls"):
        return "no calls recorded"
    return ""


def mutating_actions(calls: dict) -> dict[str, int]:
    """{action: n} of the mutating calls (actions and named REST operations that are not Describe/List/Get)."""
    return {
        action: n
        for action, n in calls.get("by_action", {}).items()
        if not action.startswith(READ_PREFIXES) and not action.endswith(" REST")
    }


def actions_text(actions: dict[str, int]) -> str:
    return ", ".join(f"{action} {n}" for action, n in sorted(actions.items())) or "none"


def call_targets(label: str, run: dict | None, max_total: int) -> list[dict]:
    """ "<label>: mutating calls" (0) and "<label>: AWS calls in all" (<= max_total) of one run."""
    why = not_measured_why(run)
    if why:
        return [
            target(f"{label}: mutating calls", "n/a", "0", None, why),
            target(f"{label}: AWS calls in all", "n/a", f"<= {max_total}", None, why),
        ]
    calls = run["calls"]
    mutating = calls["mutating"]
    measured = str(mutating) + (f" ({actions_text(mutating_actions(calls))})" if mutating else "")
    if mutating:
        passed, why = False, ""
    elif calls.get("other"):
        # A call the proxy could not name may have been a write: no pass on an unknown.
        passed, why = None, f"{calls['other']} REST calls the proxy could not classify"
    else:
        passed, why = True, ""
    return [
        target(f"{label}: mutating calls", measured, "0", passed, why),
        target(f"{label}: AWS calls in all", str(calls["total"]), f"<= {max_total}", calls["total"] <= max_total),
    ]


def global_targets(runs: Sequence[dict]) -> list[dict]:
    """prod with its us-west-2 secondary: a no-op and a plan make no mutating call and change nothing; their calls
    are a measurement (the issue's 20-call limit is for the stack's Region, the secondary's reads come on top)."""
    results = []
    for step, label in (
        ("global-noop", "prod no-op with its secondary"),
        ("global-check", "prod --check plan with its secondary"),
    ):
        run = find_run(runs, "prod", "role", step)
        mutating, calls = call_targets(label, run, 0)
        results.append(mutating)
        why = not_measured_why(run)
        if why:
            results.append(target(f"{label}: changed", "n/a", "changed=0", None, why))
            results.append(target(calls["name"], "n/a", "measured (no limit)", False, why, reference=True))
            continue
        changed = run.get("changed")
        results.append(target(f"{label}: changed", f"changed={changed}", "changed=0", changed == 0))
        results.append(
            target(calls["name"], calls["measured"], "measured (no limit)", True, "both Regions' reads", reference=True)
        )
    return results


def ratio_target(name: str, run: dict | None, reference: dict | None, limit: float, why: str = "") -> dict:
    """``run``'s wall time over ``reference``'s, at most ``limit``; not measured when either failed or is missing."""
    value = ratio(run_seconds(run), run_seconds(reference))
    if value is None:
        missing = [
            f"{what}: {not_measured_why(r) or 'no time'}"
            for what, r in (("measured run", run), ("reference", reference))
            if run_seconds(r) is None
        ]
        why = "; ".join(missing) or "the reference took no time"
    return target(name, fmt_ratio(value), f"<= {limit:.2f}x", None if value is None else value <= limit, why)


def floor_target(floor: dict | None) -> dict:
    seconds = run_seconds(floor)
    return target(
        "dev floor: one-task ansible-playbook (bench/floor.yml), the reference of the dev no-op",
        fmt_seconds(seconds),
        "reference",
        None if seconds is None else True,
        not_measured_why(floor) if seconds is None else "same ansible-playbook, env and dev inventory as the role",
        reference=True,
    )


def setting_targets(run: dict | None, today: dict | None) -> list[dict]:
    """Prod with one setting changed: wall vs today's figure (<= 0.5x), and the cluster alone modified."""
    name = "prod one setting changed (backup retention +1): "
    seconds = run_seconds(run)
    today_seconds = (today or {}).get("seconds")
    value = ratio(seconds, today_seconds)
    if today_seconds:
        source = f"today: {today_seconds:.1f} s at {today.get('commit', '?')[:7]} on {today.get('date', '?')}"
    else:
        source = "no figure of today recorded"
    if value is None:
        why = not_measured_why(run) or source
        measured = "n/a"
    else:
        why, measured = source, f"{fmt_ratio(value)} ({fmt_seconds(seconds)})"
    rows = [target(name + "wall vs today's figure", measured, "<= 0.50x", None if value is None else value <= 0.5, why)]
    why = not_measured_why(run)
    if why:
        rows.append(target(name + "mutating calls by action", "n/a", "ModifyDBCluster only", None, why))
        return rows
    calls = run["calls"]
    actions = mutating_actions(calls)
    if not actions:
        passed, why = False, "no mutating call: the change was not made"
    elif set(actions) - SETTING_CHANGE_ACTIONS:
        passed, why = False, "touches more than the cluster"
    elif calls.get("other"):
        passed, why = None, f"{calls['other']} REST calls the proxy could not classify"
    else:
        passed, why = True, "only the cluster differs"
    rows.append(target(name + "mutating calls by action", actions_text(actions), "ModifyDBCluster only", passed, why))
    return rows


def latency_targets(latency: dict | None) -> list[dict]:
    names = (
        ("prod create (latency): role vs slowest single step", "<= 1.20x"),
        ("rolling class change (latency): role vs (instances+1) x one modify", "<= 1.00x"),
        ("rolling class change: instances unavailable at once", "<= 1"),
        ("surge class change (latency): role vs 1.5 x one instance creation", "<= 1.00x"),
        ("surge class change: fewest instances available vs before", ">= before"),
    )
    if not latency:
        return [target(name, "n/a", limit, None, "the latency scenarios were not run") for name, limit in names]
    create = latency.get("create") or {}
    roll = latency.get("rolling") or {}
    results = []
    value = ratio(create.get("net"), create.get("slowest"))
    results.append(
        target(
            names[0][0],
            fmt_ratio(value),
            names[0][1],
            None if value is None else value <= 1.2,
            "net of the same run without latency",
        )
    )
    value = ratio(roll.get("net"), roll.get("bound"))
    results.append(
        target(
            names[1][0],
            fmt_ratio(value),
            names[1][1],
            None if value is None else value <= 1.0,
            "net of the same run without latency",
        )
    )
    most = roll.get("max_unavailable")
    results.append(
        target(names[2][0], "n/a" if most is None else str(most), names[2][1], None if most is None else most <= 1)
    )
    surge = latency.get("surge") or {}
    if not surge:
        results += [target(name, "n/a", limit, None, "the surge scenario was not run") for name, limit in names[3:]]
        return results
    value = ratio(surge.get("net"), surge.get("bound"))
    results.append(
        target(
            names[3][0],
            fmt_ratio(value),
            names[3][1],
            None if value is None else value <= 1.0,
            "net of the same run without latency; the launcher deletes an instance at once (AWS takes minutes, "
            "with the new instances serving)",
        )
    )
    fewest, before = surge.get("min_available"), surge.get("instances")
    results.append(
        target(
            names[4][0],
            "n/a" if fewest is None else f"{fewest} of {before}",
            names[4][1],
            None if fewest is None else fewest >= before,
        )
    )
    return results


def evaluate_targets(runs: Sequence[dict], latency: dict | None, today: dict | None = None) -> list[dict]:
    """The issue's targets, each as measured value, limit and pass/fail (None: could not be measured).

    ``today``: the figures of the code before the rewrite ({"setting": {seconds, commit, date}}),
    bench/baseline_figures.py's by default.
    """
    if today is None:
        today = baseline_figures.TODAY

    def find(env: str, tool: str, step: str) -> dict | None:
        return find_run(runs, env, tool, step)

    stock_prod_noop = find("prod", "stock", "noop")
    floor = find("dev", "floor", "floor")
    results = call_targets("dev no-op", find("dev", "role", "noop"), 10)
    results.append(
        ratio_target("dev no-op: wall vs stock", find("dev", "role", "noop"), find("dev", "stock", "noop"), 0.5)
    )
    results.append(floor_target(floor))
    results.append(
        ratio_target("dev no-op: wall vs the one-task floor", find("dev", "role", "noop"), floor, 2.5, "same run")
    )
    for step, label in (("noop", "prod no-op"), ("check", "prod --check plan")):
        run = find("prod", "role", step)
        results += call_targets(label, run, 20)
        results.append(ratio_target(f"{label}: wall vs stock no-op", run, stock_prod_noop, 0.5))
    results += setting_targets(find("prod", "role", "setting"), today.get("setting"))
    if any(find("prod", "role", step) for step in GLOBAL_STEPS):
        results += global_targets(runs)
    for env, limit in (("dev", 0.6), ("prod", 0.8)):
        results.append(
            ratio_target(
                f"{env} first converge: wall vs stock", find(env, "role", "first"), find(env, "stock", "first"), limit
            )
        )
    results += latency_targets(latency)
    if (latency or {}).get("upgrade"):
        results += upgrade_targets(latency["upgrade"])
    if (latency or {}).get("drill"):
        results.append(drill_target(latency["drill"]))
    if (latency or {}).get("switchover"):
        results.append(switchover_target(latency["switchover"]))
    if any(run["env"] == "fleet" for run in runs):
        results += fleet_targets(runs)
    if find("prod", "role", "noop-round-trip") is not None:
        results += round_trip_targets(runs)
    return results


def round_trip_targets(runs: Sequence[dict]) -> list[dict]:
    """prod's no-op with every AWS call a round trip slower: the role's wall against the stock playbook's, and the
    role's time talking to AWS (first call to last answer) against its calls' round trips one after the other."""
    role_local, role_far = (find_run(runs, "prod", "role", step) for step in ("noop-local", "noop-round-trip"))
    stock_far = find_run(runs, "prod", "stock", "noop-round-trip")
    seconds = (role_far or {}).get("round_trip") or 0.0
    label = f"prod no-op, {seconds * 1000:.0f} ms per AWS call"
    results = [ratio_target(f"{label}: wall vs stock's at the same distance", role_far, stock_far, 0.5, "same run")]
    name = f"{label}: first call to last answer, vs its calls' round trips one after the other"
    span = (role_far or {}).get("call_span") if run_seconds(role_far) is not None else None
    if span is None or not seconds:
        results.append(target(name, "n/a", "<= 0.50x", None, not_measured_why(role_far) or "no call recorded"))
        return results
    calls = role_far["calls"]["total"]
    in_turn = calls * seconds
    value = ratio(span, in_turn)
    why = f"{span:.1f} s ({(role_local or {}).get('call_span', 0):.1f} s as is); {calls} calls x {seconds:.2f} s = {in_turn:.1f} s"
    results.append(target(name, fmt_ratio(value), "<= 0.50x", None if value is None else value <= 0.5, why))
    return results + [first_round_trip_target(runs)]


def first_round_trip_target(runs: Sequence[dict]) -> dict:
    """prod's first converge with every call a round trip slower, the role's wall over the stock playbook's: recorded
    with no limit (the role also builds the operations baseline, so it makes more calls), beside the limited row of
    the first converge on the local AWS as it is."""
    role, stock = (find_run(runs, "prod", tool, "first-round-trip") for tool in ("role", "stock"))
    seconds = (role or {}).get("round_trip") or 0.0
    name = f"prod first converge, {seconds * 1000:.0f} ms per AWS call: wall vs stock's at the same distance"
    value = ratio(run_seconds(role), run_seconds(stock))
    if value is None:
        why = "; ".join(
            f"{what}: {not_measured_why(r) or 'no time'}"
            for what, r in (("role", role), ("stock", stock))
            if run_seconds(r) is None
        )
        return target(name, "n/a", "measured (no limit)", False, why, reference=True)
    why = (
        f"{fmt_seconds(run_seconds(role))} with {role['calls']['total']} calls, stock {fmt_seconds(run_seconds(stock))} with "
        f"{stock['calls']['total']} calls (the role also builds the operations baseline)"
    )
    return target(name, fmt_ratio(value), "measured (no limit)", True, why, reference=True)


def verdict(passed: bool | None, reference: bool = False) -> str:
    if reference:
        return "measured" if passed else "not measured"
    return {True: "PASS", False: "FAIL", None: "not measured"}[passed]


def latency_rows(latency: dict) -> list[list[str]]:
    rows = []
    create = latency.get("create") or {}
    if create:
        rows.append(
            [
                "create prod (writer + 2 readers)",
                fmt_seconds(create.get("wall")),
                fmt_seconds(create.get("baseline")),
                fmt_seconds(create.get("net")),
                fmt_seconds(create.get("sequential")),
                fmt_seconds(create.get("slowest")),
                fmt_seconds(create.get("lower_wall")),
                fmt_ratio(ratio(create.get("net"), create.get("slowest"))),
                fmt_ratio(ratio(create.get("net"), create.get("sequential"))),
                "-",
                "-",
            ]
        )
    for label, key in (("rolling class change over prod", "rolling"), ("surge class change over prod", "surge")):
        change = latency.get(key) or {}
        if change:
            rows.append(
                [
                    label,
                    fmt_seconds(change.get("wall")),
                    fmt_seconds(change.get("baseline")),
                    fmt_seconds(change.get("net")),
                    fmt_seconds(change.get("sequential")),
                    fmt_seconds(change.get("slowest")),
                    "n/a",
                    fmt_ratio(ratio(change.get("net"), change.get("slowest"))),
                    fmt_ratio(ratio(change.get("net"), change.get("bound"))),
                    "n/a" if change.get("max_unavailable") is None else str(change["max_unavailable"]),
                    availability_cell(change),
                ]
            )
    upgrade = latency.get("upgrade") or {}
    for strategy in ("in-place", "blue-green"):
        figures = upgrade.get(strategy)
        if not figures:
            continue
        rows.append(
            [
                f"major upgrade 16 -> 17 of prod, {strategy}",
                fmt_seconds(figures.get("wall")),
                "n/a",
                "n/a",
                fmt_seconds(figures.get("simulated_upgrade")) if strategy == "in-place" else "n/a",
                "n/a",
                "n/a",
                "n/a",
                "n/a",
                "n/a",
                availability_cell(figures),
            ]
        )
    drill = latency.get("drill") or {}
    if drill:
        rows.append(
            [
                "restore drill of dev: RTO (restore to cluster and writer available)",
                fmt_seconds(drill.get("rto")),
                "n/a",
                "n/a",
                fmt_seconds(drill.get("simulated")),
                fmt_seconds(drill.get("simulated")),
                "n/a",
                fmt_ratio(ratio(drill.get("rto"), drill.get("simulated"))),
                "n/a",
                "n/a",
                "n/a",
            ]
        )
    switchover = latency.get("switchover") or {}
    if switchover:
        rows.append(
            [
                "switchover of prod's global database to us-west-2",
                fmt_seconds(switchover.get("wall")),
                "n/a",
                "n/a",
                fmt_seconds(switchover.get("simulated")),
                fmt_seconds(switchover.get("simulated")),
                "n/a",
                "n/a",
                "n/a",
                "n/a",
                f"{fmt_seconds(switchover.get('write_downtime'))} / n/a",
            ]
        )
    return rows


# Issue #20: a blue/green switchover stops writes for at most one simulated minute.
BLUE_GREEN_WRITE_DOWNTIME_LIMIT = 1.0


def upgrade_targets(upgrade: dict) -> list[dict]:
    """The major upgrade's write downtime: in place (measured, the reference) and by blue/green (<= 1 minute)."""
    results = []
    in_place = upgrade.get("in-place") or {}
    name = "major upgrade in place (latency): write downtime"
    if in_place.get("ok"):
        why = f"every instance upgrading with the cluster; fewest serving {in_place.get('min_available')} of 3"
        measured = f"{in_place['write_downtime']:.1f} s = {in_place['write_downtime']:.1f} simulated min"
        results.append(target(name, measured, "measured (the reference)", True, why, reference=True))
    else:
        results.append(
            target(name, "n/a", "an upgrade that passes", False, str(in_place.get("error", "not run"))[:200])
        )
    blue_green = upgrade.get("blue-green") or {}
    name = "major upgrade by blue/green (latency): write downtime"
    limit = f"<= {BLUE_GREEN_WRITE_DOWNTIME_LIMIT:.0f} simulated min"
    if blue_green.get("ok"):
        downtime = blue_green["write_downtime"]
        # The launcher stops writes for its switchover duration only: what this checks is that nothing else of the
        # strategy (an upgrade in place, a failover) stops them. 1e-6: the window's float arithmetic.
        why = f"the switchover only; total {blue_green['wall']:.1f} s for the two runs (deployment, then switchover)"
        passed = downtime <= BLUE_GREEN_WRITE_DOWNTIME_LIMIT + 1e-6
        results.append(target(name, f"{downtime:.1f} s = {downtime:.1f} simulated min", limit, passed, why))
    else:
        results.append(target(name, "n/a", limit, False, str(blue_green.get("error", "not run"))[:200]))
    return results


def drill_target(drill: dict) -> dict:
    """The restore drill's RTO under latency: a measured figure (issue #17 sets no limit); a failed drill FAILs."""
    name = "restore drill RTO (latency, dev): cluster and writer available"
    if not drill.get("ok") or drill.get("rto") is None:
        return target(name, "n/a", "a drill that passes", False, drill.get("error", "no RTO in the drill report")[:200])
    measured = f"{drill['rto']:.1f} s = {drill['rto']:.1f} simulated min"
    why = f"drill wall {drill['wall']:.1f} s; left behind: {', '.join(drill.get('left') or []) or 'nothing'}"
    return target(name, measured, "measured (no limit)", True, why, reference=True)


# Issue #17: a managed switchover of the global database stops writes for at most one simulated minute (AWS: a
# secondary is promoted in under a minute), the launcher's window: nothing else of the runbook may stop them.
SWITCHOVER_WRITE_DOWNTIME_LIMIT = 1.0


def switchover_target(switchover: dict) -> dict:
    """The global database's switchover: write downtime under latency, at most one simulated minute."""
    name = "global database switchover (latency, prod): write downtime"
    limit = f"<= {SWITCHOVER_WRITE_DOWNTIME_LIMIT:.0f} simulated min"
    if not switchover.get("ok"):
        return target(name, "n/a", limit, False, str(switchover.get("error", "not run"))[:200])
    downtime = switchover["write_downtime"]
    why = f"switchover.yml wall {switchover['wall']:.1f} s (plan, switchover, wait until us-west-2 writes)"
    passed = downtime <= SWITCHOVER_WRITE_DOWNTIME_LIMIT + 1e-6
    return target(name, f"{downtime:.1f} s = {downtime:.1f} simulated min", limit, passed, why)


def availability_cell(row: dict) -> str:
    """Write downtime and the fewest instances serving, of an instance change."""
    downtime, fewest = row.get("write_downtime"), row.get("min_available")
    if downtime is None and fewest is None:
        return "n/a"
    return f"{fmt_seconds(downtime)} / {'n/a' if fewest is None else fewest} of {row.get('instances', '?')}"


LATENCY_HEADER = [
    "scenario",
    "role wall",
    "same run, no latency",
    "role net (wall - no latency)",
    "sequential (sum)",
    "slowest single step",
    "lower-bound wall",
    "net / slowest",
    "net / sequential or bound",
    "max unavailable",
    "write downtime / fewest serving",
]


def fleet_step(step: str, stacks: int) -> str:
    return f"{step}-{stacks}"


def fleet_rows(runs: Sequence[dict]) -> list[list[str]]:
    """One row per fleet size: first converge and no-op, wall and calls, calls per stack, no-op vs one stack."""
    one_noop = run_seconds(find_run(runs, "fleet", "role", fleet_step("noop", 1)))
    rows = []
    for stacks in FLEET_SIZES:
        first = find_run(runs, "fleet", "role", fleet_step("first", stacks))
        noop = find_run(runs, "fleet", "role", fleet_step("noop", stacks))
        if first is None and noop is None:
            continue
        per_stack = [
            f"{run['calls']['total'] / stacks:.1f}" if run and run.get("calls") else "n/a" for run in (first, noop)
        ]
        rows.append(
            [
                str(stacks),
                time_cell(first),
                calls_cell(first),
                per_stack[0],
                time_cell(noop),
                calls_cell(noop),
                per_stack[1],
                fmt_ratio(ratio(run_seconds(noop), one_noop)),
            ]
        )
    return rows


FLEET_HEADER = [
    "stacks",
    "first converge wall",
    "first converge calls",
    "calls per stack",
    "no-op wall",
    "no-op calls",
    "calls per stack",
    "no-op / one stack's no-op",
]


def fleet_targets(runs: Sequence[dict]) -> list[dict]:
    """Calls linear in the stacks (per-stack calls of every size within the slack of one stack's), the 16-stack
    no-op at most FLEET_NOOP_LIMIT times the one-stack no-op, and no-ops that change nothing."""
    results = []
    for step, label in (("first", "first converge"), ("noop", "no-op")):
        one = find_run(runs, "fleet", "role", fleet_step(step, 1))
        sized = [(n, find_run(runs, "fleet", "role", fleet_step(step, n))) for n in FLEET_SIZES[1:]]
        name = f"fleet {label}: AWS calls per stack, largest fleet vs one stack (linear growth)"
        missing = [f"{n} stacks: {not_measured_why(r)}" for n, r in [(1, one), *sized] if not_measured_why(r)]
        if missing:
            results.append(target(name, "n/a", f"<= {FLEET_LINEAR_SLACK:.2f}x", None, "; ".join(missing)))
            continue
        per_one = one["calls"]["total"]
        shares = [(n, r["calls"]["total"] / (n * per_one)) for n, r in sized] if per_one else []
        worst = max(shares, key=lambda item: item[1], default=(None, None))
        measured = ", ".join(f"{n}: {share:.2f}x" for n, share in shares) or "n/a"
        results.append(
            target(
                name,
                measured,
                f"<= {FLEET_LINEAR_SLACK:.2f}x",
                None if worst[1] is None else worst[1] <= FLEET_LINEAR_SLACK,
                f"one stack: {per_one} calls",
            )
        )
    largest = FLEET_SIZES[-1]
    noop = find_run(runs, "fleet", "role", fleet_step("noop", largest))
    results.append(
        ratio_target(
            f"fleet no-op: {largest} stacks' wall vs one stack's",
            noop,
            find_run(runs, "fleet", "role", fleet_step("noop", 1)),
            FLEET_NOOP_LIMIT,
            f"forks {FLEET_FORKS}, same machine",
        )
    )
    why = not_measured_why(noop)
    changed = None if why else noop.get("changed")
    results.append(
        target(
            f"fleet no-op: {largest} stacks changed nothing",
            "n/a" if why else f"changed={changed}, {noop['calls']['mutating']} mutating calls",
            "changed=0, 0 mutating",
            None if why else (changed == 0 and noop["calls"]["mutating"] == 0),
            why,
        )
    )
    return results


def action_lines(runs: Sequence[dict], envs: Sequence[str]) -> list[str]:
    lines = []
    for env in envs:
        for tool in TOOLS:
            for step in STEPS + (ROLE_ONLY_STEPS if tool == "role" else ()):
                run = find_run(runs, env, tool, step)
                if run is None or not run.get("calls"):
                    continue
                by_action = run["calls"]["by_action"]
                reads = ", ".join(f"{a} {n}" for a, n in by_action.items() if a.startswith(READ_PREFIXES))
                writes = ", ".join(
                    f"{a} {n}" for a, n in by_action.items() if not a.startswith(READ_PREFIXES) and " REST" not in a
                )
                rest = ", ".join(f"{a} {n}" for a, n in by_action.items() if " REST" in a)
                lines.append(
                    f"- {env} / {TOOL_TITLES[tool]} / {STEP_TITLES[step]}: read: {reads or 'none'}; "
                    f"mutating: {writes or 'none'}" + (f"; unclassified: {rest}" if rest else "")
                )
    return lines


def render_markdown(meta: dict, runs: Sequence[dict], latency: dict | None, envs: Sequence[str]) -> str:
    parts = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` on {meta.get('date', '?')}. Machine: {meta.get('machine', '?')}. "
        f"Versions: {meta.get('versions', '?')}.",
        "",
        "## Converge time and AWS calls (local AWS, no latency)",
        "",
        "Calls are HTTP requests recorded by a proxy in front of moto (r = Describe/List/Get, m = any other; "
        "AWS Backup's REST operations are named by the proxy and counted the same way; REST = a REST call it "
        "cannot name, unclassified).",
        "Wall time is the whole `ansible-playbook` (or `python bench/lower_bound.py`) process.",
        "",
        markdown_table(COMPARISON_HEADER, comparison_rows(runs, envs)),
        "",
    ]
    setting = [find_run(runs, env, "role", "setting") for env in envs]
    if any(setting):
        parts += [
            "One setting changed: the role run again after prod's first converge with the cluster's backup retention "
            "one day longer (`-e aurora_cluster_backup_retention_period=<prod's + 1>`).",
            "",
        ]
    floor = find_run(runs, "dev", "floor", "floor")
    if floor is not None:
        parts += [
            f"Floor: {TOOL_TITLES['floor']}, one `ansible.builtin.debug` task on the dev inventory's host, run like "
            f"the role's runs: {time_cell(floor)}.",
            "",
        ]
    if any(run.get("variant") for run in runs):
        parts += [
            "\\* stock playbook run with `-e bench_stock_workarounds=true` (no `rds.force_ssl` parameter, IAM "
            "authentication not set, only missing instances created): as written it fails on moto, see the failed "
            "runs below; the ratios use these figures.",
            "",
        ]
    failures = [run for run in runs if not run.get("ok")]
    if failures:
        parts += ["Failed runs (recorded as measured, not hidden):", ""]
        parts += [
            f"- {r['env']} / {TOOL_TITLES[r['tool']]} / {STEP_TITLES.get(r['step'], r['step'])}: {r.get('error', '?')}"
            for r in failures
        ]
        parts.append("")
    fleet = fleet_rows(runs)
    if fleet:
        parts += [
            "## A fleet of stacks in one run",
            "",
            f"inventories/fleet's shared settings (dev's network and sizing) for {', '.join(map(str, FLEET_SIZES))} "
            f"stacks, one host each, `--forks {FLEET_FORKS}`, on a freshly seeded account; then the same command "
            "again (no-op). Wall time is the whole `ansible-playbook`; calls as above, over all the stacks.",
            "",
            markdown_table(FLEET_HEADER, fleet),
            "",
        ]
    if latency:
        parts += [
            "## Provisioning latency (simulated: 1 s stands for 1 minute of AWS time)",
            "",
            f"Durations: {latency.get('durations', {})}.",
            "",
            markdown_table(LATENCY_HEADER, latency_rows(latency)),
            "",
        ]
        parts += [f"- {note}" for note in latency.get("notes", [])]
        parts.append("")
    parts += ["## Targets", ""]
    parts.append(
        markdown_table(
            ["target", "measured", "limit", "result", "note"],
            [
                [t["name"], t["measured"], t["limit"], verdict(t["passed"], t.get("reference", False)), t["why"]]
                for t in evaluate_targets(runs, latency)
            ],
        )
    )
    if meta.get("notes"):
        parts += ["", "## Notes", ""] + [f"- {note}" for note in meta["notes"]]
    parts += ["", "## Calls by action", ""] + action_lines(runs, envs) + [""]
    return "\n".join(parts)


def render_chart(runs: Sequence[dict], latency: dict | None, envs: Sequence[str], path) -> None:
    """A PNG with the wall times (grouped bars per env/step and tool) and the AWS calls."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{env}\n{STEP_TITLES[step]}" for env in envs for step in STEPS]
    fig, axes = plt.subplots(1, 3 if latency else 2, figsize=(18 if latency else 13, 5))
    width = 0.27
    for axis, metric, title in ((axes[0], "seconds", "wall time (s)"), (axes[1], "calls", "AWS calls")):
        for offset, tool in enumerate(TOOLS):
            values = []
            for env in envs:
                for step in STEPS:
                    run = find_run(runs, env, tool, step)
                    if run is None:
                        values.append(0)
                    elif metric == "seconds":
                        values.append(run["seconds"] if run.get("ok") else 0)
                    else:
                        values.append((run.get("calls") or {}).get("total", 0))
            xs = [i + (offset - 1) * width for i in range(len(labels))]
            axis.bar(xs, values, width, label=TOOL_TITLES[tool])
        axis.set_xticks(range(len(labels)), labels, fontsize=8)
        axis.set_title(title)
        axis.legend(fontsize=8)
    if latency:
        names, values = [], []
        create = latency.get("create") or {}
        roll = latency.get("rolling") or {}
        for label, value in (
            ("create: role net", create.get("net")),
            ("create: slowest", create.get("slowest")),
            ("create: sequential", create.get("sequential")),
            ("roll: role net", roll.get("net")),
            ("roll: (n+1) x modify", roll.get("bound")),
            ("surge: role net", (latency.get("surge") or {}).get("net")),
            ("surge: 1.5 x create", (latency.get("surge") or {}).get("bound")),
        ):
            names.append(label)
            values.append(value or 0)
        axes[2].bar(names, values, color=["C0", "C2", "C1", "C0", "C2", "C0", "C2"])
        axes[2].set_title("simulated latency (s; 1 s = 1 AWS minute)")
        axes[2].tick_params(axis="x", labelsize=8, rotation=20)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
