"""Load shapes as data. Pick one with LOAD_SHAPE=<name>; LOAD_SHAPE_SCALE shrinks or stretches time.

Each stage is (seconds it lasts, users to reach, spawn rate). A run ends after the last stage.
Plain data, no Locust import: locustfile.py turns the chosen shape into a LoadTestShape.
"""

from __future__ import annotations

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
