"""Does the recommendation keep its promises? Claimed uplift, regret and SLA against new years.

For each world a history is simulated (``simulate.run(world, seed=history_seed)``) and
``calibrate.recommend`` is asked for a threshold against the world's own rules (the rules in
force). Then the recommended rules, the current rules and about eight other thresholds of the
same points (``recommendation.scorecard.to_rules(threshold=t)``, MQL volumes from half to
twice the recommended one) run on the same 20 new years (children of ``VERIFY_SEED``: common
random numbers, ``calibrate.verification.verify_arms``). Per world:

* the claimed uplift (``expected - current`` of the recommendation) in wins and revenue a
  month against the verified paired uplift and its 95% Student t interval over the years:
  the claim should lie inside;
* the claimed range: the leads the history never worked count as none in ``expected`` and
  may add up to ``extrapolated_wins_per_month`` / ``extrapolated_revenue_per_month`` (the top
  of their plausible range, the summary says so); the uplift from none to the top should
  overlap the verified interval;
* the claim and the verified uplift agree within their standard errors: the claim's own
  95% interval (``rec.uplift``, the outcome noise of the one history) and the new years';
* where a gain is claimed in the objective (revenue by default), the verified uplift should
  be >= 0;
* regret: the objective of the recommended rules against the best of the thresholds tried
  (best by verified mean among those whose mean compliance meets the SLA target), in percent
  of the best; target 2% on the default world, 4% elsewhere (the best is picked on the same
  years, so the regret is biased upwards by a little);
* the share of the new years meeting the SLA target, against the confidence the
  recommendation states (``constraints["sla_confidence"]``) or, when it states none,
  ``DEFAULT_SLA_CONFIDENCE``; met unless a one-sided binomial test rejects it at 5%.

``python -m bench promises`` runs every world; ``python -m bench promises --worlds
default,tight_team`` some of them (also ``--seeds 10`` for fewer new years, ``--history-seed
1,2,3,4,5`` for several histories: then the claim's bias over the histories and how often it
agrees with the verified uplift are the rows). Run alone:
``python -m bench.bench_promises --worlds default``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

import calibrate
import simulate
from bench._table import Row, print_table
from bench.promise_worlds import WORLDS
from calibrate.verification import measure_year, paired_uplift, verify_arms
from simulate import seeding

HISTORY_SEED = 1
VERIFY_SEED = 1000
SEEDS = 20
CONFIDENCE = 0.95
DEFAULT_SLA_CONFIDENCE = 0.9
"""The share of years a recommendation that states no SLA confidence is held to."""
VOLUME_RATIOS = (0.5, 0.65, 0.8, 0.9, 1.12, 1.25, 1.5, 2.0)
"""The other thresholds tried: those whose expected MQL volume is nearest these multiples of
the recommended volume."""
REGRET_TARGET = {"default": 2.0}
REGRET_TARGET_ELSEWHERE = 4.0


def _grid(rec, n_ratios: Sequence[float] = VOLUME_RATIOS) -> list[float]:
    """Thresholds of the recommendation's points around the recommended one, by MQL volume."""
    table = getattr(getattr(rec, "tradeoffs", None), "table", None)
    t0 = float(rec.threshold)
    if table is None or "mqls_per_month" not in table or "threshold" not in table:
        return [t0 + d for d in (-12, -8, -5, -2, 2, 5, 8, 12)]
    thresholds = table["threshold"].to_numpy(dtype=float)
    volume = table["mqls_per_month"].to_numpy(dtype=float)
    v0 = float(np.interp(t0, thresholds, volume))
    out = []
    for ratio in n_ratios:
        t = float(thresholds[int(np.argmin(np.abs(volume - ratio * v0)))])
        if t != t0 and t not in out:
            out.append(t)
    return sorted(out)


def _objective_figure(rec) -> str:
    return "wins_per_month" if getattr(rec, "objective", "revenue") in ("wins", "sqls") else "revenue_per_month"


