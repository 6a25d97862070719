"""Ground truth: each lead's chance to buy if touched at once, and its hidden qualification."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulate.leads import LeadArrays
from simulate.scenario import Scenario
from simulate.table import BEHAVIOUR_COLUMNS, CATEGORICAL_ATTRIBUTES

BANT = ("budget", "authority", "need", "timing")


@dataclass(frozen=True, slots=True)
class TruthArrays:
    """Hidden truth per lead (see ``Truth``'s docstring for the equations).

    ``logit`` is the part explained by observable features, ``p_buy`` the chance to win if a
    rep touched the lead at once (noise and bad data included). ``p_connect``,
    ``p_opportunity`` and ``p_won`` are the stage chances the funnel draws later; ``fit_ok``
    and the four BANT flags are already drawn (a rep learns them by talking to the lead).
    """

    logit: np.ndarray
    p_buy: np.ndarray
    p_connect: np.ndarray
    p_opportunity: np.ndarray
    p_won: np.ndarray
    fit_ok: np.ndarray
    bant: dict[str, np.ndarray]

    @property
    def bant_ok(self) -> np.ndarray:
        return self.bant["budget"] & self.bant["authority"] & self.bant["need"] & self.bant["timing"]


def observable_logit(scenario: Scenario, leads: LeadArrays, counts: np.ndarray) -> np.ndarray:
    """``intercept + sum of weights`` on the observable features (no noise)."""
    t = scenario.truth
    logit = np.full(leads.n, t.intercept)
    codes = {"source": leads.source, "lead_type": leads.lead_type, **leads.attributes}
    for attr in ("source", "lead_type", *CATEGORICAL_ATTRIBUTES):
        weights = t.weights.get(attr, {})
        table = np.asarray([weights.get(v, 0.0) for v in leads.categories[attr]])
        logit += table[codes[attr]]
    logit += t.company_size_per_log10 * np.log10(leads.company_size)
    for j, column in enumerate(BEHAVIOUR_COLUMNS):
        w = t.behaviour_weights.get(column, 0.0)
        if w:
            logit += w * np.log1p(counts[:, j])
    return logit


def draw_truth(scenario: Scenario, leads: LeadArrays, counts: np.ndarray, *, rng) -> TruthArrays:
    """Compute each lead's true chance to buy and draw its hidden fit and BANT.

    A lead that fails BANT fails one criterion chosen with odds that follow who it is:
    authority more often for junior titles, budget for small companies, need and timing for
    low intent.
    """
    rng = np.random.default_rng(rng)
    t = scenario.truth
    n = leads.n
    logit = observable_logit(scenario, leads, counts)
    noisy = logit + t.noise_sd * rng.standard_normal(n) if t.noise_sd > 0 else logit
    p = 1.0 / (1.0 + np.exp(-noisy))
    p_buy = np.where(leads.bad_data, 0.0, p)
    a = t.stage_exponents
    u = rng.random((3, n))
    fit_ok = u[0] < p ** a["fit"]
    bant_ok = u[1] < p ** a["bant"]

    levels = leads.categories["job_level"]
    junior = np.isin(np.asarray(levels)[leads.attributes["job_level"]], ["individual_contributor", "student"])
    odds = np.stack(
        [
            1.0 + (leads.company_size < 50),  # budget
            1.0 + 2.0 * junior,  # authority
            1.0 + (leads.intent < 0),  # need
            1.0 + (leads.intent < 0),  # timing
        ],
        axis=1,
    )
    cdf = np.cumsum(odds, axis=1)
    failing = np.argmax((u[2] * cdf[:, -1])[:, None] < cdf, axis=1)
    bant = {name: bant_ok | (failing != j) for j, name in enumerate(BANT)}
    return TruthArrays(
        logit=logit,
        p_buy=p_buy,
        p_connect=np.where(leads.bad_data, 0.0, p ** a["connect"]),
        p_opportunity=p ** a["opportunity"],
        p_won=p ** a["won"],
        fit_ok=fit_ok,
        bant=bant,
    )
