"""Learning below the old threshold (issue 20): honest ranges, the plan's precision, regret.

Three checks, each on simulated worlds where the truth is known:

* ``coverage``: per world, one history (seed 1) and ``calibrate.recommend``; the recommended
  rules run on new years (children of 1000). The share of years whose wins a month fall in
  the recommendation's range of a new year, widened for the MQLs from regions the history
  never worked (``extrapolated_*``), against the same range without the widening (the
  range before issue 20). Target: >= 90% for the widened range.
* ``precision``: ``calibrate.exploration_plan`` on a history; its rule runs in new worlds
  (``simulate.run_with_exploration``, the plan's weeks plus the outcome window); each band's
  chance to win within the horizon is estimated from its explored leads. The plan's
  predicted half width, at the band's true chance (the pooled estimate over every run) and
  the planned number of leads, against the half width achieved (z times the standard
  deviation of the estimate over the runs). Target: within 20%.
* ``regret``: recommendations from the same world's history without and with the planned
  experiment (same seed: same leads, the experiment on top), and a grid of other thresholds
  of the same points, verified on the same new years; regret = best verified objective
  (among thresholds whose mean compliance meets the SLA target) less the recommendation's,
  in percent of the best.

``python -m bench exploration`` runs all three (about 25 minutes on 2 cores);
``--parts coverage,precision`` some; ``--seeds`` the new years or runs.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

import calibrate
import simulate
from bench._table import Row
from bench.bench_promises import WORLDS
from calibrate.verification import verify_arms
from simulate import seeding

HISTORY_SEED = 1
VERIFY_SEED = 1000
COVERAGE_WORLDS = ("default", "base_rate", "flipped_truth")
PRECISION = 0.03
BANDS = 3


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def coverage(seeds: int = 10, workers: int = 2) -> list[Row]:
    rows, inside_new, inside_old, years = [], 0, 0, 0
    for name in COVERAGE_WORLDS:
        world = WORLDS[name][1]()
        history = simulate.run(world, seed=HISTORY_SEED)
        rec = _quiet(calibrate.recommend, history, sla=world.sla, current_rules=world.rules, seed=HISTORY_SEED)
        wins = rec.expected["wins_per_month"]
        top = rec.expected["extrapolated_wins_per_month"].value or 0.0
        share = rec.expected["extrapolated_share"].value or 0.0
        old_high = wins.year_high - top
        table = verify_arms(
            world, {"recommended": rec.rules}, seeds=seeding.seed_list(seeds, seed=VERIFY_SEED), workers=workers
        )
        got = table["wins_per_month"].to_numpy(float)
        new = int(((got >= wins.year_low) & (got <= wins.year_high)).sum())
        old = int(((got >= wins.year_low) & (got <= old_high)).sum())
        inside_new, inside_old, years = inside_new + new, inside_old + old, years + got.size
        print(
            f"  {name}: threshold {rec.threshold:g}, {share:.0%} of MQLs never worked; wins a month "
            f"verified {got.mean():.1f} (sd {got.std(ddof=1):.1f}); range {wins.year_low:.1f}-{old_high:.1f} "
            f"before, {wins.year_low:.1f}-{wins.year_high:.1f} widened; inside {old}/{got.size} -> {new}/{got.size}",
            flush=True,
        )
    rows.append(
        Row(
            "new years inside the widened wins range",
            f"{len(COVERAGE_WORLDS)} worlds x {seeds} years",
            f"{inside_new}/{years} ({inside_new / years:.0%})",
            ">= 90%",
            f"unwidened {inside_old}/{years} ({inside_old / years:.0%})",
            met=inside_new / years >= 0.9,
        )
    )
    return rows


def _band_estimates(result, plan) -> np.ndarray:
    """Each band's share of explored leads won within the horizon (judged leads only)."""
    leads = result.leads
    horizon = pd.Timedelta(days=plan.horizon_days)
    picked = leads["explored"].to_numpy() & (leads["explored_at"] <= result.as_of - horizon).to_numpy()
    won = (leads["customer_at"] - leads["explored_at"] <= horizon).to_numpy(dtype=bool, na_value=False)
    share = leads["exploration_share"].to_numpy(float)
    out = []
    for s in plan.rule.shares:
        members = picked & np.isclose(share, s)
        out.append((won[members].sum(), members.sum()))
    return np.array(out, dtype=float)


def _planned():
    """The default world, its history (seed 1) and the plan for it, with the world's team."""
    world = simulate.Scenario()
    history = simulate.run(world, seed=HISTORY_SEED)
    capacity = calibrate.SalesCapacity.from_scenario(world)
    plan = _quiet(calibrate.exploration_plan, history, capacity, rules=world.rules, bands=BANDS, precision=PRECISION)
    return world, history, plan


