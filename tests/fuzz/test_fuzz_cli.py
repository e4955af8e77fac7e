"""``connprof._cli.main(argv)`` on generated files and arguments: exit 0, 1 or 2, never 3."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.checks import check_cli
from tests.fuzz.strategies import exasol_dsns, mongodb_uris, profile_files
from tests.helpers import run_cli

_FOLDER = Path(tempfile.mkdtemp(prefix="connprof-fuzz-cli-"))
_NAMES = st.sampled_from(["p0", "p1", "zz", "", "-", "p0\n", "a\udcff"])
_COMMANDS = st.one_of(
    st.tuples(st.just("list"), st.sampled_from([[], ["--format", "json"]])),
    st.tuples(st.just("show"), st.lists(_NAMES | st.sampled_from(
        ["--explain", "--format", "json", "yaml", "--kwargs"]), max_size=3)),
    st.tuples(st.just("lint"), st.sampled_from(
        [["CFG"], ["--check-files", "CFG"], ["--format", "github", "CFG"], ["--strict", "CFG"]])),
    st.tuples(st.just("secret"), st.sampled_from(
        [["check"], ["check", "p0"], ["set", "p0", "password"], ["rm", "p1", "token"]])),
    st.tuples(st.just("parse"), st.lists(mongodb_uris() | exasol_dsns(), min_size=1, max_size=1)),
    st.tuples(st.just("schema"), st.just([])),
)  # fmt: skip


@given(profile_files(), _COMMANDS, st.booleans())
def test_main(text: str, command: tuple[str, list[str]], config_first: bool) -> None:
    cfg = _FOLDER / "connprof.yaml"
    cfg.write_text(text, encoding="utf-8", errors="surrogatepass")
    verb, rest = command
    rest = [str(cfg) if a == "CFG" else a for a in rest]
    if verb == "secret":
        argv = ["--config", str(cfg), "secret", *rest] if config_first else ["secret", *rest]
    elif verb in ("list", "show"):
        argv = ["--config", str(cfg), verb, *rest]
    else:
        argv = [verb, *rest]
    code, out, err = run_cli(*argv, stdin="typed-secret\n")
    check_cli(code, out, err)
