"""The rep time one MQL costs: its first touch and the follow-ups its attempts bring."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from calibrate.sla._checks import probability
from simulate.team import Team

__all__ = ["work_per_mql"]


def _attempt_pmf(
    attempts: int, contact_rate: np.ndarray, bad_data_share: np.ndarray, attempt_connect_share: float
) -> np.ndarray:
    """``(..., attempts)`` chance of making exactly ``1 .. attempts`` contact attempts."""
    k = np.arange(1, attempts + 1)
    pa = attempt_connect_share
    if pa < 1:
        geo = pa * (1 - pa) ** (k - 1)
        geo = geo / geo.sum()  # answers at attempt K, truncated to the cadence
    else:
        geo = (k == 1).astype(float)
    last = (k == attempts).astype(float)
    first = (k == 1).astype(float)
    good = 1.0 - bad_data_share[..., None]
    reach = contact_rate[..., None]
    return good * (reach * geo + (1 - reach) * last) + bad_data_share[..., None] * first


def _work_moments(team: Team, contact_rate, bad_data_share, attempt_connect_share):
    """``E[X]`` and ``E[X^2]`` of the total work ``X`` of one MQL (broadcast)."""
    contact = probability(contact_rate, "contact_rate")
    bad = probability(bad_data_share, "bad_data_share")
    pa = float(attempt_connect_share)
    if not 0 < pa <= 1:
        raise ValueError(f"attempt_connect_share must be in (0, 1], got {attempt_connect_share!r}")
    contact, bad = np.broadcast_arrays(contact, bad)
    pmf = _attempt_pmf(team.attempts, contact, bad, pa)
    extra = np.arange(team.attempts)  # follow-ups = attempts - 1
    e1 = (pmf * extra).sum(-1)
    e2 = (pmf * extra**2).sum(-1)
    ft, fu = team.first_touch, team.follow_up
    mf = ft.mean_minutes
    vf = ft.median_minutes**2 * np.exp(ft.spread**2) * np.expm1(ft.spread**2)
    mu_ = fu.mean_minutes
    vu = fu.median_minutes**2 * np.exp(fu.spread**2) * np.expm1(fu.spread**2)
    mean = mf + e1 * mu_
    var = vf + e1 * vu + (e2 - e1**2) * mu_**2
    return mean, var + mean**2


def work_per_mql(
    team: Team,
    *,
    contact_rate: float | ArrayLike,
    bad_data_share: float | ArrayLike = 0.0,
    attempt_connect_share: float = 0.4,
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Mean rep minutes one MQL costs, first touch and follow-ups, and their squared CV.

    The attempts ``A`` follow the cadence as in :mod:`simulate.funnel`: a lead with bad data
    (chance ``bad_data_share``) takes one attempt; of the others, a reachable one (chance
    ``contact_rate``) answers at attempt ``K``, truncated geometric on ``1 ..
    team.attempts`` with ``attempt_connect_share`` per attempt; an unreachable one uses
    all ``team.attempts``. With the first touch ``F`` and the follow-ups ``U_j`` drawn
    from ``team.first_touch`` and ``team.follow_up`` (log-normal), the work is ``X = F +
    U_1 + ... + U_{A-1}`` and

    ``E[X] = E[F] + E[A - 1] E[U]``,
    ``Var[X] = Var[F] + E[A - 1] Var[U] + Var[A - 1] E[U]^2``,
    ``cv2 = Var[X] / E[X]^2``.

    Parameters
    ----------
    team : simulate.Team
        Its durations, ``attempts`` and cadence.
    contact_rate : float or array_like
        Chance that a lead with good data answers at some attempt, in [0, 1] (per lead if an
        array).
    bad_data_share : float or array_like
        Chance of bad contact data, in [0, 1].
    attempt_connect_share : float
        Chance that a reachable lead answers at each attempt, in (0, 1].

    Returns
    -------
    (mean_minutes, cv2)
        Floats, or arrays of the broadcast shape of the rates.

    Examples
    --------
    >>> from simulate import Team
    >>> m, cv2 = work_per_mql(Team(), contact_rate=0.0)  # everyone gets six attempts
    >>> print(f"{m:.1f} {cv2:.3f}")
    44.1 0.055
    >>> m, cv2 = work_per_mql(Team(attempts=1, cadence_days=()), contact_rate=0.5)
    >>> print(f"{m:.2f} {cv2:.3f}")  # the first touch alone: log-normal, cv2 = exp(0.25) - 1
    17.00 0.284
    """
    mean, second = _work_moments(team, contact_rate, bad_data_share, attempt_connect_share)
    cv2 = second / mean**2 - 1.0
    if np.ndim(mean) == 0:
        return float(mean), float(cv2)
    return mean, cv2
