"""What each MQL threshold costs and wins: volume, precision, SLA load, wins and revenue.

For every candidate threshold ``T`` the MQLs are the leads scoring at least ``T``. Their
volume, precision and recall come from the fitted chance of winning ``p`` of every lead;
their load on the team (utilisation, SLA compliance, response times, reps needed) from the
analytic queue model of ``calibrate.sla`` (checked by simulation when asked, and the
simulation wins where they disagree); and the wins and revenue they bring from ``p``
corrected for how fast the team can answer:

    expected wins(T)   = sum over MQLs of p_i * kept_wins(T) / kept(history)
    expected revenue(T) = sum over MQLs of p_i * amount_i * kept_revenue(T) / kept(history)
    revenue lost to slow response(T) = sum of p_i * amount_i * (1 - kept_revenue(T)) / kept(history)

where ``kept`` is the share of a lead's interest left after its wait for the first touch
(``Funnel.connect_decay * Funnel.qualify_decay``), averaged over the MQLs with weights ``p_i``
(``value_kept_wins``) or ``p_i * amount_i`` (``value_kept_revenue``): a team that calls in
order of score keeps more of the likely winners' value than of the average MQL's
(``value_kept``). The scorecard learned ``p`` from leads that waited as long as the history's
leads did, so only the change in waiting changes the wins.

Two intervals, labelled (``calibrate.intervals``). ``*_low`` / ``*_high`` bound the **expected** value: a Poisson
bootstrap over leads, with each distinct score's totals drawn with the mean and variance the
Poisson weights give them (``bootstrap`` replicates), so it costs the same for a thousand
leads or a million. ``*_year_low`` / ``*_year_high`` give the **range of a new year**, where
one coming year's monthly average may fall: the expectation's own uncertainty plus a new
year's arrivals and outcomes (MQLs and wins of a year are Poisson sums: their variance is
their mean; revenue's adds the spread of deal sizes, ``amount_dispersion``), plus, for SLA
compliance and value kept, the spread of the queue over simulated seeds and the effect of a
year's volume on it (the slope of compliance against volume across thresholds).

Regions the history never worked. Where ``unworked`` leads (no outcome was ever seen in their
region of the score) are MQLs, the wins credited for them (0 by default, see
``LeadInputs.credited_p_win``) are one end of an envelope of plausible conversion curves and
``extrapolated_p`` (the highest plausible chance, ``LeadInputs.plausible_high_p``) the other:
``extrapolated_share`` is the share of the MQLs in such regions, ``extrapolated_wins_per_month``
/ ``extrapolated_revenue_per_month`` what they bring at the top of the envelope, and every
wins and revenue interval (of the expectation and of a new year) is widened to span the
envelope: its low end counts them at nothing, its high end at the top.

Where the simulation overrides the analytic SLA model (``calibrate.sla.overrides``), it
supplies every figure of that threshold: utilisation, SLA compliance, response times and value
kept, and the wins and revenue that follow from the value kept (``analytic_*`` keep the
model's values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window
from calibrate.intervals import cumulative_by_score, poisson_bootstrap, widen_for_extrapolation, year_range
from calibrate.sla import analytic_load, overrides, simulated_load
from simulate.funnel import Funnel
from simulate.team import SLA, Team

CONFIDENCE = 0.9
"""Level of the expected figures' intervals and a new year's range (``recommend`` keeps it)."""

LOAD_FIGURES = (
    "utilisation",
    "sla_compliance",
    "median_response_hours",
    "p90_response_hours",
    "value_kept",
    "value_kept_wins",
    "value_kept_revenue",
    "reps_needed",
)
"""The columns that come from the SLA model (``calibrate.sla.analytic_load``);
``value_kept_wins`` and ``value_kept_revenue`` are the value kept weighted by each MQL's
chance and by its chance times its amount (they differ from ``value_kept`` where the team
calls in order of score)."""

FIGURES_WITH_INTERVALS = (
    "mqls_per_month",
    "precision",
    "recall",
    "wins_per_month",
    "revenue_per_month",
)
VALUE_COLUMNS = tuple(
    f"{name}{suffix}"
    for name in ("wins_per_month", "revenue_per_month")
    for suffix in ("", "_low", "_high", "_year_low", "_year_high")
) + ("extrapolated_wins_per_month", "extrapolated_revenue_per_month")
"""The figures that follow the value kept (rescaled where the simulation supplies it)."""
SIMULATED = tuple(name for name in LOAD_FIGURES if name != "reps_needed")
"""The load figures the simulation supplies where it overrides the analytic model."""


@dataclass(frozen=True, slots=True, eq=False)
class Tradeoffs:
    """The trade-off table and what made it.

    ``table`` has one row per threshold: ``threshold, mqls, mqls_per_month, precision,
    recall, wins_per_month, revenue_per_month, revenue_lost_per_month, utilisation,
    sla_compliance, median_response_hours, p90_response_hours, value_kept, value_kept_wins,
    value_kept_revenue, reps_needed``,
    ``*_low`` / ``*_high`` bounds of the expected volume and value figures, ``*_year_low`` /
    ``*_year_high`` the range of a new year (see the module docstring), ``sla_compliance_sd``
    the standard deviation of a new year's compliance, ``unworked_mqls_per_month`` the MQLs
    from leads the history never worked (their wins are not counted unless asked), and,
    where a simulated check ran, the simulated figures ``sim_*`` (mean over seeds, with
    ``_low`` / ``_high`` for SLA compliance, ``_sd`` over seeds for it and value kept) and
    ``sla_source``: ``"simulation"`` where the
    simulation overrides the analytic model (``calibrate.sla.overrides``) and then supplies
    every figure of the row, else ``"analytic"``.
    """

    table: pd.DataFrame
    capacity: SalesCapacity
    window: Window
    confidence: float
    kept_history: float = 1.0
    weights: dict[str, np.ndarray] | None = None
    """The weights of the weighted value kept (``wins``, ``revenue``), per lead of the load
    (the scored leads, then the second trips at 0): what a simulated check is to be given."""

    @property
    def team(self) -> Team:
        """The team the table was computed for."""
        return self.capacity.team

    @property
    def sla(self) -> SLA:
        """The SLA the table was computed for."""
        return self.capacity.sla

    @property
    def months(self) -> float:
        """Length of the history in months (``Window.months``)."""
        return self.window.months

    def row(self, threshold: float) -> pd.Series:
        """The row of the highest threshold not above ``threshold``."""
        t = self.table
        below = t[t["threshold"] <= threshold]
        return (below.iloc[-1] if len(below) else t.iloc[0]).copy()

    @property
    def sla_compliance(self) -> pd.Series:
        """SLA compliance to trust: the simulation's where it overrides the analytic model."""
        return self.table["sla_compliance"]

    def with_simulation(self, simulated: pd.DataFrame, *, force: ArrayLike = (), fill: ArrayLike = ()) -> Tradeoffs:
        """The table with a simulated check merged in (``calibrate.sla.simulated_load`` of
        some or all of its thresholds): where the simulation overrides the analytic model,
        and at the ``force`` thresholds (where the analytic model is not trusted at all,
        ``calibrate.sla.validity``), it supplies every figure of the row (see the module
        docstring). The ``fill`` thresholds (untrusted, not simulated) take figures
        interpolated between the ``force`` ones (``sla_source`` "interpolated")."""
        table = _analytic(self.table)
        verdict = overrides(table, simulated, level=self.confidence)
        forced = np.isin(verdict["threshold"].to_numpy(), np.asarray(force, dtype=float))
        verdict["trust"] = np.where(forced, "simulation", verdict["trust"])
        spread = simulated.groupby("threshold")[["sla_compliance", "value_kept"]].std(ddof=1)
        weighted = _simulated_weighted(table, simulated, verdict)
        parts = pd.DataFrame(
            {
                "sim_sla_compliance": verdict["sla_compliance_simulated"].to_numpy(),
                "sim_sla_compliance_low": verdict["sla_compliance_low"].to_numpy(),
                "sim_sla_compliance_high": verdict["sla_compliance_high"].to_numpy(),
                "sim_utilisation": verdict["utilisation_simulated"].to_numpy(),
                "sim_value_kept": verdict["value_kept_simulated"].to_numpy(),
                "sim_median_response_hours": verdict["median_response_hours_simulated"].to_numpy(),
                "sim_p90_response_hours": verdict["p90_response_hours_simulated"].to_numpy(),
                "sim_sla_compliance_sd": spread["sla_compliance"].reindex(verdict["threshold"]).to_numpy(),
                "sim_value_kept_sd": spread["value_kept"].reindex(verdict["threshold"]).to_numpy(),
                "sim_seeds": verdict["seeds"].to_numpy(),
                "sla_source": verdict["trust"].to_numpy(),
                **weighted,
            },
            index=verdict["threshold"].to_numpy(),
        )
        out = table.merge(parts, left_on="threshold", right_index=True, how="left")
        out["sla_source"] = out["sla_source"].fillna("analytic")
        sim = (out["sla_source"] == "simulation").to_numpy()
        for name in SIMULATED:
            out[name] = out[name].where(~sim, out[f"sim_{name}"])
        if len(fill):
            out, filled = _interpolate_untrusted(out, np.asarray(force, dtype=float), np.asarray(fill, dtype=float))
            sim = sim | filled
        out = _sla_year_spread(_kept_follows(out, sim, self.kept_history), self.months)
        return dataclasses.replace(self, table=out)


