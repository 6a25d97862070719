"""The two queue paths agree (issue 15, item 6): the one-pass FIFO recursion and the
event-driven simulation give the same touches, reps, breaches and busy minutes on random
inputs, deadlines before handoffs, ties and reps who never work included."""

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.queue import serve_queue


@st.composite
def calendars(draw) -> np.ndarray:
    """Sorted, disjoint working intervals on a coarse grid (ties with handoffs are common); may be empty."""
    cuts = sorted(set(draw(st.lists(st.integers(0, 40), max_size=8))))
    cuts = cuts[: len(cuts) // 2 * 2]
    return np.array(cuts, dtype=float).reshape(-1, 2) * 5.0


@st.composite
def queues(draw) -> dict:
    reps = draw(st.integers(1, 3))
    n = draw(st.integers(0, 12))
    handoff = np.array(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)), dtype=float) * 5.0
    work = np.array(draw(st.lists(st.integers(1, 8), min_size=n, max_size=n)), dtype=float) * 5.0
    offsets = draw(st.lists(st.one_of(st.integers(-20, 40), st.none()), min_size=n, max_size=n))
    deadline = np.array([np.inf if o is None else h + 5.0 * o for h, o in zip(handoff, offsets)], dtype=float)
    return {
        "handoff_at": handoff,
        "work_minutes": work,
        "rep_intervals": [draw(calendars()) for _ in range(reps)],
        "routing": draw(st.sampled_from(["round_robin", "pooled"])),
        "deadline_at": deadline if draw(st.booleans()) else None,
    }


@settings(max_examples=300, deadline=None)
@given(queues())
def test_the_fast_and_the_event_driven_path_agree(case):
    fast = serve_queue(**case)
    with mock.patch("simulate.queue._fast_path_applies", return_value=False):
        general = serve_queue(**case)
    np.testing.assert_array_equal(fast.first_touch_at, general.first_touch_at)
    np.testing.assert_array_equal(fast.rep, general.rep)
    np.testing.assert_array_equal(fast.breached, general.breached)
    np.testing.assert_allclose(fast.busy_minutes, general.busy_minutes, rtol=0, atol=1e-9)
    if case["deadline_at"] is not None:
        late = case["deadline_at"] < case["handoff_at"]
        assert fast.breached[late].all()  # due before it arrived: breached on arrival
        touched = np.isfinite(fast.first_touch_at)
        expected = ~touched | (fast.first_touch_at > case["deadline_at"])
        np.testing.assert_array_equal(fast.breached, expected)  # the definition, independently


def test_a_deadline_before_the_handoff_is_a_breach_on_both_paths():
    """The case issue 15 found: breached on one path and not on the other."""
    iv = [np.array([[0.0, 1000.0]])]
    kwargs = dict(rep_intervals=iv, deadline_at=[50.0, 300.0])
    fast = serve_queue([100.0, 200.0], [10.0, 10.0], **kwargs)
    escalating = serve_queue([100.0, 200.0], [10.0, 10.0], breach="escalate", **kwargs)
    assert fast.breached.tolist() == escalating.breached.tolist() == [True, False]
    recycled = serve_queue([100.0, 200.0], [10.0, 10.0], breach="recycle", **{**kwargs, "deadline_at": [50.0, 300.0]})
    # started at its handoff instant (starts come before deadlines), so not recycled; still breached
    assert recycled.breached.tolist() == [True, False] and recycled.recycled.tolist() == [False, False]