def _value(rec, kind: str, name: str) -> float:
    """The value of figure ``name`` in ``rec.expected`` or ``rec.current`` (NaN if absent)."""
    figure = (getattr(rec, kind, None) or {}).get(name)
    return np.nan if figure is None or figure.value is None else float(figure.value)


def _claimed(rec, name: str) -> float:
    return _value(rec, "expected", name) - _value(rec, "current", name)


def _claimed_range(rec, name: str) -> tuple[float, float]:
    """The claimed uplift with the leads the history never worked counted at none (the
    expected figure) and at the top of their plausible range (``extrapolated_*``, of both
    arms): the range the summary states."""
    extra = "extrapolated_" + name
    top = [_value(rec, kind, extra) for kind in ("expected", "current")]
    top = [0.0 if not np.isfinite(x) else x for x in top]
    low = _claimed(rec, name)
    return low, low + top[0] - top[1]


def _claim_interval(rec, name: str) -> tuple[float, float]:
    """The 95% interval the recommendation states for its uplift (``rec.uplift``): the
    outcome noise of the one history it learned from (``calibrate.baseline.expected_uplift``)."""
    u = (getattr(rec, "uplift", None) or {}).get(name)
    if u is None or u.low is None or u.high is None:
        return np.nan, np.nan
    return float(u.low), float(u.high)


def _interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def check_world(
    name: str, *, seeds: int = SEEDS, history_seed: int = HISTORY_SEED, workers: int = 1, capacity: str = "fitted"
) -> dict:
    """Recommend on one history of world ``name`` and check its promises on new years.

    ``capacity="fitted"`` (what ``recommend`` does by default): the team and the response
    effect come from the world fitted to the history, and only the SLA is the world's;
    ``"true"``: the world's own team and funnel are given."""
    world = WORLDS[name][1]()
    t0 = time.perf_counter()
    history = simulate.run(world, seed=history_seed)
    given = calibrate.SalesCapacity.from_scenario(world) if capacity == "true" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = calibrate.recommend(
            history,
            given,
            sla=None if given is not None else world.sla,
            current_rules=world.rules,
            seed=history_seed,
        )
    t_rec = time.perf_counter() - t0
    scorecard = getattr(rec, "scorecard", None)
    grid = _grid(rec) if scorecard is not None else []
    arms = {"recommended": rec.rules, "current": world.rules}
    arms.update({f"t={t:g}": scorecard.to_rules(threshold=t) for t in grid})
    seed_list = seeding.seed_list(seeds, seed=VERIFY_SEED)
    table = verify_arms(world, arms, seeds=seed_list, workers=workers)
    up = paired_uplift(table[table["arm"].isin(["recommended", "current"])], confidence=CONFIDENCE)
    up = up.set_index("figure")
    constraints = getattr(rec, "constraints", {}) or {}
    target = float(constraints.get("sla_target", world.sla.target))
    objective = _objective_figure(rec)

    stated = constraints.get("sla_confidence")
    confidence = float(stated) if stated is not None else DEFAULT_SLA_CONFIDENCE
    by_arm = {arm: rows.set_index("seed") for arm, rows in table.groupby("arm", sort=False)}
    tried = table[table["arm"] != "current"].assign(met=lambda d: d["sla_compliance"] >= target)
    means = tried.groupby("arm", sort=False)[["sla_compliance", "met", objective]].mean()
    # the best by verified mean among the thresholds meeting the SLA target in the mean (the
    # regret of the table) and among those meeting it in ``confidence`` of the years
    best_arm, regret = _best(means[means["sla_compliance"] >= target], by_arm, objective)
    best_conf_arm, regret_conf = _best(means[means["met"] >= confidence], by_arm, objective)
    compliance = by_arm["recommended"]["sla_compliance"].to_numpy(dtype=float)
    k = int((compliance >= target).sum())
    # the history's own year under the rules it was made with (those in force),
    # and the history's own leads under the recommended rules (same seed): the claim against
    # it is the valuation's error alone; it against the new years, the winner's curse and luck
    levels = {
        "recommended": (_level(rec, "expected"), _means(by_arm["recommended"])),
        "current": (_level(rec, "current"), _means(by_arm["current"])),
        "history": measure_year(world, world.rules, history_seed),
        "history_recommended": measure_year(world, rec.rules, history_seed),
    }
    return {
        "world": name,
        "history_seed": history_seed,
        "verify_seeds": seed_list,
        "threshold": float(rec.threshold),
        "feasible": constraints.get("feasible"),
        "objective": objective,
        "claimed": {f: _claimed(rec, f) for f in ("wins_per_month", "revenue_per_month", "sla_compliance")},
        "claimed_range": {f: _claimed_range(rec, f) for f in LEVEL_FIGURES},
        "claimed_interval": {f: _claim_interval(rec, f) for f in LEVEL_FIGURES},
        "uplift": up,
        "best_arm": best_arm,
        "best_threshold": _arm_threshold(best_arm, rec),
        "grid": grid,
        "regret": regret,
        "best_years": float(means.loc[best_arm, "met"]) if best_arm else np.nan,
        "best_conf_threshold": _arm_threshold(best_conf_arm, rec),
        "regret_conf": regret_conf,
        "regret_target": REGRET_TARGET.get(name, REGRET_TARGET_ELSEWHERE),
        "sla_years": k,
        "current_sla_years": int((by_arm["current"]["sla_compliance"] >= target).sum()),
        "sla_target": target,
        "sla_confidence": stated,
        "sla_held_to": confidence,
        "sla_p": float(stats.binom.cdf(k, len(compliance), confidence)),
        "levels": levels,
        "never_worked": _value(rec, "expected", "extrapolated_share"),
        "seconds": (t_rec, time.perf_counter() - t0),
    }


