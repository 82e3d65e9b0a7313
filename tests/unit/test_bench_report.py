"""The benchmark's pure logic (bench/report.py, bench/latency_config.py): no AWS, no playbook."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import baseline_figures  # noqa: E402
import latency_config  # noqa: E402
import report  # noqa: E402


def call(action, read, service="rds"):
    return SimpleNamespace(action=action, read=read, service=service)


def run(env, tool, step, seconds, ok=True, total=5, mutating=0, by_action=None, other=0, **extra):
    calls = {
        "total": total,
        "read": total - mutating - other,
        "mutating": mutating,
        "other": other,
        "by_action": by_action or {"DescribeDBClusters": total - mutating - other},
    }
    return {"env": env, "tool": tool, "step": step, "seconds": seconds, "ok": ok, "calls": calls, "changed": 0, **extra}


TODAY = {"setting": {"seconds": 20.0, "date": "2026-11-30", "commit": "c5db2f075f83"}}


def passed(runs, latency=None, today=None):
    today = TODAY if today is None else today
    return {t["name"]: t["passed"] for t in report.evaluate_targets(runs, latency, today)}


def row(runs, name, latency=None, today=None):
    today = TODAY if today is None else today
    return next(t for t in report.evaluate_targets(runs, latency, today) if t["name"] == name)


SETTING = "prod one setting changed (backup retention +1): "


def test_summarize_calls_splits_read_and_mutating_by_action():
    calls = [
        call("DescribeDBClusters", True),
        call("DescribeDBClusters", True),
        call("CreateDBCluster", False),
        call("", False, service="backup"),  # REST: no action to classify
        call("", False, service=""),  # moto's own API (reset): not an AWS call
    ]
    summary = report.summarize_calls(calls)
    assert summary == {
        "total": 4,
        "read": 2,
        "mutating": 1,
        "other": 1,
        "by_action": {"CreateDBCluster": 1, "DescribeDBClusters": 2, "backup REST": 1},
    }


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([], 0),
        ([(0, 10), (10, 20), (20, 30)], 1),  # back to back: never two at once
        ([(0, 10), (5, 15)], 2),
        ([(0, 10), (1, 2), (3, 4), (1.5, 3.5)], 3),
        ([(5, 5)], 0),  # an empty window is not unavailability
    ],
)
def test_max_overlap(windows, expected):
    assert report.max_overlap(windows) == expected


def test_union_length_counts_overlaps_once():
    assert report.union_length([]) == 0
    assert report.union_length([(0, 10), (5, 15), (20, 25)]) == 20
    assert report.union_length([(0, 10), (2, 3)]) == 10


def test_ratio_ignores_missing_or_zero_reference():
    assert report.ratio(5, 10) == 0.5
    assert report.ratio(None, 10) is None
    assert report.ratio(5, 0) is None
    assert report.fmt_ratio(None) == "n/a"
    assert report.fmt_ratio(0.456) == "0.46x"


def test_targets_pass_and_fail_honestly():
    runs = [
        run("dev", "role", "noop", 4.0, total=8),
        run("dev", "stock", "noop", 10.0),
        run("dev", "role", "first", 9.0),
        run("dev", "stock", "first", 10.0),
    ]
    latency = {
        "create": {"net": 11.0, "slowest": 10.0},
        "rolling": {"net": 50.0, "bound": 40.0, "max_unavailable": 1},
    }
    results = {t["name"]: t["passed"] for t in report.evaluate_targets(runs, latency)}
    assert results["dev no-op: mutating calls"] is True
    assert results["dev no-op: AWS calls in all"] is True
    assert results["dev no-op: wall vs stock"] is True
    assert results["dev first converge: wall vs stock"] is False  # 0.9 > 0.6
    assert results["prod create (latency): role vs slowest single step"] is True
    assert results["rolling class change (latency): role vs (instances+1) x one modify"] is False
    assert results["rolling class change: instances unavailable at once"] is True


def test_a_failed_run_is_not_measured_rather_than_compared():
    runs = [run("dev", "role", "first", 9.0), run("dev", "stock", "first", 3.0, ok=False, error="boom")]
    first = [t for t in report.evaluate_targets(runs, None) if t["name"].startswith("dev first")][0]
    assert first["passed"] is None
    assert first["measured"] == "n/a"


def test_markdown_shows_failures_variants_and_targets():
    runs = [
        run("dev", "role", "first", 9.0, mutating=3),
        run("dev", "stock-as-written", "first", 2.0, ok=False, error="Could not find parameter"),
        run("dev", "stock", "first", 10.0, variant="without rds.force_ssl"),
    ]
    text = report.render_markdown({"date": "today", "machine": "m", "versions": "v"}, runs, None, ["dev"])
    assert "| dev | first converge | 9.0 s | 5 (2 r / 3 m) | 10.0 s* |" in text
    assert "Could not find parameter" in text
    assert "0.90x" in text
    assert "## Targets" in text


def test_latency_config_defaults_and_overrides():
    assert latency_config.load_latency(None)["instance_create"] == 10.0
    assert latency_config.load_latency('{"cluster_create": 2}')["cluster_create"] == 2.0
    with pytest.raises(ValueError, match="unknown keys"):
        latency_config.load_latency('{"nonsense": 1}')


def test_summarize_calls_classifies_the_rest_operations_the_proxy_names():
    calls = [
        SimpleNamespace(action="", operation="ListBackupPlans", read=False, service="backup"),
        SimpleNamespace(action="", operation="UpdateBackupPlan", read=False, service="backup"),
        SimpleNamespace(action="", operation="", read=False, service="backup"),
    ]
    summary = report.summarize_calls(calls)
    assert (summary["read"], summary["mutating"], summary["other"], summary["total"]) == (1, 1, 1, 3)
    assert report.mutating_actions(summary) == {"UpdateBackupPlan": 1}


def good_runs():
    """Every run of the issue's targets, within its limit."""
    return [
        run("dev", "role", "noop", 2.0, total=10),
        run("dev", "stock", "noop", 10.0),
        run("dev", "floor", "floor", 1.0, total=0),
        run("dev", "role", "first", 5.0),
        run("dev", "stock", "first", 10.0),
        run("prod", "role", "noop", 4.0, total=20),
        run("prod", "role", "check", 4.5, total=18),
        run("prod", "stock", "noop", 10.0),
        run("prod", "role", "first", 8.0),
        run("prod", "stock", "first", 10.0),
        run(
            "prod",
            "role",
            "setting",
            9.0,
            total=12,
            mutating=1,
            by_action={"DescribeDBClusters": 11, "ModifyDBCluster": 1},
        ),
    ]


