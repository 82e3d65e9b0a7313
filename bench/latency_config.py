"""The simulated latency of bench/moto_latency.py: durations in seconds (1 s stands for 1 AWS minute)."""

from __future__ import annotations

import json
import os

DEFAULT_LATENCY = {
    "cluster_create": 5.0,
    "cluster_modify": 1.0,
    "instance_create": 10.0,
    "instance_class_change": 10.0,
    "instance_modify": 1.0,
    "instance_reboot": 1.0,
    # An instance's deletion: 0 keeps moto's (gone at once; the surge rows count on it). AWS takes minutes, during
    # which the instance is ``deleting`` and the cluster cannot be deleted yet: the teardown's test sets it.
    "instance_delete": 0.0,
    "cluster_failover": 1.0,
    # A major version upgrade in place: every instance is down for it (AWS: typically tens of minutes).
    "cluster_major_upgrade": 20.0,
    # A blue/green switchover: writes stop on both clusters while it runs (AWS: typically under a minute).
    "blue_green_switchover": 1.0,
    # A managed switchover of an Aurora global database: the primary stops taking writes while the two clusters swap
    # roles (AWS: RTO "in the order of minutes"; a secondary promoted "in less than a minute").
    "global_switchover": 1.0,
}


def load_latency(raw: str | None) -> dict[str, float]:
    """DEFAULT_LATENCY updated with the JSON object ``raw`` (unknown keys refused)."""
    latency = dict(DEFAULT_LATENCY)
    if raw:
        given = json.loads(raw)
        unknown = set(given) - set(latency)
        if unknown:
            raise ValueError(f"BENCH_LATENCY: unknown keys {sorted(unknown)}; known: {sorted(latency)}")
        latency.update({key: float(value) for key, value in given.items()})
    return latency


def durations() -> dict[str, float]:
    """The durations in force: BENCH_LATENCY (a JSON object) over the defaults."""
    return load_latency(os.environ.get("BENCH_LATENCY"))
