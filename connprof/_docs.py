"""Write the parts of ``docs/`` that are read from the code: the lint rules, the CLI, the API list.

``python -m connprof._docs`` rewrites each generated region in place; ``--check`` only compares
and exits 1 naming the pages that drifted (``tests/test_docs.py`` runs the same comparison, as
``tests/test_schema.py`` does for the JSON Schema). A region is the text between

    <!-- BEGIN GENERATED NAME (python -m connprof._docs) -->
    <!-- END GENERATED NAME -->

so the prose around it stays hand-written. The output depends on the code only (no terminal
width, no Python-version-dependent argparse formatting), so two branches that add commands or
rules regenerate to the same text after a merge.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["REGIONS", "check", "regenerate", "render_api", "render_cli", "render_rules"]

DOCS = Path(__file__).resolve().parents[1] / "docs"
COMMAND = "python -m connprof._docs"


def render_rules() -> str:
    """The table of every lint rule, in code order, from ``connprof._lint.RULES``."""
    from ._lint import RULES  # deferred: only the lint page needs the rule table

    rows = "".join(
        f"| `{code}` | {rule.severity} | {rule.summary}"
        f"{' (with `--check-files`)' if rule.check_files else ''} | {rule.fix} |\n"
        for code, rule in RULES.items()
    )
    return "| code | severity | finds | fix |\n|---|---|---|---|\n" + rows


# -- the CLI -----------------------------------------------------------------------------------

_GLOBAL = {"--config", "-h", "--help"}


def _text(text: str) -> str:
    """Help text as Markdown: one line, with the characters Markdown would act on escaped."""
    one = " ".join(text.split())
    return one.replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|")


def _metavar(action: argparse.Action) -> str:
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper()


def _spelling(action: argparse.Action) -> str:
    """How an argument is written: ``NAME``, ``[NAME]``, ``PATH ...``, ``--format {a,b}``."""
    if not action.option_strings:
        name = _metavar(action)
        if action.nargs == "?":
            return f"[{name}]"
        if action.nargs == "*":
            return f"[{name} ...]"
        if action.nargs == "+":
            return f"{name} [{name} ...]"
        return name
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:
        return flag
    return f"{flag} {_metavar(action)}"


def _visible(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.help != argparse.SUPPRESS
        and not isinstance(a, argparse._SubParsersAction)
        and not set(a.option_strings) & _GLOBAL
    ]


def _commands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Each visible (sub)command's parser, depth first, in the order the parser declares them."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        shown = {a.dest: a.help for a in action._choices_actions}
        for name, child in action.choices.items():
            if name not in shown or shown[name] == argparse.SUPPRESS:
                continue  # a hidden command (the completion fast path), or an alias
            yield name, child


def _usage(path: str, parser: argparse.ArgumentParser) -> str:
    parts = [path]
    for action in _visible(parser):
        spelled = _spelling(action)
        if action.option_strings and not action.required:
            spelled = f"[{spelled}]"
        parts.append(spelled)
    if any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        parts.append("ACTION ...")
    return " ".join(parts)


def _command_section(path: str, help_text: str, parser: argparse.ArgumentParser) -> list[str]:
    out = [f"### `{path}`", ""]
    text = parser.description or help_text
    out += [_text(text), ""]
    subs = list(_commands(parser))
    if not subs or _visible(parser):
        out += ["```text", _usage(path, parser), "```", ""]
        actions = _visible(parser)
        if actions:
            out += ["| argument | meaning |", "|---|---|"]
            for a in actions:
                meaning = _cell(a.help or "")
                if (
                    a.option_strings
                    and a.nargs != 0
                    and a.default not in (None, [], argparse.SUPPRESS)
                ):
                    meaning = f"{meaning} (default: `{a.default}`)".strip()
                if a.required and a.option_strings:
                    meaning += " (required)"
                out.append(f"| `{_spelling(a)}` | {meaning} |")
            out.append("")
    for name, child in subs:
        child_help = _help_of(parser, name)
        out += _command_section(f"{path} {name}", child_help, child)
    return out


def _help_of(parser: argparse.ArgumentParser, name: str) -> str:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.dest == name:
                    return str(choice.help or "")
    return ""


def render_cli(parser: argparse.ArgumentParser | None = None) -> str:
    """Every command of ``connprof._cli._parser()``: a summary table, then usage and arguments."""
    if parser is None:
        from ._cli import _parser  # deferred: the parser imports every command module

        parser = _parser()
    commands = list(_commands(parser))
    out = ["| command | does |", "|---|---|"]
    for name, _child in commands:
        out.append(f"| [`connprof {name}`](#connprof-{name}) | {_cell(_help_of(parser, name))} |")
    out.append("")
    for name, child in commands:
        out += _command_section(f"connprof {name}", _help_of(parser, name), child)
    return "\n".join(out)


# -- the Python API ----------------------------------------------------------------------------


def render_api() -> str:
    """One mkdocstrings block per public name of ``connprof.__all__``: functions and classes, then
    the errors."""
    import connprof  # deferred: the public surface, with every lazy export imported

    names = [n for n in connprof.__all__ if not n.startswith("_")]

    def is_error(name: str) -> bool:
        value = getattr(connprof, name)
        return isinstance(value, type) and issubclass(value, BaseException)

    out = ["### Functions and classes", ""]
    for n in sorted((n for n in names if not is_error(n)), key=str.lower):
        out += [f"::: connprof.{n}", ""]
    out += ["### Errors", ""]
    for n in sorted((n for n in names if is_error(n)), key=str.lower):
        out += [f"::: connprof.{n}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


#: (page, region name) -> what to write between that region's markers.
REGIONS: dict[tuple[str, str], Callable[[], str]] = {
    ("lint.md", "rules"): render_rules,
    ("cli.md", "commands"): render_cli,
    ("api.md", "api"): render_api,
}


def _replace(text: str, region: str, body: str, page: str) -> str:
    begin = f"<!-- BEGIN GENERATED {region} ({COMMAND}) -->"
    end = f"<!-- END GENERATED {region} -->"
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{page}: no region {region!r}: write {begin} and {end} where it goes")
    block = f"{begin}\n{body.rstrip(chr(10))}\n{end}"
    return pattern.sub(lambda _m: block, text, count=1)


def regenerate(docs: Path = DOCS) -> dict[Path, tuple[str, str]]:
    """Each page with a generated region: (its text now, its text regenerated)."""
    pages: dict[Path, tuple[str, str]] = {}
    for (page, region), render in REGIONS.items():
        path = docs / page
        old, new = pages.get(path, (None, None))
        if old is None or new is None:
            old = new = path.read_text(encoding="utf-8")
        pages[path] = (old, _replace(new, region, render(), page))
    return pages


def check(docs: Path = DOCS) -> list[Path]:
    """The pages whose generated regions differ from what the code says."""
    return [p for p, (old, new) in regenerate(docs).items() if old != new]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the docs folder")
    args = parser.parse_args(argv)
    pages = regenerate(args.docs)
    drifted = [p for p, (old, new) in pages.items() if old != new]
    if args.check:
        for p in drifted:
            print(f"{os.path.relpath(p)}: generated text drifted; run {COMMAND}", file=sys.stderr)
        return 1 if drifted else 0
    for p in drifted:
        p.write_text(pages[p][1], encoding="utf-8")
        print(f"rewrote {os.path.relpath(p)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