LATENCY = {
    "create": {"net": 8.2, "slowest": 10.0},
    "rolling": {"net": 35.5, "bound": 40.0, "max_unavailable": 1},
    "surge": {"net": 12.0, "bound": 15.0, "min_available": 3, "instances": 3},
}


def test_the_issue_targets_all_pass_within_their_limits():
    results = report.evaluate_targets(good_runs(), LATENCY, TODAY)
    names = [t["name"] for t in results]
    for name in (
        "prod no-op: mutating calls",
        "prod no-op: AWS calls in all",
        "prod no-op: wall vs stock no-op",
        "prod --check plan: mutating calls",
        "prod --check plan: AWS calls in all",
        "prod --check plan: wall vs stock no-op",
        "dev no-op: wall vs the one-task floor",
        SETTING + "wall vs today's figure",
        SETTING + "mutating calls by action",
        "dev first converge: wall vs stock",
        "prod first converge: wall vs stock",
        "prod create (latency): role vs slowest single step",
        "rolling class change (latency): role vs (instances+1) x one modify",
        "rolling class change: instances unavailable at once",
        "surge class change (latency): role vs 1.5 x one instance creation",
        "surge class change: fewest instances available vs before",
    ):
        assert name in names
    assert all(t["passed"] is True for t in results), [t for t in results if t["passed"] is not True]
    floor = next(t for t in results if t.get("reference"))
    assert floor["measured"] == "1.0 s"
    assert report.verdict(floor["passed"], reference=True) == "measured"
    setting = row(good_runs(), SETTING + "wall vs today's figure")
    assert setting["measured"] == "0.45x (9.0 s)"
    assert "20.0 s at c5db2f0 on 2026-11-30" in setting["why"]


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        (run("prod", "role", "noop", 4.0, total=21), "prod no-op: AWS calls in all"),  # 21 > 20
        (run("prod", "role", "noop", 4.0, total=20, mutating=1), "prod no-op: mutating calls"),
        (run("prod", "role", "noop", 5.5, total=20), "prod no-op: wall vs stock no-op"),  # 0.55 > 0.5
        (run("prod", "role", "check", 6.0, total=18), "prod --check plan: wall vs stock no-op"),
        (run("prod", "role", "check", 4.0, total=25), "prod --check plan: AWS calls in all"),
        (run("dev", "role", "noop", 2.6, total=10), "dev no-op: wall vs the one-task floor"),  # 2.6x > 2.5x
        (run("prod", "role", "first", 8.5), "prod first converge: wall vs stock"),  # 0.85 > 0.8
        (
            run("prod", "role", "setting", 10.5, total=12, mutating=1, by_action={"ModifyDBCluster": 1}),
            SETTING + "wall vs today's figure",
        ),
    ],
)
def test_each_new_target_fails_beyond_its_limit(changed, name):
    runs = [
        r for r in good_runs() if (r["env"], r["tool"], r["step"]) != (changed["env"], changed["tool"], changed["step"])
    ]
    results = passed(runs + [changed], LATENCY)
    assert results[name] is False
    assert [n for n, p in results.items() if p is not True] == [name]


