"""The hidden ``connprof __complete`` fast path: the candidates for the word under the cursor.

The shell scripts ``connprof completion SHELL`` prints call it on every TAB as
``connprof __complete SPEC CWORD WORD...``: SPEC is the table of commands and options that
``completion`` derived from the argument parser and wrote into the script (so this path never
builds the parser or imports a command module), CWORD the index of the word being completed,
and the words the command line so far (``connprof`` first). It prints the kind of completion
on the first line (``words`` or ``files``), then one candidate per line.

Profile names come from the same discovery and file reading a real run uses (``--config``
earlier on the line, ``CONNPROF_CONFIG``, the project and personal files), without composing,
validating, resolving a secret, touching a keyring or the network. Whatever goes wrong (a
broken file, a missing ``--config``), it prints nothing and exits 0: a TAB must never spill
an error into the user's command line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["candidates", "run", "run_hidden"]


def _join_equals(words: list[str], cword: int) -> tuple[list[str], int]:
    """bash splits ``--config=FILE`` at ``=`` (COMP_WORDBREAKS): put such words back together."""
    out: list[str] = []
    index = cword
    for i, word in enumerate(words):
        if out and (word == "=" or out[-1].endswith("=")) and out[-1].startswith("--"):
            out[-1] += word
            if i <= cword:
                index -= 1
            continue
        out.append(word)
    return out, max(index, 0)


def candidates(spec: dict[str, Any], words: Sequence[str], cword: int) -> tuple[str, list[str]]:
    """``("words", [...])`` or ``("files", [])`` for ``words[cword]``; ``words[0]`` is connprof."""
    words, cword = _join_equals(list(words), cword)
    current = words[cword] if cword < len(words) else ""
    node = spec
    options: dict[str, Any] = dict(spec.get("options", {}))
    positional = 0
    config: list[str] = []
    pending: str | None = None  # an option whose value is the next word
    for word in words[1:cword]:
        if pending is not None:
            if pending == "--config":
                config.append(word)
            pending = None
            continue
        if word.startswith("-") and word != "-":
            flag, eq, value = word.partition("=")
            if eq:
                if flag == "--config":
                    config.append(value)
            elif options.get(flag, 0) != 0:
                pending = flag
            continue
        children = node.get("commands", {})
        if word in children and positional == 0:
            node = children[word]
            # argparse: the options before a command are the parent's, after it the command's.
            options = dict(node.get("options", {}))
            continue
        positional += 1
    if pending is not None:
        return _value(options[pending], current)
    if current.startswith("-"):
        flag, eq, _ = current.partition("=")
        if eq:
            return _value(options.get(flag, 0), current.partition("=")[2])
        return "words", sorted(o for o in options if o.startswith(current))
    children = node.get("commands", {})
    if children and positional == 0:
        return "words", [c for c in children if c.startswith(current)]
    slots = node.get("positionals", [])
    if positional < len(slots):
        slot = slots[positional]
    elif "rest" in node:  # PATH ...: every further word is one more
        slot = node["rest"]
    else:
        return "words", []
    if slot == "profile":
        return "words", [n for n in _profile_names(config) if n.startswith(current)]
    return _value(slot, current)


def _value(kind: Any, current: str) -> tuple[str, list[str]]:
    if kind == "file":
        return "files", []
    if isinstance(kind, list):
        return "words", [str(c) for c in kind if str(c).startswith(current)]
    return "words", []


def _profile_names(config: list[str]) -> list[str]:
    # deferred: only a profile-name completion reads files; commands and options need nothing
    from .._config import list_profile_names

    return list_profile_names(config or None)


def run(argv: Sequence[str]) -> int:
    """``connprof __complete SPEC CWORD WORD...``: print the candidates; always exit 0."""
    try:
        import warnings  # deferred: only the completion path silences warnings

        warnings.simplefilter("ignore")
        spec = json.loads(argv[0])
        cword = int(argv[1])
        kind, found = candidates(spec, list(argv[2:]), cword)
    except Exception:  # a broken file, a missing --config, a garbled SPEC: complete nothing
        return 0
    sys.stdout.write("".join(f"{line}\n" for line in [kind, *found]))
    return 0


def run_hidden(args: Sequence[str]) -> int:
    """Answer the hidden completion call ``connprof __complete ARGS``: stderr goes nowhere."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - stays open to the process's end
    sys.stderr = devnull  # nothing a library might print reaches the user's prompt
    return run(args)
