"""``connprof secret set|rm|check``: store, remove and check a profile's secrets, never showing one.

``set`` reads the value from a hidden prompt on a terminal, or from stdin when piped; never from
an argument, which would land in shell history and in every ``ps`` listing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .._errors import ConnprofError, ProfileNotFound, SecretError
from .._redact import printable

if TYPE_CHECKING:
    from .._models import Profile

_FIELDS_HELP = (
    "password, token, refresh_token or client_key_password (dotted forms such as "
    "auth.password work too)"
)


def _field(text: str) -> str:
    # deferred: only secret set and rm parse a FIELD; show and lint must not load secrets
    from ..secrets import resolve_field_name

    try:
        return resolve_field_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "secret",
        help="store, remove or check a profile's secrets (never printing one)",
        description="Store a secret where a profile's reference points, remove it, or check "
        "that every reference resolves. No value is ever printed.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    # `common` (--config) goes on the leaf parsers only: argparse lets a nested parser's
    # defaults overwrite what an outer one parsed.
    s = actions.add_parser(
        "set",
        parents=[common],
        help="store a secret from a hidden prompt, or from stdin when piped",
        description="Store the secret for FIELD of profile NAME where the profile's reference "
        "points (a keyring entry). The value comes from a hidden prompt on a terminal, or from "
        "stdin when piped (one trailing newline is stripped); never from an argument. A field "
        'with no reference yet is stored under the "keyring:" entry (service connprof, user '
        "NAME/FIELD). An entry that already holds a value, or one of another service than "
        "connprof (keyring:SERVICE/USER), is replaced only with --force, which is checked "
        "before the prompt.",
    )
    s.add_argument("name", metavar="NAME", help="profile name")
    s.add_argument("field", metavar="FIELD", type=_field, help=_FIELDS_HELP)
    s.add_argument(
        "--force",
        action="store_true",
        help="replace an entry that holds a value, or write another service's entry",
    )
    # Caught here rather than by argparse, whose "unrecognized arguments" would echo a secret
    # typed on the command line.
    s.add_argument("value_argument", nargs="*", help=argparse.SUPPRESS)
    s.set_defaults(func=run_set)
    r = actions.add_parser(
        "rm",
        parents=[common],
        help="remove a stored secret",
        description="Remove the keyring entry FIELD of profile NAME points at. An entry of "
        "another service than connprof (keyring:SERVICE/USER) is removed only with --force.",
    )
    r.add_argument("name", metavar="NAME", help="profile name")
    r.add_argument("field", metavar="FIELD", type=_field, help=_FIELDS_HELP)
    r.add_argument("--force", action="store_true", help="remove another service's entry too")
    r.set_defaults(func=run_rm)
    c = actions.add_parser(
        "check",
        parents=[common],
        help="check that every secret reference resolves (prints no value)",
        description="Resolve every secret reference of profile NAME (of every profile without "
        "NAME) and print OK or FAIL for each; exit 1 if any fails. Values are never printed.",
    )
    c.add_argument("name", metavar="NAME", nargs="?", help="profile name (default: all)")
    c.set_defaults(func=run_check)


def _target(profile: Profile, field: str) -> tuple[str, bool]:
    """The reference ``set``/``rm`` act on, and whether the profile itself holds it."""
    block, key = field.split(".")
    reference = getattr(getattr(profile, block), key)
    if reference is None:
        return "keyring:", False
    return str(reference), True


def _entry_text(reference: str, profile: str, field: str) -> str:
    from ..secrets._keyring import entry  # deferred: only secret set and rm get here

    kind, _, target = reference.partition(":")
    if kind != "keyring":
        return reference
    service, username = entry(target, profile=profile, field=field)
    return f"the keyring (service {service}, user {username})"


def _strip_newline(text: str) -> str:
    # `echo secret |` and here-strings add one newline; anything more belongs to the value.
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _read_value(at: str, label: str = "secret") -> str:
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        import getpass  # deferred: only a prompt on a terminal needs it

        try:
            first = getpass.getpass(f"{label} (input hidden): ")
            again = getpass.getpass("again, to confirm: ")
        except EOFError:
            first = again = ""
        if first != again:
            raise SecretError(f"{at}: the two entries differ; nothing was stored")
        value = first
    else:
        value = _strip_newline(stdin.read() if stdin is not None else "")
    if not value:
        raise SecretError(f"{at}: no value was given (empty input); nothing was stored")
    return value


def run_set(args: argparse.Namespace) -> int:
    # deferred: pydantic and the secret stores load only when a secret command runs
    from .._api import load_profile
    from .._config import resolve_profile
    from ..secrets import ensure_writable, replace_secret, secret_exists, store_secret
    from ..secrets._source import leaf, where

    if args.value_argument:
        print(
            "connprof secret set: error: the secret is never taken from an argument (shell "
            "history and `ps` keep those); pipe it on stdin or type it at the prompt. Nothing "
            "was stored, and if that was the real secret, consider changing it",
            file=sys.stderr,
        )
        return 2
    profile = load_profile(args.name, config=args.config)
    field: str = args.field
    reference, written = _target(profile, field)
    # Refuse env:/file:, another application's entry and an entry holding a value before
    # asking for a value that would not be stored.
    ensure_writable(reference, profile=profile.name, field=field)
    at = where(profile.name, field, reference)
    _refuse_foreign(reference, profile.name, field, "write", args.force)
    held = secret_exists(reference, profile=profile.name, field=field)
    if held and not args.force:
        place = _entry_text(reference, profile.name, field)
        raise SecretError(
            f"{at}: {place} already holds a value; pass --force to replace it (nothing was "
            "asked for or stored)"
        )
    value = _read_value(at, f"{field} of profile '{profile.name}'")
    store = replace_secret if held else store_secret
    store(reference, profile=profile.name, field=field, value=value)
    del value
    place = _entry_text(reference, profile.name, field)
    print(f"stored {field} of profile '{profile.name}' in {place}")
    if not written:
        block = field.split(".", maxsplit=1)[0]
        files = resolve_profile(profile.name, args.config).files
        print(
            f"profile '{profile.name}' has no {field} reference yet: add {leaf(field)}: "
            f'"keyring:" under {block}: in {files[0] if files else "its profile file"}',
            file=sys.stderr,
        )
    return 0


def run_rm(args: argparse.Namespace) -> int:
    # deferred: pydantic and the secret stores load only when a secret command runs
    from .._api import load_profile
    from ..secrets import delete_secret

    profile = load_profile(args.name, config=args.config)
    field: str = args.field
    reference, _ = _target(profile, field)
    _refuse_foreign(reference, profile.name, field, "remove", args.force)
    delete_secret(reference, profile=profile.name, field=field)
    place = _entry_text(reference, profile.name, field)
    print(f"removed {field} of profile '{profile.name}' from {place}")
    return 0


def _refuse_foreign(reference: str, profile: str, field: str, verb: str, force: bool) -> None:
    """Another application's keyring entry is read freely, changed only with ``--force``."""
    # deferred: the secret stores load only when a secret command runs
    from ..secrets import foreign_service
    from ..secrets._source import where

    service = foreign_service(reference, profile=profile, field=field)
    if service is not None and not force:
        raise SecretError(
            f"{where(profile, field, reference)}: the entry belongs to the keyring service "
            f"{service!r}, not connprof's; connprof does not {verb} another application's "
            "entries unless you pass --force"
        )


def run_check(args: argparse.Namespace) -> int:
    # deferred: pydantic and the secret stores load only when a secret command runs
    from .._api import list_profiles, load_profile
    from ..secrets import check_secrets
    from ..secrets._source import where

    names = [args.name] if args.name else list_profiles(config=args.config)
    if not names:
        raise ProfileNotFound("no profiles found; pass --config PATH or set CONNPROF_CONFIG")
    rows: list[tuple[str, str, str, str, str]] = []
    for name in names:
        try:
            profile = load_profile(name, config=args.config)
        except ConnprofError as exc:
            if args.name:
                raise
            rows.append(("FAIL", name, "-", "-", f"the profile does not load: {exc}"))
            continue
        checks = check_secrets(profile)
        if not checks:
            rows.append(("--", name, "-", "-", "no secret references"))
        for c in checks:
            message = c.message.removeprefix(where(c.profile, c.field, c.reference) + ": ")
            rows.append(("OK" if c.ok else "FAIL", c.profile, c.field, c.reference, message))
    # One line per reference, whatever a path or message holds (a newline, a control).
    rows = [(a, printable(b), printable(c), printable(d), printable(e)) for a, b, c, d, e in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]))
    return 1 if any(r[0] == "FAIL" for r in rows) else 0
