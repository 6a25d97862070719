"""Outcomes for a simulated history, drawn from its hidden truth (for tests and examples).

``history_with_outcomes`` draws outcomes from the truth, as its meaning says: a worked lead
wins with probability ``p_buy`` (its chance to buy if touched at once), ``days_to_win`` days
after its clock start. With ``outcomes="auto"`` and a run whose funnel filled the sales side
(``won`` holds values), the run's own table is used as it is instead; its wins also carry the
cost of slow responses, so tests that compare with ``p_buy`` ask for ``outcomes="truth"``.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

from calibrate.capacity import SalesCapacity, Window
from calibrate.history import History


def history_with_outcomes(
    result,
    *,
    rng,
    worked: str = "mql",
    exploration_share: float = 0.0,
    days_to_win: tuple[float, float] = (5.0, 60.0),
    outcomes: str = "auto",
) -> History:
    """A ``History`` of a ``simulate.run`` result with outcomes drawn from its truth.

    Parameters
    ----------
    result : a ``simulate.RunResult``.
    rng : seed or ``numpy.random.Generator``.
    worked : ``"mql"`` (sales works the MQLs, plus an exploration sample of the others) or
        ``"all"`` (every lead is worked: the whole population has outcomes).
    exploration_share : with ``worked="mql"``, the chance that a lead that never became an
        MQL is worked anyway (its first touch a few hours after creation).
    days_to_win : a win comes uniformly this many days after the clock start; a win that
        would come after the as-of date is not known yet (``won`` missing).
    outcomes : ``"auto"`` (the run's own outcomes when it has any, else drawn) or
        ``"truth"`` (always drawn from ``p_buy``: every worked lead touched at once).
    """
    if outcomes not in ("auto", "truth"):
        raise ValueError(f"outcomes must be 'auto' or 'truth', got {outcomes!r}")
    leads = result.leads
    if outcomes == "auto" and "won" in leads.columns and leads["won"].notna().any():
        if worked != "mql" or exploration_share > 0:
            raise ValueError(
                "the run's funnel works only its MQLs: for worked='all' or an exploration sample, pass outcomes='truth'"
            )
        return History.from_run(result)
    rng = np.random.default_rng(rng)
    leads = leads.copy()
    n = len(leads)
    truth = result.truth.set_index("lead_id").reindex(leads["lead_id"])
    p = truth["p_buy"].to_numpy(dtype=float)
    is_mql = leads["mql_at"].notna().to_numpy()
    if worked == "all":
        touched = np.ones(n, dtype=bool)
    elif worked == "mql":
        touched = is_mql | (rng.random(n) < exploration_share)
    else:
        raise ValueError(f"worked must be 'mql' or 'all', got {worked!r}")
    hours = pd.to_timedelta(rng.uniform(1.0, 24.0, n), unit="h")
    first_touch = leads["mql_at"].where(is_mql, leads["created_at"]) + hours
    first_touch = first_touch.where(touched)
    start = leads["mql_at"].where(is_mql, first_touch)
    win = touched & (rng.random(n) < p)
    lo, hi = days_to_win
    delay = pd.to_timedelta(rng.uniform(lo, hi, n), unit="D")
    customer = (start + delay).where(win)
    known = customer <= result.as_of
    win_known = win & known.to_numpy(dtype=bool, na_value=False)
    pending = win & ~win_known
    customer = customer.where(win_known)
    sql = (start + delay / 2).where(win_known)
    leads["first_touch_at"] = first_touch.where(first_touch <= result.as_of)
    leads["sal_at"] = leads["first_touch_at"]  # accepted at the first touch
    leads["sql_at"] = sql
    leads["opportunity_at"] = sql
    leads["customer_at"] = customer
    leads["closed_at"] = customer
    won = pd.Series(pd.NA, index=leads.index, dtype="boolean")
    won[touched & ~pending] = False
    won[win_known] = True
    leads["won"] = won
    for column in ("returned_at", "rep_id", "sla_met", "recycled_reason", "amount"):
        if column in leads.columns:  # the funnel's own sales side, replaced by the draws above
            leads[column] = pd.Series(leads[column]).where(pd.Series(np.zeros(n, dtype=bool)))
    leads["deal_stage"] = pd.Categorical(
        np.where(win_known, "closed_won", None), categories=leads["deal_stage"].cat.categories
    )
    return History(
        leads=leads,
        rejects=History.from_run(result).rejects,
        as_of=result.as_of,
        source=f"simulate.run(seed={result.seed}) with outcomes from its truth",
        mapping=History.from_run(result).mapping,
        extra_columns=(),
        n_input_rows=n,
    )


def binned_truth(truth, card, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Fitted and true effect per (criterion, value or bin), each centred within its criterion.

    Categorical: the true weight of the value (0 for values the truth does not list). Numeric:
    the mean over the training leads in the bin of the true contribution,
    ``behaviour_weights[c] * log1p(count)`` or ``company_size_per_log10 * log10(size)``, which
    is what a step function of the bins can at best recover. Effects are only defined up to a
    constant per criterion (it moves into the intercept), so both are centred on their
    lead-weighted mean within the criterion before they are compared.
    """
    fitted, true = [], []
    for c in card.criteria_:
        b = c.binning
        if c.kind == "categorical":
            k = len(b.group_names)
            et = np.array([truth.weights.get(c.name, {}).get(g, 0.0) for g in b.group_names])
            share = b.weights[:k]
        else:
            x = X[c.name].to_numpy(dtype=float)
            if c.name == "company_size":
                contribution = truth.company_size_per_log10 * np.log10(x)
            else:
                contribution = truth.behaviour_weights.get(c.name, 0.0) * np.log1p(x)
            k = b.n_bins
            code = b.codes(x)
            share = np.bincount(code, minlength=k + 1)[:k].astype(float)
            et = np.bincount(code, weights=contribution, minlength=k + 1)[:k] / np.maximum(share, 1)
        ef = c.log_odds[:k]
        keep = share > 0
        ef, et, share = ef[keep], et[keep], share[keep]
        fitted += list(ef - np.average(ef, weights=share))
        true += list(et - np.average(et, weights=share))
    return np.asarray(fitted), np.asarray(true)


def truth_recovery_data(*, seed: int = 7, leads_per_month: float = 30_000, test_share: float = 0.3):
    """Labelled leads of a world whose truth a fit can recover exactly, split for a test.

    The default world with no unobserved noise (``Truth.noise_sd = 0``), no bad data, no
    campaigns, ``leads_per_month`` leads a month for a year and truth intercept -4.5 (about
    18% win), every lead worked at once (outcomes drawn from ``p_buy``). Only leads created
    more than ``max_active_days`` (120) before the as-of date are kept: their behaviour
    stream has ended, so the table's counts are the whole-stream counts the truth used.

    Returns ``(truth, train, held, p_true)``: the ``Truth``, the training and held-out
    ``Labels`` (a random ``test_share`` held out) and the true chances of the held-out leads.
    """
    import dataclasses

    import simulate
    from calibrate.labels import make_labels

    s = simulate.Scenario()
    no_bad_data = dict.fromkeys(s.population.bad_data_share, 0.0)
    s = s.replace(
        truth=dataclasses.replace(s.truth, noise_sd=0.0, intercept=-4.5),
        population=dataclasses.replace(s.population, bad_data_share=no_bad_data),
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=leads_per_month, campaigns=()),
    )
    result = simulate.run(s, seed=seed)
    history = history_with_outcomes(result, rng=seed + 1, worked="all", outcomes="truth")
    labels = make_labels(history, horizon_days=90)
    ended = labels.created_at < history.as_of - pd.Timedelta(days=s.behaviour.max_active_days)
    labels = labels.subset(ended.to_numpy())
    test = np.random.default_rng(seed + 2).random(len(labels)) < test_share
    train, held = labels.subset(~test), labels.subset(test)
    p_true = result.truth.set_index("lead_id").loc[held.lead_id, "p_buy"].to_numpy()
    return s.truth, train, held, p_true


