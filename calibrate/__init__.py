"""Fit MQL scoring and thresholds to history, against the sales team's capacity and SLA.

The names below are what a user needs; the rest is reachable from its module: the SLA model
in ``calibrate.sla``, diagnostics (AUC, calibration, backtests, stability) in
``calibrate.diagnostics``, CRM mappings in ``calibrate.mappings``, plots in
``calibrate.plotting``, the notebook explorer in ``calibrate.explorer``, the monitor's parts
in ``calibrate.monitor_*``, the fitted world's
parts in ``calibrate.world_parts`` and ``calibrate.response_effect``. They are imported
on first use, so ``import calibrate`` is instant.
"""

from importlib import import_module

_HOMES = {
    "ColumnMapping": "calibrate.mappings",
    "ExplorationPlan": "calibrate.exploration",
    "FittedWorld": "calibrate.world",
    "Replay": "calibrate.replayed",
    "History": "calibrate.history",
    "HistoryError": "calibrate.history",
    "InfeasibleWarning": "calibrate.threshold",
    "Labels": "calibrate.labels",
    "MonitorReport": "calibrate.monitoring",
    "PlannedCampaign": "calibrate.monitor_forecast",
    "LeakageError": "calibrate.labels",
    "Recommendation": "calibrate.recommendation",
    "RecommendationError": "calibrate.recommendation",
    "SalesCapacity": "calibrate.capacity",
    "Scorecard": "calibrate.scorecard",
    "SelectionBiasWarning": "calibrate.labels",
    "SparseReport": "calibrate.sparse_card",
    "Tournament": "calibrate.policy_tournament",
    "Tradeoffs": "calibrate.tradeoffs",
    "Window": "calibrate.capacity",
    "compare": "calibrate.comparison",
    "plot_comparison": "calibrate.comparison",
    "evaluate_tradeoffs": "calibrate.tradeoffs",
    "exploration_plan": "calibrate.exploration",
    "fit_world": "calibrate.world",
    "load_history": "calibrate.history",
    "make_labels": "calibrate.labels",
    "monitor": "calibrate.monitoring",
    "points_table": "calibrate.crm_scoring_export",
    "prepare": "calibrate.inputs",
    "promise": "calibrate.verification",
    "recommend": "calibrate.threshold",
    "replay": "calibrate.replayed",
    "sparse_copy": "calibrate.sparse_card",
    "to_criteria_csv": "calibrate.crm_scoring_export",
    "to_hubspot": "calibrate.crm_scoring_export",
    "tournament": "calibrate.policy_tournament",
    "verify": "calibrate.verification",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None and not name.startswith("__"):
        try:  # a submodule: ``calibrate.<module>`` works without importing it first
            return import_module(f"calibrate.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"calibrate.{name}":
                raise
    if home is None:
        raise AttributeError(f"module 'calibrate' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