def _kept_follows(out: pd.DataFrame, rows: np.ndarray, kept_history: float) -> pd.DataFrame:
    """Where ``rows`` took their load figures from the simulation, the wins, revenue and
    revenue lost follow its value kept, and the analytic team size no longer holds (the check
    simulates the team as it is; ``calibrate.sla.simulated_load(reps=...)`` for other sizes)."""
    out["reps_needed"] = out["reps_needed"].astype("Float64").where(~rows, pd.NA)
    for kind in ("wins", "revenue"):
        ratio = np.where(rows, out[f"value_kept_{kind}"] / out[f"analytic_value_kept_{kind}"], 1.0)
        ratio = np.where(np.isfinite(ratio), ratio, 1.0)
        for name in VALUE_COLUMNS:
            if name in out and kind in name:
                out[name] = out[f"analytic_{name}"] * ratio
    kept_now = out["value_kept_revenue"].to_numpy() / kept_history
    with np.errstate(invalid="ignore", divide="ignore"):
        per_kept = np.where(kept_now > 0, out["revenue_per_month"] / kept_now, 0.0)
    lost = per_kept * np.clip(1.0 / kept_history - kept_now, 0, None)
    out["revenue_lost_per_month"] = np.where(rows, lost, out["analytic_revenue_lost_per_month"])
    return out