@pytest.mark.parametrize(
    ("by_action", "mutating", "expected", "why"),
    [
        ({"ModifyDBCluster": 1}, 1, True, "only the cluster"),
        ({"ModifyDBCluster": 1, "ModifyDBInstance": 1}, 2, False, "more than the cluster"),
        ({"ModifyDBCluster": 1, "UpdateBackupPlan": 1}, 2, False, "more than the cluster"),
        ({"ModifyDBClusterParameterGroup": 1}, 1, False, "more than the cluster"),
        ({"DescribeDBClusters": 3}, 0, False, "not made"),
    ],
)
def test_the_setting_change_touches_the_cluster_only(by_action, mutating, expected, why):
    runs = [r for r in good_runs() if r["step"] != "setting"]
    runs.append(run("prod", "role", "setting", 9.0, total=12, mutating=mutating, by_action=by_action))
    result = row(runs, SETTING + "mutating calls by action")
    assert result["passed"] is expected
    assert why in result["why"]


def test_unclassified_calls_never_pass_a_mutating_target():
    runs = [r for r in good_runs() if (r["env"], r["step"]) != ("prod", "noop")]
    runs.append(
        run("prod", "role", "noop", 4.0, total=12, other=2, by_action={"DescribeDBClusters": 10, "backup REST": 2})
    )
    result = row(runs, "prod no-op: mutating calls")
    assert result["passed"] is None
    assert "could not classify" in result["why"]


@pytest.mark.parametrize(
    ("drop", "names"),
    [
        (("dev", "floor", "floor"), ["dev floor", "dev no-op: wall vs the one-task floor"]),
        (("prod", "role", "setting"), [SETTING + "wall vs today's figure", SETTING + "mutating calls by action"]),
        (
            ("prod", "role", "check"),
            [
                "prod --check plan: mutating calls",
                "prod --check plan: AWS calls in all",
                "prod --check plan: wall vs stock no-op",
            ],
        ),
        (("prod", "stock", "noop"), ["prod no-op: wall vs stock no-op", "prod --check plan: wall vs stock no-op"]),
        (("prod", "stock", "first"), ["prod first converge: wall vs stock"]),
    ],
)
def test_a_missing_measurement_is_not_measured_never_passed(drop, names):
    runs = [r for r in good_runs() if (r["env"], r["tool"], r["step"]) != drop]
    results = report.evaluate_targets(runs, LATENCY, TODAY)
    for name in names:
        result = next(t for t in results if t["name"].startswith(name))
        assert result["passed"] is None, result
        assert result["measured"] == "n/a"
        assert "not run" in result["why"]
    assert all(t["passed"] is True for t in results if not any(t["name"].startswith(n) for n in names))


def test_a_failed_new_run_is_not_measured():
    runs = [r for r in good_runs() if (r["env"], r["step"]) not in {("prod", "setting"), ("dev", "floor")}]
    runs.append(run("prod", "role", "setting", 3.0, ok=False, mutating=0, error="boom"))
    runs.append(run("dev", "floor", "floor", 1.0, ok=False, total=0, error="no python"))
    results = report.evaluate_targets(runs, LATENCY, TODAY)
    for t in results:
        if t["name"].startswith((SETTING, "dev floor", "dev no-op: wall vs the one-task floor")):
            assert t["passed"] is None, t
            assert "failed" in t["why"]
    assert report.verdict(next(t for t in results if t.get("reference"))["passed"], reference=True) == "not measured"


