"""Fuzzing ``load_history`` and the scoring invariants the other property tests leave out.

Issue 8, item 3: over many malformed files ``load_history`` raises only its own
``HistoryError`` (naming the file), never another exception, in bounded time and memory.
Item 2, the parts ``test_properties.py`` does not cover: a fitted ``Scorecard`` keeps its
declared monotone constraints for any data, and a higher threshold never gives more MQLs in
``ScoringRules.is_mql``.
"""

import datetime as dt
import io
import random
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calibrate import ColumnMapping, HistoryError, Scorecard, load_history
from simulate import ScoringRules
from simulate.rules import Bins, Grades
from simulate.table import BEHAVIOUR_COLUMNS

N_FILES = 400  # about 5 s on one core
SECONDS_PER_FILE = 3.0  # generous for a loaded CI machine; typical is 10 ms
PEAK_BYTES_PER_FILE = 64 * 2**20  # traced Python allocations while reading one small file

# --- a seeded generator of malformed exports ------------------------------------------
COLUMNS = [
    "page_views",
    "demo_requests",
    "mql_at",
    "sql_at",
    "customer_at",
    "closed_at",
    "won",
    "amount",
    "company_size",
    "job_level",
    "score",
    "sla_met",
    "first_touch_at",
    "rep_id",
    "Tags",
]
ODD = [
    "",
    " ",
    "-1",
    "1.5",
    "1e400",
    "99999999999999999999999",
    "nan",
    "inf",
    "NULL",
    "#N/A",
    "maybe",
    "05/01/2026",
    "0001-01-01",
    "1970-01-01",
    "2099-12-31",
    "9999-12-31",
    "2026-02-30",
    "2026-03-29 02:30",
    "2026-01-05T10:00:00Z",
    "2026-01-05T10:00:00+05:30",
    "2026-01-05 10:00:00.123456789",
    "Jan 5 2026",
    "=1+1",
    "@SUM(A1)",
    "\x00",
    "a\x00b",
    '"a, b"',
    '"',
    '""',
    "é",
    "\u00a0",
    "\ufeff",
    "💥",
    "1,000",
    "$1,200",
    "51-200",
    "10000+",
    "x" * 500,
    "-0",
    "0x1F",
    "1_000",
    "１２",
    "٣",
    "true",
    "no",
    "\r",
    "a\nb",
]
MAPPINGS = [
    None,
    None,
    None,
    "hubspot",
    "salesforce",
    ColumnMapping(
        columns={c: c for c in ("lead_id", "created_at", "source", "lead_type", "mql_at")},
        date_formats={"created_at": "%d/%m/%Y"},
        timezone="Europe/Berlin",
        converters={"source": "snake"},
    ),
]
OPTIONS = [{}, {}, {"on_error": "raise"}, {"max_reject_share": 1.0}, {"as_of": "2026-04-01"}]


def _cell(rng: random.Random, column: str, row: int) -> str:
    if column == "lead_id":
        return str(row)
    if column.endswith("_at"):
        return f"2026-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00"
    if column == "source":
        return rng.choice(["web", "ads", "Paid Search"])
    if column == "lead_type":
        return rng.choice(["new_business", "existing_customer"])
    if column in ("won", "sla_met"):
        return rng.choice(["true", "false", ""])
    if column in ("job_level", "rep_id", "Tags"):
        return rng.choice(["vp", "Ann", ""])
    return str(rng.randint(0, 50))


