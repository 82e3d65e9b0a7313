"""The benchmark's pure logic (bench/report.py, bench/latency_config.py): no AWS, no playbook."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import latency_config  # noqa: E402
import report  # noqa: E402


def call(action, read, service="rds"):
    return SimpleNamespace(action=action, read=read, service=service)


def run(env, tool, step, seconds, ok=True, total=5, mutating=0, **extra):
    calls = {"total": total, "read": total - mutating, "mutating": mutating, "by_action": {"DescribeDBClusters": 1}}
    return {"env": env, "tool": tool, "step": step, "seconds": seconds, "ok": ok, "calls": calls, "changed": 0, **extra}


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
