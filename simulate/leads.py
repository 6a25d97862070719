"""The lead population: who arrives, with latent fit and intent, attributes and bad data."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from simulate.arrivals import simulate_arrivals
from simulate.scenario import Categorical, Scenario
from simulate.table import CATEGORICAL_ATTRIBUTES, LEAD_TYPES


@dataclass(frozen=True, slots=True)
class LeadArrays:
    """One entry per lead, in arrival order; categories as integer codes.

    Codes index the value lists in ``categories`` (for example
    ``categories["job_level"][job_level[i]]``). ``fit`` and ``intent`` are the hidden latent
    traits; ``bad_data`` is hidden until a rep tries to reach the lead.
    """

    created_min: np.ndarray
    source: np.ndarray
    campaign: np.ndarray
    lead_type: np.ndarray
    attributes: dict[str, np.ndarray]
    company_size: np.ndarray
    fit: np.ndarray
    intent: np.ndarray
    bad_data: np.ndarray
    categories: dict[str, tuple[str, ...]]

    @property
    def n(self) -> int:
        return self.created_min.size


def _gauss_hermite_mixture(means: np.ndarray, weights: np.ndarray, nodes: int = 40):
    """Quadrature nodes and weights for a mixture of N(mean_j, 1) with mixing weights."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    z = (means[:, None] + x[None, :]).ravel()
    p = (weights[:, None] * w[None, :]).ravel()
    return z, p / p.sum()


def category_logits(spec: Categorical, z_nodes: np.ndarray, z_weights: np.ndarray) -> np.ndarray:
    """Intercepts ``b`` so that the population share of each value equals ``spec.shares``.

    ``P(value | z) = softmax(b + loading * z)``; the population share is its average over the
    distribution of latent fit, given as quadrature nodes. Solved by fixed-point iteration.
    """
    shares = np.asarray(list(spec.shares.values()))
    loading = np.asarray([spec.fit_loading.get(k, 0.0) for k in spec.shares])
    b = np.log(np.maximum(shares, 1e-300))
    for _ in range(200):
        logits = b[None, :] + loading[None, :] * z_nodes[:, None]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        current = z_weights @ p
        step = np.log(np.maximum(shares, 1e-300)) - np.log(np.maximum(current, 1e-300))
        b += step
        if np.max(np.abs(step[shares > 0])) < 1e-12:
            break
    return b


@numba.njit(cache=True)
def _draw_categories(weight, which, offsets, loadings, z, u):  # pragma: no cover
    """Inverse-CDF draws of ``softmax(b + loading * z)`` for several attributes per lead.

    Attribute ``a`` has values ``offsets[a]:offsets[a+1]``; value ``v`` has weight
    ``exp(b_v)`` and uses ``exp(loadings[which[v]] * z)`` (``which = -1`` for no loading),
    so each distinct loading costs one ``exp`` per lead.
    """
    n, n_attr = z.size, offsets.size - 1
    out = np.empty((n_attr, n), dtype=np.int8)
    tilt = np.empty(loadings.size + 1)
    tilt[loadings.size] = 1.0
    p = np.empty(weight.size)
    for i in range(n):
        for q in range(loadings.size):
            tilt[q] = np.exp(loadings[q] * z[i])
        for a in range(n_attr):
            total = 0.0
            for v in range(offsets[a], offsets[a + 1]):
                total += weight[v] * tilt[which[v]]
                p[v] = total
            target = u[a, i] * total
            pick = offsets[a + 1] - 1
            for v in range(offsets[a], offsets[a + 1]):
                if target < p[v]:
                    pick = v
                    break
            out[a, i] = pick - offsets[a]
    return out


def simulate_leads(scenario: Scenario, *, rng) -> LeadArrays:
    """Draw the lead population of a scenario.

    Generating equations (``s`` the source, ``e`` independent standard normals)::

        fit z      = source_fit_shift[s] + e1
        intent u   = source_intent_shift[s] + campaign.intent_shift
                     + existing_customer_intent_shift * [existing] + rho e1 + sqrt(1-rho^2) e2
        attribute  ~ softmax(b + fit_loading * z)      (b solved so the shares hold)
        log(employees) = log(median) + fit_loading * z + sigma e3
        bad_data   ~ Bernoulli(bad_data_share[email_domain])

    Parameters
    ----------
    scenario : the world.
    rng : seed or ``numpy.random.Generator``.
    """
    rng = np.random.default_rng(rng)
    arrival_rng, trait_rng = rng.spawn(2)
    arrivals = simulate_arrivals(scenario, rng=arrival_rng)
    pop = scenario.population
    n = arrivals.created_min.size
    source_names = tuple(pop.sources)
    fit_shift = np.array([pop.source_fit_shift.get(s, 0.0) for s in source_names])
    intent_shift = np.array([pop.source_intent_shift.get(s, 0.0) for s in source_names])
    campaign_shift = np.array([c.intent_shift for c in scenario.arrivals.campaigns] + [0.0])

    e = trait_rng.standard_normal((3, n))
    lead_type = (trait_rng.random(n) < pop.existing_customer_share).astype(np.int8)
    rho = pop.fit_intent_correlation
    fit = fit_shift[arrivals.source] + e[0]
    intent = (
        intent_shift[arrivals.source]
        + campaign_shift[arrivals.campaign]  # campaign -1 picks the trailing 0.0
        + pop.existing_customer_intent_shift * lead_type
        + rho * e[0]
        + np.sqrt(1.0 - rho * rho) * e[1]
    )

    z_nodes, z_weights = _gauss_hermite_mixture(fit_shift, np.asarray(list(pop.sources.values())))
    categories = {"source": source_names, "lead_type": LEAD_TYPES}
    uniforms = trait_rng.random((len(CATEGORICAL_ATTRIBUTES), n))
    weight, loading, offsets = [], [], [0]
    for name in CATEGORICAL_ATTRIBUTES:
        spec = pop.categorical(name)
        weight += list(np.exp(category_logits(spec, z_nodes, z_weights)))
        loading += [spec.fit_loading.get(k, 0.0) for k in spec.shares]
        offsets.append(len(weight))
        categories[name] = tuple(spec.shares)
    distinct = np.unique([x for x in loading if x != 0.0])
    which = np.asarray([np.searchsorted(distinct, x) if x != 0.0 else distinct.size for x in loading])
    drawn = _draw_categories(np.asarray(weight), which, np.asarray(offsets), distinct, fit, uniforms)
    attributes = dict(zip(CATEGORICAL_ATTRIBUTES, drawn))

    size = pop.company_size
    log_n = np.log(size.median_employees) + size.fit_loading * fit + size.sigma * e[2]
    company_size = np.clip(np.round(np.exp(log_n)), 1, size.max_employees)

    bad_share = np.asarray([pop.bad_data_share[k] for k in categories["email_domain"]])
    bad_data = trait_rng.random(n) < bad_share[attributes["email_domain"]]

    return LeadArrays(
        created_min=arrivals.created_min,
        source=arrivals.source.astype(np.int8),
        campaign=arrivals.campaign.astype(np.int16),
        lead_type=lead_type,
        attributes=attributes,
        company_size=company_size,
        fit=fit,
        intent=intent,
        bad_data=bad_data,
        categories=categories,
    )
