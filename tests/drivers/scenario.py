"""Run a driver's scenario rows (tests/drivers/scenarios/DRIVER.yaml): profile in, arguments out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from connprof import ConnprofError, Profile, UnsupportedSetting, load_profile
from connprof.drivers import describe_kwargs, emit, plain
from tests.helpers import SAMPLES, write_profiles

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SAMPLE_CERTS = SAMPLES / "certs"


def load_rows(driver: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = yaml.safe_load((SCENARIOS / f"{driver}.yaml").read_text())["rows"]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "scenario ids must be unique"
    return rows


def row_params(rows: list[dict[str, Any]], *keys: str) -> list[Any]:
    """``pytest.param`` per row that has one of ``keys`` (every row without ``keys``)."""
    return [
        pytest.param(row, id=row["id"]) for row in rows if not keys or any(k in row for k in keys)
    ]


def write_profile(row: dict[str, Any], folder: Path) -> Path:
    """The row's profile as a file in ``folder``, beside ``certs/`` (the sample certificates)."""
    certs = folder / "certs"
    if not certs.exists():
        certs.symlink_to(SAMPLE_CERTS, target_is_directory=True)
    return write_profiles(folder / "profiles.yaml", {profile_name(row): row["profile"]})


def profile_name(row: dict[str, Any]) -> str:
    return row["id"].lower()


def load_row(row: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch) -> Profile:
    for name, value in (row.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    return load_profile(profile_name(row), config=str(write_profile(row, folder)))


def expand(value: Any, folder: Path) -> Any:
    """``{dir}`` in expected values → the folder of the profile file."""
    if isinstance(value, str):
        return value.replace("{dir}", str(folder))
    if isinstance(value, dict):
        return {k: expand(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, folder) for v in value]
    return value


def check_row(
    driver: str, row: dict[str, Any], folder: Path, mp: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """Check a refusal or loading error here; for ``emits``, return (emitted, expected).

    The caller compares the pair, so pytest shows the difference.
    """
    if "load_error" in row:
        with pytest.raises(ConnprofError) as caught:
            load_row(row, folder, mp)
        assert row["load_error"] in str(caught.value), str(caught.value)
        return None, None
    profile = load_row(row, folder, mp)
    if "refuses" in row:
        with pytest.raises(UnsupportedSetting) as refused:
            emit(profile)
        got = (refused.value.driver, refused.value.setting)
        assert got == (driver, row["refuses"]["setting"]), got
        assert row["refuses"]["says"] in str(refused.value), str(refused.value)
        return None, None
    # Compared as `connprof show --format kwargs` prints them: secrets as references.
    return plain(describe_kwargs(emit(profile))), expand(row["emits"], folder)