def test_without_a_figure_of_today_the_setting_wall_is_not_measured():
    result = row(good_runs(), SETTING + "wall vs today's figure", LATENCY, {"setting": {}})
    assert result["passed"] is None
    assert "no figure of today" in result["why"]


def test_the_latency_targets_say_so_when_the_scenarios_were_not_run():
    results = [
        t
        for t in report.evaluate_targets(good_runs(), None, TODAY)
        if "latency" in t["name"] or "unavailable" in t["name"] or "surge" in t["name"]
    ]
    assert len(results) == 5
    assert all(t["passed"] is None and "not run" in t["why"] for t in results)


def test_the_recorded_figure_of_today_is_real():
    today = baseline_figures.TODAY["setting"]
    assert today["seconds"] > 0
    assert len(today["commit"]) == 40
    assert min(today["samples"]) <= today["seconds"] <= max(today["samples"])
    # The default figure is the recorded one.
    default = next(
        t for t in report.evaluate_targets(good_runs(), LATENCY) if t["name"] == SETTING + "wall vs today's figure"
    )
    assert f"{today['seconds']:.1f} s" in default["why"]


def test_markdown_shows_the_setting_and_floor_runs_and_the_reference_row():
    runs = good_runs()
    text = report.render_markdown({"date": "today"}, runs, LATENCY, ["dev", "prod"])
    assert "| prod | one setting changed | 9.0 s, changed=0 | 12 (11 r / 1 m) | - |" in text
    assert "Floor: one-task ansible-playbook (bench/floor.yml)" in text
    assert "| reference | measured |" in text
    assert (
        "prod / vitality.aurora role / one setting changed: read: DescribeDBClusters 11; mutating: ModifyDBCluster 1"
        in text
    )


def fleet_runs(noop_seconds=(2.0, 3.0, 7.0), calls_per_stack=(45, 10), extra_calls=0, changed=0):
    runs = []
    for stacks, seconds in zip(report.FLEET_SIZES, noop_seconds, strict=True):
        first_calls = calls_per_stack[0] * stacks + (extra_calls if stacks > 1 else 0)
        runs.append(
            run("fleet", "role", f"first-{stacks}", 5.0 * stacks, total=first_calls, mutating=8 * stacks, stacks=stacks)
        )
        noop = run("fleet", "role", f"noop-{stacks}", seconds, total=calls_per_stack[1] * stacks, stacks=stacks)
        noop["changed"] = changed
        runs.append(noop)
    return runs


FLEET_NAMES = (
    "fleet first converge: AWS calls per stack, largest fleet vs one stack (linear growth)",
    "fleet no-op: AWS calls per stack, largest fleet vs one stack (linear growth)",
    "fleet no-op: 16 stacks' wall vs one stack's",
    "fleet no-op: 16 stacks changed nothing",
)


def test_the_fleet_targets_pass_for_linear_calls_and_a_fast_no_op():
    results = passed(fleet_runs())
    assert [results[name] for name in FLEET_NAMES] == [True, True, True, True]


def test_the_fleet_targets_fail_on_square_growth_a_slow_no_op_and_a_change():
    # 16 stacks making 16 x 16 extra calls (each stack reading every other) is not linear.
    square = passed(fleet_runs(extra_calls=16 * 16))
    assert square[FLEET_NAMES[0]] is False and square[FLEET_NAMES[1]] is True
    assert passed(fleet_runs(noop_seconds=(2.0, 3.0, 8.5)))[FLEET_NAMES[2]] is False
    assert passed(fleet_runs(changed=1))[FLEET_NAMES[3]] is False


def test_a_missing_fleet_run_is_not_measured_and_no_fleet_means_no_fleet_targets():
    runs = [r for r in fleet_runs() if r["step"] != "noop-1"]
    results = passed(runs)
    assert results[FLEET_NAMES[1]] is None and results[FLEET_NAMES[2]] is None
    assert results[FLEET_NAMES[0]] is True
    assert not any(name.startswith("fleet") for name in passed([run("dev", "role", "noop", 2.0)]))


