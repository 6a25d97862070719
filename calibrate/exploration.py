"""Plan the experiment that measures conversion below the old threshold.

A history holds outcomes only for the leads sales worked. ``exploration_plan`` says how many
of the leads the old rules leave below the threshold to hand to sales at random, by band of
the old score, for how many weeks, so that each band's conversion is estimated within a
chosen precision; and what it costs while it runs: rep hours, SLA compliance of the MQLs
(from the analytic SLA model on the history's own arrivals with the sample added), and
wins gained (the sample's own) or lost (the MQLs' wait grows).

The precision of a band is the half width of the normal interval of a proportion,
``z * sqrt(p (1 - p) / n)``, at the planning chance ``p``: the higher of the scorecard's
extrapolation and the top of the plausible envelope (``LeadInputs.plausible_high_p``; the
larger chance needs the larger sample while ``p < 0.5``, so the plan errs on the long side).
The plan's rule (``simulate.ExplorationRule``) is what a CRM workflow runs: a random share
per band, ``decide_after_days`` after a lead's creation; ``simulate.run_with_exploration``
runs it in a simulated world, and ``make_labels(exploration="explored",
exploration_share="exploration_share")`` weighs what comes back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from calibrate.capacity import HORIZON_DAYS, SalesCapacity
from calibrate.inputs import as_history, prepare
from calibrate.labels import worked_leads
from calibrate.point_in_time import scores_after
from calibrate.sla import analytic_load, work_per_mql
from simulate.atomic import write_text_atomic
from simulate.exploration import ExplorationRule
from simulate.rules import ScoringRules

__all__ = ["WEEK_CHOICES", "ExplorationPlan", "exploration_plan", "half_width"]

WEEK_CHOICES = (2, 4, 6, 8, 13, 17, 26, 39, 52)
"""The experiment lengths (weeks) the plan chooses among when none is given."""


def half_width(p: float | np.ndarray, n: float | np.ndarray, confidence: float) -> np.ndarray:
    """Half width of the normal ``confidence`` interval of a proportion ``p`` from ``n`` leads."""
    z = float(norm.ppf(0.5 + confidence / 2))
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return z * np.sqrt(p * (1 - p) / np.asarray(n, dtype=float))


@dataclass(frozen=True, eq=False)
class ExplorationPlan:
    """What ``exploration_plan`` returns.

    ``table``: one row per band of the old score (``score_from``, ``score_below``,
    ``eligible_per_month`` leads below the threshold, ``planning_chance`` and
    ``extrapolated_chance`` of winning, ``leads_needed`` for the precision, ``share`` to
    sample, ``explored_per_month``, ``precision`` reached at the planning chance).
    ``cost``: rep hours a month, SLA compliance without and during the experiment, wins a
    month gained by the sample and lost by the MQLs' longer wait. ``options``: the same
    figures for every experiment length tried. ``rule``: the sampling rule to run.
    """

    table: pd.DataFrame
    cost: dict
    rule: ExplorationRule
    precision: float
    confidence: float
    weeks: float
    horizon_days: float
    options: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def precision_at(self, chance: float | np.ndarray) -> np.ndarray:
        """The half width each band's estimate reaches if its true chance is ``chance``."""
        n = self.table["explored_per_month"].to_numpy(float) * self.weeks * 12 / 52
        return half_width(chance, n, self.confidence)

    def summary(self) -> str:
        """The plan at 80 columns: bands, shares, length and what it costs."""
        c = self.cost
        lines = [
            f"Exploration plan: each band's chance to win within {self.horizon_days:g} days, to +-{self.precision:.1%}",
            f"({self.confidence:.0%} confidence). Run it {self.weeks:g} weeks; the results are "
            f"complete {self.weeks * 7 + self.horizon_days:g} days",
            "after the start (the last lead's outcome window).",
            "",
            f"{'old score':>13} {'eligible':>9} {'chance':>7} {'needed':>7} {'share':>6} {'sampled':>8} {'+-':>6}",
            f"{'':>13} {'a month':>9} {'plan':>7} {'leads':>7} {'':>6} {'a month':>8} {'':>6}",
        ]
        for row in self.table.itertuples():
            band = f"{_edge(row.score_from)} to {_edge(row.score_below)}"
            lines.append(
                f"{band:>13} {row.eligible_per_month:9,.0f} {row.planning_chance:7.1%} "
                f"{row.leads_needed:7,.0f} {row.share:6.1%} {row.explored_per_month:8,.1f} {row.precision:6.1%}"
            )
        cost = (
            f"Cost while it runs: {c['explored_per_month']:,.0f} more leads a month for sales, "
            f"{c['rep_hours_per_month']:,.0f} rep hours a month; SLA met {c['sla_without']:.1%} "
            f"without, {c['sla_during']:.1%} during; wins a month +{c['wins_gained_per_month']:.1f} "
            f"from the sample, -{c['wins_lost_per_month']:.1f} by the MQLs' longer wait."
        )
        lines += ["", _paragraph(cost)] + [_paragraph(note) for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The plan as JSON types: the rule a CRM runs, the bands and the cost."""
        return {
            "format": "leadfunnel-exploration-plan/1",
            "rule": self.rule.to_dict(),
            "precision": self.precision,
            "confidence": self.confidence,
            "weeks": self.weeks,
            "horizon_days": self.horizon_days,
            "bands": json.loads(self.table.to_json(orient="records")),
            "cost": {k: float(v) for k, v in self.cost.items()},
            "notes": list(self.notes),
        }

    def to_config(self, path: str | os.PathLike, *, overwrite: bool = False) -> str:
        """Write the plan as JSON to ``path`` (refused if it exists, unless ``overwrite``)."""
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{os.fspath(path)} exists; pass overwrite=True to replace it")
        text = json.dumps(self.to_dict(), indent=2)
        write_text_atomic(path, text + "\n")
        return text

    def plot(self):
        """Left: leads needed against leads eligible during the experiment, per band. Right:
        SLA compliance during the experiment against its length."""
        import matplotlib.pyplot as plt

        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
        t = self.table
        names = [f"{_edge(a)} to {_edge(b)}" for a, b in zip(t["score_from"], t["score_below"], strict=True)]
        x = np.arange(len(t))
        eligible = t["eligible_per_month"].to_numpy(float) * self.weeks * 12 / 52
        left.bar(x - 0.2, eligible, width=0.4, label=f"eligible in {self.weeks:g} weeks", color="#bbbbbb")
        needed = t["leads_needed"].to_numpy(float)
        left.bar(x + 0.2, needed, width=0.4, label="to work at random", color="#1f77b4")
        for xi, n, share in zip(x, needed, t["share"], strict=True):
            left.annotate(
                f"{share:.1%}", (xi + 0.2, n), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8
            )
        left.set_yscale("log")
        left.set_xticks(x, names)
        left.set_xlabel("band of the old score (points)")
        left.set_ylabel("leads (count, log scale)")
        left.set_title(f"Leads for \u00b1{self.precision:.1%} per band (share drawn)")
        left.legend(loc="upper left", frameon=False, fontsize=8)
        left.set_ylim(top=left.get_ylim()[1] * 4)
        o = self.options
        right.plot(o["weeks"], 100 * o["sla_during"], marker="o", label="during the experiment")
        right.axhline(100 * self.cost["sla_without"], color="grey", linestyle="--", label="without it")
        right.axvline(self.weeks, color="#d62728", linestyle=":", label=f"chosen: {self.weeks:g} weeks")
        right.set_xlabel("length of the experiment (weeks)")
        right.set_ylabel("SLA met (% of MQLs)")
        right.set_title("SLA compliance while it runs")
        right.legend(loc="lower right", frameon=False)
        return fig


def _paragraph(text: str) -> str:
    import textwrap

    return textwrap.fill(text, width=80, break_on_hyphens=False)


def _edge(x: float) -> str:
    return "-inf" if not np.isfinite(x) else f"{x:g}"


def exploration_plan(
    history,
    capacity: SalesCapacity | None = None,
    *,
    rules: ScoringRules | None = None,
    threshold: float | None = None,
    bands: int = 4,
    precision: float = 0.02,
    confidence: float = 0.9,
    weeks: float | None = None,
    decide_after_days: float = 7.0,
    max_sla_drop: float = 0.02,
    horizon_days: float = HORIZON_DAYS,
    seed: int = 0,
) -> ExplorationPlan:
    """Plan an exploration experiment below the old threshold (see the module docstring).

    Parameters
    ----------
    history : a ``History``, lead table, CSV path or ``simulate.run`` result, with the old
        ``score`` of every lead and the MQLs the old rules made (``mql_at``).
    capacity : the sales side; default: the team and SLA of the world fitted to the history.
    rules : the rules in force. With the history's events, each lead is banded by its score
        under them ``decide_after_days`` after its creation, as the experiment will draw it,
        and a lead they had made an MQL by then is not eligible; without, by the lead
        table's ``score`` (the CRM's score now), and the eligible are the leads never worked.
    threshold : the old MQL threshold; default: the rules', else the score that best
        separates the history's MQLs from the others (``old_threshold``).
    bands : equal-count bands of the old score below the threshold.
    precision : half width wanted for each band's chance to win (absolute, 0.02 = 2 points).
    confidence : of that interval.
    weeks : the experiment's length; default: the shortest of ``WEEK_CHOICES`` whose share
        stays at most 1 in every band and whose SLA compliance drops by at most
        ``max_sla_drop``.
    decide_after_days : when a lead is drawn: this many days after its creation.
    horizon_days : the outcome window (won within it).
    seed : the draw of the sample used to weigh the SLA load, and the scorecard fit.
    """
    if not 0 < precision < 0.5:
        raise ValueError(f"exploration_plan: precision must be in (0, 0.5), got {precision!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"exploration_plan: confidence must be in (0, 1), got {confidence!r}")
    if not (isinstance(bands, int | np.integer) and bands >= 1):
        raise ValueError(f"exploration_plan: bands must be a whole number >= 1, got {bands!r}")
    history = as_history(history)
    old, eligible, threshold, notes = _eligible(history, rules, threshold, decide_after_days)
    if eligible.sum() < bands:
        raise ValueError(
            f"{history.source}: only {int(eligible.sum())} leads eligible below the threshold {threshold:g}"
        )
    if capacity is None:
        from calibrate.world import fit_world

        capacity = fit_world(history, horizon_days=horizon_days, seed=seed).capacity()
    inputs = prepare(history, horizon_days=horizon_days, random_state=seed)
    high = inputs.plausible_high_p()
    below = eligible
    edges = _band_edges(old[below], bands, threshold)
    band = np.searchsorted(edges, old, side="right") - 1
    months = inputs.window.months
    rows = []
    for b in range(edges.size - 1):
        members = below & (band == b)
        extrapolated = float(inputs.p_win[members].mean()) if members.any() else np.nan
        planning = float(np.nanmax([extrapolated, high[members].mean() if members.any() else np.nan]))
        planning = min(max(planning, 1e-4), 0.5)
        z = float(norm.ppf(0.5 + confidence / 2))
        rows.append(
            {
                "score_from": float(edges[b]),
                "score_below": float(edges[b + 1]),
                "eligible_per_month": members.sum() / months,
                "planning_chance": planning,
                "extrapolated_chance": extrapolated,
                "leads_needed": float(np.ceil(z**2 * planning * (1 - planning) / precision**2)),
            }
        )
    table = pd.DataFrame(rows)
    is_mql = history.leads["mql_at"].notna().to_numpy() if "mql_at" in history.leads else np.zeros(old.size, bool)
    costing = _Costing(history, inputs, capacity, is_mql, below, band, decide_after_days, seed)
    options = pd.DataFrame([costing.at(table, w) for w in (WEEK_CHOICES if weeks is None else (weeks,))])
    chosen, chosen_notes = _choose_weeks(options, max_sla_drop, weeks)
    notes += chosen_notes
    table = _with_shares(table, float(chosen["weeks"]), confidence)
    rule = ExplorationRule(
        edges=edges, shares=table["share"].to_list(), decide_after_days=decide_after_days, weeks=float(chosen["weeks"])
    )
    cost = {k: float(chosen[k]) for k in chosen.index if k != "weeks"}
    return ExplorationPlan(
        table=table,
        cost=cost,
        rule=rule,
        precision=precision,
        confidence=confidence,
        weeks=float(chosen["weeks"]),
        horizon_days=float(horizon_days),
        options=options,
        notes=notes,
    )


def _eligible(history, rules, threshold, decide_after_days):
    """The old score of every lead at the draw, who may be drawn, the threshold and notes."""
    leads = history.leads
    if rules is not None and rules.grades is not None:
        raise ValueError("exploration_plan: two-axis rules (grades) have no single score to band; give one-axis rules")
    if rules is not None and history.events is not None:
        score, mql_by_then = scores_after(rules, leads, history.events, decide_after_days)
        threshold = float(rules.mql_threshold) if threshold is None else float(threshold)
        drawn_at = leads["created_at"] + pd.Timedelta(days=decide_after_days)
        in_history = (drawn_at <= pd.Timestamp(history.as_of)).to_numpy()
        return score, ~mql_by_then & (score < threshold) & in_history, threshold, []
    if "score" not in leads or leads["score"].isna().all():
        raise ValueError(f"{history.source}: column 'score' (the old score) is needed to band the leads below it")
    notes = [
        "Leads are banded by the history's recorded score (no rules with events were given), "
        "not by their score at the draw: the bands are approximate."
    ]
    old = pd.to_numeric(leads["score"], errors="coerce").to_numpy(float)
    is_mql = leads["mql_at"].notna().to_numpy() if "mql_at" in leads else np.zeros(len(leads), dtype=bool)
    if threshold is None:
        if not is_mql.any():
            raise ValueError(f"{history.source}: no MQLs (column 'mql_at'): give the old threshold")
        threshold = old_threshold(old, is_mql)
        notes.append(
            f"The old threshold {threshold:g} is inferred (the score that best separates the "
            "history's MQLs from the others); pass threshold= if it differs."
        )
    eligible = ~worked_leads(leads) & np.isfinite(old) & (old < threshold)
    return old, eligible, float(threshold), notes


def old_threshold(score: np.ndarray, is_mql: np.ndarray) -> float:
    """The threshold ``T`` for which ``score >= T`` agrees with ``is_mql`` on the most leads
    (the recorded score may have moved since the MQL moment, so not simply the lowest)."""
    ok = np.isfinite(score)
    s, m = score[ok], is_mql[ok]
    candidates = np.unique(s)
    order = np.argsort(s, kind="stable")
    s, m = s[order], m[order]
    below = np.searchsorted(s, candidates, side="left")  # leads with score < T
    mql_below = np.r_[0, np.cumsum(m)][below]
    agree = (below - mql_below) + (m.sum() - mql_below)
    return float(candidates[int(np.argmax(agree))])


def _band_edges(scores: np.ndarray, bands: int, threshold: float) -> np.ndarray:
    """Equal-count band edges of the old scores below the threshold (whole points where the
    scores are whole), the lowest open, the highest the threshold."""
    inner = np.quantile(scores, np.linspace(0, 1, bands + 1)[1:-1])
    if np.allclose(scores, np.round(scores)):
        inner = np.ceil(inner)
    inner = np.unique(inner[(inner > np.min(scores)) & (inner < threshold)])
    return np.r_[-np.inf, inner, threshold]


def _with_shares(table: pd.DataFrame, weeks: float, confidence: float) -> pd.DataFrame:
    """The share each band needs in ``weeks`` weeks (at most 1), and what it reaches."""
    out = table.copy()
    eligible = out["eligible_per_month"].to_numpy(float) * weeks * 12 / 52
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(eligible > 0, np.minimum(out["leads_needed"] / eligible, 1.0), 0.0)
    out["share"] = share
    out["explored_per_month"] = share * out["eligible_per_month"]
    out["precision"] = half_width(out["planning_chance"], share * eligible, confidence)
    return out


class _Costing:
    """The cost of the experiment for a given length, on the history's own arrivals."""

    def __init__(self, history, inputs, capacity, is_mql, below, band, decide_after_days, seed):
        leads = history.leads
        window = inputs.window
        self.window, self.capacity, self.below, self.band = window, capacity, below, band
        self.is_mql = is_mql
        created = window.minutes(leads["created_at"])
        self.handoff = inputs.handoff_min
        self.drawn_at = np.clip(created + decide_after_days * 1440.0, 0, window.end_minutes - 1)
        self.uniform = np.random.default_rng(seed).random(len(leads))
        self.months = window.months
        self.wins_now = float(inputs.p_win[is_mql].sum()) / self.months
        self.p = inputs.p_win
        work, _ = work_per_mql(
            capacity.team,
            contact_rate=float(np.mean(capacity.contact_rate)),
            bad_data_share=float(np.mean(capacity.bad_data_share)),
            attempt_connect_share=capacity.funnel.attempt_connect_share,
        )
        self.work_min = float(work)
        self.without = self._load(np.zeros(len(leads), dtype=bool))

    def _load(self, sampled: np.ndarray) -> pd.Series:
        handed = (self.is_mql | sampled).astype(float)
        handoff = np.where(sampled, self.drawn_at, self.handoff)
        load = analytic_load(handed, handoff, [1.0], capacity=self.capacity, window=self.window)
        return load.iloc[0]

    def at(self, table: pd.DataFrame, weeks: float) -> dict:
        shares = _with_shares(table, weeks, 0.9)["share"].to_numpy(float)
        eligible = table["eligible_per_month"].to_numpy(float) * weeks * 12 / 52
        share_of = np.where(self.below, shares[np.clip(self.band, 0, shares.size - 1)], 0.0)
        sampled = self.uniform < share_of
        during = self._load(sampled)
        kept = float(during["value_kept"]) / max(float(self.without["value_kept"]), 1e-12)
        per_month = float(sampled.sum()) / self.months
        return {
            "weeks": float(weeks),
            "reachable": bool(np.all(table["leads_needed"].to_numpy(float) <= eligible)),
            "explored_per_month": per_month,
            "rep_hours_per_month": per_month * self.work_min / 60.0,
            "sla_without": float(self.without["sla_compliance"]),
            "sla_during": float(during["sla_compliance"]),
            "wins_gained_per_month": float(self.p[sampled].sum()) / self.months * kept,
            "wins_lost_per_month": self.wins_now * max(0.0, 1.0 - kept),
        }


