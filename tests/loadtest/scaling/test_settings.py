"""The bench's knobs: defaults, QUICK, and refusals that name the knob."""

from __future__ import annotations

import pytest

from loadtest.scaling.settings import Settings, SettingsError


def test_defaults_and_quick() -> None:
    full = Settings.from_env({})
    assert (full.target, full.unit, full.points, full.workloads) == ("stack", 0.25, 4, ("front", "mix"))
    quick = Settings.from_env({"QUICK": "1", "TARGET": "lab"})
    assert (quick.target, quick.points, quick.quick) == ("lab", 2, True)


def test_user_steps_grow_with_units_and_respect_a_floor() -> None:
    settings = Settings()
    assert settings.user_steps(2) == [2, 4, 8, 12, 16, 24]
    assert settings.user_steps(1, fewest=10) == [10, 12]


@pytest.mark.parametrize(
    ("env", "names"),
    [({"TARGET": "k8s"}, "TARGET"), ({"UNIT": "2"}, "UNIT"), ({"WORKLOADS": "front,soak"}, "WORKLOADS"),
     ({"POINTS": "many"}, "not a number"), ({"STEP_SECONDS": "1"}, "STEP_SECONDS")],
)  # fmt: skip
def test_bad_knobs_are_refused_by_name(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)
