"""What a kill did, read from a step's per-second log."""

from __future__ import annotations

from loadtest.scaling.failure import Failure, analyse


def _analyse(ok: list[int], failed: list[int] | None = None, kill_at: float = 5) -> Failure:
    failed = failed or [0] * len(ok)
    timeline = [(s, ok[s], failed[s]) for s in range(len(ok))]
    return analyse(Failure("front", "horizontal", 2, 2, 4), timeline, steady_from=2, kill_at=kill_at)


def test_half_the_servers_lost_until_they_are_back() -> None:
    #      warm-up | before the kill | kill | half served ... | back at 10
    ok = [0, 100, 100, 100, 100, 80, 50, 50, 50, 50, 100, 100, 100, 100]
    failure = _analyse(ok)
    assert failure.before_rps == 100
    assert failure.recovery_s == 5  # from the kill (second 5) to the first of three good seconds (10)
    assert failure.kept == 0.5


def test_a_total_outage_counts_its_errors_and_may_not_recover_in_the_step() -> None:
    ok = [0, 100, 100, 100, 100, 30, 0, 0, 0, 0]
    failed = [0, 0, 0, 0, 0, 50, 400, 400, 400, 400]
    failure = _analyse(ok, failed)
    assert failure.recovery_s is None
    assert failure.kept == 0
    assert failure.errors == 1650
    assert failure.requests == 1680


def test_a_kill_the_others_absorb_at_once_keeps_everything() -> None:
    failure = _analyse([0, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    assert failure.recovery_s == 1
    assert failure.kept == 1