def _simulated_weighted(table: pd.DataFrame, simulated: pd.DataFrame, verdict: pd.DataFrame) -> dict:
    """``sim_value_kept_wins`` and ``_revenue``: the simulation's weighted value kept, mean
    over seeds; a check run without weights scales the model's by the simulated value kept."""
    at = verdict["threshold"].to_numpy()
    out = {}
    for kind in ("wins", "revenue"):
        name = f"value_kept_{kind}"
        if name in simulated:
            out[f"sim_{name}"] = simulated.groupby("threshold")[name].mean().reindex(at).to_numpy()
        else:
            model = table.set_index("threshold").reindex(at)
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = verdict["value_kept_simulated"].to_numpy() / model["value_kept"].to_numpy()
            out[f"sim_{name}"] = model[name].to_numpy() * scale
    return out


def _interpolate_untrusted(out: pd.DataFrame, simulated: np.ndarray, untrusted: np.ndarray):
    """Untrusted thresholds that were not simulated take their load figures interpolated
    (over MQLs a month) between the simulated untrusted ones, ``sla_source`` "interpolated":
    shown on the frontier, never chosen (``recommend`` chooses among simulated rows there).
    Returns the table and which rows were filled."""
    t = out["threshold"].to_numpy()
    known = np.isin(t, simulated)
    fill = np.isin(t, untrusted) & ~known
    if known.sum() < 2 or not fill.any():
        return out, np.zeros(len(out), dtype=bool)
    volume = out["mqls_per_month"].to_numpy(float)
    order = np.argsort(volume[known])
    for name in SIMULATED:
        values = out[name].to_numpy(float)[known][order]
        ok = np.isfinite(values)
        if ok.sum() < 2:
            continue
        filled = np.interp(volume[fill], volume[known][order][ok], values[ok])
        column = out[name].to_numpy(float).copy()
        column[fill] = filled
        out[name] = column
    out["sla_source"] = np.where(fill, "interpolated", out["sla_source"])
    return out, fill