def malformed_export(seed: int) -> bytes:
    """A small lead export broken in one to four ways: odd cells or columns, another
    delimiter, line ending or encoding, ragged or duplicated rows, a duplicated, blank or
    missing header, a missing column, truncation, NUL bytes, flipped bytes, a BOM."""
    rng = random.Random(seed)
    cols = ["lead_id", "created_at", "source", "lead_type", *rng.sample(COLUMNS, rng.randint(0, 8))]
    rng.shuffle(cols)
    rows = [[_cell(rng, c, r) for c in cols] for r in range(rng.choice([1, 2, 5, 30, 80]))]
    sep, eol, encoding, byte_ops = ",", "\n", "utf-8", []
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(14)
        if kind == 0:  # a few odd cells
            for _ in range(rng.randint(1, 5)):
                row = rng.choice(rows)
                if row:
                    row[rng.randrange(len(row))] = rng.choice(ODD)
        elif kind == 1 and cols:  # a whole column of one odd value
            j, value = rng.randrange(len(cols)), rng.choice(ODD)
            for row in rows:
                if j < len(row):
                    row[j] = value
        elif kind == 2:
            sep = rng.choice([";", "\t", "|", " "])
        elif kind == 3:
            eol = rng.choice(["\r\n", "\r", "\n\n"])
        elif kind == 4:
            encoding = rng.choice(["utf-8-sig", "latin-1", "utf-16", "utf-32", "cp1252"])
        elif kind == 5:  # a line too short or too long
            r = rng.randrange(len(rows))
            rows[r] = (
                rows[r][: rng.randrange(len(rows[r]) + 1)]
                if rng.random() < 0.5
                else rows[r] + ["x"] * rng.randint(1, 3)
            )
        elif kind == 6 and cols:  # a duplicated, blank or odd header name
            j = rng.randrange(len(cols))
            cols[j] = rng.choice([cols[0], "", " lead_id ", "LEAD_ID", "=cmd", cols[j].upper()])
        elif kind == 7:  # no header line
            cols = []
        elif kind == 8 and cols:  # a column missing from header and rows
            j = rng.randrange(len(cols))
            del cols[j]
            rows = [r[:j] + r[j + 1 :] for r in rows]
        elif kind == 9:
            byte_ops.append("truncate")
        elif kind == 10:
            byte_ops.append("nul")
        elif kind == 11:
            byte_ops.append("flip")
        elif kind == 12:  # duplicated rows (repeated ids)
            rows += rng.choices(rows, k=rng.randint(1, 5))
        elif kind == 13:
            byte_ops.append("bom")
    lines = ([sep.join(cols)] if cols else []) + [sep.join(r) for r in rows]
    data = (eol.join(lines) + eol).encode(encoding, errors="replace")
    for op in byte_ops:
        if op == "truncate":
            data = data[: rng.randrange(len(data) + 1)]
        elif op == "nul":
            i = rng.randrange(len(data) + 1)
            data = data[:i] + b"\x00" * rng.randint(1, 4) + data[i:]
        elif op == "flip" and data:
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            data = bytes(flipped)
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
    return data


def _load_checked(data: bytes, name: str, **kwargs) -> str:
    """Load ``data`` as the file ``name``: "ok" or "error"; any other exception fails."""
    buffer = io.BytesIO(data)
    buffer.name = name
    try:
        history = load_history(buffer, **kwargs)
    except HistoryError as exc:
        assert str(exc).startswith(f"{name}: "), str(exc)  # the message names the file
        return "error"
    # a file read without an error accounts for every row
    assert len(history.leads) + history.rejects["row"].nunique() == history.n_input_rows
    return "ok"


def test_malformed_exports_raise_only_history_errors_in_bounded_time_and_memory():
    outcomes = {"ok": 0, "error": 0}
    slowest, largest = 0.0, 0
    tracemalloc.start()
    try:
        for seed in range(N_FILES):
            rng = random.Random(-seed - 1)
            data = malformed_export(seed)
            tracemalloc.reset_peak()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # no numpy overflow noise either
                outcome = _load_checked(data, f"export-{seed}.csv", mapping=rng.choice(MAPPINGS), **rng.choice(OPTIONS))
            slowest = max(slowest, time.perf_counter() - start)
            largest = max(largest, tracemalloc.get_traced_memory()[1])
            outcomes[outcome] += 1
    finally:
        tracemalloc.stop()
    assert slowest < SECONDS_PER_FILE
    assert largest < PEAK_BYTES_PER_FILE
    assert outcomes["ok"] >= N_FILES // 50 and outcomes["error"] >= N_FILES // 2  # both paths


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        (
            "commas",
            b"lead_id,created_at,source,lead_type\n1,2026-01-01,web,x" + b"," * 200_000,
            r"line 2 has 200004 fields, more than the header",
        ),
        (
            "wide",
            (",".join(f"c{i}" for i in range(5000)) + "\n" + "1," * 4999 + "1\n").encode(),
            r"required column 'lead_id' is missing",
        ),
        ("nul flood", b"\x00" * 1_000_000, r"header but no data rows"),
        ("newline flood", b"\n" * 1_000_000, r"the file is empty"),
        ("quote flood", b'"' * 1_000_001, r"never closed|header but no data rows"),
        (
            "huge cell",
            b"lead_id,created_at,source,lead_type\n1,2026-01-01," + b"w" * 5_000_000 + b",new_business\n",
            None,
        ),
    ],
)
def test_pathological_files_are_answered_quickly(name, data, match):
    start = time.perf_counter()
    if match is None:
        assert _load_checked(data, f"{name}.csv") == "ok"
    else:
        with pytest.raises(HistoryError, match=match):
            load_history(io.BytesIO(data))
    assert time.perf_counter() - start < 10 * SECONDS_PER_FILE


