"""What a threshold on fitted points is worth, judged on outcomes that did not choose it.

The winner's curse of a fitted threshold: the points rank highest the leads whose outcomes
they learned, and the regions of the features where the fit's noise made them look best.
Summing chances over the leads a threshold selects then promises more than new leads give,
and cross-fitted chances do not remove it: the fold fits share most of their data with the
full fit and over-rate the same regions. Measured on the simulator's truth, the chances
over the recommended threshold's leads over-stated the truth by 6% on the default world and
by 40% to 60% on worlds with few wins or a tight team, and under-stated it by 10% where the
points were flatter than the truth.

The honest value, as in cross-validation, holds the selection out as well: in each fold the
fit that did not learn the fold's outcomes ranks the fold's judged leads, a threshold takes
as many of them as the full fit's threshold takes, and they count with their own outcomes
(the lead at the ``j``-th rank of its fold under the full fit is paired with the lead at the
``j``-th rank under the fold's fit, its ``source``). That estimates what a fit on 9/10 of the
history selects (``prepare``'s ten folds), a little less than the full fit does where
outcomes are few.

One outcome a lead is noise, and a threshold chosen on noise has a curse of its own. So
:func:`held_out_values` turns the held-out outcomes into a correction of the chances by
band of the score: from the top, each band holds the judged leads of the next scores until
their chances add up to ``MIN_EXPECTED_WINS``, and every lead of the band (judged or not:
too young for the horizon, an unworked lead an exploration sample stands for, extrapolated)
has its chance times the band's held-out outcomes over its chances. At a band's edge the sum
over a threshold is the held-out value exactly; within a band the chances share it out.
Revenue has its ratio the same way, with each held-out outcome at its own lead's amount.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_EXPECTED_WINS", "held_out_values"]

MIN_EXPECTED_WINS = 10.0
"""The fewest expected wins (sum of the chances) of the judged leads of a band."""


def held_out_values(
    p: np.ndarray,
    amount: np.ndarray,
    score: np.ndarray,
    judged: np.ndarray,
    y: np.ndarray,
    fold: np.ndarray,
    fold_score: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead's chance and amount as the value of the thresholds on the full fit's score.

    Parameters
    ----------
    p : (n,) every lead's chance (cross-fitted for the judged leads).
    amount : (n,) every lead's expected amount.
    score : (n,) the full fit's score, the one thresholds are set on.
    judged : (m,) positions of the judged leads (those with an outcome of their own).
    y : (m,) their outcomes (0 or 1).
    fold : (m,) the fold of each judged lead.
    fold_score : (m,) each judged lead's score under the fit that did not learn its fold.

    Returns
    -------
    value_p, value_amount : (n,) whose sums over ``score >= T`` are the held-out wins and
        revenue of every threshold ``T`` at the bands' edges (see the module docstring).
    source : (n,) the lead whose held-out outcome each judged lead stands for (the lead itself
        for the others): the leads a threshold's value counts, with which the uplift over
        another rule set is paired.
    """
    p = np.asarray(p, dtype=float)
    score = np.asarray(score, dtype=float)
    amount = np.asarray(amount, dtype=float)
    judged = np.asarray(judged, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    source = np.arange(p.size)
    if judged.size == 0:
        return p.copy(), amount.copy(), source
    for k in np.unique(fold):
        members = np.flatnonzero(fold == k)
        rows = judged[members]
        by_full = rows[np.argsort(-score[rows], kind="stable")]
        by_fold = members[np.lexsort((-p[rows], -fold_score[members]))]
        source[by_full] = judged[by_fold]
    outcome = np.zeros(p.size)
    outcome[judged] = y
    held = outcome[source]  # the held-out outcome each judged lead stands for
    band, bands = _bands(score, judged, p)
    wins = np.bincount(band[judged], held[judged], bands), np.bincount(band[judged], p[judged], bands)
    revenue = (
        np.bincount(band[judged], (held * amount[source])[judged], bands),
        np.bincount(band[judged], (p * amount)[judged], bands),
    )
    ratio = _ratio(*wins)
    value_p = np.clip(p * ratio[band], 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(ratio > 0, _ratio(*revenue) / ratio, 1.0)
    return value_p, amount * scale[band], source


def _ratio(held: np.ndarray, chances: np.ndarray) -> np.ndarray:
    """Held-out over claimed per band (1 where nothing was claimed)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = held / chances
    return np.where(np.isfinite(out) & (chances > 0), out, 1.0)


def _bands(score: np.ndarray, judged: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, int]:
    """Every lead's band of the full score, and the number of bands.

    From the top, each band takes the judged leads of the next scores until their chances add
    up to ``MIN_EXPECTED_WINS`` (never splitting a score: a threshold cannot); a remainder
    below that joins the band above. A lead of any score falls in the band of the judged
    scores around it (the top band above them, the lowest below)."""
    order = np.argsort(-score[judged], kind="stable")
    s, chances = score[judged][order], p[judged][order]
    last_of_score = np.r_[s[1:] != s[:-1], True]
    total, lows = 0.0, []
    for value, chance, last in zip(s, chances, last_of_score):
        total += chance
        if last and total >= MIN_EXPECTED_WINS:
            lows.append(value)
            total = 0.0
    if not lows:
        lows = [s[-1]]
    elif total > 0:
        lows[-1] = s[-1]  # the remainder joins the band above
    lows = np.asarray(lows)
    band = np.minimum(np.searchsorted(-lows, -score, side="left"), lows.size - 1)
    return band, lows.size