LEVEL_FIGURES = ("wins_per_month", "revenue_per_month")


def _level(rec, kind: str) -> dict[str, float]:
    return {f: _value(rec, kind, f) for f in LEVEL_FIGURES}


def _means(years: pd.DataFrame) -> dict[str, float]:
    return {f: float(years[f].mean()) for f in LEVEL_FIGURES}


def levels_table(results: list[dict]) -> pd.DataFrame:
    """Per world and arm, the level claimed against the new years' mean (and the history's
    own year): where an uplift's claim goes wrong, which arm it is."""
    lines = []
    for r in results:
        if "levels" not in r:
            continue
        for arm in ("recommended", "current"):
            claimed, verified = r["levels"][arm]
            own = r["levels"]["history" if arm == "current" else "history_recommended"]
            line = {"world": r["world"], "arm": arm}
            for f, label, fmt in (("wins_per_month", "wins", "{:,.2f}"), ("revenue_per_month", "revenue", "{:,.0f}")):
                line[f"{label} claimed"] = fmt.format(claimed[f])
                line[f"{label} new years"] = fmt.format(verified[f])
                line[f"{label} claimed/new"] = f"{claimed[f] / verified[f]:.2f}" if verified[f] else "n/a"
                line[f"{label} history's own year"] = fmt.format(own[f])
            line["MQLs never worked"] = f"{r['never_worked']:.0%}" if arm == "recommended" else ""
            lines.append(line)
    return pd.DataFrame(lines)


def _best(pool: pd.DataFrame, by_arm: dict, objective: str) -> tuple[str | None, tuple[float, float, float]]:
    """The arm of ``pool`` with the highest mean ``objective``, and the recommended arm's
    regret against it in percent of its mean (with the paired 95% interval over seeds)."""
    if not len(pool):
        return None, (np.nan, np.nan, np.nan)
    arm = str(pool[objective].idxmax())
    best = by_arm[arm][objective]
    gap = (best - by_arm["recommended"][objective]).to_numpy(dtype=float)
    return arm, tuple(100 * x / float(best.mean()) for x in _interval(gap))


