"""Fit MQL scoring and thresholds to history."""

from calibrate.diagnostics import (
    Backtest,
    Evaluation,
    Stability,
    backtest,
    brier_score,
    evaluate,
    expected_calibration_error,
    funnel_conversion,
    gains_table,
    population_stability,
    reliability_curve,
    roc_auc,
    stability_table,
)
from calibrate.history import (
    ColumnMapping,
    History,
    HistoryError,
    hubspot_contacts,
    load_history,
    salesforce_leads,
)
from calibrate.labels import (
    Labels,
    LeakageError,
    SelectionBiasWarning,
    leakage_report,
    make_labels,
)
from calibrate.load import analytic_load, compare_load, simulated_load, work_per_mql
from calibrate.recommendation import Estimate, Recommendation, RecommendationError
from calibrate.scorecard import Criterion, Scorecard
from calibrate.threshold import InfeasibleWarning, promise, recommend, verification_report, verify
from calibrate.tradeoffs import Tradeoffs, evaluate_tradeoffs

__all__ = [
    "Estimate",
    "InfeasibleWarning",
    "Recommendation",
    "RecommendationError",
    "Tradeoffs",
    "analytic_load",
    "compare_load",
    "promise",
    "recommend",
    "simulated_load",
    "evaluate_tradeoffs",
    "verification_report",
    "verify",
    "work_per_mql",
    "Backtest",
    "ColumnMapping",
    "Criterion",
    "Evaluation",
    "History",
    "HistoryError",
    "Labels",
    "LeakageError",
    "Scorecard",
    "SelectionBiasWarning",
    "Stability",
    "backtest",
    "brier_score",
    "evaluate",
    "expected_calibration_error",
    "funnel_conversion",
    "gains_table",
    "hubspot_contacts",
    "leakage_report",
    "load_history",
    "make_labels",
    "population_stability",
    "reliability_curve",
    "roc_auc",
    "salesforce_leads",
    "stability_table",
]
