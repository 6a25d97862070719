"""The SLA load of each candidate MQL threshold: a fast analytic model, checked by simulation.

For every threshold ``T`` the MQLs are the leads with ``score >= T``.
:func:`analytic_load` (the model: :mod:`calibrate.sla.analytic`; for a queue called in order
of score :mod:`calibrate.sla.priority_load`) says in milliseconds what
the sales team's queue does with them: utilisation, SLA compliance, response times, the
share of the leads' value kept after waiting, and the team size needed;
:func:`simulated_load` runs the same MQLs through the queue engine over many seeds;
:func:`validity` says from the settings and utilisation whether the model is inside the
domain where it was checked (else simulate); :func:`overrides` is the one rule for where the
simulation overrides the model, and :func:`compare_load` puts both side by side under it.
:func:`work_per_mql` gives the rep time one MQL costs. All of them take the sales side as one
:class:`~calibrate.capacity.SalesCapacity` and the history as one
:class:`~calibrate.capacity.Window`.
"""

from calibrate.sla.analytic import LOAD_COLUMNS, analytic_load
from calibrate.sla.compare import COMPARED, TOLERANCE, compare_load, overrides
from calibrate.sla.simulated import simulated_load, simulated_reps_needed
from calibrate.sla.validity import Validity, validity
from calibrate.sla.work import work_per_mql

__all__ = [
    "COMPARED",
    "LOAD_COLUMNS",
    "TOLERANCE",
    "Validity",
    "analytic_load",
    "compare_load",
    "overrides",
    "simulated_load",
    "simulated_reps_needed",
    "validity",
    "work_per_mql",
]