def test_markdown_shows_the_fleet_rows_per_size():
    text = report.render_markdown({"date": "d", "machine": "m", "versions": "v"}, fleet_runs(), None, ["dev"])
    assert "## A fleet of stacks in one run" in text
    assert "| 16 | 80.0 s | 720 (592 r / 128 m) | 45.0 | 7.0 s, changed=0 | 160 (160 r / 0 m) | 10.0 | 3.50x |" in text


def test_the_drill_row_is_a_measured_figure_and_a_failed_drill_fails():
    drill = {"ok": True, "wall": 28.7, "rto": 15.7, "cluster": 5.4, "rpo": 33.0, "left": [], "simulated": 15.0}
    latency = {"durations": {}, "notes": [], "drill": drill}
    row = [t for t in report.evaluate_targets(good_runs(), latency, TODAY) if t["name"].startswith("restore drill")]
    assert row == [
        {
            "name": "restore drill RTO (latency, dev): cluster and writer available",
            "measured": "15.7 s = 15.7 simulated min",
            "limit": "measured (no limit)",
            "passed": True,
            "why": "drill wall 28.7 s; left behind: nothing",
            "reference": True,
        }
    ]
    assert report.verdict(row[0]["passed"], row[0].get("reference", False)) == "measured"
    assert "| restore drill of dev: RTO (restore to cluster and writer available) | 15.7 s |" in "\n".join(
        "| " + " | ".join(r) + " |" for r in report.latency_rows(latency)
    )
    failed = report.drill_target({"ok": False, "error": "left behind"})
    assert failed["passed"] is False and report.verdict(failed["passed"], failed.get("reference", False)) == "FAIL"
    # Not run: no row at all (as the fleet's).
    assert not [t for t in report.evaluate_targets(good_runs(), None, TODAY) if t["name"].startswith("restore drill")]


# --- an instance change's availability (the latency launcher's records) ------------------------------------------


def window(kind, identifier, status, start, end):
    return {"kind": kind, "id": identifier, "status": status, "start": start, "end": end}


def test_a_rolling_change_serves_one_instance_fewer_and_pauses_writes_twice():
    windows = [
        window("instance", "r-1", "modifying", 0, 10),
        window("instance", "r-2", "modifying", 11, 21),
        window("cluster", "c", "failing-over", 22, 23),
        window("instance", "w", "modifying", 23, 33),
        window("cluster", "c", "failing-over", 34, 35),
    ]
    assert report.fewest_available(3, windows) == 2
    assert report.write_downtime(windows) == 2


def test_a_surge_never_serves_fewer_instances_and_pauses_writes_once():
    windows = [
        window("instance", "w-b", "creating", 0, 10),
        window("instance", "r-b-1", "creating", 0, 10),
        window("instance", "r-b-2", "creating", 0, 10),
        window("cluster", "c", "failing-over", 11, 12),
        window("instance", "r-2", "deleted", 13, 13),
        window("instance", "r-1", "deleted", 13, 13),
        window("instance", "w", "deleted", 13, 13),
    ]
    assert report.fewest_available(3, windows) == 3
    assert report.write_downtime(windows) == 1
    # Deleted before the new ones serve, the old ones would leave the cluster short.
    early = [dict(w, start=5, end=5) if w["status"] == "deleted" else w for w in windows]
    assert report.fewest_available(3, early) == 0


def test_the_surge_row_and_its_targets():
    latency = dict(
        LATENCY, surge={"net": 16.0, "bound": 15.0, "min_available": 2, "instances": 3, "write_downtime": 1.0}
    )
    results = {t["name"]: t for t in report.evaluate_targets(good_runs(), latency, TODAY)}
    assert results["surge class change (latency): role vs 1.5 x one instance creation"]["passed"] is False
    fewest = results["surge class change: fewest instances available vs before"]
    assert (fewest["measured"], fewest["passed"]) == ("2 of 3", False)
    rows = report.latency_rows(latency)
    assert rows[-1][0] == "surge class change over prod"
    assert rows[-1][-1] == "1.0 s / 2 of 3"
    assert all(len(row) == len(report.LATENCY_HEADER) for row in rows)


# --- a major upgrade: in place vs blue/green --------------------------------------------------------------------


def test_writes_stop_while_the_cluster_fails_over_switches_over_or_upgrades_in_place():
    windows = [
        window("cluster", "c", "upgrading", 0, 20),
        window("instance", "w", "upgrading", 0, 20),
        window("cluster", "c", "modifying", 30, 31),
        window("cluster", "c", "switching-over", 40, 41),
        window("cluster", "c", "failing-over", 50, 51),
    ]
    assert report.write_downtime(windows) == 22


