"""Where the simulation overrides the analytic SLA model: the one rule, and the side-by-side table.

The analytic model (:func:`~calibrate.sla.analytic_load`) is fast and smooth; the simulation
(:func:`~calibrate.sla.simulated_load`) is the reference but noisy and slow. Wherever both
ran, :func:`overrides` decides, figure by figure and threshold by threshold, whether the
analytic value stands or the simulation's mean replaces it; :func:`compare_load` shows both
with that decision, and the trade-off table and the recommendation take their SLA figures
from the same rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.sla.analytic import LOAD_COLUMNS

__all__ = ["COMPARED", "TOLERANCE", "compare_load", "overrides"]

COMPARED = ("utilisation", "sla_compliance", "median_response_hours", "p90_response_hours", "value_kept")
"""The figures that the analytic model and the simulation both give, and :func:`overrides` compares."""

TOLERANCE = {
    "utilisation": 0.02,
    "sla_compliance": 0.01,
    "median_response_hours": 0.5,
    "p90_response_hours": 1.0,
    "value_kept": 0.01,
}
"""Absolute slack per figure by which the simulated mean's interval is widened before the
analytic value counts as outside it (see :func:`overrides`)."""

_DECIDING = ("sla_compliance", "value_kept")  # the figures whose disagreement makes ``trust`` "simulation"


def _check_frame(name: str, frame, needed) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a DataFrame")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}")


def _tolerance(tolerance: dict[str, float] | None) -> dict[str, float]:
    tol = dict(TOLERANCE)
    if tolerance:
        unknown = set(tolerance) - set(COMPARED)
        if unknown:
            raise ValueError(f"tolerance names unknown figures {sorted(unknown)}; known: {list(COMPARED)}")
        tol.update(tolerance)
    return tol


def overrides(
    analytic: pd.DataFrame,
    simulated: pd.DataFrame,
    *,
    level: float = 0.9,
    tolerance: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Per threshold and figure: does the simulation override the analytic model?

    The rule. For each figure ``x`` of :data:`COMPARED` (utilisation, SLA compliance, median
    and p90 response hours, value kept), take the ``level`` confidence interval of the
    simulation's mean over the seeds, ``[x_low, x_high]`` (``mean -+ t sd / sqrt(n)``,
    Student's ``t`` with ``n - 1`` degrees of freedom; the point itself for one seed; where
    a seed never touched every lead and its figure is infinite, the seeds' central ``level``
    interval instead). The analytic value stands where it lies within that interval widened
    by ``tolerance[x]`` on both sides (both infinite counts as agreeing); elsewhere the
    simulation overrides it with its mean over seeds ``x_simulated``. A threshold's
    ``trust`` is ``"simulation"`` where SLA compliance or value kept are overridden, else
    ``"analytic"``.

    The question is whether the model is off the engine's expected value, not whether one
    simulated year could land where the model says: an interval of single seeds let the
    model stand 0.025 below the mean of ten seeds whose year-to-year spread was 0.02 (the
    rules in force of the default world near capacity, 0.810 against 0.835), and the
    recommendation then over-stated its SLA gain over them by 3.6 points against new years.

    Why a tolerance: with many seeds the interval shrinks towards the simulation's own
    mean, and the analytic model would be overridden for differences far below what it
    claims or what anyone decides on. :data:`TOLERANCE` is that claim: 0.01 for SLA
    compliance and value kept (what the model keeps to against the simulation on the
    steady and default-team checks in ``tests/test_sla_simulated.py``; where the model is
    trusted at all is :func:`~calibrate.sla.validity`), 0.02 for utilisation (the
    model takes the mean work per MQL, the simulation a draw of it), and 0.5 and 1 hour for
    the median and p90 response times (the model's resolution: bins of an eighth of a
    working day, and response times interpolated on a grid about 9% apart). A disagreement
    larger than that and outside what the seeds show is the model's known limits showing
    (a roster across time zones, follow-ups near capacity, a discipline other than FIFO).

    Parameters
    ----------
    analytic : DataFrame
        ``threshold`` and the :data:`COMPARED` figures, one row per threshold: from
        :func:`~calibrate.sla.analytic_load`, or a table that carries its columns (the
        trade-off table).
    simulated : DataFrame
        From :func:`~calibrate.sla.simulated_load` (``threshold, seed`` and the figures, one
        row per threshold and seed), on some or all of the same thresholds.
    level : float
        Width of the interval over seeds, in (0, 1).
    tolerance : dict, optional
        Absolute slack per figure, replacing those of :data:`TOLERANCE` it names.

    Returns
    -------
    pandas.DataFrame
        One row per threshold that both have (ascending): ``threshold, trust, seeds`` (how
        many seeds ran), and per figure ``x``: ``x_analytic, x_simulated, x_low, x_high``
        and ``x_overridden`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> figures = dict(utilisation=0.5, median_response_hours=2.0, p90_response_hours=9.0, value_kept=0.4)
    >>> analytic = pd.DataFrame([dict(threshold=t, sla_compliance=c, **figures) for t, c in [(1.0, 0.9), (2.0, 0.8)]])
    >>> simulated = pd.DataFrame([dict(threshold=t, seed=s, sla_compliance=c + 0.01 * s, **figures)
    ...                           for t, c in [(1.0, 0.905), (2.0, 0.9)] for s in range(3)])
    >>> verdict = overrides(analytic, simulated, level=0.9)
    >>> columns = ["threshold", "trust", "sla_compliance_low", "sla_compliance_high"]
    >>> print(verdict[columns].round(3).to_string(index=False))
     threshold      trust  sla_compliance_low  sla_compliance_high
           1.0   analytic               0.898                0.932
           2.0 simulation               0.893                0.927
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    _check_frame("analytic", analytic, ("threshold", *COMPARED))
    _check_frame("simulated", simulated, ("threshold", "seed", *COMPARED))
    tol = _tolerance(tolerance)
    grouped = simulated.groupby("threshold")[list(COMPARED)]
    mean = grouped.mean()
    # the mean's interval; where a seed's figure is infinite, the seeds' own interval (linear
    # interpolation between two never-touched seeds is inf + t (inf - inf) = nan: that end is inf)
    infinite = grouped.max() == np.inf
    n = grouped.count()
    t = pd.DataFrame(stats.t.ppf((1 + level) / 2, np.maximum(n - 1, 1)), index=n.index, columns=n.columns)
    half = (t * grouped.std(ddof=1) / np.sqrt(n)).where(n > 1, 0.0)
    low = (mean - half).where(~infinite, grouped.quantile((1 - level) / 2).mask(lambda q: q.isna(), np.inf))
    high = (mean + half).where(~infinite, np.inf)
    seeds = simulated.groupby("threshold")["seed"].nunique()
    a = analytic.set_index("threshold")
    common = a.index.intersection(mean.index)
    if len(common) == 0:
        raise ValueError("analytic and simulated share no threshold")
    out = pd.DataFrame(index=common)
    for x in COMPARED:
        av = a.loc[common, x].astype(float)
        lo, hi = low.loc[common, x], high.loc[common, x]
        with np.errstate(invalid="ignore"):
            agree = ((av >= lo - tol[x]) & (av <= hi + tol[x])) | (np.isinf(av) & np.isinf(hi) & (av == hi))
        out[f"{x}_analytic"] = av
        out[f"{x}_simulated"] = mean.loc[common, x]
        out[f"{x}_low"] = lo
        out[f"{x}_high"] = hi
        out[f"{x}_overridden"] = ~agree
    decided = np.logical_or.reduce([out[f"{x}_overridden"].to_numpy() for x in _DECIDING])
    out.insert(0, "trust", np.where(decided, "simulation", "analytic"))
    out.insert(1, "seeds", seeds.loc[common])
    return out.reset_index(names="threshold")


def compare_load(
    analytic: pd.DataFrame,
    simulated: pd.DataFrame,
    *,
    level: float = 0.9,
    tolerance: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Analytic and simulated load side by side, and which one to trust per threshold.

    Built on :func:`overrides`: for each figure ``x`` of ``utilisation, sla_compliance,
    median_response_hours, p90_response_hours, value_kept`` the table has ``x_analytic``,
    ``x_simulated`` (mean over seeds), ``x_low`` and ``x_high`` (the central ``level``
    interval of the seeds) and ``x``: the analytic value where the simulation does not
    override it, else the simulated mean. ``trust`` is ``"simulation"`` where SLA compliance
    or value kept are overridden, else ``"analytic"`` (both agree and the fast model is
    fine).

    Parameters
    ----------
    analytic : DataFrame
        From :func:`~calibrate.sla.analytic_load`.
    simulated : DataFrame
        From :func:`~calibrate.sla.simulated_load` on the same leads and thresholds.
    level : float
        Width of the interval over seeds, in (0, 1).
    tolerance : dict, optional
        Absolute slack per figure added to the interval (default :data:`TOLERANCE`).

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold, mqls, stable, trust``, the columns above,
        ``reps_needed`` (analytic) and ``seeds``.

    Examples
    --------
    >>> import datetime, numpy as np
    >>> from calibrate.capacity import SalesCapacity, Window
    >>> from calibrate.sla import analytic_load, simulated_load
    >>> rng = np.random.default_rng(0)
    >>> score = rng.integers(0, 100, 20_000)
    >>> handoff = np.sort(rng.random(20_000)) * 365 * 1440
    >>> kw = dict(capacity=SalesCapacity(), window=Window(start=datetime.date(2026, 1, 1), days=365))
    >>> sim = simulated_load(score, handoff, [70, 90], seeds=10, **kw)
    >>> both = compare_load(analytic_load(score, handoff, [70, 90], **kw), sim)
    >>> print(both[["threshold", "trust", "sla_compliance_analytic",
    ...             "sla_compliance_simulated"]].round(2).to_string(index=False))
     threshold    trust  sla_compliance_analytic  sla_compliance_simulated
          70.0 analytic                     0.92                      0.93
          90.0 analytic                     0.94                      0.94
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    _check_frame("analytic", analytic, LOAD_COLUMNS)
    verdict = overrides(analytic, simulated, level=level, tolerance=tolerance).set_index("threshold")
    a = analytic.set_index("threshold").loc[verdict.index]
    out = pd.DataFrame(index=verdict.index)
    out["mqls"] = a["mqls"]
    out["stable"] = a["stable"]
    out["trust"] = verdict["trust"]
    for x in COMPARED:
        for part in ("analytic", "simulated", "low", "high"):
            out[f"{x}_{part}"] = verdict[f"{x}_{part}"]
        out[x] = np.where(verdict[f"{x}_overridden"], verdict[f"{x}_simulated"], verdict[f"{x}_analytic"])
    out["reps_needed"] = a["reps_needed"]
    out["seeds"] = verdict["seeds"]
    return out.reset_index(names="threshold")