def _arm_threshold(arm: str | None, rec) -> float:
    if arm == "recommended":
        return float(rec.threshold)
    return float(arm.split("=", 1)[1]) if arm and arm.startswith("t=") else np.nan


def _signed(x: float, fmt: str = "{:+,.2f}") -> str:
    return "n/a" if x is None or not np.isfinite(x) else fmt.format(x)


def _verified(up: pd.DataFrame, name: str, fmt: str) -> str:
    r = up.loc[name]
    return f"{_signed(r['uplift'], fmt)} [{_signed(r['low'], fmt)}, {_signed(r['high'], fmt)}]"


def _inside(up: pd.DataFrame, name: str, claimed: float) -> bool | None:
    r = up.loc[name]
    if not np.isfinite(claimed) or not np.isfinite(r["low"]):
        return None
    return bool(r["low"] <= claimed <= r["high"])


def _agree(up: pd.DataFrame, name: str, claimed: tuple[float, float]) -> bool | None:
    """Do the claim (its own 95% interval) and the verified uplift (the new years' mean)
    agree within their standard errors? Two estimates of one difference: their gap is
    inside 1.96 standard errors of the gap (the new years' mean has its own noise)."""
    low, high = claimed
    r = up.loc[name]
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(r["low"])):
        return None
    se_claim = (high - low) / (2 * stats.norm.ppf(0.5 + CONFIDENCE / 2))
    se_verified = (r["high"] - r["low"]) / (2 * stats.t.ppf(0.5 + CONFIDENCE / 2, int(r["seeds"]) - 1))
    gap = abs((low + high) / 2 - float(r["uplift"]))
    return bool(gap <= stats.norm.ppf(0.5 + CONFIDENCE / 2) * np.hypot(se_claim, se_verified) + 1e-12)


def _meets(up: pd.DataFrame, name: str, claimed: tuple[float, float]) -> bool | None:
    """Does the claimed range overlap the paired interval?"""
    r = up.loc[name]
    low, high = min(claimed), max(claimed)
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(r["low"])):
        return None
    return bool(low <= r["high"] and r["low"] <= high)


def _span(claimed: tuple[float, float], fmt: str) -> str:
    return f"[{_signed(min(claimed), fmt)}, {_signed(max(claimed), fmt)}]"


def _yes(x: bool | None) -> str:
    return "n/a" if x is None else ("yes" if x else "NO")


def detail_table(results: list[dict]) -> pd.DataFrame:
    """One line per world: what was claimed, what the new years delivered."""
    lines = []
    for r in results:
        if "error" in r:
            lines.append({"world": r["world"], "history seed": r["history_seed"], "threshold": r["error"]})
            continue
        up, c = r["uplift"], r["claimed"]
        gain = c[r["objective"]]
        lines.append(
            {
                "world": r["world"],
                "history seed": r["history_seed"],
                "threshold": f"{r['threshold']:g}" + ("" if r["feasible"] is not False else " (infeasible)"),
                "wins claimed": _signed(c["wins_per_month"]),
                "wins verified [95%]": _verified(up, "wins_per_month", "{:+,.2f}"),
                "in": _yes(_inside(up, "wins_per_month", c["wins_per_month"])),
                "claim's 95%": _span(r["claimed_interval"]["wins_per_month"], "{:+,.2f}"),
                "agree": _yes(_agree(up, "wins_per_month", r["claimed_interval"]["wins_per_month"])),
                "wins range": _span(r["claimed_range"]["wins_per_month"], "{:+,.2f}"),
                "meets": _yes(_meets(up, "wins_per_month", r["claimed_range"]["wins_per_month"])),
                "revenue claimed": _signed(c["revenue_per_month"], "{:+,.0f}"),
                "revenue verified [95%]": _verified(up, "revenue_per_month", "{:+,.0f}"),
                "in ": _yes(_inside(up, "revenue_per_month", c["revenue_per_month"])),
                "claim's 95% ": _span(r["claimed_interval"]["revenue_per_month"], "{:+,.0f}"),
                "agree ": _yes(_agree(up, "revenue_per_month", r["claimed_interval"]["revenue_per_month"])),
                "revenue range": _span(r["claimed_range"]["revenue_per_month"], "{:+,.0f}"),
                "meets ": _yes(_meets(up, "revenue_per_month", r["claimed_range"]["revenue_per_month"])),
                "gain >= 0": _yes(None if not gain > 0 else bool(up.loc[r["objective"], "uplift"] >= 0)),
                "SLA claimed": _signed(c["sla_compliance"], "{:+.1%}"),
                "SLA verified [95%]": _verified(up, "sla_compliance", "{:+.1%}"),
                "regret % [95%]": f"{_signed(r['regret'][0], '{:.1f}')} [{_signed(r['regret'][1], '{:.1f}')}, "
                f"{_signed(r['regret'][2], '{:.1f}')}]",
                "best t (its years)": f"{r['best_threshold']:g} ({r['best_years']:.0%})",
                "regret % at the SLA confidence": f"{_signed(r['regret_conf'][0], '{:.1f}')} "
                f"(best t {r['best_conf_threshold']:g})",
                "years SLA met": f"{r['sla_years']}/{len(r['verify_seeds'])}",
                "(current)": f"{r['current_sla_years']}/{len(r['verify_seeds'])}",
                "stated conf.": "none" if r["sla_confidence"] is None else f"{r['sla_confidence']:.0%}",
            }
        )
    return pd.DataFrame(lines)