def test_the_upgrade_rows_compare_in_place_with_blue_green_against_one_minute():
    upgrade = {
        "in-place": {"ok": True, "wall": 31.0, "write_downtime": 20.0, "min_available": 0, "instances": 3},
        "blue-green": {"ok": True, "wall": 40.0, "write_downtime": 1.0, "instances": 3},
    }
    rows = report.upgrade_targets(upgrade)
    assert [(r["name"], r["measured"], r["limit"], r["passed"]) for r in rows] == [
        (
            "major upgrade in place (latency): write downtime",
            "20.0 s = 20.0 simulated min",
            "measured (the reference)",
            True,
        ),
        (
            "major upgrade by blue/green (latency): write downtime",
            "1.0 s = 1.0 simulated min",
            "<= 1 simulated min",
            True,
        ),
    ]
    slow = dict(upgrade, **{"blue-green": dict(upgrade["blue-green"], write_downtime=2.0)})
    assert report.upgrade_targets(slow)[1]["passed"] is False
    failed = report.upgrade_targets({"in-place": {"ok": False, "error": "refused"}})
    assert [r["passed"] for r in failed] == [False, False]
    table = report.latency_rows({"durations": {}, "notes": [], "upgrade": upgrade})
    assert [row[0] for row in table] == [
        "major upgrade 16 -> 17 of prod, in-place",
        "major upgrade 16 -> 17 of prod, blue-green",
    ]
    assert table[0][-1] == "20.0 s / 0 of 3"


ROUND_TRIP = "prod no-op, 100 ms per AWS call: "


def round_trip_runs(span, role_far=6.0, stock_far=14.0, ok=True):
    return [
        run("prod", "role", "noop-local", 5.0, total=40, round_trip=0.0, call_span=0.7),
        run("prod", "role", "noop-round-trip", role_far, ok=ok, total=40, round_trip=0.1, call_span=span),
        run("prod", "stock", "noop-round-trip", stock_far, total=26, round_trip=0.1, call_span=3.0),
    ]


@pytest.mark.parametrize(("span", "expected"), [(1.3, True), (2.0, True), (2.1, False), (6.5, False)])
def test_round_trip_target_compares_the_time_talking_to_aws_with_the_calls_in_turn(span, expected):
    # 40 calls x 0.1 s = 4.0 s one after the other; the limit is half of it.
    target = row(
        round_trip_runs(span), ROUND_TRIP + "first call to last answer, vs its calls' round trips one after the other"
    )
    assert target["passed"] is expected
    assert "40 calls x 0.10 s = 4.0 s" in target["why"]
    assert (
        passed(round_trip_runs(span, role_far=6.0, stock_far=14.0))[ROUND_TRIP + "wall vs stock's at the same distance"]
        is True
    )
    assert (
        passed(round_trip_runs(span, role_far=8.0, stock_far=14.0))[ROUND_TRIP + "wall vs stock's at the same distance"]
        is False
    )


def test_a_failed_round_trip_run_is_not_measured():
    results = passed(round_trip_runs(1.0, ok=False))
    assert results[ROUND_TRIP + "first call to last answer, vs its calls' round trips one after the other"] is None
    assert results[ROUND_TRIP + "wall vs stock's at the same distance"] is None


def test_without_the_round_trip_scenario_there_is_no_round_trip_target():
    assert not [name for name in passed([run("prod", "role", "noop", 5.0)]) if name.startswith(ROUND_TRIP)]


GLOBAL_NOOP = "prod no-op with its secondary"


def test_prod_with_its_secondary_passes_with_no_mutating_call_and_changed_0():
    runs = [run("prod", "role", step, 9.0, total=52) for step in report.GLOBAL_STEPS]
    results = passed(runs)
    assert results[f"{GLOBAL_NOOP}: mutating calls"] is True
    assert results[f"{GLOBAL_NOOP}: changed"] is True
    calls = row(runs, f"{GLOBAL_NOOP}: AWS calls in all")
    assert calls["measured"] == "52" and calls.get("reference") is True


