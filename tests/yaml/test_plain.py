"""connprof._yaml without positions: the positioned reading's data, faster, or that reading itself.

``read_profile_file(path, positions=False)`` may give a file's data with stubbed origins, but
never data that ``read_profile_file(path)`` would not give: where the plain reading could read
otherwise (duplicate keys, anchors, tags, nesting beyond the limits, ...), it gives the
positioned reading instead, errors and all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connprof._errors import ProfileValidationError
from connprof._yaml import MAX_DEPTH, Origin, read_profile_file
from connprof._yaml._plain import PlainLoader, Unsure, parse_plain

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*(ROOT / "tests" / "data" / "bad").glob("*.yaml"), *(ROOT / "sample_profiles").rglob("*.yaml")]
)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "profiles.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def seen(path: str, *, positions: bool) -> object:
    """Everything but the origins a caller can see of a read file, errors as their text."""
    try:
        f = read_profile_file(path, positions=positions)
    except ProfileValidationError as exc:
        return ("file error", str(exc))
    profiles: dict[str, object] = {}
    for name in f.names():
        try:
            profiles[name] = f.fragment(name).data
        except ProfileValidationError as exc:
            profiles[name] = ("error", str(exc))
    defaults = f.defaults.data if f.defaults else None
    return (f.names(), f.version, f.default, defaults, profiles)


def plainly(path: str) -> bool:
    """Whether the plain reading was given (rather than the positioned one)."""
    try:
        return not read_profile_file(path, positions=False).positioned
    except ProfileValidationError:
        return False  # what the file says is wrong: the positioned reading said it


# -- one function, two readings, the same data ------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_readings_give_the_same_data(path: Path) -> None:
    assert seen(str(path), positions=False) == seen(str(path), positions=True)


def test_the_samples_are_read_plainly_with_every_origin_the_stub() -> None:
    path = str(ROOT / "sample_profiles" / "connprof.yaml")
    f = read_profile_file(path, positions=False)
    assert not f.positioned
    assert read_profile_file(path).positioned
    stub = Origin(path, 1, 1, 1, 1)
    assert f.default is not None and f.default_origin == stub
    origins = [o for name in f.names() for o in f.fragment(name).origins.values()]
    assert origins and set(origins) == {stub}


_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}", fullmatch=True)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from(":#-[]{}'\"\n &*!"),
    max_size=30,
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    profiles=st.dictionaries(_names, st.dictionaries(_names, _values, max_size=5), max_size=6),
    defaults=st.none() | st.dictionaries(_names, _values, max_size=3),
    width=st.sampled_from([20, 80, 1000]),
    flow=st.sampled_from([False, None]),
)
def test_any_dumped_file_gives_the_same_data_both_ways(
    profiles: dict[str, object],
    defaults: object,
    width: int,
    flow: bool | None,
    tmp_path: Path,
) -> None:
    doc = {"version": 1, "defaults": defaults, "profiles": profiles}
    path = write(
        tmp_path, yaml.safe_dump(doc, sort_keys=False, width=width, default_flow_style=flow)
    )
    assert seen(path, positions=False) == seen(path, positions=True)


# -- where the plain reading could be wrong, it is not used ----------------------------------


PROFILE = "profiles:\n  p:\n    driver: pymongo\n    hosts: [db.example.com]\n"


def deep(levels: int, indent: int) -> str:
    """Mappings nested ``levels`` deep, the outermost at ``indent`` spaces."""
    keys = [f"{' ' * (indent + 2 * i)}k{i}:\n" for i in range(levels - 1)]
    return "".join(keys) + " " * (indent + 2 * (levels - 1)) + "k: end\n"


def nested(levels: int) -> str:
    """``PROFILE`` with an ``options`` value nested ``levels`` mappings deep."""
    return PROFILE + "    options:\n" + deep(levels, 6)


@pytest.mark.parametrize(
    "text",
    [
        PROFILE + "    driver: crate\n",
        PROFILE + "    auth: {user: a, user: b}\n",
        PROFILE + "  p:\n    driver: crate\n",
        "defaults: &d {port: 1}\n" + PROFILE + "  q: *d\n",
        PROFILE + "    <<: {port: 1}\n",
        PROFILE + "    port: !!binary aGk=\n",
        PROFILE + "    tls: !custom {verify: full}\n",
        PROFILE + "    tags: !!set {a, b}\n",
        PROFILE + "    port: !!python/object/apply:os.getpid []\n",
        PROFILE + "    ? [complex]\n    : key\n",
        PROFILE + "    2024-01-01: a date as a key\n",
        PROFILE.replace("    hosts", "\thosts"),
        "---\n" + PROFILE,
        "defaults:\n  options:\n" + deep(MAX_DEPTH + 2, 4) + PROFILE,
        "profile:\n  p: {}\n",
        "version: 2\n" + PROFILE,
        "version: true\n" + PROFILE,
        "default: [p]\n" + PROFILE,
        "default: 7\n" + PROFILE,
        "defaults: [x]\n" + PROFILE,
        "profiles: [p]\n",
        "- a list\n",
        "",
    ],
)
def test_what_the_plain_reading_could_misread_is_read_with_positions(
    text: str, tmp_path: Path
) -> None:
    path = write(tmp_path, text)
    assert not plainly(path)
    assert seen(path, positions=False) == seen(path, positions=True)


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH + 2),  # too deep: the positioned reading refuses it, at its place
        PROFILE + "  team/orders: {driver: crate, hosts: [h]}\n",  # not a profile name
        PROFILE + "  q: [a, list]\n",  # not a mapping
        PROFILE + "  q: just text\n",
    ],
)
def test_a_profile_the_plain_data_cannot_give_comes_from_the_positioned_reading(
    text: str, tmp_path: Path
) -> None:
    path = write(tmp_path, text)
    assert plainly(path)  # the rest of the file is still read plainly
    plain, positioned = seen(path, positions=False), seen(path, positions=True)
    assert plain == positioned
    assert "error" in str(positioned)


@pytest.mark.parametrize("levels", range(MAX_DEPTH - 3, MAX_DEPTH + 3))
def test_nesting_near_the_limit_reads_the_same_both_ways(levels: int, tmp_path: Path) -> None:
    path = write(tmp_path, nested(levels))
    assert seen(path, positions=False) == seen(path, positions=True)


def test_a_positioned_reading_at_hand_is_given_instead_of_reading_again(tmp_path: Path) -> None:
    risky = write(tmp_path, "defaults: &d {port: 1}\n" + PROFILE)
    held = read_profile_file(risky)
    assert read_profile_file(risky, positions=False, positioned=held) is held

    path = write(tmp_path, PROFILE + "  q: [a, list]\n")
    held = read_profile_file(path)
    plain = read_profile_file(path, positions=False, positioned=held)
    assert not plain.positioned
    with pytest.raises(ProfileValidationError, match="must be a mapping") as raised:
        plain.fragment("q")
    assert raised.value.line == 5  # the held reading's position

    held = read_profile_file(write(tmp_path, PROFILE))
    changed = write(tmp_path, PROFILE + "  added: {}\n")  # since `held` was read
    assert read_profile_file(changed, positions=False, positioned=held) is held


# -- the plain reader reads what PyYAML reads -----------------------------------------------------


def repo_yaml() -> list[Path]:
    return sorted(
        p for p in ROOT.rglob("*.yaml") if ".venv" not in p.parts and ".git" not in p.parts
    )


@pytest.mark.parametrize("path", repo_yaml(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plain_reader_matches_pyyaml_on_every_file_here(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    fast = parse_plain(text)
    if fast is None:
        return  # outside the subset: PyYAML reads it
    assert fast == yaml.load(text, Loader=PlainLoader)


TRICKY = [
    "a: yes\nb: No\nc: ~\nd: 0x1F\ne: 1_000\nf: .inf\ng: 2024-01-01\nh: 1.10\ni: '010'\n",
    "a: \"x # not a comment\"\nb: x # a comment\nc: x#y\nd: 'it''s'\n",
    "a: [1, two, 'three', \"4\", 1.5, null]\nb: {k: v, n: 2, q: 'x'}\nc: []\nd: {}\n",
    "a:\n  - x\n  - 1\n  - [y]\nb:\n  c:\n    d: e\n  f: g\nh:\n",
    "on: 1\n1.10: x\nnull: y\n",
    "a: b: c\n",
    "a:\n- x\n",
    "a: x\n  y\n",
    "a: x\na: y\n",
    "a: [x,\n  y]\n",
    "a: 'x\n  y'\n",
    'a: "x\\ty"\n',
    "a: |\n  text\n",
    "a: !!binary aGk=\n",
    "a: [x, [y]]\n",
    "- x\n",
    "a: -1\nb: +2\nc: -x\n",
    "a: x:y\nb: [db:27017, 'c']\n",
    "a: {k: [1]}\n",
    "a: x ,\nb: [x , y]\n",
    "a: [x,]\n",
    "2024-01-01: x\n",
    "a: 'x' y\n",
    'a: "x"# c\n',
]


@pytest.mark.parametrize("text", TRICKY)
def test_plain_reader_matches_pyyaml_or_declines(text: str) -> None:
    fast = parse_plain(text)
    try:
        expected = yaml.load(text, Loader=PlainLoader)
    except (yaml.YAMLError, Unsure):
        assert fast is None
        return
    assert fast is None or fast == expected


_TOKENS = [
    "a",
    "b c",
    "1",
    "yes",
    "~",
    "'q'",
    "'it''s'",
    '"d"',
    "[x, y]",
    "{k: v}",
    "x # c",
    "-",
    "- x",
    ":",
    "a: b",
    "#c",
    "",
    "1.2",
    "0x1F",
    "2024-01-01",
    "x:y",
    "[",
    "]",
    "'",
    '"',
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "[a, [b]]",
    "{a: 1, a: 2}",
    "x,",
    "%",
    "@",
    "?",
]


_KEYS = st.sampled_from(["a", "b", "on", "1.10", "x-y", "tls", "ca_2"])
_DOCS = st.recursive(
    st.sampled_from(_TOKENS) | st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=3),
    lambda children: st.dictionaries(_KEYS, children, min_size=1, max_size=4),
    max_leaves=12,
)


def _render(value: object, indent: int) -> str:
    """Block-style YAML whose scalars are the raw token text (valid or not)."""
    lead = " " * indent
    out = ""
    assert isinstance(value, dict)
    for key, child in value.items():
        if isinstance(child, dict):
            out += f"{lead}{key}:\n" + _render(child, indent + 2)
        elif isinstance(child, list):
            out += f"{lead}{key}:\n" + "".join(f"{lead}  - {t}\n" for t in child)
        else:
            out += f"{lead}{key}: {child}\n"
    return out


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _DOCS, min_size=1, max_size=4))
def test_plain_reader_never_reads_what_pyyaml_reads_otherwise(doc: dict[str, object]) -> None:
    text = _render(doc, 0)
    fast = parse_plain(text)
    if fast is None:
        return  # declined: PyYAML reads it instead
    assert fast == yaml.load(text, Loader=PlainLoader), text


def test_plain_reader_reads_the_common_layout() -> None:
    assert parse_plain("profiles:\n  a:\n    hosts: [h1, 'h2']\n    tls: {verify: full}\n") == {
        "profiles": {"a": {"hosts": ["h1", "h2"], "tls": {"verify": "full"}}}
    }
