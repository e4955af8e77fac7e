"""Render diagnostics: plain text lines, a JSON list, or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from .diagnostics import Diagnostic

__all__ = ["FORMATS", "format_github", "format_json", "format_text"]


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    """``path:line:col: CODE severity message``, one line each, sorted by file and line."""
    return "".join(d.format() + "\n" for d in sorted(diagnostics))


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON list of objects with path, line, column, code, severity and message."""
    return json.dumps([asdict(d) for d in sorted(diagnostics)], indent=2) + "\n"


def _escape_data(text: str) -> str:
    # The workflow-command escapes: a newline would end the command, "%" starts an escape.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """``::error file=...,line=...,col=...,title=CODE::message``: annotations on the diff."""
    lines = []
    for d in sorted(diagnostics):
        props = ",".join(
            f"{k}={_escape_property(str(v))}"
            for k, v in (("file", d.path), ("line", d.line), ("col", d.column), ("title", d.code))
        )
        lines.append(f"::{d.severity} {props}::{_escape_data(f'{d.code} {d.message}')}\n")
    return "".join(lines)


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}
