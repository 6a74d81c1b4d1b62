"""Load shapes as data. Pick one with LOAD_SHAPE=<name>; LOAD_SHAPE_SCALE shrinks or stretches time.

Each stage is (seconds it lasts, users to reach, spawn rate). A run ends after the last stage.
"""

from __future__ import annotations

import os

from locust import LoadTestShape

Stage = tuple[float, int, float]

# Steps of 10 users every 30 s: where throughput stops growing and p95 climbs is the capacity.
STEP: list[Stage] = [(30, users, 10) for users in range(10, 110, 10)]

SHAPES: dict[str, list[Stage]] = {
    # Warm up slowly to a plateau, hold, come down: a normal day's traffic, compressed.
    "ramp": [(60, 10, 1), (60, 50, 1), (120, 50, 1), (60, 10, 1)],
    "step": STEP,
    # Quiet, then ten times the users within seconds (a link on a popular site), then quiet again.
    "spike": [(60, 10, 5), (30, 100, 100), (60, 10, 100)],
    # A long, flat, moderate load: finds leaks and slow drifts, not limits.
    "soak": [(1800, 30, 5)],
}


class StagedShape(LoadTestShape):
    """Runs the stages of SHAPES[LOAD_SHAPE], each lasting its seconds times LOAD_SHAPE_SCALE."""

    def __init__(self) -> None:
        super().__init__()
        name = os.environ.get("LOAD_SHAPE", "")
        if name not in SHAPES:
            raise ValueError(f"LOAD_SHAPE must be one of {', '.join(SHAPES)}, not {name!r}")
        scale = float(os.environ.get("LOAD_SHAPE_SCALE", "1"))
        self.stages = [(seconds * scale, users, rate) for seconds, users, rate in SHAPES[name]]

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        end = 0.0
        for seconds, users, rate in self.stages:
            end += seconds
            if elapsed < end:
                return users, rate
        return None