def _choose_weeks(options: pd.DataFrame, max_sla_drop: float, weeks: float | None) -> tuple[pd.Series, list[str]]:
    """The shortest length that reaches the precision in every band within the SLA budget."""
    notes = []
    drop = options["sla_without"] - options["sla_during"]
    fine = options["reachable"].astype(bool) & (drop <= max_sla_drop)
    if weeks is not None:
        row = options.iloc[0]
        if not bool(row["reachable"]):
            notes.append(f"In {weeks:g} weeks some band has too few leads for the precision: all of them are worked.")
        if float(drop.iloc[0]) > max_sla_drop:
            notes.append(f"The SLA drops by {float(drop.iloc[0]):.1%}, more than the {max_sla_drop:.1%} allowed.")
        return row, notes
    if fine.any():
        return options[fine].iloc[0], notes
    reachable = options[options["reachable"].astype(bool)]
    if len(reachable):
        row = reachable.iloc[-1]
        notes.append(
            f"No length keeps the SLA drop within {max_sla_drop:.1%}: the longest ({row['weeks']:g} weeks) "
            "spreads the sample thinnest."
        )
        return row, notes
    notes.append(
        f"Even {options['weeks'].iloc[-1]:g} weeks do not give every band enough leads: all of them are "
        "worked and the precision is what the table says."
    )
    return options.iloc[-1], notes