cells = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=8),
    st.integers().map(str),
    st.floats().map(str),
    st.dates().map(str),
    st.datetimes().map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["lead_id", "created_at", "source", "lead_type", *COLUMNS]), min_size=1, max_size=8
    ),
    rows=st.lists(st.lists(cells, max_size=9), max_size=12),
    sep=st.sampled_from([",", ";", "\t"]),
    mapping=st.sampled_from(MAPPINGS),
)
def test_generated_exports_raise_only_history_errors(header, rows, sep, mapping):
    text = "\n".join([sep.join(header), *(sep.join(r) for r in rows)])
    _load_checked(text.encode("utf-8", errors="replace"), "generated.csv", mapping=mapping)


# a DataFrame (from another tool) may hold any Python object in a cell
OBJECTS = [
    None,
    np.nan,
    float("inf"),
    -1,
    1.5,
    10**30,
    True,
    "x",
    "",
    b"bytes",
    [1, 2],
    {"a": 1},
    pd.Timestamp("2026-01-01"),
    pd.Timestamp("2026-01-01", tz="Asia/Tokyo"),
    dt.date(2026, 1, 1),
    dt.datetime(1, 1, 1),
    pd.NaT,
    pd.NA,
    np.int64(3),
    "2026-01-01",
    "1e400",
    complex(1, 2),
    np.datetime64("2026-01-01"),
    pd.Timedelta(1, "D"),
]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_dataframes_with_odd_objects_raise_only_history_errors(data):
    n = data.draw(st.sampled_from([1, 3, 30]))
    frame = pd.DataFrame(
        {"lead_id": range(n), "created_at": "2026-01-02", "source": "web", "lead_type": "new_business"}
    )
    for column in data.draw(
        st.lists(
            st.sampled_from(["page_views", "mql_at", "won", "amount", "job_level", "Extra", "lead_id", "created_at"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        values = data.draw(st.lists(st.sampled_from(OBJECTS), min_size=n, max_size=n))
        frame[column] = pd.Series(values, dtype=object)
    try:
        history = load_history(frame, max_reject_share=data.draw(st.sampled_from([0.05, 1.0])))
    except HistoryError as exc:
        assert str(exc).startswith("DataFrame: ")
    else:
        assert len(history.leads) + history.rejects["row"].nunique() == n


# --- Scorecard: declared monotone constraints hold for any data -----------------------
def _counts(draw, n: int) -> np.ndarray:
    shape = draw(st.sampled_from(["poisson", "zeros", "ties", "heavy", "huge"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if shape == "poisson":
        return rng.poisson(draw(st.floats(0.05, 20)), n).astype(float)
    if shape == "zeros":
        return np.where(rng.random(n) < 0.9, 0.0, rng.integers(1, 4, n))
    if shape == "ties":
        return rng.choice([0.0, 1.0, 1.0, 2.0, 50.0], n)
    if shape == "heavy":
        return np.floor(rng.pareto(1.0, n) * 3)
    return rng.integers(0, 10**12, n).astype(float)


@st.composite
def scoring_data(draw):
    n = draw(st.integers(20, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = pd.DataFrame(
        {
            "page_views": _counts(draw, n),
            "demo_requests": _counts(draw, n),
            "company_size": np.exp(rng.normal(4, 2, n)),
            "job_level": rng.choice(["vp", "manager", "student"], n),
        }
    )
    if draw(st.booleans()):
        X.loc[rng.random(n) < 0.2, "page_views"] = np.nan
    # the outcome may even fall with engagement: the constraint must win over the data
    slope = draw(st.floats(-2, 2))
    logit = -1 + slope * np.log1p(np.nan_to_num(X["page_views"].to_numpy()))
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    flip = rng.integers(0, n, 2)
    y[flip[0]], y[flip[1]] = True, False  # both outcomes present
    assume(y.any() and not y.all())
    weight = rng.uniform(0.1, 5, n) if draw(st.booleans()) else None
    return X, y, weight


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scoring_data(),
    st.sampled_from(["engagement", {"page_views": 1, "demo_requests": 1, "company_size": -1}]),
    st.integers(2, 20),
    st.floats(0.01, 100),
)
def test_scorecard_points_never_fall_along_a_monotone_feature(data, cst, max_bins, C):
    X, y, weight = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card = Scorecard(monotonic_cst=cst, max_bins=max_bins, C=C, max_iter=50).fit(X, y, weight)
    declared = {"page_views": 1, "demo_requests": 1} if cst == "engagement" else cst
    for criterion in card.criteria_:
        sign = declared.get(criterion.name, 0)
        assert criterion.monotone == sign
        if not sign:
            continue
        k = criterion.binning.n_bins
        assert np.all(sign * np.diff(criterion.points[:k]) >= 0), criterion.name
        assert np.all(sign * np.diff(criterion.log_odds[:k]) >= -1e-9), criterion.name
        rules = card.rules_.engagement.get(criterion.name) or card.rules_.fit_numeric[criterion.name]
        assert np.all(sign * np.diff(rules.points) >= 0), criterion.name
        # the same along the feature itself, every other feature held at the first lead's value
        grid = np.unique(np.concatenate([X[criterion.name].dropna().to_numpy(), [0.0, 1e15]]))
        leads = X.iloc[np.zeros(grid.size, dtype=int)].reset_index(drop=True)
        leads[criterion.name] = grid
        points = card.predict_points(leads)
        assert np.all(sign * np.diff(points) >= 0), criterion.name
        assert np.all(sign * np.diff(rules(grid)) >= 0), criterion.name


# --- ScoringRules: a higher threshold never gives more MQLs ---------------------------
@st.composite
def rules_and_leads(draw):
    n = draw(st.integers(1, 60))
    levels = ["vp", "manager", "student", "other"]
    fit = {"job_level": draw(st.dictionaries(st.sampled_from(levels), st.integers(-30, 30)))}
    engagement = {}
    for column in draw(st.lists(st.sampled_from(BEHAVIOUR_COLUMNS[:4]), max_size=3, unique=True)):
        edges = sorted(draw(st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=4, unique=True)))
        points = draw(st.lists(st.integers(-20, 40), min_size=len(edges) + 1, max_size=len(edges) + 1))
        engagement[column] = Bins(edges=tuple(edges), points=tuple(points))
    lo = draw(st.floats(-100, 0))
    rules = ScoringRules(fit=fit, engagement=engagement, score_min=lo, score_max=lo + draw(st.floats(1, 300)))
    leads = pd.DataFrame({"job_level": draw(st.lists(st.sampled_from([*levels, None]), min_size=n, max_size=n))})
    for column in BEHAVIOUR_COLUMNS[:4]:
        leads[column] = draw(st.lists(st.one_of(st.integers(0, 60), st.none()), min_size=n, max_size=n))
        leads[column] = leads[column].astype(float)
    return rules, leads


threshold = st.floats(-200, 400, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(rules_and_leads(), threshold, threshold)
def test_a_higher_threshold_never_gives_more_mqls(data, a, b):
    rules, leads = data
    low, high = sorted((a, b))
    at_low = rules.replace_threshold(low).is_mql(leads)
    at_high = rules.replace_threshold(high).is_mql(leads)
    assert not (at_high & ~at_low).any()
    score = rules.score(leads)
    assert np.all((score >= rules.score_min) & (score <= rules.score_max))
    np.testing.assert_array_equal(at_high, score >= high)


@settings(max_examples=100, deadline=None)
@given(
    rules_and_leads(), st.lists(threshold, min_size=3, max_size=3), st.lists(st.floats(0, 100), min_size=3, max_size=3)
)
def test_higher_grade_thresholds_never_give_more_mqls(data, needs, raises):
    rules, leads = data
    grades = Grades(fit_edges=(-5.0, 10.0), engagement_thresholds=tuple(needs))
    stricter = Grades(
        fit_edges=(-5.0, 10.0), engagement_thresholds=tuple(n + r for n, r in zip(needs, raises, strict=True))
    )
    loose = ScoringRules(fit=rules.fit, engagement=rules.engagement, grades=grades).is_mql(leads)
    strict = ScoringRules(fit=rules.fit, engagement=rules.engagement, grades=stricter).is_mql(leads)
    assert not (strict & ~loose).any()


@settings(max_examples=100, deadline=None)
@given(rules_and_leads(), st.sampled_from(BEHAVIOUR_COLUMNS[:4]), st.integers(1, 30))
def test_more_events_never_lower_a_score_with_sorted_points(data, column, more):
    rules, leads = data
    engagement = {c: Bins(edges=b.edges, points=tuple(sorted(b.points))) for c, b in rules.engagement.items()}
    monotone = ScoringRules(fit=rules.fit, engagement=engagement, score_min=rules.score_min, score_max=rules.score_max)
    busier = leads.copy()
    busier[column] = busier[column].fillna(0) + more
    before = monotone.score(leads.assign(**{column: leads[column].fillna(0)}))
    assert np.all(monotone.score(busier) >= before)


# --- several tables: a seeded sample of odd deals and activities exports (issue 14) ----------
def _odd_table(rng: np.random.Generator, n_leads: int, kind: str) -> pd.DataFrame:
    """A deals or activities table with odd keys (several in a cell, unknown, blank, floats)
    and odd values (bad dates, text amounts, blanks)."""
    n = int(rng.integers(1, 30))
    keys = []
    for _ in range(n):
        r = rng.random()
        ids = rng.integers(0, n_leads + 3, size=int(rng.integers(1, 3)))
        keys.append(
            ""
            if r < 0.1
            else f"{float(ids[0])}"
            if r < 0.2
            else ";".join(str(i) for i in ids)
            if r < 0.4
            else str(ids[0])
        )
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(-30, 200, n), unit="D")
    dates = [
        d.strftime("%Y-%m-%d %H:%M") if rng.random() > 0.1 else rng.choice(["", "soon", "2025-02-30"]) for d in day
    ]
    if kind == "deals":
        return pd.DataFrame(
            {
                "lead_id": keys,
                "opportunity_at": dates,
                "closed_at": [d if rng.random() > 0.5 else "" for d in dates],
                "won": rng.choice(["true", "false", "", "maybe"], n),
                "amount": rng.choice(["100", "1,200", "", "lots", "-5"], n),
                "deal_stage": rng.choice(["closedwon", "Closed Lost", "proposal", ""], n),
            }
        )
    return pd.DataFrame({"lead_id": keys, "first_touch_at": dates, "rep_id": rng.choice(["a", "b", ""], n)})


def test_odd_deals_and_activities_tables_are_joined_or_answered_with_history_errors():
    rng = np.random.default_rng(14)
    leads = pd.DataFrame(
        {
            "lead_id": np.arange(20),
            "created_at": (pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(20), unit="D")).astype(str),
            "source": "web",
            "lead_type": "new_business",
        }
    )
    for _ in range(60):
        deals, activities = _odd_table(rng, 20, "deals"), _odd_table(rng, 20, "activities")
        try:
            h = load_history(leads, deals=deals, activities=activities, max_reject_share=float(rng.random()))
        except HistoryError as exc:
            assert str(exc).startswith(("deals DataFrame", "activities DataFrame", "DataFrame")), exc
            continue
        for table, frame in (("deals", deals), ("activities", activities)):
            used = int(h.tables.set_index("table").loc[table, "used"])
            left_out = h.rejects.loc[h.rejects["table"] == table, "row"].nunique()
            assert used + left_out == len(frame)  # every row used or reported, none twice
        assert len(h.leads) + h.lead_rejects["row"].nunique() == len(leads)
