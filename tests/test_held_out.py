"""Held-out values of the thresholds on fitted points (``calibrate.held_out``), against a slow
count of the volume-matched fold selections, and against the simulator's truth."""

import numpy as np
import pytest

from calibrate.held_out import MIN_EXPECTED_WINS, held_out_values


def _case(seed: int, n: int = 3000, judged_share: float = 0.6):
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 60, n).astype(float)  # ties, as integer points have
    p = np.clip(0.002 * score + rng.normal(0, 0.01, n), 0.001, 0.5)
    judged = np.sort(rng.choice(n, int(judged_share * n), replace=False))
    y = (rng.random(judged.size) < p[judged]).astype(float)
    fold = rng.permutation(judged.size) % 5
    fold_score = score[judged] + rng.normal(0, 4, judged.size)  # another fit's ranking
    amount = rng.choice([8000.0, 30000.0], n)
    return p, amount, score, judged, y, fold, fold_score


def _slow_held_out(threshold, score, judged, y, fold, fold_score, p, amount=None):
    """In each fold: as many of its judged leads as the threshold takes, taken in the fold
    fit's order, counted with their own outcomes (and amounts)."""
    total = 0.0
    for k in np.unique(fold):
        members = np.flatnonzero(fold == k)
        take = int((score[judged[members]] >= threshold).sum())
        order = members[np.lexsort((-p[judged[members]], -fold_score[members]))][:take]
        total += float(np.sum(y[order] * (1.0 if amount is None else amount[judged[order]])))
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_each_band_edge_the_sum_is_the_held_out_count(seed):
    p, amount, score, judged, y, fold, fold_score = _case(seed)
    value_p, value_amount, source = held_out_values(p, amount, score, judged, y, fold, fold_score)
    is_judged = np.zeros(score.size, dtype=bool)
    is_judged[judged] = True
    # the band edges: the scores at which a new band starts (its lowest judged score)
    edges = [t for t in np.unique(score[judged]) if _is_edge(t, score, judged, p)]
    assert len(edges) >= 3
    for t in edges:
        take = is_judged & (score >= t)
        assert value_p[take].sum() == pytest.approx(_slow_held_out(t, score, judged, y, fold, fold_score, p))
        revenue = _slow_held_out(t, score, judged, y, fold, fold_score, p, amount)
        assert (value_p * value_amount)[take].sum() == pytest.approx(revenue)
    # every judged lead stands for one judged lead of its own fold, each once
    assert np.array_equal(np.sort(source[judged]), judged)
    assert (source[~is_judged] == np.flatnonzero(~is_judged)).all()


def _is_edge(t, score, judged, p) -> bool:
    """Whether a band ends at score ``t``: from the top, a band closes once its judged chances
    reach MIN_EXPECTED_WINS; a remainder below the last band joins it (re-derived by a loop)."""
    edges, total = [], 0.0
    scores = np.unique(score[judged])[::-1]
    for value in scores:
        total += p[judged][score[judged] == value].sum()
        if total >= MIN_EXPECTED_WINS:
            edges.append(value)
            total = 0.0
    if total > 0:
        edges = edges[:-1] + [scores[-1]]
    return t in edges


def test_leads_without_an_outcome_take_their_bands_correction():
    p, amount, score, judged, y, fold, fold_score = _case(3)
    value_p, _, _ = held_out_values(p, amount, score, judged, y, fold, fold_score)
    own = np.ones(score.size, dtype=bool)
    own[judged] = False
    ratio = value_p[own] / p[own]
    # one ratio per band: leads of one score share it, and it is held-out over claimed
    for s in np.unique(score[own])[:10]:
        at = own & (score == s)
        assert np.ptp(value_p[at] / p[at]) < 1e-9
    assert np.isfinite(ratio).all() and (ratio >= 0).all()


def test_without_judged_leads_the_chances_stand():
    p, amount, score, _, _, _, _ = _case(4)
    empty = np.zeros(0, dtype=np.int64)
    value_p, value_amount, source = held_out_values(p, amount, score, empty, np.zeros(0), empty, np.zeros(0))
    assert np.array_equal(value_p, p) and np.array_equal(value_amount, amount)
    assert np.array_equal(source, np.arange(p.size))