def test_prod_with_its_secondary_fails_on_a_mutating_call_a_change_or_a_failed_run():
    noop = run(
        "prod",
        "role",
        "global-noop",
        9.0,
        total=52,
        mutating=1,
        by_action={"DescribeDBClusters": 51, "ModifyDBCluster": 1},
    )
    noop["changed"] = 1
    check = run("prod", "role", "global-check", 9.0, ok=False, error="boom")
    results = passed([noop, check])
    assert results[f"{GLOBAL_NOOP}: mutating calls"] is False
    assert results[f"{GLOBAL_NOOP}: changed"] is False
    assert results["prod --check plan with its secondary: mutating calls"] is None
    assert results["prod --check plan with its secondary: changed"] is None
    assert results["prod --check plan with its secondary: AWS calls in all"] is False


def test_prod_with_its_secondary_has_rows_of_its_own_and_none_without_the_scenario():
    runs = [run("prod", "role", step, 9.0, total=52) for step in report.GLOBAL_STEPS]
    steps = [r[1] for r in report.comparison_rows(runs, ["prod"])]
    assert "no-op re-run, with the us-west-2 secondary" in steps
    assert not any("secondary" in name for name in passed([run("prod", "role", "noop", 5.0)]))


class FakeProxy:
    """clear_calls()/calls as AwsProxy has them; each run's calls are given by the test."""

    def __init__(self):
        self.calls = []

    def clear_calls(self):
        self.calls = []


def fake_runs(proxy, outcomes):
    """A timed_* stand-in: each call takes the next (seconds, ok, changed, mutating calls) of ``outcomes``."""
    remaining = list(outcomes)

    def action():
        seconds, ok, changed, mutating = remaining.pop(0)
        proxy.calls = [SimpleNamespace(action="ModifyDBCluster", fault=None, service="rds")] * mutating
        result = SimpleNamespace(ok=ok, changed=lambda: changed, stdout="", returncode=0 if ok else 2)
        return seconds, result

    return action, remaining


@pytest.fixture
def bench_run(monkeypatch):
    import run  # noqa: PLC0415 - bench/run.py, with the tests' helpers on its path

    monkeypatch.setattr(run, "log", lambda message: None)
    monkeypatch.setattr(run.report, "summarize_calls", lambda calls: {"total": len(calls), "mutating": len(calls)})
    monkeypatch.setattr(run, "error_text", lambda result: "failed")
    return run


def test_a_repeated_step_reports_the_median_time_and_the_least_favourable_outcome(bench_run):
    proxy = FakeProxy()
    action, remaining = fake_runs(proxy, [(3.0, True, 0, 0), (9.0, True, 0, 0), (2.0, True, 1, 1)])
    run = bench_run.measure(proxy, "dev", "role", "noop", action)
    assert remaining == []
    assert run["samples"] == [3.0, 9.0, 2.0] and run["seconds"] == 3.0
    # The one repeat that changed something is the outcome reported, whatever the time says.
    assert (run["changed"], run["calls"]["mutating"]) == (1, 1)


def test_a_first_converge_and_a_failed_no_op_run_once(bench_run):
    proxy = FakeProxy()
    action, remaining = fake_runs(proxy, [(5.0, True, 3, 8), (1.0, False, 0, 0), (7.0, True, 0, 0)])
    first = bench_run.measure(proxy, "dev", "role", "first", action)
    failed = bench_run.measure(proxy, "dev", "stock", "noop", action)
    assert (first["seconds"], "samples" in first) == (5.0, False)
    assert (failed["ok"], failed["seconds"], "samples" in failed) == (False, 1.0, False)
    assert len(remaining) == 1


def test_first_converge_at_a_distance_is_recorded_with_no_limit():
    runs = [
        run("prod", "role", "first-round-trip", 30.0, total=163, round_trip=0.1),
        run("prod", "stock", "first-round-trip", 20.0, total=46, round_trip=0.1),
    ]
    found = row(
        runs + round_trip_runs(1.3), "prod first converge, 100 ms per AWS call: wall vs stock's at the same distance"
    )
    assert found["measured"] == "1.50x"
    assert found["limit"] == "measured (no limit)"
    assert found["reference"] is True
    assert "163 calls" in found["why"] and "46 calls" in found["why"]
    # A failed run gives no figure, and says why.
    runs[1]["ok"] = False
    failed = row(
        runs + round_trip_runs(1.3), "prod first converge, 100 ms per AWS call: wall vs stock's at the same distance"
    )
    assert failed["measured"] == "n/a"
    assert failed["passed"] is False
    assert "stock: the run failed" in failed["why"]