def _rows(r: dict) -> list[Row]:
    name, n = r["world"], len(r["verify_seeds"])
    size = f"history seed {r['history_seed']}; {n} new years, children of {VERIFY_SEED}"
    if "error" in r:
        return [Row(f"promises {name}: recommend and verify", size, r["error"], "runs", met=False)]
    up, c = r["uplift"], r["claimed"]
    out = []
    for figure, label, fmt in (
        ("wins_per_month", "wins/month", "{:+,.2f}"),
        ("revenue_per_month", "revenue/month", "{:+,.0f}"),
    ):
        out.append(
            Row(
                f"promises {name}: claimed {label} uplift in the paired 95% interval",
                size,
                f"claimed {_signed(c[figure], fmt)}, verified {_verified(up, figure, fmt)}",
                "inside",
                met=_inside(up, figure, c[figure]),
            )
        )
        own = r["claimed_interval"][figure]
        out.append(
            Row(
                f"promises {name}: the claim (its own 95% interval) and the verified {label} agree within SEs",
                size,
                f"claimed {_span(own, fmt)}, verified {_verified(up, figure, fmt)}",
                "agree",
                met=_agree(up, figure, own),
            )
        )
        span = r["claimed_range"][figure]
        out.append(
            Row(
                f"promises {name}: claimed {label} uplift range (never-worked leads at none to the top) meets it",
                size,
                f"claimed {_span(span, fmt)}, verified {_verified(up, figure, fmt)}",
                "overlaps",
                met=_meets(up, figure, span),
            )
        )
    objective = r["objective"]
    gain = c[objective]
    fmt = "{:+,.0f}" if objective == "revenue_per_month" else "{:+,.2f}"
    out.append(
        Row(
            f"promises {name}: verified {objective} uplift >= 0 where a gain is claimed",
            size,
            f"claimed {_signed(gain, fmt)}, verified {_verified(up, objective, fmt)}",
            ">= 0",
            met=None if not gain > 0 else bool(up.loc[objective, "uplift"] >= 0),
        )
    )
    regret, low, high = r["regret"]
    out.append(
        Row(
            f"promises {name}: regret against the best of {len(r['grid']) + 1} thresholds",
            size,
            f"{_signed(regret, '{:.1f}')}% [{_signed(low, '{:.1f}')}, {_signed(high, '{:.1f}')}] "
            f"(t={r['threshold']:g}, best t={r['best_threshold']:g})",
            f"<= {r['regret_target']:g}%",
            met=None if not np.isfinite(regret) else bool(regret <= r["regret_target"]),
        )
    )
    stated = r["sla_confidence"]
    out.append(
        Row(
            f"promises {name}: new years meeting the SLA target {r['sla_target']:.0%}",
            size,
            f"{r['sla_years']}/{n} ({r['sla_years'] / n:.0%}); binomial p={r['sla_p']:.3f}",
            f">= {r['sla_held_to']:.0%} of years " + ("(stated)" if stated is not None else "(none stated)"),
            met=bool(r["sla_p"] >= 0.05),
        )
    )
    return out


