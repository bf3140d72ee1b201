"""The pure time-budget arithmetic of a run (``reverie._run.budget``)."""

from __future__ import annotations

from reverie._run.budget import deadline_at, passed, request_budget, wait_fits


def test_no_deadline_never_passes_and_leaves_the_timeout() -> None:
    assert deadline_at(100.0, None) is None
    assert not passed(None, 1e12)
    assert request_budget(None, None, 5.0) is None
    assert request_budget(7.0, None, 5.0) == 7.0
    assert wait_fits(None, 0.0, 1e9)


def test_the_deadline_cuts_the_request_budget() -> None:
    ends = deadline_at(100.0, 60.0)
    assert ends == 160.0
    assert request_budget(None, ends, 130.0) == 30.0
    assert request_budget(10.0, ends, 130.0) == 10.0
    assert request_budget(50.0, ends, 130.0) == 30.0


def test_a_deadline_passes_at_its_time_and_a_wait_must_end_before_it() -> None:
    assert not passed(160.0, 159.9)
    assert passed(160.0, 160.0)
    assert wait_fits(160.0, 150.0, 9.0)
    assert not wait_fits(160.0, 150.0, 10.0)
