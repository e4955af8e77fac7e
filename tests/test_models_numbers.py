"""A number field never takes true/false: lax pydantic read ``port: true`` as port 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from connprof import Profile, ProfileValidationError, load_profile
from tests.helpers import write_file


@pytest.mark.parametrize("value", ["true", "false", "yes", "on"])
def test_a_boolean_port_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    path = write_file(
        tmp_path / "p.yaml",
        f"profiles:\n  p:\n    driver: cassandra\n    hosts: [10.0.0.1]\n    port: {value}\n",
    )
    with pytest.raises(ProfileValidationError) as refused:
        load_profile("p", config=str(path))
    assert str(refused.value).startswith(f"{path}:5:11: profile 'p': port: ")
    assert "not true or false" in str(refused.value)


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_port_is_refused_by_the_model_too(value: bool) -> None:
    with pytest.raises(ValidationError, match="not true or false"):
        Profile.model_validate({"name": "p", "driver": "cassandra", "hosts": ["h"], "port": value})


def test_numbers_still_work(tmp_path: Path) -> None:
    path = write_file(
        tmp_path / "p.yaml",
        'profiles:\n  p:\n    driver: cassandra\n    hosts: [10.0.0.1]\n    port: "9142"\n',
    )
    assert load_profile("p", config=str(path)).port == 9142