def across_histories(results: list[dict]) -> pd.DataFrame:
    """Per world, over several history seeds: the claim's bias (claimed - verified uplift,
    mean and 95% t interval over the histories) and how often its own interval holds the
    verified uplift; one history's luck averages out here."""
    lines = []
    for world in dict.fromkeys(r["world"] for r in results):
        done = [r for r in results if r["world"] == world and "error" not in r]
        if not done:
            continue
        line = {"world": world, "histories": len(done)}
        for figure, label, fmt in (
            ("wins_per_month", "wins", "{:+,.2f}"),
            ("revenue_per_month", "revenue", "{:+,.0f}"),
        ):
            gap = np.array([r["claimed"][figure] - r["uplift"].loc[figure, "uplift"] for r in done], dtype=float)
            mean, low, high = _interval(gap)
            held = [_agree(r["uplift"], figure, r["claimed_interval"][figure]) for r in done]
            line[f"{label} claimed - verified [95%]"] = (
                f"{_signed(mean, fmt)} [{_signed(low, fmt)}, {_signed(high, fmt)}]"
            )
            line[f"{label} unbiased"] = _yes(None if not np.isfinite(low) else bool(low <= 0 <= high))
            line[f"{label} agree (SEs)"] = f"{sum(bool(h) for h in held)}/{len(held)}"
            line[f"_{figure}_gap"] = (mean, low, high)
            line[f"_{figure}_held"] = (sum(bool(h) for h in held), len(held))
        # the recommended arm's wins level: claimed over the history's own leads under its
        # rules (the valuation's error), and those over the new years (winner's curse, luck)
        own = np.array([r["levels"]["history_recommended"]["wins_per_month"] for r in done], dtype=float)
        claimed_level = np.array([r["levels"]["recommended"][0]["wins_per_month"] for r in done], dtype=float)
        new_level = np.array([r["levels"]["recommended"][1]["wins_per_month"] for r in done], dtype=float)
        line["rec. wins claimed / own year"] = f"{np.nanmean(claimed_level / own):.2f}"
        line["own year / new years"] = f"{np.nanmean(own / new_level):.2f}"
        regret = np.array([r["regret"][0] for r in done], dtype=float)
        line["regret % (mean, max)"] = f"{np.nanmean(regret):.1f}, {np.nanmax(regret):.1f}"
        k = sum(r["sla_years"] for r in done)
        n = sum(len(r["verify_seeds"]) for r in done)
        line["years SLA met"] = f"{k}/{n}"
        line["_sla"] = (k, n, done[0]["sla_held_to"])
        lines.append(line)
    return pd.DataFrame(lines)


