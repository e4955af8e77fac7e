"""Large files are read one profile chunk at a time; the result must be the same as reading
the whole file, value for value and position for position."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connprof._errors import ProfileValidationError
from connprof._yaml import _chunks, _file, read_profile_file

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*(ROOT / "tests" / "data" / "bad").glob("*.yaml"), *(ROOT / "sample_profiles").rglob("*.yaml")]
)


def snapshot(path: Path) -> object:
    """Everything a caller can see of a loaded file, errors as their text."""
    try:
        f = read_profile_file(str(path))
    except ProfileValidationError as exc:
        return ("file error", str(exc))
    seen: dict[str, object] = {}
    for name in f.names():
        try:
            frag = f.fragment(name)
            seen[name] = (frag.data, frag.origins)
        except ProfileValidationError as exc:
            seen[name] = ("error", str(exc))
    defaults = (f.defaults.data, f.defaults.origins) if f.defaults else None
    return (sorted(f.names()), f.version, f.default, f.default_origin, defaults, seen)


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    monkeypatch.setattr(_file, "CHUNK_THRESHOLD", 10**12)
    whole = snapshot(path)
    monkeypatch.setattr(_file, "CHUNK_THRESHOLD", 0)
    chunked = snapshot(path)
    used = _chunks.index_chunks(path.read_text(encoding="utf-8", errors="replace")) is not None
    return whole, chunked, used


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_chunked_reading_equals_whole_reading(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, chunked, _ = both_ways(path, monkeypatch)
    if chunked != whole and isinstance(whole, tuple) and whole[0] == "file error":
        # Chunked, broken YAML inside one profile is found when that profile is read:
        # the same message at the same place, a moment later.
        assert isinstance(chunked, tuple)
        assert ("error", whole[1]) in chunked[-1].values()  # type: ignore[attr-defined]
        return
    assert chunked == whole


BIG = """\
# a comment before everything
version: 1
default: p2
defaults:
  tls: {min_version: "1.2"}
profiles:
  # a comment at the profiles' indentation
  p1:
    driver: pymongo
    hosts: [a, "b:27018"]
    description: |
      a block scalar
      on two lines
    tls:
      ca: certs/ca.pem

  p2: {driver: crate, hosts: ["https://h:4200"]}
  p3:
    driver: hazelcast
    hosts:
      - hz1
      - hz2:5702
    options:
      cluster_name: x
  p1:
    driver: crate
"""


def test_a_block_style_file_is_chunked_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(BIG, encoding="utf-8")
    whole, chunked, used = both_ways(path, monkeypatch)
    assert used, "this layout is meant to take the chunked path"
    assert chunked == whole
    # and the duplicate p1 is still reported with both lines
    assert chunked[-1]["p1"][0] == "error"  # type: ignore[index]
    assert "first at line 8" in chunked[-1]["p1"][1]  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        BIG.replace("x\n", "&anchor x\n"),  # anchors tie parts of the file together
        BIG.replace(
            "  p1:\n    driver: pymongo", "  p1: {driver: pymongo,\n  a: 1}\n  p9:\n    x: 1"
        ),
        "---\n" + BIG,
        BIG.replace("    driver: hazelcast", "\tdriver: hazelcast"),
        BIG.replace("profiles:", "profiles: # note\n  <<: {}\n"),
    ],
    ids=["anchor", "flow-across-lines", "document-marker", "tab", "merge-key"],
)
def test_risky_layouts_fall_back_to_the_whole_file(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "risky.yaml"
    path.write_text(text, encoding="utf-8")
    whole, chunked, used = both_ways(path, monkeypatch)
    assert not used
    assert chunked == whole


# -- property: any block-style file reads the same chunked and whole ---------------------------


_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}", fullmatch=True)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from(":#-[]{}'\"\n "),
    max_size=30,
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=8,
)
_profiles = st.dictionaries(_names, st.dictionaries(_names, _values, max_size=5), max_size=6)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    profiles=_profiles,
    defaults=st.none() | st.dictionaries(_names, _values, max_size=3),
    profiles_first=st.booleans(),
    width=st.sampled_from([20, 80, 1000]),
    flow=st.sampled_from([False, None]),
)
def test_any_dumped_file_reads_the_same_chunked_and_whole(
    profiles: dict[str, object],
    defaults: object,
    profiles_first: bool,
    width: int,
    flow: bool | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc: dict[str, object] = {"profiles": profiles}
    if defaults is not None:
        doc["defaults"] = defaults
    doc["version"] = 1
    if not profiles_first:
        doc = dict(reversed(list(doc.items())))
    text = yaml.safe_dump(doc, sort_keys=False, width=width, default_flow_style=flow)
    path = tmp_path / "gen.yaml"
    path.write_text(text, encoding="utf-8")
    whole, chunked, used = both_ways(path, monkeypatch)
    event("chunked" if used else "read whole")
    assert chunked == whole
