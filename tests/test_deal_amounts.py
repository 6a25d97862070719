"""Expected deal amounts against the simulator's own amount model (``simulate.funnel``):
a new-business deal's median is ``amount_new_median * (size / 150) ** elasticity``, an
expansion deal's ``amount_expansion_median``, both times a lognormal spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import load_history
from calibrate.deal_amounts import (
    MIN_DEALS_FOR_MODEL,
    amount_basis,
    amount_dispersion,
    expected_amounts,
    won_with_amount,
)


@pytest.fixture(scope="module")
def year():
    world = simulate.Scenario()
    leads = load_history(simulate.run(world, seed=5)).leads.reset_index(drop=True)
    return world.funnel, leads


def _true_mean(funnel, leads: pd.DataFrame) -> np.ndarray:
    size = leads["company_size"].to_numpy(float)
    median = np.where(
        leads["lead_type"].astype("object").to_numpy() == "existing_customer",
        funnel.amount_expansion_median,
        funnel.amount_new_median * (size / 150.0) ** funnel.amount_size_elasticity,
    )
    return median * np.exp(funnel.amount_spread**2 / 2)


@pytest.mark.parametrize("lead_type", ["new_business", "existing_customer"])
def test_expected_amounts_follow_the_true_amount_model(year, lead_type):
    """Per lead type, the log of the expected amount against the true mean's: its level
    within 3 standard errors of a mean of ``n`` lognormal deals (``spread / sqrt(n)``,
    plus the smearing factor's own), and its slope on log company size within 3 standard
    errors of the OLS slope (``spread / (sqrt(n) sd(log size))``)."""
    funnel, leads = year
    mine = (leads["lead_type"].astype("object") == lead_type).to_numpy()
    won = won_with_amount(leads) & mine
    n = int(won.sum())
    assert n >= MIN_DEALS_FOR_MODEL
    log_ratio = np.log(expected_amounts(leads) / _true_mean(funnel, leads))[mine]
    se_level = funnel.amount_spread * np.sqrt(2.0 / n)
    assert abs(log_ratio.mean()) < 3 * se_level
    log_size = np.log(leads["company_size"].to_numpy(float))
    true_slope = funnel.amount_size_elasticity if lead_type == "new_business" else 0.0
    fitted_slope = np.polyfit(log_size[mine], np.log(expected_amounts(leads)[mine]), 1)[0]
    se_slope = funnel.amount_spread / (np.sqrt(n) * log_size[won].std())
    assert abs(fitted_slope - true_slope) < 3 * se_slope


def test_the_amount_depends_on_what_was_known_at_creation_only(year):
    """Behaviour counts grow after the decision: changing them leaves the amounts as they are."""
    _, leads = year
    later = leads.assign(page_views=leads["page_views"] * 3 + 7, demo_requests=leads["demo_requests"] + 1)
    np.testing.assert_array_equal(expected_amounts(later), expected_amounts(leads))


def test_few_deals_or_odd_amounts_fall_back_to_the_lead_type_mean(year):
    _, leads = year
    won = np.flatnonzero(won_with_amount(leads))
    few = leads.copy()
    few.loc[won[MIN_DEALS_FOR_MODEL - 1 :], "customer_at"] = pd.NaT
    kept = won[: MIN_DEALS_FOR_MODEL - 1]
    by_type = few.loc[kept].groupby(few.loc[kept, "lead_type"].astype("object"))["amount"].mean()
    reference = few["lead_type"].astype("object").map(by_type).fillna(few.loc[kept, "amount"].mean())
    np.testing.assert_allclose(expected_amounts(few), reference.to_numpy(float))
    assert amount_basis(few) == "mean won amount of the lead type"
    assert amount_basis(leads).startswith("log-linear in lead type, source")
    zero = leads.copy()
    zero.loc[won[0], "amount"] = 0.0
    assert np.unique(expected_amounts(zero)).size <= 2  # one mean per lead type
    assert (expected_amounts(leads.drop(columns="amount")) == 1.0).all()
    assert amount_dispersion(leads.drop(columns="amount"), np.ones(len(leads))) == 1.0


def test_missing_attributes_take_the_typical_value(year):
    _, leads = year
    holes = leads.copy()
    holes["company_size"] = holes["company_size"].astype(float)
    holes.loc[holes.index[:50], "company_size"] = np.nan
    holes.loc[holes.index[:50], "industry"] = np.nan
    amounts = expected_amounts(holes)
    assert np.isfinite(amounts).all() and (amounts > 0).all()


def test_the_prediction_by_lookup_equals_the_matrix_product(year):
    """The fit's linear predictor for every lead, computed by looking up each level's part,
    against the plain product of the standardised lead-by-column matrix (missing values
    included)."""
    from calibrate.deal_amounts import AMOUNT_DRIVERS, _Design

    _, leads = year
    holes = leads.copy()
    holes["industry"] = holes["industry"].astype("object")
    holes.loc[holes.index[:30], "industry"] = None
    won = won_with_amount(holes)
    design = _Design.of(holes, [c for c in AMOUNT_DRIVERS if c in holes], won)
    rows = np.arange(len(holes))
    X = (design._columns(rows) - design.mean) / design.sd
    coef = np.random.default_rng(0).normal(size=X.shape[1])
    np.testing.assert_allclose(design.linear(coef, 0.7, rows), X @ coef + 0.7, rtol=1e-10, atol=1e-10)
