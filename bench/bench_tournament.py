"""The queue-policy tournament (``calibrate.tournament``): its speed, and whether the gain it
claims for a policy is what the world then delivers.

Speed (issue 17): six policies x 50 candidate thresholds x 10 seeds for a default year, under
30 s on 2 cores, for the whole call (the year simulated, the points fitted, the runs). The
thresholds with the same MQL count share one queue run (the default world's scores are
whole points, so 50 candidates hold fewer distinct MQL sets; the table says how many). The
peer is the obvious way: one full ``simulate.run`` per policy, threshold and seed, timed on a
few and scaled to the same grid.

Promise: ``recommend(history, routing="choose")`` on a simulated history names a policy and
the tournament's paired gain over round robin, each at its own best threshold. The same two
(policy, threshold) pairs are then put into the world on ``SEEDS`` new years with the same
seeds (common random numbers), and the paired difference of the wins won within the horizon
is set beside the claim, each with its 90% interval.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import stats

from bench._table import Row

SEEDS = 10


def _speed() -> list[Row]:
    from calibrate.policy_tournament import tournament
    from simulate import POLICIES, Scenario
    from simulate.simulation import run

    scenario = Scenario()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tournament(Scenario(months=6), thresholds=3, seeds=1)  # compile and warm caches
        t0 = time.perf_counter()
        played = tournament(scenario, thresholds=50, seeds=10, seed=1, workers=2)
        elapsed = time.perf_counter() - t0
    distinct = played.runs.groupby(["policy", "seed"])["mqls_per_month"].nunique().mean()
    t0 = time.perf_counter()
    for policy in POLICIES[:3]:
        team, sla = policy.apply(scenario.team, scenario.sla)
        run(scenario.replace(team=team, sla=sla), seed=1)
    per_run = (time.perf_counter() - t0) / 3
    runs = len(POLICIES) * played.table["threshold"].nunique() * 10
    peer = per_run * runs
    return [
        Row(
            "tournament, 6 policies x thresholds x 10 seeds, 2 workers",
            f"default year, {played.table['threshold'].nunique()} thresholds ({distinct:.0f} distinct MQL sets)",
            f"{elapsed:.1f} s",
            "< 30 s",
            f"{runs} full runs: {peer:.0f} s (scaled from 3)",
            f"{peer / elapsed:.0f}x",
            elapsed < 30,
        )
    ]


def _delivered(scenario, rec, seeds) -> dict:
    """Paired wins a month in the world: the chosen policy at its threshold against round
    robin at its own, on the same new years."""
    from calibrate.policy_tournament import routing_policy
    from calibrate.verification import measure_year

    t = rec.tournament
    chosen = routing_policy(rec.routing)
    arms = {}
    for name, policy in ((t.best["policy"], chosen), (t.reference, t.policy(t.reference))):
        threshold = t.best_threshold(name)
        team, sla = policy.apply(scenario.team, scenario.sla)
        world = scenario.replace(team=team, sla=sla)
        rules = rec.scorecard.to_rules(threshold=threshold)
        arms[name] = np.array([measure_year(world, rules, s)["wins_per_month"] for s in seeds])
    diff = arms[t.best["policy"]] - arms[t.reference]
    half = stats.t.ppf(0.95, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size)
    return {"gain": diff.mean(), "low": diff.mean() - half, "high": diff.mean() + half}


def _promise() -> list[Row]:
    from calibrate import SalesCapacity, recommend
    from simulate import Scenario, Team
    from simulate.simulation import run

    rows = []
    for label, scenario in (("default world", Scenario()), ("3 reps", Scenario().replace(team=Team(reps=3)))):
        history = run(scenario, seed=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = recommend(
                history, SalesCapacity.from_scenario(scenario), world=None, objective="wins", routing="choose", seed=1
            )
        mine = {r["policy"]: r for r in rec.routing["tournament"]["policies"]}[rec.tournament.best["policy"]]
        got = _delivered(scenario, rec, list(range(2000, 2000 + SEEDS)))
        inside = got["low"] <= mine["gain"] <= got["high"]
        rows.append(
            Row(
                f"routing gain claimed vs delivered ({label}), wins a month",
                f"{rec.tournament.best['policy']} vs round robin, {SEEDS} new years",
                f"claimed {mine['gain']:+.2f} [{mine['gain_low']:+.2f}, {mine['gain_high']:+.2f}]",
                "claim inside delivered interval; delivered >= 0",
                f"delivered {got['gain']:+.2f} [{got['low']:+.2f}, {got['high']:+.2f}]",
                "",
                inside and got["high"] >= 0,
            )
        )
    return rows


def rows() -> list[Row]:
    return _speed() + _promise()


if __name__ == "__main__":
    from bench._table import print_table

    print_table(rows())
