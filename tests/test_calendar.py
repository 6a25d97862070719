"""Tests for simulate.calendar."""

import datetime

import numpy as np
import pytest

from simulate.calendar import (
    ALWAYS_OPEN,
    WorkingCalendar,
    add_working_minutes,
    from_working_time,
    merge_intervals,
    remove_blocks,
    shrink,
    split_by_day,
    to_working_time,
    working_minutes_between,
)

DAY = 1440.0


def utc_minutes(start, day, hour_utc):
    """Minutes since ``start`` 00:00 UTC of ``day`` at ``hour_utc`` (by hand, no zoneinfo)."""
    return (day - start).days * DAY + hour_utc * 60.0


# --------------------------------------------------------------------------------------
# Time zones and daylight saving: expected UTC hours written out from the published rules
# (US: second Sunday of March to first Sunday of November; EU: last Sunday of March to
# last Sunday of October).
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "monday", "before_utc", "after_utc"),
    [
        # DST starts Sunday 2026-03-08: 9:00 EST = 14:00 UTC, then 9:00 EDT = 13:00 UTC.
        ("America/New_York", datetime.date(2026, 3, 2), 14, 13),
        # DST ends Sunday 2026-11-01: 9:00 EDT = 13:00 UTC, then 9:00 EST = 14:00 UTC.
        ("America/New_York", datetime.date(2026, 10, 26), 13, 14),
        # DST starts Sunday 2026-03-29: 9:00 CET = 8:00 UTC, then 9:00 CEST = 7:00 UTC.
        ("Europe/Berlin", datetime.date(2026, 3, 23), 8, 7),
        # DST ends Sunday 2026-10-25: 9:00 CEST = 7:00 UTC, then 9:00 CET = 8:00 UTC.
        ("Europe/Berlin", datetime.date(2026, 10, 19), 7, 8),
    ],
)
def test_dst_weeks_open_at_the_right_utc_minute(zone, monday, before_utc, after_utc):
    start = monday - datetime.timedelta(days=3)
    iv = WorkingCalendar(timezone=zone).intervals(start, 14)
    expected = []
    for week, hour in ((0, before_utc), (1, after_utc)):
        for d in range(5):
            day = monday + datetime.timedelta(days=7 * week + d)
            expected.append([utc_minutes(start, day, hour), utc_minutes(start, day, hour + 8)])
    # The calendar also covers the Friday before (local day start - 1 onwards is included).
    friday = monday - datetime.timedelta(days=3)
    first = [utc_minutes(start, friday, before_utc), utc_minutes(start, friday, before_utc + 8)]
    np.testing.assert_array_equal(iv[:11], np.array([first] + expected))


def test_an_all_day_calendar_across_dst_is_one_interval_of_the_right_length():
    cal = WorkingCalendar(timezone="America/New_York", weekdays=tuple(range(7)), start_hour=0, end_hour=24)
    start = datetime.date(2026, 3, 7)
    iv = cal.intervals(start, 2)
    # Local days 6 to 9 March; the last ends at 10 March 00:00 EDT = 04:00 UTC.
    np.testing.assert_array_equal(iv, [[0.0, 2 * DAY + DAY + 240.0]])


def test_always_open_is_one_interval():
    iv = ALWAYS_OPEN.intervals(datetime.date(2026, 1, 1), 10)
    np.testing.assert_array_equal(iv, [[0.0, 11 * DAY]])


def test_adjacent_days_merge_and_weekends_split():
    cal = WorkingCalendar(timezone="UTC", weekdays=(0, 1, 2, 3, 4), start_hour=0, end_hour=24)
    iv = cal.intervals(datetime.date(2026, 1, 5), 13)  # Monday 5 January, two weeks
    np.testing.assert_array_equal(iv, [[0.0, 5 * DAY], [7 * DAY, 12 * DAY]])


def test_holidays_are_removed():
    start = datetime.date(2026, 12, 21)  # a Monday; 25 December 2026 is a Friday
    plain = WorkingCalendar(timezone="Europe/Berlin").intervals(start, 7)
    holiday = WorkingCalendar(timezone="Europe/Berlin", holidays=("2026-12-25",)).intervals(start, 7)
    christmas = [utc_minutes(start, datetime.date(2026, 12, 25), 8), 0]
    christmas[1] = christmas[0] + 480
    assert christmas in plain.tolist()
    assert christmas not in holiday.tolist()
    assert len(holiday) == len(plain) - 1


