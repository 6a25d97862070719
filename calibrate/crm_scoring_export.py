"""Points a CRM can take: a HubSpot score rule set, a criteria CSV and a plain table.

Every export lists the same rules, one per line a CRM needs: a bin or a group of categories
with points other than 0 (a lead matching no rule gets 0 from that criterion, as in
``simulate.ScoringRules``). A lead's score is the sum of the points of the rules it
matches, one rule at most per criterion. The operators, and what they match:

==============  ===========================  ==========================================
operator        value                        matches
==============  ===========================  ==========================================
``EQ``          ``vp``                       the text equals the value
``IS_ANY_OF``   ``vp;c_level`` (``;``-list)  the text equals one of the values
``LT``          ``50``                       a number below 50
``GTE``         ``1000``                     a number at or above 1000
``GTE_AND_LT``  ``50;200``                   a number at or above 50 and below 200
``IS_KNOWN``    (empty)                      any number (a criterion of one bin)
``IS_UNKNOWN``  (empty)                      the property is blank
==============  ===========================  ==========================================

The HubSpot rule set follows the request body of HubSpot's Lead Scoring API (beta, 2026-09:
``POST /marketing/lead-scoring/2026-09-beta/scores``, developers.hubspot.com, "Create a lead
score"): a score with ``name``, ``objectTypeId`` (``0-1``, contacts), ``maxScore`` and
``groupConfigs``; each group a ``groupName``, a ``groupCategory`` (here ``FIT`` or
``ENGAGEMENT``), ``minValue`` / ``maxValue`` and ``ruleConfigurations``; each rule
``enabled``, ``minimumValue`` / ``maximumValue`` and a ``configuration`` whose
``calculation`` is ``{"type": "CONSTANT", "value": points}``. The page does not show the
criteria of a rule; they are written as ``filters`` in the shape of HubSpot's CRM search
filters (``propertyName``, ``operator`` among ``EQ``, ``IN``, ``LT``, ``GTE``,
``HAS_PROPERTY``, ``NOT_HAS_PROPERTY``, ``value`` or ``values``), one filter per bound, all
of a rule's filters to hold. Check the property names (the lead table's column names) against
the portal's before posting. The MQL threshold, the score limits and any decay of behaviour
points travel in ``leadfunnel`` beside them (HubSpot sets an MQL threshold in a workflow).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import pandas as pd

from calibrate._binning import MISSING
from simulate.atomic import write_text_atomic
from simulate.rules import ScoringRules

CSV_COLUMNS = ["field", "operator", "value", "points"]


def _rules(rules_or_card) -> ScoringRules:
    """The ``ScoringRules`` of a fitted ``Scorecard``, a ``Recommendation`` or the rules."""
    rules = getattr(rules_or_card, "rules_", None) or getattr(rules_or_card, "rules", None) or rules_or_card
    if not isinstance(rules, ScoringRules):
        raise TypeError(
            f"expected ScoringRules, a fitted Scorecard or a Recommendation, got {type(rules_or_card).__name__}"
        )
    if rules.grades is not None:
        raise ValueError(
            "these rules have two axes (fit grade x engagement): a CRM score property holds "
            "one score; export the single-threshold rules (rules.replace_threshold(...))"
        )
    return rules


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def rule_rows(rules_or_card) -> pd.DataFrame:
    """The rules, one row per CRM line: ``axis``, ``field``, ``operator``, ``value``, ``points``.

    ``value`` is a number, a list of numbers (``GTE_AND_LT``), a list of texts
    (``IS_ANY_OF``), a text (``EQ``) or ``None``; rows of 0 points are left out. A category's
    ``"(missing)"`` entry becomes ``IS_UNKNOWN`` (a fitted card always gives it 0, the
    reference, so it only appears for hand-written rules).
    """
    rules = _rules(rules_or_card)
    rows = []
    for field, points in rules.fit.items():
        by_points: dict[int, list[str]] = {}
        for value, p in points.items():
            if p == 0:
                continue
            if value == MISSING:
                rows.append(("fit", field, "IS_UNKNOWN", None, int(p)))
            else:
                by_points.setdefault(int(p), []).append(str(value))
        for p, values in sorted(by_points.items(), key=lambda kv: -kv[0]):
            rows.append(
                ("fit", field, "EQ", values[0], p) if len(values) == 1 else ("fit", field, "IS_ANY_OF", values, p)
            )
    for axis, criteria in (("fit", rules.fit_numeric), ("engagement", rules.engagement)):
        for field, bins in criteria.items():
            edges = (-math.inf, *bins.edges, math.inf)
            for lo, hi, p in zip(edges, edges[1:], bins.points, strict=False):
                if p == 0:
                    continue
                if math.isinf(lo) and math.isinf(hi):
                    rows.append((axis, field, "IS_KNOWN", None, int(p)))
                elif math.isinf(lo):
                    rows.append((axis, field, "LT", _number(hi), int(p)))
                elif math.isinf(hi):
                    rows.append((axis, field, "GTE", _number(lo), int(p)))
                else:
                    rows.append((axis, field, "GTE_AND_LT", [_number(lo), _number(hi)], int(p)))
            if bins.missing != 0:
                rows.append((axis, field, "IS_UNKNOWN", None, int(bins.missing)))
    return pd.DataFrame(rows, columns=["axis", *CSV_COLUMNS])


def points_table(rules_or_card, *, markdown: bool = False) -> pd.DataFrame | str:
    """The rules as a readable table (``criterion``, ``rule``, ``points``), or its markdown.

    >>> from simulate.rules import Bins
    >>> rules = ScoringRules(fit={"job_level": {"vp": 10, "c_level": 10}},
    ...                      fit_numeric={"company_size": Bins(edges=(50, 200), points=(0, 5, 9))})
    >>> print(points_table(rules, markdown=True))
    | axis | criterion    | rule                  | points |
    |:-----|:-------------|:----------------------|-------:|
    | fit  | job_level    | is any of vp, c_level |     10 |
    | fit  | company_size | 50 to under 200       |      5 |
    | fit  | company_size | 200 or more           |      9 |
    """
    rows = rule_rows(rules_or_card)
    text = [_describe(op, v) for op, v in zip(rows["operator"], rows["value"], strict=True)]
    table = pd.DataFrame({"axis": rows["axis"], "criterion": rows["field"], "rule": text, "points": rows["points"]})
    return _markdown(table) if markdown else table


def _describe(operator: str, value) -> str:
    if operator == "EQ":
        return f"is {value}"
    if operator == "IS_ANY_OF":
        return "is any of " + ", ".join(value)
    if operator == "LT":
        return f"under {value:,}"
    if operator == "GTE":
        return f"{value:,} or more"
    if operator == "GTE_AND_LT":
        return f"{value[0]:,} to under {value[1]:,}"
    return {"IS_KNOWN": "any value", "IS_UNKNOWN": "blank"}[operator]


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table (no ``tabulate`` dependency): text left, numbers right."""
    cols = list(table.columns)
    cells = [[str(v) for v in table[c]] for c in cols]
    widths = [max(len(c), *(len(v) for v in cells[i])) if len(table) else len(c) for i, c in enumerate(cols)]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in cols]

    def line(values):
        return "| " + " | ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if n else (":" + "-" * (w + 1)) for w, n in zip(widths, numeric)) + "|"
    return "\n".join([line(cols), rule, *(line([cells[i][r] for i in range(len(cols))]) for r in range(len(table)))])


