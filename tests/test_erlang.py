"""Tests for simulate.erlang against independent formulas."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, special

from simulate.erlang import erlang_c, erlang_c_scalar, expected_decay, mean_wait, prob_wait_within, servers_needed


def erlang_c_exact(c, a):
    """The textbook formula in exact rational arithmetic (a rational)."""
    a = Fraction(a)
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return float(top / (sum(a**k / math.factorial(k) for k in range(c)) + top))


def erlang_c_logspace(c, a):
    """The same formula in log space, for many servers."""
    log_terms = np.array([k * math.log(a) - special.gammaln(k + 1) for k in range(c)])
    log_top = c * math.log(a) - special.gammaln(c + 1) + math.log(c / (c - a))
    return math.exp(log_top - special.logsumexp(np.append(log_terms, log_top)))


@pytest.mark.parametrize("c", [1, 2, 3, 7, 20])
def test_erlang_c_matches_exact_formula(c):
    loads = [Fraction(k, 4) * c for k in (0, 1, 2, 3)] + [Fraction(19, 20) * c]
    got = erlang_c(c, [float(a) for a in loads])
    want = [erlang_c_exact(c, a) for a in loads]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_erlang_c_is_the_load_for_one_server():
    rho = np.linspace(0, 0.99, 50)
    np.testing.assert_allclose(erlang_c(1, rho), rho, rtol=1e-13, atol=1e-15)


def test_erlang_c_is_stable_for_many_servers():
    for c, a in [(500, 480.0), (2000, 1950.0), (300, 150.0)]:
        got = float(erlang_c(c, a))
        assert np.isfinite(got)
        assert got == pytest.approx(erlang_c_logspace(c, a), rel=1e-9)


def test_the_numba_scalar_is_erlang_c_at_the_per_server_load():
    """``erlang_c_scalar(c, rho)`` (what numba kernels call) is ``C(c, c rho)``: exact for
    small teams, 0 for no load, and below any float for a tiny load on many servers."""
    for c in (1, 2, 7, 20):
        for rho in (0.1, 0.5, 0.95):
            assert erlang_c_scalar(c, rho) == pytest.approx(erlang_c_exact(c, Fraction(rho) * c), rel=1e-12)
    assert erlang_c_scalar(5, 0.0) == 0.0
    assert erlang_c_scalar(2000, 0.01) == 0.0


def test_prob_wait_within_for_mm1():
    lam, mu = 0.08, 0.1
    t = np.array([0.0, 5.0, 60.0])
    want = 1 - (lam / mu) * np.exp(-(mu - lam) * t)  # M/M/1: P(W > t) = rho e^{-(mu-lam)t}
    np.testing.assert_allclose(prob_wait_within(t, 1, lam, mu), want, rtol=1e-13)


def wait_survival(t, c, lam, mu):
    return erlang_c_exact(c, Fraction(lam / mu)) * math.exp(-(c * mu - lam) * t)


@pytest.mark.parametrize(("c", "lam", "mu"), [(1, 0.05, 0.1), (4, 0.3, 0.1), (12, 1.1, 0.1)])
def test_mean_wait_is_the_integral_of_the_survival_function(c, lam, mu):
    want, _ = integrate.quad(wait_survival, 0, np.inf, args=(c, lam, mu))
    assert float(mean_wait(c, lam, mu)) == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize(("c", "lam", "mu"), [(1, 0.05, 0.1), (4, 0.3, 0.1), (12, 1.1, 0.1)])
def test_expected_decay_integrates_the_wait_distribution(c, lam, mu):
    prob_wait = erlang_c_exact(c, Fraction(lam / mu))
    theta = c * mu - lam
    for k in (0.0, 0.01, 0.2):
        # E[e^{-kW}] = P(W = 0) + integral of e^{-kt} times the density C theta e^{-theta t}.
        tail, _ = integrate.quad(lambda t, k=k: math.exp(-k * t) * prob_wait * theta * math.exp(-theta * t), 0, np.inf)
        want = (1 - prob_wait) + tail
        assert float(expected_decay(c, lam, mu, k)) == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize(
    ("lam", "t", "target"), [(0.05, 5.0, 0.8), (0.5, 5.0, 0.8), (2.0, 0.0, 0.5), (3.3, 20.0, 0.95)]
)
def test_servers_needed_is_the_smallest_meeting_the_target(lam, t, target):
    mu = 0.1

    def share(c):
        return 1 - wait_survival(t, c, lam, mu)

    c = int(servers_needed(lam, mu, t, target))
    assert lam < c * mu and share(c) >= target
    assert c - 1 <= lam / mu or share(c - 1) < target


def test_servers_needed_for_no_arrivals_is_one():
    assert int(servers_needed(0.0, 0.1, 1.0, 0.99)) == 1


def test_servers_needed_is_vectorised():
    lam = np.array([[0.1, 0.5], [1.0, 2.0]])
    got = servers_needed(lam, 0.1, 5.0, 0.8)
    assert got.shape == (2, 2)
    assert got[0, 0] == servers_needed(0.1, 0.1, 5.0, 0.8)


def test_unstable_loads_are_refused():
    with pytest.raises(ValueError, match="offered_load must be < servers"):
        erlang_c(2, [1.0, 2.0])
    with pytest.raises(ValueError, match="arrival_rate must be < servers \\* service_rate"):
        prob_wait_within(1.0, 2, 0.2, 0.1)
    with pytest.raises(ValueError, match="stable queue"):
        mean_wait(1, 0.2, 0.1)
    with pytest.raises(ValueError, match="stable queue"):
        expected_decay(1, 0.1, 0.1, 0.5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: erlang_c(0, 0.5), "servers must be an integer >= 1"),
        (lambda: erlang_c(2.5, 0.5), "servers must be an integer >= 1"),
        (lambda: erlang_c(2, -0.1), "offered_load must be finite and >= 0"),
        (lambda: prob_wait_within(-1.0, 1, 0.05, 0.1), "t must be finite and >= 0"),
        (lambda: mean_wait(1, 0.05, 0.0), "service_rate must be finite and > 0"),
        (lambda: expected_decay(1, 0.05, 0.1, -1.0), "k must be finite and >= 0"),
        (lambda: servers_needed(0.5, 0.1, 5.0, 1.0), r"target must be in \(0, 1\)"),
        (lambda: servers_needed(np.nan, 0.1, 5.0, 0.8), "arrival_rate must be finite"),
    ],
)
def test_validation_messages(call, match):
    with pytest.raises(ValueError, match=match):
        call()