def test_friday_evening_handoff_lands_on_monday_morning():
    start = datetime.date(2026, 1, 5)  # Monday
    iv = WorkingCalendar().intervals(start, 14)
    friday_18 = utc_minutes(start, datetime.date(2026, 1, 9), 18 + 5)  # 18:00 EST
    monday_9 = utc_minutes(start, datetime.date(2026, 1, 12), 9 + 5)
    np.testing.assert_array_equal(add_working_minutes(iv, friday_18, 0.0), monday_9)
    np.testing.assert_array_equal(add_working_minutes(iv, friday_18, 90.0), monday_9 + 90)
    friday_1630 = friday_18 - 90
    np.testing.assert_array_equal(add_working_minutes(iv, friday_1630, 60.0), monday_9 + 30)
    # Friday 16:30 + 30 minutes ends exactly at the close.
    np.testing.assert_array_equal(add_working_minutes(iv, friday_1630, 30.0), friday_18 - 60)


def brute_working_minutes(intervals, t0, t1):
    return sum(max(0.0, min(c, t1) - max(o, t0)) for o, c in intervals)


def test_working_minutes_between_matches_interval_overlaps():
    rng = np.random.default_rng(3)
    iv = WorkingCalendar(timezone="Asia/Kolkata").intervals(datetime.date(2026, 2, 1), 30)
    t0 = rng.uniform(-100, 32 * DAY, 300)
    t1 = t0 + rng.uniform(0, 10 * DAY, 300)
    got = working_minutes_between(iv, t0, t1)
    want = [brute_working_minutes(iv, a, b) for a, b in zip(t0, t1, strict=True)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_add_working_minutes_matches_minute_stepping():
    rng = np.random.default_rng(4)
    iv = np.array([[10, 30], [50, 55], [90, 140]], dtype=float)
    working = np.zeros(200, dtype=bool)
    for o, c in iv.astype(int):
        working[o:c] = True
    for _ in range(300):
        t0 = int(rng.integers(0, 150))
        m = int(rng.integers(0, 80))
        t, need = t0, m
        while need > 0 and t < 200:  # walk forward one working minute at a time
            need -= working[t]
            t += 1
        if m == 0:
            while t < 200 and not working[t]:
                t += 1
        want = np.inf if t >= 200 or need > 0 else float(t)
        assert add_working_minutes(iv, t0, m) == want, (t0, m)


def test_round_trip_between_calendar_and_working_time():
    rng = np.random.default_rng(5)
    iv = shrink(WorkingCalendar().intervals(datetime.date(2026, 1, 1), 90), 0.2, rng=rng)
    rows = rng.integers(0, len(iv), 500)
    t = iv[rows, 0] + rng.random(500) * (iv[rows, 1] - iv[rows, 0])  # instants at work
    np.testing.assert_allclose(from_working_time(iv, to_working_time(iv, t)), t, atol=1e-6)
    total = (iv[:, 1] - iv[:, 0]).sum()
    w = rng.uniform(0, total, 500)
    np.testing.assert_allclose(to_working_time(iv, from_working_time(iv, w)), w, atol=1e-6)
    assert from_working_time(iv, total) == np.inf
    # to_working_time counts the working minutes before t.
    np.testing.assert_allclose(to_working_time(iv, t), [brute_working_minutes(iv, -np.inf, x) for x in t], atol=1e-6)


def test_remove_blocks_matches_a_minute_mask():
    rng = np.random.default_rng(6)
    for _ in range(50):
        iv = np.sort(rng.choice(300, 10, replace=False)).reshape(-1, 2).astype(float)
        blocks = rng.integers(0, 300, (4, 2)).astype(float)
        blocks.sort(axis=1)
        mask = np.zeros(300, dtype=bool)
        for o, c in iv.astype(int):
            mask[o:c] = True
        for s, e in blocks.astype(int):
            mask[s:e] = False
        out = remove_blocks(iv, blocks)
        got = np.zeros(300, dtype=bool)
        for o, c in out.astype(int):
            got[o:c] = True
        np.testing.assert_array_equal(got, mask)
        assert np.all(out[:, 1] > out[:, 0])


def test_shrink_removes_the_share_within_sampling_error():
    iv = WorkingCalendar().intervals(datetime.date(2026, 1, 1), 5 * 365)
    length = iv[:, 1] - iv[:, 0]
    share, leave = 0.2, 0.3
    p = share * leave
    m = share * (1 - leave) / (1 - p)
    # The removed share is a sum of independent per-day terms L_i (B_i + (1 - B_i) m),
    # B_i ~ Bernoulli(p): its standard error is (1 - m) sqrt(p (1 - p) sum L_i^2) / sum L_i.
    se = (1 - m) * np.sqrt(p * (1 - p) * (length**2).sum()) / length.sum()
    for seed in range(5):
        left = shrink(iv, share, rng=seed, leave_day_share=leave)
        removed = 1 - (left[:, 1] - left[:, 0]).sum() / length.sum()
        assert abs(removed - share) < 4 * se, (seed, removed, se)
        # What is left is inside the original working time.
        assert np.allclose(working_minutes_between(iv, left[:, 0], left[:, 1]), left[:, 1] - left[:, 0])


def test_shrink_with_meetings_only_removes_exactly_the_share():
    iv = WorkingCalendar().intervals(datetime.date(2026, 1, 1), 60)
    left = shrink(iv, 0.15, rng=1, leave_day_share=0.0)
    removed = 1 - (left[:, 1] - left[:, 0]).sum() / (iv[:, 1] - iv[:, 0]).sum()
    assert removed == pytest.approx(0.15, abs=1e-12)


def test_shrink_is_reproducible_from_a_seed():
    iv = WorkingCalendar().intervals(datetime.date(2026, 1, 1), 60)
    np.testing.assert_array_equal(shrink(iv, 0.2, rng=9), shrink(iv, 0.2, rng=9))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(start_hour=25), r"WorkingCalendar.start_hour must be in \[0, 24\), got 25"),
        (dict(start_hour=9, end_hour=8), r"WorkingCalendar.end_hour must be in \(start_hour"),
        (dict(end_hour=24.5), r"WorkingCalendar.end_hour"),
        (dict(timezone="Mars/Olympus"), r"WorkingCalendar.timezone must be an IANA"),
        (dict(weekdays=(0, 7)), r"WorkingCalendar.weekdays must be integers in \[0, 6\]"),
        (dict(weekdays=()), r"WorkingCalendar.weekdays must name at least one"),
        (dict(weekdays=(1, 1)), r"WorkingCalendar.weekdays has duplicates"),
        (dict(holidays=("2026-13-01",)), r"WorkingCalendar.holidays must be ISO dates"),
    ],
)
def test_calendar_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WorkingCalendar(**kwargs)


