"""``load_profile`` and ``driver_kwargs()`` on generated profile files (dumped and mutated)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from connprof._yaml import read_profile_file
from tests.fuzz.checks import check_error, load_and_emit
from tests.fuzz.strategies import profile_files, sound_profiles

_FOLDER = Path(tempfile.mkdtemp(prefix="connprof-fuzz-"))


def written(text: str) -> str:
    path = _FOLDER / "profiles.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return str(path)


@given(profile_files(), st.sampled_from(["p0", "p1", "p2", None]))
def test_load_profile(text: str, name: str | None) -> None:
    load_and_emit(written(text), name)  # type: ignore[arg-type]


@given(profile_files(), st.booleans())
def test_both_readings(text: str, positions: bool) -> None:
    path = written(text)
    try:
        f = read_profile_file(path, positions=positions)
        for n in f.names():
            f.fragment(n)
    except Exception as exc:
        check_error(exc)


@given(sound_profiles())
def test_no_weakening_without_allow_insecure(profile: dict[str, object]) -> None:
    # Profiles that mostly load, so that the arguments are judged (the verify mode, hostname
    # check and minimum version of the resulting context; flags such as tlsInsecure).
    text = yaml.safe_dump({"profiles": {"p0": profile}}, sort_keys=False)
    load_and_emit(written(text), "p0")
