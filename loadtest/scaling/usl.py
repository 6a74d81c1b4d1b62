"""The Universal Scalability Law (Gunther), fitted to a line's measured points.

    X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))

sigma (contention): the share of work that queues for one shared thing; it caps throughput at
lambda / sigma. kappa (coherency): a cost paid per pair of workers keeping each other in step; with it,
throughput peaks at N* = sqrt((1 - sigma) / kappa) and falls after. lambda is X(1), the measured one-unit
throughput; sigma and kappa come from a least-squares fit of the linear form
N / C(N) - 1 = sigma (N - 1) + kappa N (N - 1), with C(N) = X(N) / X(1), both held >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fit:
    lam: float
    sigma: float
    kappa: float
    rms_error: float  # relative, over the measured points
    points: int

    def throughput(self, n: float) -> float:
        return self.lam * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    @property
    def peak_n(self) -> float:
        """Where throughput peaks (inf when kappa is 0: it only levels off, at lambda / sigma)."""
        return math.sqrt((1 - self.sigma) / self.kappa) if self.kappa > 0 and self.sigma < 1 else math.inf

    @property
    def last_useful_n(self) -> int | None:
        """The unit count after which one more lowers throughput (None without a peak)."""
        if math.isinf(self.peak_n):
            return None
        below = max(1, math.floor(self.peak_n))
        return below if self.throughput(below) >= self.throughput(below + 1) else below + 1

    @property
    def peak_throughput(self) -> float:
        if math.isinf(self.peak_n):
            return self.lam / self.sigma if self.sigma > 0 else math.inf
        return self.throughput(self.last_useful_n or self.peak_n)


def _solve(columns: list[np.ndarray], y: np.ndarray) -> list[float]:
    if not columns:
        return []
    coefficients, *_ = np.linalg.lstsq(np.column_stack(columns), y, rcond=None)
    return [float(c) for c in coefficients]


def fit(units: list[int], throughput: list[float]) -> Fit | None:
    """None without a one-unit point and two more (two parameters need three points)."""
    measured = dict(zip(units, throughput, strict=True))
    if 1 not in measured or len(measured) < 3 or measured[1] <= 0:
        return None
    lam = measured[1]
    n = np.array([u for u in sorted(measured) if u > 1], dtype=float)
    y = n / (np.array([measured[int(u)] for u in n]) / lam) - 1
    contention, coherency = n - 1, n * (n - 1)
    sigma, kappa = _solve([contention, coherency], y)
    if sigma < 0 or kappa < 0:
        # Hold the negative one at 0 and refit the other; superlinear points give sigma = kappa = 0.
        candidates = []
        for keep_sigma in (True, False):
            column = contention if keep_sigma else coherency
            (value,) = _solve([column], y)
            value = max(0.0, value)
            residual = float(np.sum((y - value * column) ** 2))
            candidates.append((residual, (value, 0.0) if keep_sigma else (0.0, value)))
        sigma, kappa = min(candidates)[1]
    result = Fit(lam, sigma, kappa, 0.0, len(measured))
    errors = [(result.throughput(u) - x) / x for u, x in measured.items()]
    return Fit(lam, sigma, kappa, math.sqrt(sum(e * e for e in errors) / len(errors)), len(measured))
