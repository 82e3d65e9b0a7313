"""Figures of the code before the rewrite, measured once and kept: targets relative to "today" compare with them.

setting: the role's wall time on a converged prod with one setting changed (the cluster's backup retention
one day longer, ``-e aurora_cluster_backup_retention_period=15``; inventories/prod has 14): the
``prod-setting`` scenario of bench/run.py.  Measured on 2026-11-30, 23:56-23:58 UTC, on commit c5db2f075f83
of main (HEAD before the role's rewrite landed), on a pristine export of that commit (``git archive``),
with bench/run.py's harness (moto behind tests/aws_proxy.py, ``measure``/``timed_playbook``, no latency),
on the 2-core bench machine, Python 3.13.0, ansible-core 2.21.5, moto 5.2.5.  Three samples, each on a
freshly seeded account right after the role's prod first converge: SETTING_SAMPLES; ``seconds`` is their
median.  Each run made 101 AWS calls: ModifyDBCluster 1, 21 AWS Backup REST calls, the rest reads.
The target (bench/report.py): the rewritten role takes at most half of it (12.9 s).
"""

from __future__ import annotations

SETTING_SAMPLES = (25.14, 25.78, 26.4)

TODAY = {
    "setting": {
        "seconds": 25.78,
        "samples": SETTING_SAMPLES,
        "date": "2026-11-30",
        "commit": "c5db2f075f8386ba67a782b161ae8934065647d9",
        "what": "prod, role, one setting changed (backup retention 14 -> 15) after the first converge",
    },
}
