"""What the load generator sends: the locustfile's users, with no pause between requests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    user_classes: tuple[str, ...]
    tags: tuple[str, ...]
    # Left out of the measured window: Locust's start and, for the mix, the writers' and API clients'
    # sign-ins (a deliberately slow password hash each, done once per user).
    warmup_seconds: float
    # Users of the smallest step: the mix needs ten for Locust to run every kind by the weights (8:1:1).
    fewest_users: int = 1


WORKLOADS = {
    "front": Workload("front", "the anonymous front page", ("Reader",), ("front",), 2),
    "mix": Workload(
        "mix",
        "readers, writers and API clients (loadtest/locustfile.py)",
        ("Reader", "Writer", "ApiClient"),
        (),
        6,
        fewest_users=10,
    ),
}
