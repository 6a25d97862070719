"""The worlds the promises bench checks a recommendation in: the default and five with other
truths, teams or SLAs (``WORLDS``: name -> (description, builder))."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import simulate


def _flipped_truth(truth: simulate.Truth) -> simulate.Truth:
    """Several signs of the truth flipped: page views, e-mail clicks and webinars now lower the
    chance to buy; software and personal e-mail domains swap sides with education."""
    behaviour = dict(truth.behaviour_weights)
    for name in ("page_views", "email_clicks", "webinars", "early_content_downloads"):
        behaviour[name] = -behaviour[name]
    weights = {k: dict(v) for k, v in truth.weights.items()}
    for attr, value in (("industry", "software"), ("industry", "education"), ("email_domain", "personal")):
        weights[attr][value] = -weights[attr][value]
    return dataclasses.replace(truth, behaviour_weights=behaviour, weights=weights)


def _default() -> simulate.Scenario:
    return simulate.Scenario()


def _base_rate() -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(name="base_rate", truth=dataclasses.replace(s.truth, intercept=s.truth.intercept + 0.7))


def _flipped() -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(name="flipped_truth", truth=_flipped_truth(s.truth))


def _tight_team() -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(name="tight_team", team=s.team.with_size(3))


def _tight_sla() -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(name="tight_sla", sla=dataclasses.replace(s.sla, hours=4.0))


def _loose_team() -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(name="loose_team", team=s.team.with_size(6))


WORLDS: dict[str, tuple[str, Callable[[], simulate.Scenario]]] = {
    "default": ("the default world", _default),
    "base_rate": ("Truth.intercept -7.5 -> -6.8 (about twice the base rate)", _base_rate),
    "flipped_truth": ("4 behaviour and 3 attribute weights of the truth with their signs flipped", _flipped),
    "tight_team": ("3 reps instead of 4", _tight_team),
    "tight_sla": ("a 4-hour SLA instead of 8", _tight_sla),
    "loose_team": ("6 reps instead of 4", _loose_team),
}