def _across_rows(table: pd.DataFrame, seeds: Sequence[int], n_years: int) -> list[Row]:
    size = f"history seeds {','.join(str(s) for s in seeds)}; {n_years} new years each"
    out = []
    for line in table.to_dict("records"):
        world = line["world"]
        for figure, label, fmt in (
            ("wins_per_month", "wins/month", "{:+,.2f}"),
            ("revenue_per_month", "revenue/month", "{:+,.0f}"),
        ):
            mean, low, high = line[f"_{figure}_gap"]
            out.append(
                Row(
                    f"promises {world}: claimed - verified {label} uplift over {line['histories']} histories",
                    size,
                    f"{_signed(mean, fmt)} [{_signed(low, fmt)}, {_signed(high, fmt)}]",
                    "interval holds 0",
                    met=None if not np.isfinite(low) else bool(low <= 0 <= high),
                )
            )
            k, n = line[f"_{figure}_held"]
            p = float(stats.binom.cdf(k, n, CONFIDENCE))
            out.append(
                Row(
                    f"promises {world}: the claim and the verified {label} uplift agree within SEs",
                    size,
                    f"{k}/{n} histories; binomial p={p:.3f}",
                    "95% of histories",
                    met=bool(p >= 0.05),
                )
            )
        k, n, held_to = line["_sla"]
        p = float(stats.binom.cdf(k, n, held_to))
        out.append(
            Row(
                f"promises {world}: new years meeting the SLA target, all histories",
                size,
                f"{k}/{n} ({k / n:.0%}); binomial p={p:.3f}",
                f">= {held_to:.0%} of years",
                met=bool(p >= 0.05),
            )
        )
    return out


def _names(worlds: str | Sequence[str] | None) -> list[str]:
    if worlds is None:
        return list(WORLDS)
    if isinstance(worlds, str):
        worlds = [w.strip() for w in worlds.split(",") if w.strip()]
    unknown = [w for w in worlds if w not in WORLDS]
    if unknown:
        raise ValueError(f"unknown world(s) {unknown}; known: {', '.join(WORLDS)}")
    return list(worlds)


def rows(
    worlds: str | Sequence[str] | None = None,
    seeds: int | str = SEEDS,
    history_seed: int | str = HISTORY_SEED,
    workers: int | str | None = None,
    capacity: str = "fitted",
) -> list[Row]:
    """Check every world (or those named, comma-separated), print the detail and return the
    rows (``capacity``: see ``check_world``)."""
    workers = int(workers) if workers is not None else max(1, min(2, os.cpu_count() or 1))
    history_seeds = [int(x) for x in str(history_seed).split(",") if x.strip()]
    results = []
    for name in _names(worlds):
        for one_seed in history_seeds:
            print(f"  world {name}: {WORLDS[name][0]}, history seed {one_seed} ...", flush=True)
            results.append(_check_or_error(name, int(seeds), one_seed, workers, capacity))
    print(f"\nnew years (children of {VERIFY_SEED}): {results[0]['verify_seeds']}")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(detail_table(results).to_string(index=False))
        print("\nlevels a month, claimed against the mean of the new years (and the history's own leads")
        print("under each arm's rules, same seed: claimed against it is the valuation's error alone):")
        print(levels_table(results).to_string(index=False))
        if len(history_seeds) > 1:
            across = across_histories(results)
            print("\nacross the histories:")
            print(across[[c for c in across.columns if not c.startswith("_")]].to_string(index=False))
            return _across_rows(across, history_seeds, int(seeds))
    return [row for r in results for row in _rows(r)]


def _check_or_error(name: str, seeds: int, history_seed: int, workers: int, capacity: str) -> dict:
    try:
        r = check_world(name, seeds=seeds, history_seed=history_seed, workers=workers, capacity=capacity)
        print(f"    recommend {r['seconds'][0]:.0f} s, all {r['seconds'][1]:.0f} s", flush=True)
        return r
    except Exception as exc:  # the recommendation is being reworked: report, do not stop
        return {
            "world": name,
            "history_seed": history_seed,
            "verify_seeds": seeding.seed_list(seeds, seed=VERIFY_SEED),
            "error": f"{type(exc).__name__}: {exc}"[:200],
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_promises", description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", default=None, help=f"comma-separated, of: {', '.join(WORLDS)}")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="new years per world")
    parser.add_argument(
        "--history-seed", default=str(HISTORY_SEED), help="one seed, or several comma-separated (then a summary)"
    )
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--capacity", choices=("fitted", "true"), default="fitted", help="team and funnel")
    args = parser.parse_args(argv)
    found = rows(
        args.worlds, seeds=args.seeds, history_seed=args.history_seed, workers=args.workers, capacity=args.capacity
    )
    print_table(found)


if __name__ == "__main__":
    main()