def test_helper_validation():
    iv = np.array([[0.0, 10.0], [20.0, 30.0]])
    with pytest.raises(ValueError, match="intervals must be sorted and disjoint"):
        to_working_time(iv[::-1], 5.0)
    with pytest.raises(ValueError, match=r"intervals must be a \(k, 2\) array"):
        to_working_time(np.zeros(3), 5.0)
    with pytest.raises(ValueError, match="minutes must be >= 0"):
        add_working_minutes(iv, 0.0, -1.0)
    with pytest.raises(ValueError, match=r"share must be in \[0, 1\)"):
        shrink(iv, 1.0)
    with pytest.raises(ValueError, match="days must be an integer >= 0"):
        WorkingCalendar().intervals(datetime.date(2026, 1, 1), -1)
    with pytest.raises(ValueError, match="start must be a datetime.date"):
        WorkingCalendar().intervals("2026-01-01", 1)


def test_merge_intervals_covers_the_same_minutes_as_the_union():
    """Against a minute grid: the merged intervals are sorted, disjoint, not touching, and
    cover exactly the minutes some interval covers (empty ones add nothing)."""
    rng = np.random.default_rng(8)
    for _ in range(50):
        lo = rng.integers(0, 200, int(rng.integers(0, 12))).astype(float)
        iv = np.column_stack([lo, lo + rng.integers(0, 30, lo.size)])
        merged = merge_intervals(iv)
        grid = np.arange(0, 240) + 0.5
        covered = np.zeros(grid.size, dtype=bool)
        for o, c in iv:
            covered |= (grid >= o) & (grid < c)
        got = np.zeros(grid.size, dtype=bool)
        for o, c in merged:
            got |= (grid >= o) & (grid < c)
        np.testing.assert_array_equal(got, covered)
        assert np.all(merged[:, 1] > merged[:, 0]) and np.all(merged[1:, 0] > merged[:-1, 1])
    with pytest.raises(ValueError, match=r"intervals must be a \(k, 2\) array"):
        merge_intervals(np.zeros(3))


def test_split_by_day_cuts_long_intervals_into_days_from_their_opening():
    iv = ALWAYS_OPEN.intervals(datetime.date(2026, 1, 1), 3)  # one interval of four days
    days = split_by_day(np.vstack([[[-100.0, -50.0]], iv]))
    np.testing.assert_array_equal(days, [[-100.0, -50.0]] + [[d * DAY, (d + 1) * DAY] for d in range(4)])
    np.testing.assert_array_equal(split_by_day([[0.0, DAY + 1.0]]), [[0.0, DAY], [DAY, DAY + 1.0]])
