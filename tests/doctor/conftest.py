"""Shared by the doctor tests: write a profile for a driver and run ``connprof.doctor`` on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connprof
import connprof._doctor
from tests.helpers import doctor_endpoint, write_profiles

Doctor = Callable[..., Any]


@pytest.fixture
def run_doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doctor:
    """``run_doctor(driver, port, tls, **fields)``: the ``Report`` for that one profile.

    ``port=None`` writes the profile with ``fields`` alone (they give the endpoints). Without
    ``login=True`` the login step is left out: most servers here speak TLS, not the driver's
    protocol (test_login.py runs it against servers that do).
    """
    monkeypatch.setenv("EXASOL_TELEMETRY_DISABLE", "1")

    def run(
        driver: str,
        port: int | None,
        tls: Any,
        *,
        offline: bool = False,
        timeout: float = 2.0,
        login: bool = False,
        **fields: Any,
    ) -> Any:
        if not login:
            monkeypatch.setattr(connprof._doctor, "login", lambda *args: None)
        doc: dict[str, Any] = {"driver": driver, "tls": tls}
        if port is not None:
            doc.update(doctor_endpoint(driver, port))
        doc.update(fields)
        path = write_profiles(tmp_path / "profiles.yaml", {"p": doc})
        return connprof.doctor("p", config=str(path), timeout=timeout, offline=offline)

    return run


def problems(report: Any) -> list[str]:
    return [c.problem for c in report.checks if not c.ok]
