"""The bench's knobs, from the environment (`make bench-scaling TARGET=lab QUICK=1 ...`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

TARGETS = ("stack", "lab")
WORKLOADS = ("front", "mix")


class SettingsError(ValueError):
    """A knob out of range; the message names it."""


@dataclass(frozen=True)
class Settings:
    target: str = "stack"
    # One unit of CPU quota. Four of them (1 CPU) leave this 2-core machine a core for nginx,
    # PostgreSQL and Locust, which run uncapped.
    unit: float = 0.25
    points: int = 4
    slo_p95_ms: float = 500
    step_seconds: float = 15
    workers_per_unit: int = 2
    workloads: tuple[str, ...] = WORKLOADS
    # Locust processes: one carries a few hundred requests a second with FastHttpUser here.
    locust_processes: int = 1
    quick: bool = False
    seed_posts: int = 5000
    # TARGET=stack: Prometheus beside the stack (MONITORING=1), so the report shows what it saw. The lab
    # always has one, on its monitor host.
    monitoring: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        quick = env.get("QUICK", "") not in ("", "0")
        try:
            settings = cls(
                target=env.get("TARGET") or "stack",
                unit=float(env.get("UNIT") or 0.25),
                points=int(env.get("POINTS") or (2 if quick else 4)),
                slo_p95_ms=float(env.get("SLO_P95_MS") or 500),
                step_seconds=float(env.get("STEP_SECONDS") or (8 if quick else 15)),
                workers_per_unit=int(env.get("WORKERS_PER_UNIT") or 2),
                workloads=tuple((env.get("WORKLOADS") or ",".join(WORKLOADS)).split(",")),
                locust_processes=int(env.get("PROCESSES") or 1),
                quick=quick,
                seed_posts=int(env.get("SEED_POSTS") or (500 if quick else 5000)),
                monitoring=env.get("MONITORING", "") not in ("", "0"),
            )
        except ValueError as exc:
            raise SettingsError(f"a knob is not a number: {exc}") from exc
        settings.check()
        return settings

    def check(self) -> None:
        if self.target not in TARGETS:
            raise SettingsError(f"TARGET must be one of {', '.join(TARGETS)}, not {self.target!r}")
        if not 0 < self.unit <= 1 or not 1 <= self.points <= 8:
            raise SettingsError("UNIT must be in (0, 1] and POINTS in 1..8")
        if unknown := set(self.workloads) - set(WORKLOADS):
            raise SettingsError(f"WORKLOADS takes {', '.join(WORKLOADS)}, not {', '.join(sorted(unknown))}")
        if self.step_seconds < 4 or self.slo_p95_ms <= 0 or self.workers_per_unit < 1 or self.locust_processes < 1:
            raise SettingsError("STEP_SECONDS must be >= 4; SLO_P95_MS, WORKERS_PER_UNIT, PROCESSES positive")

    def user_steps(self, units: int, fewest: int = 1) -> list[int]:
        """Closed-loop users to try, at least `fewest`, fewest first; the search stops at the first step
        over the SLO."""
        factors = (1, 2) if self.quick else (1, 2, 4, 6, 8, 12)
        return sorted({max(fewest, units * factor) for factor in factors})