# --- the SLA model's tests (tests/test_sla_analytic.py, tests/test_sla_simulated.py) ---------

SLA_START = datetime.date(2026, 1, 1)
"""The first day of the SLA tests' year (``SLA_YEAR``)."""
SLA_YEAR = Window(start=SLA_START, days=365)


def default_sales(team=None, sla=None, funnel=None, **shares) -> SalesCapacity:
    """The default scenario's sales side, with some parts replaced."""
    import simulate

    s = simulate.Scenario()
    return SalesCapacity(team=team or s.team, sla=sla or s.sla, funnel=funnel or s.funnel, **shares)


def year_of_handoffs(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A default year's lead creation times (weekly and intraday profiles, campaign bursts),
    minutes since ``SLA_START``, and a uniform random score, so that a threshold picks a
    random share of the leads."""
    import simulate

    run = simulate.run(simulate.Scenario(), seed=seed)
    created = run.leads["created_at"]
    handoff = ((created - pd.Timestamp(SLA_START, tz="UTC")).dt.total_seconds() / 60.0).to_numpy()
    score = np.random.default_rng(0).random(handoff.size)
    return score, handoff


def thresholds_for(score, counts) -> np.ndarray:
    """Thresholds that make about ``counts`` MQLs of a uniform score."""
    return np.quantile(score, 1.0 - np.asarray(counts, dtype=float) / score.size)


def profiled_handoffs(n: int, rng: np.random.Generator, *, start: datetime.date, days: int) -> np.ndarray:
    """``n`` handoff minutes over ``days`` days from ``start``: weekend days at 35% of a
    weekday, and within a day a bell around 17:00 UTC (sd 4 hours) over a floor of a third of
    its peak (the SLA validity benchmark's and tests' arrivals)."""
    weekday = (start.weekday() + np.arange(days)) % 7 < 5
    p_day = np.where(weekday, 1.0, 0.35)
    hours = np.arange(24) + 0.5
    p_hour = 1.0 / 3.0 + np.exp(-0.5 * ((hours - 17.0) / 4.0) ** 2)
    day = rng.choice(days, size=n, p=p_day / p_day.sum())
    hour = rng.choice(24, size=n, p=p_hour / p_hour.sum())
    return np.sort(day * 1440.0 + (hour + rng.random(n)) * 60.0)


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an ROC AUC from ``n_pos`` wins and ``n_neg`` losses (Hanley &
    McNeil 1982, Radiology 143:29, their equation 2 with their Q1, Q2 approximations)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return math.sqrt(var)


def priority_mmc(reps: int, utilisation: float, shares, n: int, *, seed: int, routing: str = "pooled"):
    """``n`` Poisson arrivals with exponential work (mean 1 minute) through
    :func:`simulate.serve_queue` with ``discipline="highest_score"`` on reps who never close:
    the lead of class ``k`` (drawn with chances ``shares``, best first) scores ``-k``, so within
    a class the queue is first come first served. Returns the waits (minutes), the classes and
    the per-class arrival rates (per minute)."""
    from simulate.queue import serve_queue

    rng = np.random.default_rng(seed)
    shares = np.asarray(shares, dtype=float)
    lam = utilisation * reps
    handoff = np.cumsum(rng.exponential(1.0 / lam, n))
    work = rng.exponential(1.0, n)
    klass = rng.choice(shares.size, n, p=shares)
    open_ = [np.array([[0.0, 2.0 * handoff[-1] + 1e6]])] * reps
    res = serve_queue(
        handoff, work, rep_intervals=open_, routing=routing, discipline="highest_score", score=-klass.astype(float)
    )
    return res.first_touch_at - handoff, klass, lam * shares


def batch_means_se(values: np.ndarray, batches: int = 20) -> float:
    """Standard error of the mean of a correlated series (a queue's waits in arrival order)
    from the spread of ``batches`` consecutive batch means."""
    means = np.array([b.mean() for b in np.array_split(np.asarray(values, dtype=float), batches)])
    return float(means.std(ddof=1) / np.sqrt(batches))
