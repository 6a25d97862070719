"""The sparse scorecard (issue 16): what a CRM-sized card costs on newer leads.

Per seed, a simulated year of the default world (10,000 leads a month, 13 reps, labelled at
each lead's clock start); the full card and its sparse copy (``max_rules=25``) fitted on the
older 70% of the judged leads, both scored on the newer 30% (out of time). Target: at most 25
rules, and the sparse card's held-out AUC no more than two Hanley-McNeil standard errors
below the full card's. Run: ``python -m bench sparse`` (about 5 s a seed; ``--seeds 1``).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

import simulate
from bench._table import Row
from calibrate import Scorecard, sparse_copy
from calibrate._testing import hanley_mcneil_se
from calibrate.crm_scoring_export import rule_rows
from calibrate.diagnostics import roc_auc
from calibrate.history import History
from calibrate.labels import SelectionBiasWarning, make_labels

MAX_RULES = 25


def rows(seeds: str = "3") -> list[Row]:
    out = []
    for seed in range(int(seeds)):
        s = simulate.Scenario()
        s = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=10_000), team=s.team.with_size(13))
        run = simulate.run(s, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SelectionBiasWarning)
            labels = make_labels(History.from_run(run), events=run.events)
        train, held = labels.split_by_time(test_share=0.3)
        full = Scorecard().fit(train.X, train.y, train.sample_weight)
        sparse = sparse_copy(full, train.X, train.y, train.sample_weight, max_rules=MAX_RULES)
        y = np.asarray(held.y)
        a_full = roc_auc(y, full.predict_points(held.X))
        a_sparse = roc_auc(y, sparse.predict_points(held.X))
        se = hanley_mcneil_se(a_full, int(y.sum()), int((1 - y).sum()))
        r = sparse.sparse_report_
        size = f"seed {seed}, {len(train.y):,} + {len(y):,} leads"
        out.append(
            Row(
                "sparse card: rules (full card's)",
                size,
                f"{len(rule_rows(sparse))} ({len(rule_rows(full))})",
                f"<= {MAX_RULES}",
                met=len(rule_rows(sparse)) <= MAX_RULES,
            )
        )
        out.append(Row("sparse card: training AUC cost", size, f"{r.auc_cost:.3f}", "(said by sparse_report_)"))
        out.append(
            Row(
                "sparse card: held-out AUC full - sparse",
                size,
                f"{a_full:.3f} - {a_sparse:.3f} = {a_full - a_sparse:+.3f}",
                f"<= 2 SE = {2 * se:.3f}",
                met=a_full - a_sparse <= 2 * se,
            )
        )
    return out


if __name__ == "__main__":
    from bench._table import print_table

    print_table(rows())
