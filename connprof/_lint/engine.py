"""Run every rule over every profile of some files, placing each finding at file:line:col.

Positions cost time: composing 5 MB of YAML with marks takes PyYAML many seconds. So a large
file is linted twice over, cheaply first: its profiles are read as plain data
(``read_profile_file(path, positions=False)``, see ``connprof._yaml``), merged and checked with
every position stubbed out, and only a profile with a finding is linted again from its composed,
positioned text (only its own chunk of the file), which gives the reported positions. The first
pass may over-report (a rule that needs a position to decide says yes) but never under-report:
anything the plain reading could read otherwise than the positioned one (duplicate keys, tags,
anchors, non-string keys, deep nesting) it leaves to the positioned reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from .._compose import Composer, validate_data
from .._discover import discover, nothing_found
from .._errors import ConfigNotFound, ProfileNotFound, ProfileValidationError
from .._merge import ENDPOINT_FIELDS
from .._yaml import ProfileFile, read_profile_file, suggest
from .diagnostics import RULES, Diagnostic
from .rules import PROFILE_RULES, ProfileContext, driver_settings

__all__ = ["lint_config", "lint_paths"]

#: Files at least this large get the plain-data first pass; smaller ones compose in no time.
FAST_THRESHOLD = 64 * 1024
_YAML_SUFFIXES = (".yaml", ".yml")


def lint_paths(
    paths: Iterable[str | os.PathLike[str]], *, check_files: bool = False
) -> list[Diagnostic]:
    """Lint each file on its own (a folder: its ``*.yaml`` files), findings sorted by file and line.

    A profile with no driver, no endpoints and no ``extends`` is read as an overlay of a
    profile in another file (a ``profiles.d`` layer): its fields are checked, its completeness
    is not; except in a project file (``connprof.yaml``, ``*.connprof.yaml``), which holds
    whole profiles. To check layers together, lint them as one configuration (``lint_config``).
    """
    found: list[Diagnostic] = []
    for path in _expand(paths):
        found.extend(_lint([path], check_files=check_files, standalone=True))
    return sorted(set(found))


def _may_hold_overlays(path: str) -> bool:
    """A project file (``connprof.yaml``, ``*.connprof.yaml``) holds whole profiles.

    Anything else linted on its own may be a layer, like a personal ``profiles.d`` file.
    """
    name = os.path.basename(path)
    return not (name == "connprof.yaml" or name.endswith(".connprof.yaml"))


def lint_config(config: Any = None, *, check_files: bool = False) -> list[Diagnostic]:
    """Lint the files ``connprof show`` would read (``--config`` or discovery), as layers."""
    paths = discover(config)
    if not paths:
        raise ProfileNotFound(nothing_found())
    return sorted(set(_lint(paths, check_files=check_files, standalone=False)))


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    out: list[str] = []
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs.sort()
                out.extend(
                    os.path.join(folder, n) for n in sorted(names) if n.endswith(_YAML_SUFFIXES)
                )
        elif os.path.isfile(path):
            out.append(path)
        else:
            what = "not a regular file" if os.path.exists(path) else "no such file"
            raise ConfigNotFound(f"{path}: {what}; name a profile file or a folder", path)
    return out


def _from_error(exc: ProfileValidationError, path: str) -> list[Diagnostic]:
    return [
        Diagnostic(p.path or path, p.line or 1, p.column or 1, "CP001", "error", _with_fix(p))
        for p in exc.problems
    ]


def _with_fix(problem: ProfileValidationError) -> str:
    # Most validation messages say what to do; pydantic's own ("Input should be ...") do not.
    if "; " in problem.message:
        return problem.message
    return f"{problem.message}; correct the value (`connprof schema` lists what each field takes)"


def _lint(paths: list[str], *, check_files: bool, standalone: bool) -> list[Diagnostic]:
    files: list[ProfileFile] = []
    found: list[Diagnostic] = []
    for path in paths:
        try:
            files.append(read_profile_file(path))
        except ProfileValidationError as exc:
            found.extend(_from_error(exc, path))
    if found and not standalone:
        # A layer that does not load makes every profile it touches look wrong: report it alone.
        return found
    if files:
        found.extend(_Linter(files, standalone=standalone, check_files=check_files).run())
    return found


# -- the plain-data first pass -------------------------------------------------------------------


def _plain_reading(positioned: ProfileFile) -> ProfileFile:
    """A large file read again without positions, for the first pass; else ``positioned``."""
    try:
        if os.path.getsize(positioned.path) < FAST_THRESHOLD:
            return positioned
        return read_profile_file(positioned.path, positions=False, positioned=positioned)
    except (OSError, ProfileValidationError):
        return positioned  # the file changed since it was read: lint what was read


# -- linting -----------------------------------------------------------------------------------


class _Linter:
    def __init__(self, files: list[ProfileFile], *, standalone: bool, check_files: bool) -> None:
        self.files = files
        self.standalone = standalone
        self.check_files = check_files
        self._exists: dict[str, bool] = {}

    def exists(self, path: str) -> bool:
        known = self._exists.get(path)
        if known is None:
            known = self._exists[path] = os.path.exists(path)
        return known

    def run(self) -> list[Diagnostic]:
        found = self._defaults_named()
        positioned = Composer(self.files)
        plain = [_plain_reading(f) for f in self.files]
        fast = Composer(plain)
        use_fast = any(not p.positioned for p in plain)
        for name in positioned.all_names():
            if use_fast:
                try:
                    if not self.profile(name, fast):
                        continue
                except (ProfileValidationError, ProfileNotFound):
                    # The first pass reads the positioned pass's data, so what it raises the
                    # positioned pass meets too, and reports with positions.
                    pass
            found.extend(self.profile(name, positioned))
        return found

    def _defaults_named(self) -> list[Diagnostic]:
        """CP033: ``default:`` must name a profile of the linted files."""
        found = []
        for f in self.files:
            if f.default is None or f.default_origin is None:
                continue
            scope = [f] if self.standalone else self.files
            if not any(f.default in g for g in scope):
                names = [n for g in scope for n in g.names()]
                o = f.default_origin
                found.append(
                    Diagnostic(
                        o.file, o.value_line, o.value_column, "CP033", "error",
                        f"default names '{f.default}', which no linted file defines"
                        f"{suggest(f.default, names)}; name a defined profile or remove default:",
                    )
                )  # fmt: skip
        return found

    def profile(self, name: str, composer: Composer) -> list[Diagnostic]:
        """Every finding for one profile (positions are stubs with plain-data files)."""
        try:
            found = self._extends_chain(name, composer)
            if found:
                return found
            composed = composer.compose(name)
        except ProfileValidationError as exc:
            return _from_error(exc, composer.files[0].path)
        if composed.problem is not None:
            # A uri or dsn that does not parse: say so, and lint what the YAML itself writes.
            found.extend(_from_error(composed.problem, composed.origins[()].file))
        data = composed.data
        overlay = (
            self.standalone
            and _may_hold_overlays(self.files[0].path)
            and not any(k in data for k in ("driver", "extends", *ENDPOINT_FIELDS))
        )
        ctx = ProfileContext(composed, overlay=overlay, exists=self.exists)
        for rule in PROFILE_RULES:
            found.extend(rule(ctx))
        if composed.problem is None:
            candidate = {**data, "name": name}
            if overlay:
                # Validate the fields an overlay writes against a stand-in for the rest.
                candidate.update(driver="pymongo", hosts=["overlay.invalid"])
            profile, error = validate_data(candidate, composed)
            if error is not None:
                found.extend(_from_error(error, composed.origins[()].file))
            else:
                ctx.profile = profile
                found.extend(driver_settings(ctx))
        if self.check_files:
            from .files import check_files  # deferred: only --check-files reads certificates

            found.extend(check_files(ctx))
        return _drop_shadowed(found)

    def _extends_chain(self, name: str, composer: Composer) -> list[Diagnostic]:
        """CP032 for a name ``extends`` follows to that no linted file defines, or a cycle."""
        chain = [name]
        while True:
            current = chain[-1]
            # The highest-precedence file that writes `extends` decides, as in the merge.
            own = next(
                (
                    fragment
                    for f in composer.files
                    if current in f and "extends" in (fragment := f.fragment(current)).data
                ),
                None,
            )
            parent = own.data["extends"] if own is not None else None
            if own is None or not isinstance(parent, str):
                return []  # none, or not a name: the schema check reports that
            o = own.origins.get(("extends",)) or own.origins[()]
            if parent in chain:
                cycle = " -> ".join((*chain, parent))
                message = f"extends makes a cycle ({cycle}); remove one of the extends"
            elif not any(parent in f for f in composer.files):
                known = composer.all_names()
                message = (
                    f"extends names '{parent}', which no linted file defines"
                    f"{suggest(parent, known)}; name a defined profile, or lint the layers "
                    "together (connprof --config LAYER ... lint)"
                )
            else:
                chain.append(parent)
                continue
            severity = RULES["CP032"].severity
            return [Diagnostic(o.file, o.value_line, o.value_column, "CP032", severity, message)]


def _drop_shadowed(found: list[Diagnostic]) -> list[Diagnostic]:
    """A schema error (CP001) at the very place a specific rule reported says less: drop it."""
    specific = {(d.path, d.line, d.column) for d in found if d.code != "CP001"}
    return [d for d in found if d.code != "CP001" or (d.path, d.line, d.column) not in specific]
