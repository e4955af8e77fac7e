"""Hypothesis profiles for the fuzz tests: ``ci`` (the default) is bounded and reproducible.

``ci``: a fixed example budget per test, no deadline (a slow CI machine is not a bug), the
same examples on every run (``derandomize``) and no example database, so ``bash .ci/run``
takes seconds and fails the same way twice. ``dev`` is for a longer local search:
``HYPOTHESIS_PROFILE=dev python -m pytest tests/fuzz``. For runs of hours, use the atheris
harnesses in ``fuzz/`` (see docs/security.md).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.checks import plant_env

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", max_examples=120, deadline=None, derandomize=True, database=None,
    suppress_health_check=_QUIET, print_blob=True,
)  # fmt: skip
settings.register_profile(
    "dev", max_examples=5000, deadline=None, database=None, suppress_health_check=_QUIET
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _canary(monkeypatch: pytest.MonkeyPatch) -> None:
    """The canary behind ``env:CONNPROF_FUZZ_SECRET``, and no cache: each example composes."""
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    plant_env()
