"""``connprof completion bash|zsh|fish``: a shell script completing commands, options, profiles.

The script carries the table of commands and options, derived here from the argument parser
(so a new command or option is in the script the next time it is generated), and asks
``connprof __complete`` (``connprof._cli._complete``) for each TAB: that fast path reads only
the table and, for a profile name, the files a real run would read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

__all__ = ["add_parser", "build_spec", "script"]

SHELLS = ("bash", "zsh", "fish")
# Options whose value is a path: the shell completes file names there.
_FILE_METAVARS = {"PATH", "FILE", "CERT", "DIR", "PEM"}


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "completion",
        parents=[common],
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a script that completes connprof's commands, options and profile "
        "names (from the files a real run would read, honouring --config on the line). "
        'bash: eval "$(connprof completion bash)" in ~/.bashrc; zsh: the same in ~/.zshrc, '
        "after compinit; fish: connprof completion fish | source in "
        "~/.config/fish/config.fish.",
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    p.set_defaults(func=run)


def _option_kind(action: argparse.Action) -> Any:
    if action.nargs == 0:
        return 0
    if action.choices is not None:
        return [str(c) for c in action.choices]
    metavar = str(action.metavar or action.dest).upper()
    if metavar in _FILE_METAVARS or metavar.endswith(("PATH", "FILE")):
        return "file"
    return "value"


def _positional_kind(action: argparse.Action) -> Any:
    if action.choices is not None:
        return [str(c) for c in action.choices]
    if action.dest == "name":
        return "profile"
    return _option_kind(action)


def _node(parser: argparse.ArgumentParser) -> dict[str, Any]:
    node: dict[str, Any] = {"options": {}, "positionals": []}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            shown = {a.dest for a in action._choices_actions if a.help != argparse.SUPPRESS}
            node["commands"] = {
                name: _node(child) for name, child in action.choices.items() if name in shown
            }
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            for flag in action.option_strings:
                node["options"][flag] = _option_kind(action)
        elif action.nargs in ("*", "+"):
            node["rest"] = _positional_kind(action)
        else:
            node["positionals"].append(_positional_kind(action))
    return node


def build_spec(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The table ``connprof __complete`` walks: each command's options, positionals, commands."""
    return _node(parser)


_BASH = """\
# connprof completion for bash: eval "$(connprof completion bash)" (e.g. in ~/.bashrc)
_connprof_spec=%(spec)s
_connprof() {
    local IFS=$'\\n' out
    out=($(%(connprof)s __complete "$_connprof_spec" "$COMP_CWORD" "${COMP_WORDS[@]}" \\
        2>/dev/null)) || return 0
    if [[ ${out[0]} == files ]]; then
        COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
        compopt -o filenames 2>/dev/null
    else
        COMPREPLY=("${out[@]:1}")
    fi
}
complete -F _connprof connprof
"""

_ZSH = """\
# connprof completion for zsh: eval "$(connprof completion zsh)" (in ~/.zshrc, after compinit)
_connprof_spec=%(spec)s
_connprof() {
    local -a out
    out=("${(@f)$(%(connprof)s __complete "$_connprof_spec" $((CURRENT - 1)) "${words[@]}" \\
        2>/dev/null)}")
    if [[ ${out[1]} == files ]]; then
        _files
    elif (( ${#out} > 1 )); then
        compadd -- "${out[@]:1}"
    fi
}
compdef _connprof connprof
"""

_FISH = """\
# connprof completion for fish: connprof completion fish | source
set -g __connprof_spec %(spec)s
function __connprof_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (%(connprof)s __complete $__connprof_spec (math (count $words) - 1) $words \\
        2>/dev/null)
    if test "$out[1]" = files
        __fish_complete_path (commandline -ct)
    else if test (count $out) -gt 1
        printf '%%s\\n' $out[2..-1]
    end
end
complete -c connprof -f -a '(__connprof_complete)'
"""


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` with the table of ``parser`` written into it."""
    import shlex  # deferred: every command imports this module to build the parser

    spec = json.dumps(build_spec(parser), separators=(",", ":"), sort_keys=True)
    template = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}[shell]
    return template % {"spec": shlex.quote(spec), "connprof": _executable()}


def _executable() -> str:
    """The ``connprof`` that printed the script (a venv's, say), so a TAB asks the same one."""
    import shlex  # deferred: every command imports this module to build the parser

    path = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(path) == "connprof" and os.access(path, os.X_OK):
        return shlex.quote(path)
    return "command connprof"


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(script(args.shell, args.parser))
    return 0
