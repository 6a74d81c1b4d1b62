"""The USL fit recovers known parameters and says where adding units stops paying."""

from __future__ import annotations

import math

import pytest

from loadtest.scaling import usl


def _curve(lam: float, sigma: float, kappa: float, units: list[int]) -> list[float]:
    return [lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in units]


def test_it_recovers_the_parameters_of_an_exact_curve() -> None:
    units = [1, 2, 3, 4, 6]
    fit = usl.fit(units, _curve(50, 0.05, 0.02, units))
    assert fit is not None
    assert fit.sigma == pytest.approx(0.05, abs=1e-6)
    assert fit.kappa == pytest.approx(0.02, abs=1e-6)
    assert fit.rms_error == pytest.approx(0, abs=1e-9)
    assert fit.peak_n == pytest.approx(math.sqrt(0.95 / 0.02))
    # X(6) < X(7) > X(8) on this curve: the eighth unit is the first that lowers throughput.
    assert fit.last_useful_n == 7
    assert fit.peak_throughput == pytest.approx(_curve(50, 0.05, 0.02, [7])[0])


def test_linear_points_give_no_peak() -> None:
    fit = usl.fit([1, 2, 3, 4], [50, 100, 150, 200])
    assert fit is not None
    assert (fit.sigma, fit.kappa) == (0, 0)
    assert math.isinf(fit.peak_n)
    assert fit.last_useful_n is None


def test_superlinear_points_are_held_at_zero_not_fitted_negative() -> None:
    fit = usl.fit([1, 2, 3, 4], [50, 110, 170, 230])
    assert fit is not None
    assert fit.sigma >= 0
    assert fit.kappa >= 0
    assert fit.rms_error > 0.05  # and the error says the model does not describe them


def test_contention_alone_levels_off_at_lambda_over_sigma() -> None:
    units = [1, 2, 4, 8]
    fit = usl.fit(units, _curve(40, 0.2, 0, units))
    assert fit is not None
    assert fit.kappa == pytest.approx(0, abs=1e-9)
    assert fit.peak_throughput == pytest.approx(40 / 0.2)


def test_too_few_points_give_no_fit() -> None:
    assert usl.fit([1, 2], [50, 90]) is None
    assert usl.fit([2, 3, 4], [90, 120, 150]) is None  # no one-unit point: no lambda
