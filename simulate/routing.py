"""Queue policies: who gets a new MQL, in which order each queue is called, and what happens
at a breach, as one value that can be put into a team and its SLA.

A :class:`Policy` is the routing and discipline of a :class:`~simulate.Team` (see
:func:`simulate.serve_queue` for their exact rules), the aging of a score-ordered queue, and
optionally the breach action of the :class:`~simulate.SLA`. :data:`POLICIES` is the default
field of a tournament (``calibrate.tournament``); :func:`policy_grid` combines routings,
disciplines and breach actions into one.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simulate.spec import check
from simulate.team import BREACH_ACTIONS, DISCIPLINES, ROUTINGS, SLA, Team

__all__ = ["POLICIES", "Policy", "policy_grid"]

_ASSIGN = {
    "round_robin": "assign in turn (round robin)",
    "pooled": "one shared queue: the next free rep takes the next lead",
    "least_loaded": "assign to the rep with the fewest open MQLs",
    "open_hours": "assign to a rep whose working hours are open, the one with the fewest open MQLs",
}
_ORDER = {
    "fifo": "call in order of arrival",
    "highest_score": "call in order of score",
    "newest": "call the newest first",
}
_BREACH = {
    "none": "leave a late lead where it is",
    "reassign": "at the SLA deadline, reassign to the rep who can call it first",
    "escalate": "at the SLA deadline, move it to the front of its queue",
    "recycle": "at the SLA deadline, recycle it to marketing",
}
_SHORT = {"round_robin": "round robin", "pooled": "pooled", "least_loaded": "least loaded", "open_hours": "open hours"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How the sales team takes MQLs.

    Attributes
    ----------
    routing : one of ``simulate.team.ROUTINGS`` (who gets a new MQL).
    discipline : one of ``simulate.team.DISCIPLINES`` (the order each queue is called in).
    aging_per_hour : with ``discipline="highest_score"``, the score points a waiting lead
        gains per calendar hour, so that low scores are not starved (0: pure score order).
    breach : one of ``simulate.team.BREACH_ACTIONS``, or None to keep the SLA's own.
    """

    routing: str = "round_robin"
    discipline: str = "fifo"
    aging_per_hour: float = 0.0
    breach: str | None = None

    def __post_init__(self) -> None:
        check(self.routing in ROUTINGS, f"Policy.routing must be one of {ROUTINGS}, got {self.routing!r}")
        check(
            self.discipline in DISCIPLINES, f"Policy.discipline must be one of {DISCIPLINES}, got {self.discipline!r}"
        )
        check(
            self.breach is None or self.breach in BREACH_ACTIONS,
            f"Policy.breach must be None or one of {BREACH_ACTIONS}, got {self.breach!r}",
        )
        aging = self.aging_per_hour
        check(
            isinstance(aging, int | float) and not isinstance(aging, bool) and 0 <= aging < float("inf"),
            f"Policy.aging_per_hour must be a number of score points per hour >= 0, got {aging!r}",
        )
        check(
            aging == 0 or self.discipline == "highest_score",
            f"Policy.aging_per_hour applies to discipline='highest_score' only, got {self.discipline!r}",
        )

    @property
    def name(self) -> str:
        """A short label: ``"least loaded, score first (aging 2/h), reassign"``."""
        order = {"fifo": "FIFO", "highest_score": "score first", "newest": "newest first"}[self.discipline]
        if self.aging_per_hour:
            order += f" (aging {self.aging_per_hour:g}/h)"
        parts = [_SHORT[self.routing], order]
        if self.breach is not None:
            parts.append(f"{self.breach} at breach")
        return ", ".join(parts)

    def rule(self, sla: SLA | None = None) -> str:
        """The policy in the words a CRM admin sets it up with, for example "assign to the rep
        with the fewest open MQLs; call in order of score". ``sla`` gives the breach action
        when the policy keeps the SLA's own."""
        order = _ORDER[self.discipline]
        if self.aging_per_hour:
            order += f", a waiting lead gaining {self.aging_per_hour:g} points an hour"
        text = f"{_ASSIGN[self.routing]}; {order}"
        breach = self.breach if self.breach is not None else (None if sla is None else sla.breach)
        if breach is not None:
            text += f"; {_BREACH[breach]}"
        return text

    def apply(self, team: Team, sla: SLA) -> tuple[Team, SLA]:
        """The team and SLA with this policy."""
        team = dataclasses.replace(
            team, routing=self.routing, discipline=self.discipline, aging_per_hour=float(self.aging_per_hour)
        )
        if self.breach is not None and self.breach != sla.breach:
            sla = dataclasses.replace(sla, breach=self.breach)
        return team, sla

    @classmethod
    def of(cls, team: Team, sla: SLA | None = None) -> Policy:
        """The policy a team (and its SLA's breach action) runs."""
        return cls(
            routing=team.routing,
            discipline=team.discipline,
            aging_per_hour=float(team.aging_per_hour),
            breach=None if sla is None else sla.breach,
        )

    def to_dict(self, sla: SLA | None = None) -> dict:
        """Plain values for a config (with the rule in words and the name of the policy as
        it was given, before ``sla`` filled in its breach action)."""
        out = {"routing": self.routing, "discipline": self.discipline, "aging_per_hour": float(self.aging_per_hour)}
        breach = self.breach if self.breach is not None else (None if sla is None else sla.breach)
        out["breach"] = breach
        out["rule"] = self.rule(sla)
        out["name"] = self.name
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> Policy:
        """The policy of a config's ``routing`` entry (``rule`` and ``name`` are ignored: they
        are derived; the breach action is the policy's own)."""
        known = {"routing", "discipline", "aging_per_hour", "breach", "rule", "name"}
        extra = sorted(set(data) - known)
        check(not extra, f"routing: unknown keys {extra} (expected {sorted(known)})")
        return cls(
            routing=data.get("routing", "round_robin"),
            discipline=data.get("discipline", "fifo"),
            aging_per_hour=float(data.get("aging_per_hour", 0.0)),
            breach=data.get("breach"),
        )


POLICIES = (
    Policy(routing="round_robin"),
    Policy(routing="pooled"),
    Policy(routing="least_loaded"),
    Policy(routing="open_hours"),
    Policy(routing="round_robin", discipline="highest_score"),
    Policy(routing="pooled", discipline="highest_score", aging_per_hour=2.0),
)
"""The default tournament field: the rotation CRMs offer, a shared queue, the fewest open
MQLs, time-zone routing, score order in each rep's own queue, and a shared score-ordered
queue whose waiting leads gain two points an hour."""


def policy_grid(
    routings: Iterable[str] = ROUTINGS,
    disciplines: Iterable[str] = ("fifo", "highest_score"),
    breaches: Iterable[str | None] = (None,),
    aging_per_hour: float = 0.0,
) -> tuple[Policy, ...]:
    """Every combination of routing, discipline and breach action (``None``: the SLA's),
    ``aging_per_hour`` on the score-ordered ones.

    Examples
    --------
    >>> [p.name for p in policy_grid(["round_robin"], ["fifo"], ["reassign", "recycle"])]
    ['round robin, FIFO, reassign at breach', 'round robin, FIFO, recycle at breach']
    """
    out = []
    for routing, discipline, breach in itertools.product(routings, disciplines, breaches):
        aging = aging_per_hour if discipline == "highest_score" else 0.0
        out.append(Policy(routing=routing, discipline=discipline, aging_per_hour=aging, breach=breach))
    return tuple(out)