def precision(seeds: int = 30) -> list[Row]:
    world, history, plan = _planned()
    print(plan.summary(), flush=True)
    months = math.ceil((plan.weeks * 7 + plan.rule.decide_after_days + plan.horizon_days) / 30.4) + 1
    run_world = world.replace(months=months)
    counts = np.array(
        [_band_estimates(simulate.run_with_exploration(run_world, plan.rule, seed=s), plan) for s in range(seeds)]
    )
    won, n = counts[..., 0], counts[..., 1]
    rate = won / np.maximum(n, 1)
    true = won.sum(axis=0) / n.sum(axis=0)
    z = float(norm.ppf(0.5 + plan.confidence / 2))
    achieved = z * rate.std(axis=0, ddof=1)
    predicted = plan.precision_at(true)
    rows = []
    for b, row in enumerate(plan.table.itertuples()):
        # a band that never wins has no spread to predict: both are 0
        ratio = achieved[b] / predicted[b] if predicted[b] > 0 else (1.0 if achieved[b] == 0 else np.inf)
        print(
            f"  band {row.score_from:g} to {row.score_below:g}: true chance {true[b]:.2%}, explored "
            f"{n[:, b].mean():.0f} a run (planned {row.leads_needed:.0f}), half width predicted "
            f"{predicted[b]:.2%}, achieved {achieved[b]:.2%}",
            flush=True,
        )
        rows.append(
            Row(
                f"plan precision, band {row.score_from:g} to {row.score_below:g}",
                f"{seeds} runs of {plan.weeks:g} weeks",
                f"achieved +-{achieved[b]:.2%}",
                "within 20%",
                f"predicted +-{predicted[b]:.2%}",
                f"{ratio:.2f}x",
                met=abs(ratio - 1) <= 0.2,
            )
        )
    return rows


def regret(seeds: int = 8, workers: int = 2) -> list[Row]:
    world, history, plan = _planned()
    explored = simulate.run_with_exploration(world, plan.rule, seed=HISTORY_SEED)
    t0 = time.perf_counter()
    without = _quiet(calibrate.recommend, history, sla=world.sla, current_rules=world.rules, seed=HISTORY_SEED)
    with_sample = _quiet(
        calibrate.recommend,
        explored,
        sla=world.sla,
        current_rules=world.rules,
        exploration="explored",
        exploration_share="exploration_share",
        seed=HISTORY_SEED,
    )
    print(f"  two recommendations in {time.perf_counter() - t0:.0f} s", flush=True)
    arms = {"without": without.rules, "with": with_sample.rules}
    for rec, label in ((without, "a"), (with_sample, "b")):
        for t in np.quantile(rec.tradeoffs.table["threshold"], [0.3, 0.5, 0.7]):
            arms[f"{label}:t={t:g}"] = rec.scorecard.to_rules(threshold=float(t))
    table = verify_arms(world, arms, seeds=seeding.seed_list(seeds, seed=VERIFY_SEED), workers=workers)
    objective = "revenue_per_month"
    means = table.groupby("arm", sort=False)[["sla_compliance", objective]].mean()
    ok = means[means["sla_compliance"] >= world.sla.target]
    best = float(ok[objective].max()) if len(ok) else float(means[objective].max())
    rows = []
    for arm, rec in (("without", without), ("with", with_sample)):
        got = float(means.loc[arm, objective])
        r = 100 * (best - got) / best
        share = rec.expected["extrapolated_share"].value or 0.0
        print(
            f"  {arm} the experiment: threshold {rec.threshold:g}, {share:.0%} of MQLs extrapolated, "
            f"verified revenue {got:,.0f} a month, SLA {means.loc[arm, 'sla_compliance']:.1%}; regret {r:.1f}%",
            flush=True,
        )
        rows.append(
            Row(
                f"regret {arm} the experiment",
                f"default world, {seeds} years",
                f"{r:.1f}% ({share:.0%} extrapolated)",
                "<= 2%",
                met=r <= 2.0,
            )
        )
    return rows


def rows(parts: str = "coverage,precision,regret", seeds: str | None = None, workers: str = "2") -> list[Row]:
    wanted = [p.strip() for p in parts.split(",") if p.strip()]
    out = []
    for part in wanted:
        if part not in ("coverage", "precision", "regret"):
            raise ValueError(f"unknown part {part!r}: coverage, precision or regret")
        print(f"  part {part} ...", flush=True)
        kwargs = {} if seeds is None else {"seeds": int(seeds)}
        if part != "precision":
            kwargs["workers"] = int(workers)
        out += globals()[part](**kwargs)
    return out
