"""simulate.priority (Cobham's non-preemptive priority M/M/c) against the queue engine.

``serve_queue(discipline="highest_score", routing="pooled")`` on reps who never close, with
Poisson arrivals and exponential work, is the M/M/c priority queue the formulas describe.
Per class: the mean wait within 5% of Cobham's, and the share answered within 0.5, 1 and 2
mean service times within 0.02 of ``priority_prob_wait_within``. The runs are sized so that
these tolerances are at least three standard errors of the simulated figure (the standard
error from 20 batch means of the class's waits in arrival order, checked in the test
itself): 2 to 3 million leads per setting, after a warm-up of the first 2%.
"""

import numpy as np
import pytest

from calibrate._testing import batch_means_se, priority_mmc
from simulate.erlang import mean_wait, prob_wait_within
from simulate.priority import (
    class_arrival_rates,
    fifo_ratio,
    priority_expected_decay,
    priority_mean_wait,
    priority_prob_wait_within,
    score_classes,
)

SLAS = (0.5, 1.0, 2.0)  # mean service times (the work is 1 minute on average)
SETTINGS = [  # reps, utilisation, class shares (best first), leads
    (2, 0.5, (0.2, 0.3, 0.5), 2_000_000),
    (2, 0.9, (0.2, 0.3, 0.5), 3_000_000),
    (5, 0.75, (0.5, 0.5), 2_000_000),
    (10, 0.9, (0.2, 0.3, 0.5), 3_000_000),
]


@pytest.mark.parametrize(("reps", "util", "shares", "n"), SETTINGS)
def test_pooled_priority_matches_cobham(reps, util, shares, n):
    wait, klass, rates = priority_mmc(reps, util, shares, n, seed=reps * 100 + int(util * 10))
    keep = np.arange(n) >= n // 50  # warm-up: the queue starts empty
    formula = priority_mean_wait(reps, rates, 1.0)
    within = priority_prob_wait_within(np.array(SLAS), reps, rates, 1.0)
    for k in range(len(shares)):
        w = wait[keep & (klass == k)]
        se = batch_means_se(w)
        assert 0.05 * formula[k] >= 3 * se, "the run is too short for the tolerance"
        assert abs(w.mean() / formula[k] - 1) <= 0.05, (k, w.mean(), formula[k])
        for j, t in enumerate(SLAS):
            hit = (w <= t).astype(float)
            assert 0.02 >= 3 * batch_means_se(hit)
            assert abs(hit.mean() - within[k, j]) <= 0.02, (k, t, hit.mean(), within[k, j])


def test_one_class_is_erlang_c_and_ratios_conserve_work():
    # one class: FIFO M/M/c exactly
    assert np.allclose(priority_mean_wait(4, [3.0], 1.0), mean_wait(4, 3.0, 1.0))
    t = np.array([0.0, 0.3, 1.0, 4.0])
    assert np.allclose(priority_prob_wait_within(t, 4, [3.0], 1.0)[0], prob_wait_within(t, 4, 3.0, 1.0))
    # splitting a class in two changes nothing for the classes around it
    assert np.allclose(priority_mean_wait(3, [0.5, 1.0, 1.0], 1.0)[[0]], priority_mean_wait(3, [0.5, 2.0], 1.0)[0])
    # the conservation law: the rate-weighted mean of the class-to-FIFO ratios is 1
    rates = np.array([0.4, 0.9, 1.7, 0.5])
    assert np.isclose((rates * fifo_ratio(4, rates, 1.0)).sum() / rates.sum(), 1.0)


def test_distribution_is_consistent_with_mean_and_decay():
    rates = np.array([0.6, 1.2, 1.5])
    t = np.concatenate([[0.0], np.geomspace(1e-5, 500.0, 20_000)])
    within = priority_prob_wait_within(t, 4, rates, 1.0)
    assert np.all(np.diff(within, axis=1) >= -1e-9)  # a distribution function
    assert np.allclose(np.trapezoid(1.0 - within, t, axis=1), priority_mean_wait(4, rates, 1.0), rtol=1e-4)
    k = 0.7
    decay = np.trapezoid(k * np.exp(-k * t) * within, t, axis=1)
    assert np.allclose(priority_expected_decay(4, rates, 1.0, k), decay, rtol=1e-4)


def test_score_classes_and_rates():
    score = np.array([5, 1, 9, 9, 3, 7, 2, 8])
    klass, edges = score_classes(score, 4)
    assert edges.tolist() == [9.0, 7.0, 3.0, 1.0]
    assert klass.tolist() == [2, 3, 0, 0, 2, 1, 3, 1]
    assert class_arrival_rates(score, 4, minutes=2.0).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert class_arrival_rates([4, 4, 4], 2, minutes=1.0).tolist() == [3.0, 0.0]  # ties share a band


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, [1.0], 1.0), "servers"),
        ((2, [1.0, -1.0], 1.0), "class_rates"),
        ((2, [], 1.0), "class_rates"),
        ((2, [1.0], 0.0), "service_rate"),
        ((2, [1.5, 0.5], 1.0), "stable"),
    ],
)
def test_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        priority_mean_wait(*args)
    with pytest.raises(ValueError, match="t must be"):
        priority_prob_wait_within([-1.0], 2, [1.0], 1.0)
    with pytest.raises(ValueError, match="classes"):
        score_classes([1.0], 0)
    with pytest.raises(ValueError, match="minutes"):
        class_arrival_rates([1.0], 1, minutes=0.0)