def _analytic(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the analytic model made it, with ``analytic_*`` copies of what a
    simulated check may replace (a check merged before is taken out again)."""
    out = table.drop(columns=[c for c in table if c.startswith("sim_") or c == "sla_source"])
    replaced = [*SIMULATED, "revenue_lost_per_month", "reps_needed", *VALUE_COLUMNS]
    for name in replaced:
        if f"analytic_{name}" in out:
            out[name] = out[f"analytic_{name}"]
        elif name in out:
            out[f"analytic_{name}"] = out[name]
    return out


def _sla_year_spread(table: pd.DataFrame, months: float) -> pd.DataFrame:
    """``sla_compliance_sd``: how much a new year's SLA compliance varies around the table's.

    Two parts: the queue's own randomness (the standard deviation over simulated seeds,
    where they ran, times ``sqrt(1 + 1/seeds)`` for a new year against a mean of that many;
    without any seeds the binomial spread of a year's MQLs, a lower bound),
    and a new year's volume (the slope of compliance against MQLs a month across
    neighbouring thresholds, times the Poisson deviation of a year's monthly volume).
    """
    out = table.copy()
    volume = out["mqls_per_month"].to_numpy(float)
    compliance = out["sla_compliance"].to_numpy(float)
    ok = np.isfinite(compliance) & (volume > 0)
    slope = np.zeros(len(out))
    if ok.sum() >= 2:
        v, c = volume[ok], compliance[ok]
        order = np.argsort(v)
        grad = np.gradient(c[order], v[order]) if np.unique(v).size == v.size else np.zeros(v.size)
        slope[np.flatnonzero(ok)[order]] = np.nan_to_num(np.minimum(grad, 0.0))
    arrival = slope * np.sqrt(volume / 12.0)
    # without seeds, at least the binomial spread of a year's MQLs meeting it or not
    with np.errstate(invalid="ignore", divide="ignore"):
        binomial = np.sqrt(np.clip(compliance * (1 - compliance), 0, None) / np.maximum(volume * 12.0, 1.0))
    queue = np.nan_to_num(binomial)
    if "sim_sla_compliance_sd" in out:
        sd = out["sim_sla_compliance_sd"].to_numpy(float)
        n = out["sim_seeds"].to_numpy(float)
        have = np.isfinite(sd) & (n > 1)
        queue = np.where(have, sd * np.sqrt(1 + 1 / np.where(have, n, 1)), np.nan)
        # rows without a simulated check borrow the median spread of those with one
        if have.any():
            queue = np.where(have, queue, np.nanmedian(queue[have]))
        else:
            queue = np.nan_to_num(binomial)
    out["sla_compliance_sd"] = np.sqrt(queue**2 + arrival**2)
    return out


def candidate_thresholds(score: ArrayLike, *, max_count: int | None = None) -> np.ndarray:
    """Every distinct score (ascending), or ``max_count`` evenly spread quantiles of them."""
    distinct = np.unique(np.asarray(score, dtype=float))
    distinct = distinct[np.isfinite(distinct)]
    if max_count is not None and distinct.size > max_count:
        idx = np.unique(np.round(np.linspace(0, distinct.size - 1, max_count)).astype(int))
        distinct = distinct[idx]
    return distinct


def evaluate_tradeoffs(
    score: ArrayLike,
    p_win: ArrayLike,
    handoff_min: ArrayLike,
    *,
    capacity: SalesCapacity,
    window: Window,
    amount: ArrayLike | float = 1.0,
    historical_wait_min: ArrayLike | None = None,
    thresholds: ArrayLike | None = None,
    bootstrap: int = 200,
    confidence: float = CONFIDENCE,
    simulate_seeds: int | Sequence[int] = 0,
    returns_score: ArrayLike | None = None,
    returns_handoff_min: ArrayLike | None = None,
    unworked: ArrayLike | None = None,
    extrapolated_p: ArrayLike | None = None,
    amount_dispersion: float = 1.0,
    kept_weight: ArrayLike | None = None,
    returns_value: tuple[ArrayLike, ArrayLike] | None = None,
    seed: int = 0,
) -> Tradeoffs:
    """The trade-off table of every candidate threshold (see the module docstring).

    Parameters
    ----------
    score : (n,) every lead's score under the candidate points.
    p_win : (n,) fitted chance that the lead wins once worked (as the history worked leads).
    handoff_min : (n,) when each lead would be handed to sales, minutes since ``window.start``.
    capacity : the sales side: team, SLA, response decay, contact rate, bad data.
    window : the history's first day and length.
    amount : (n,) expected deal amount per lead, or one number.
    historical_wait_min : waits (minutes) to the first touch the history's worked leads had;
        ``kept(history)`` is their mean decay (default: 1, as if answered at once).
    thresholds : candidates (default: every distinct score).
    bootstrap : Poisson-bootstrap replicates for the intervals (0 for none).
    confidence : interval level.
    simulate_seeds : a count or a list of seeds: check the SLA of every threshold with the
        queue engine on those seeds (0: analytic only).
    returns_score, returns_handoff_min : leads that come back from nurture and are handed to
        sales a second time (their score and the moment): they add load, not MQLs.
    unworked : (n,) bool, leads the history never worked (counted in
        ``unworked_mqls_per_month``; their ``p_win`` is whatever the caller credits them).
    extrapolated_p : (n,) with ``unworked``, the highest plausible chance of each unworked
        lead: the wins and revenue intervals span from crediting them ``p_win`` at the low
        end less their credit, to this at the high end (see the module docstring).
    amount_dispersion : ``E[amount^2] / E[amount]^2`` of a won deal around its expected
        amount (1: every deal is worth its expectation), for the revenue range of a new year.
    kept_weight : (n,) the chances the value kept is averaged with (default ``p_win``).
        Where ``p_win`` holds realised outcomes, give the fitted chances: an outcome carries
        its lead's own wait in the history (the leads answered at once won more often, and
        they cluster in the quiet weeks), so weighing the value kept by outcomes counts the
        history's waits a second time.
    returns_value : ``(won, amount)`` per return trip (``returns_score`` then holds each
        trip's ceiling, the highest threshold it happens under, ``calibrate.return_trips``):
        the wins on the trips back, counted in the wins and revenue of the thresholds at or
        below their ceiling (default: none, the trips back add load only, as where
        ``p_win`` already holds their value).
    seed : the root of the randomness: the bootstrap draws from ``default_rng(seed)``, a
        count of ``simulate_seeds`` expands into the children of ``seed``.
    """
    rng = np.random.default_rng(seed)
    score = np.asarray(score, dtype=float)
    n = score.size
    p = _vector(p_win, n, "p_win")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p_win must be probabilities in [0, 1]")
    handoff = _vector(handoff_min, n, "handoff_min")
    value = _vector(amount, n, "amount") if np.ndim(amount) else np.full(n, float(amount))
    thresholds = candidate_thresholds(score) if thresholds is None else np.sort(np.asarray(thresholds, dtype=float))
    if thresholds.size == 0:
        raise ValueError("no candidate thresholds: every score is missing")
    months = window.months

    load_score, load_handoff = score, handoff
    if returns_score is not None:
        load_score = np.concatenate([score, np.asarray(returns_score, dtype=float)])
        load_handoff = np.concatenate([handoff, np.asarray(returns_handoff_min, dtype=float)])
    returns = load_score.size - n
    w = p if kept_weight is None else _vector(kept_weight, n, "kept_weight")
    weights = {"wins": np.append(w, np.zeros(returns)), "revenue": np.append(w * value, np.zeros(returns))}
    load = analytic_load(load_score, load_handoff, thresholds, capacity=capacity, window=window, weights=weights)
    kept_history = _kept(capacity.funnel, historical_wait_min)
    kept = load["value_kept_wins"].to_numpy() / kept_history
    kept_revenue = load["value_kept_revenue"].to_numpy() / kept_history

    unworked_mask = np.zeros(n) if unworked is None else np.asarray(unworked, dtype=float)
    count, sums = cumulative_by_score(
        score, {"p": p, "pv": p * value, "pv2": p * value**2, "unworked": unworked_mask}, thresholds
    )
    trip_score, trip_p, trip_value = score, p, value
    if returns_value is not None and returns:
        won = _vector(returns_value[0], returns, "returns_value won")
        back_value = _vector(returns_value[1], returns, "returns_value amount")
        back_score = load_score[n:]
        _, back = cumulative_by_score(
            back_score, {"p": won, "pv": won * back_value, "pv2": won * back_value**2}, thresholds
        )
        sums = {**sums, **{key: sums[key] + back[key] for key in back}}
        trip_score, trip_p = np.r_[score, back_score], np.r_[p, won]
        trip_value = np.r_[value, back_value]
    total_p = float(np.sum(trip_p))  # every trip's wins: the recall's whole, as in the bootstrap
    table = pd.DataFrame({"threshold": thresholds, "mqls": count})
    table["mqls_per_month"] = count / months
    table["precision"] = np.divide(sums["p"], count, out=np.full(count.size, np.nan), where=count > 0)
    table["recall"] = sums["p"] / total_p if total_p > 0 else np.nan
    table["wins_per_month"] = sums["p"] * kept / months
    table["revenue_per_month"] = sums["pv"] * kept_revenue / months
    table["revenue_lost_per_month"] = sums["pv"] * np.clip(1.0 / kept_history - kept_revenue, 0, None) / months
    table["unworked_mqls_per_month"] = sums["unworked"] / months
    for column in LOAD_FIGURES:
        table[column] = load[column].to_numpy()

    if bootstrap:
        counted = np.r_[np.ones(n), np.zeros(trip_score.size - n)]
        low, high = poisson_bootstrap(
            trip_score,
            trip_p,
            trip_value,
            thresholds,
            (kept, kept_revenue),
            months,
            bootstrap,
            confidence,
            rng,
            amount_dispersion,
            counted,
        )
        for name in FIGURES_WITH_INTERVALS:
            table[f"{name}_low"] = low[name]
            table[f"{name}_high"] = high[name]
    per_month_variance = {
        "mqls_per_month": table["mqls_per_month"] / 12.0,
        "wins_per_month": table["wins_per_month"] / 12.0,
        "revenue_per_month": sums["pv2"] * kept_revenue * float(amount_dispersion) / months / 12.0,
    }
    year_range(table, per_month_variance, confidence)
    if unworked is not None:
        high = p if extrapolated_p is None else _vector(extrapolated_p, n, "extrapolated_p")
        per_month = (kept / months, kept_revenue / months)
        widen_for_extrapolation(table, score, thresholds, p, high, value, unworked_mask, per_month)

    trade = Tradeoffs(
        table=_sla_year_spread(table, months),
        capacity=capacity,
        window=window,
        confidence=confidence,
        kept_history=kept_history,
        weights=weights,
    )
    if isinstance(simulate_seeds, int | np.integer) and simulate_seeds == 0:
        return trade
    sim = simulated_load(
        load_score,
        load_handoff,
        thresholds,
        capacity=capacity,
        window=window,
        seeds=simulate_seeds,
        seed=seed,
        weights=weights,
    )
    return trade.with_simulation(sim)


def _kept(funnel: Funnel, historical_wait_min: ArrayLike | None) -> float:
    """Mean share of value the history's worked leads kept after their waits (1 without)."""
    if historical_wait_min is None:
        return 1.0
    waits = np.asarray(historical_wait_min, dtype=float)
    waits = waits[np.isfinite(waits)]
    return float(np.mean(funnel.connect_decay(waits) * funnel.qualify_decay(waits))) if waits.size else 1.0


def _vector(values: ArrayLike, n: int, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if out.shape != (n,):
        raise ValueError(f"{name} must have one value per lead ({n}), got shape {out.shape}")
    if np.isnan(out).any():
        raise ValueError(f"{name} is missing for lead {int(np.flatnonzero(np.isnan(out))[0])}")
    return out