# --- files ------------------------------------------------------------------------------
def _write(path: str | os.PathLike, text: str, overwrite: bool) -> Path:
    """Write ``text`` to ``path`` atomically; an existing file is refused unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return write_text_atomic(path, text)


def criteria_frame(rules_or_card) -> pd.DataFrame:
    """The criteria CSV's table: ``field``, ``operator``, ``value`` (lists joined by ``;``), ``points``."""
    rows = rule_rows(rules_or_card)
    values = []
    for field, v in zip(rows["field"], rows["value"], strict=True):
        items = v if isinstance(v, list) else [] if v is None else [v]
        for item in items:
            if ";" in str(item):
                raise ValueError(f"criterion {field!r}: value {item!r} holds ';', the criteria CSV's list separator")
        values.append(";".join(str(i) for i in items))
    return pd.DataFrame(
        {"field": rows["field"], "operator": rows["operator"], "value": values, "points": rows["points"]}
    )


def to_criteria_csv(rules_or_card, path: str | os.PathLike | None = None, *, overwrite: bool = False) -> str:
    """The rules as a Salesforce/Marketo-style criteria CSV: ``field, operator, value, points``.

    One row per rule (the operators: the module docstring); a text that a spreadsheet would
    run as a formula (starting with ``=``, ``+``, ``-``, ``@``) gets a ``'`` in front. The
    score limits and the MQL threshold are not in the file (``to_hubspot`` carries them).

    Parameters
    ----------
    rules_or_card : ``ScoringRules``, a fitted ``Scorecard`` or a ``Recommendation``.
    path : also written there (atomically) when given.
    overwrite : replace an existing file at ``path``; by default it is refused.

    Returns
    -------
    str
        The CSV text.
    """
    from simulate.io import safe_for_spreadsheet

    buffer = io.StringIO()
    safe_for_spreadsheet(criteria_frame(rules_or_card)).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    text = buffer.getvalue()
    if path is not None:
        _write(path, text, overwrite)
    return text


def _filters(field: str, operator: str, value) -> list[dict]:
    """HubSpot CRM-search-shaped filters that together match the rule."""
    if operator == "EQ":
        return [{"propertyName": field, "operator": "EQ", "value": value}]
    if operator == "IS_ANY_OF":
        return [{"propertyName": field, "operator": "IN", "values": list(value)}]
    if operator in ("LT", "GTE"):
        return [{"propertyName": field, "operator": operator, "value": value}]
    if operator == "GTE_AND_LT":
        return [
            {"propertyName": field, "operator": "GTE", "value": value[0]},
            {"propertyName": field, "operator": "LT", "value": value[1]},
        ]
    return [{"propertyName": field, "operator": "HAS_PROPERTY" if operator == "IS_KNOWN" else "NOT_HAS_PROPERTY"}]


def hubspot_rule_set(rules_or_card, *, name: str = "leadfunnel score", object_type_id: str = "0-1") -> dict:
    """The rules as a HubSpot score configuration (plain data; see the module docstring)."""
    rules = _rules(rules_or_card)
    rows = rule_rows(rules)
    groups = []
    for (axis, field), part in rows.groupby(["axis", "field"], sort=False):
        pts = part["points"].astype(int).tolist()
        groups.append(
            {
                "groupCategory": axis.upper(),
                "groupName": field,
                "minValue": min(0, *pts),
                "maxValue": max(0, *pts),
                "ruleConfigurations": [
                    {
                        "enabled": True,
                        "minimumValue": p,
                        "maximumValue": p,
                        "configuration": {
                            "filters": _filters(field, op, v),
                            "calculation": {"type": "CONSTANT", "value": p},
                        },
                    }
                    for op, v, p in zip(part["operator"], part["value"], pts, strict=True)
                ],
            }
        )
    out = {
        "name": name,
        "objectTypeId": object_type_id,
        "maxScore": _number(rules.score_max),
        "groupConfigs": groups,
        "leadfunnel": {
            "mql_threshold": _number(rules.mql_threshold),
            "score_min": _number(rules.score_min),
            "score_max": _number(rules.score_max),
            "decay_half_life_days": rules.decay_half_life_days,
            "note": "score = clip(sum of the points of the matching rules, score_min, score_max)",
        },
    }
    routing = getattr(rules_or_card, "routing", None)
    if routing:  # a Recommendation with a queue policy: the rule to set up in the CRM's lead rotation
        keys = ("routing", "discipline", "aging_per_hour", "breach", "rule")
        out["leadfunnel"]["routing"] = {k: routing[k] for k in keys if k in routing}
    return out


def to_hubspot(
    rules_or_card,
    path: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    name: str = "leadfunnel score",
) -> dict:
    """The rules as a HubSpot score-property rule set: groups of rules with round criteria.

    Parameters
    ----------
    rules_or_card : ``ScoringRules``, a fitted ``Scorecard`` or a ``Recommendation``.
    path : also written there as JSON (atomically) when given.
    overwrite : replace an existing file at ``path``; by default it is refused.
    name : the score's name in HubSpot.

    Returns
    -------
    dict
        The rule set (``hubspot_rule_set``), as written.
    """
    data = hubspot_rule_set(rules_or_card, name=name)
    if path is not None:
        _write(path, json.dumps(data, indent=2, allow_nan=False) + "\n", overwrite)
    return data


__all__ = [
    "criteria_frame",
    "hubspot_rule_set",
    "points_table",
    "rule_rows",
    "to_criteria_csv",
    "to_hubspot",
]
