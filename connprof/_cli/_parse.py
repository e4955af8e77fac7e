"""What ``connprof parse`` and ``connprof import`` do (their options are in ``parse_cmd``).

``parse`` prints the profile; ``import`` stores its password in the keyring and writes it to
``<user config dir>/profiles.d/NAME.yaml``. A password found in the string never reaches the
output or the file: the profile holds the reference ``"keyring:"`` instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConnprofError
from .._redact import printable

__all__ = ["ParsedString", "parse_string", "run_import", "run_parse"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ParsedString:
    """A connection string as a profile body, plus what the user must be told about it."""

    profile: dict[str, Any]
    kind: str  # "URI" or "DSN", for messages
    password: str | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()


# -- parse -------------------------------------------------------------------------------------


def parse_string(text: str, driver: str | None = None) -> ParsedString:
    """The canonical profile body ``text`` means, for ``driver`` or the one its shape says."""
    bad = _SURROGATE.search(text)
    if bad is not None:
        # An argument holding bytes that are not UTF-8 (Python keeps them as lone surrogates),
        # which no profile file can hold and no output can print. Never echoed: it may be a
        # password.
        raise ConnprofError(
            f"the connection string is not UTF-8 text (an undecodable byte at character "
            f"{bad.start() + 1}); percent-encode that byte (%XX) or fix the terminal's encoding"
        )
    driver = driver if driver is not None else _guess_driver(text)
    # Messages of a DSN read by guess say "DSN part ...", which tells the user how it was read.
    parsed = _from_mongodb_uri(text) if driver == "pymongo" else _from_exasol_dsn(text)
    _check_loads(parsed)
    return parsed


def _check_loads(parsed: ParsedString) -> None:
    """Refuse to hand out a profile that connprof itself would not load."""
    from pydantic import ValidationError  # deferred: pydantic is slow to import

    from .._models import Profile  # deferred: the same (the models are pydantic's)

    try:
        Profile.model_validate({"name": "parsed", **parsed.profile})
    except ValidationError as exc:
        # hide_input_in_errors is set on the models: the message holds no value from the string.
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise ConnprofError(
            f"the {parsed.kind} gives a profile connprof cannot load: {where}: {problem['msg']}"
        ) from None


def _guess_driver(text: str) -> str:
    scheme, sep, _ = text.partition("://")
    if not sep:
        return "pyexasol"  # a DSN has no scheme
    if scheme.lower() in ("mongodb", "mongodb+srv"):
        return "pymongo"
    # Only the scheme is shown: the rest may hold a password.
    raise ConnprofError(
        f"cannot tell which driver a {scheme[:20]!r}:// string is for: connprof reads mongodb:// "
        "and mongodb+srv:// URIs and Exasol DSNs; pass --driver pymongo or --driver pyexasol"
    )


def _from_exasol_dsn(text: str) -> ParsedString:
    from .._derive import read_string  # deferred: the parsers load only for parse and import

    # The same derivation a profile's dsn gets when it is composed (connprof._derive).
    said = read_string("dsn", text, os.getcwd())
    profile: dict[str, Any] = {"driver": "pyexasol"}
    ports = {port for _, port in said.endpoints}
    if len(ports) == 1:
        profile["hosts"] = [host for host, _ in said.endpoints]
        profile["port"] = ports.pop()
    else:  # the nodes listen on different ports: each host says its own
        profile["hosts"] = [f"{host}:{port}" for host, port in said.endpoints]
    notes = []
    tls = said.fields.get("tls")
    if isinstance(tls, dict):
        profile["tls"] = dict(tls)
        if tls["fingerprint"] == "nocertcheck":
            # The string already turned the checks off; without the acknowledgement the profile
            # would not load. Said out loud so that it is a decision, not a surprise.
            profile["allow_insecure"] = True
            notes.append(
                "the DSN says nocertcheck, which accepts any server certificate; the profile "
                "says allow_insecure: true to keep that. Pin the certificate's fingerprint "
                "(tls.fingerprint) or drop nocertcheck to have it checked"
            )
    return ParsedString(profile, "DSN", notes=tuple(notes))


def _from_mongodb_uri(text: str) -> ParsedString:
    # deferred: the parsers load only for parse and import
    from .._derive import read_string
    from .._uri.mongodb import (
        MongoURI,
        format_mongodb_uri,
        parse_mongodb_uri,
        refuse_session_token,
    )

    uri = parse_mongodb_uri(text)
    refuse_session_token(uri)  # also in an option the parser ignored: its text is the token
    # The password leaves the profile here; the rest is derived as a profile's uri is when it
    # is composed (connprof._derive): a URI's relative file paths are relative to where it is
    # used, so they are made absolute against the working directory.
    without = format_mongodb_uri(dataclasses.replace(uri, password=None), reveal_password=True)
    said = read_string("uri", without, os.getcwd())
    # The endpoint stays a uri (a mongodb+srv:// name or a socket path is no host:port entry),
    # with nothing but the scheme and hosts: the rest is in the canonical fields.
    profile: dict[str, Any] = {
        "driver": "pymongo",
        "uri": format_mongodb_uri(MongoURI(uri.scheme, uri.hosts)),
    }
    for key in ("database", "auth", "tls", "options"):
        if key in said.fields:
            value = said.fields[key]
            profile[key] = dict(value) if isinstance(value, dict) else value
    if uri.password is not None:
        profile.setdefault("auth", {})["password"] = "keyring:"
    notes = [f"the URI warns: {warning}" for warning in uri.warnings]
    tls = profile.get("tls")
    if isinstance(tls, dict) and tls.get("verify") == "none":
        profile["allow_insecure"] = True
        notes.append(
            "the URI turns certificate verification off (tlsInsecure or "
            "tlsAllowInvalidCertificates); the profile says allow_insecure: true to keep "
            "that. Remove it, and the option, to have certificates checked"
        )
    return ParsedString(profile, "URI", password=uri.password, notes=tuple(notes))


def _text(argument: str) -> str:
    # "-" keeps a password out of the shell history and the process list.
    if argument == "-":
        return sys.stdin.readline().rstrip("\r\n")
    return argument


def run_parse(args: argparse.Namespace) -> int:
    import yaml  # deferred: this module loads for every command, and schema needs no PyYAML

    parsed = parse_string(_text(args.string), args.driver)
    for note in parsed.notes:
        print(f"connprof: note: {printable(note)}", file=sys.stderr)
    if parsed.password is not None:
        print(
            f"connprof: the {parsed.kind}'s password is not printed: the profile says "
            'auth.password: "keyring:". Store it under the name you give the profile: '
            "connprof secret set NAME password",
            file=sys.stderr,
        )
    driver = parsed.profile["driver"]
    sys.stdout.write(f"# a {driver} profile from `connprof parse`; put it under profiles: NAME\n")
    sys.stdout.write(yaml.safe_dump(parsed.profile, sort_keys=False, allow_unicode=True))
    return 0


# -- import ------------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    name: str = args.name
    if not _NAME.match(name):
        raise ConnprofError(
            f"--name {name!r} is not a profile name: start with a letter or digit, then use "
            "letters, digits, '.', '_' and '-'"
        )
    parsed = parse_string(_text(args.string), args.driver)
    # deferred: only import reads the profile files
    from .._config import load_files
    from .._discover import discover, user_config_dir

    folder = os.path.join(user_config_dir(), "profiles.d")
    target = os.path.join(folder, f"{name}.yaml")
    elsewhere = [
        f.path
        for f in load_files(discover(args.config))
        if name in f.names() and os.path.abspath(f.path) != os.path.abspath(target)
    ]
    if not args.force:
        if os.path.exists(target):
            raise ConnprofError(
                f"{target} already exists; pass --force to replace it, or choose another --name"
            )
        if elsewhere:
            raise ConnprofError(
                f"profile {name!r} already exists in {elsewhere[0]}; choose another --name, or "
                "pass --force to write it anyway (the files then merge)"
            )

    held = False
    if parsed.password is not None:
        from ..secrets import secret_exists  # deferred: only a password to store needs it

        # Asked before anything is written: the entry may be another profile's password, or
        # one left behind; either is kept unless the user says otherwise.
        held = secret_exists("keyring:", profile=name, field="password")
        if held and not args.force:
            raise ConnprofError(
                f"the keyring already holds a password for profile {name!r} (service connprof, "
                f"user {name}/password); pass --force to replace it, or choose another --name"
            )
    for note in parsed.notes:
        print(f"connprof: note: {printable(note)}", file=sys.stderr)
    # The file first, exclusively (without --force): of racing imports, only the one that
    # wrote it goes on to the keyring, and a failing keyring takes the file back.
    previous = _write_new_file(folder, target, _file_text(name, parsed), replace=args.force)
    if parsed.password is not None:
        # deferred: only a password to store needs them
        from ..secrets import replace_secret, store_secret

        store = replace_secret if held else store_secret
        try:
            store("keyring:", profile=name, field="password", value=parsed.password)
        except BaseException:
            _restore(folder, target, previous)
            raise
        print(
            f"connprof: stored the {parsed.kind}'s password in the keyring "
            f"(service connprof, user {name}/password)",
            file=sys.stderr,
        )
    print(f"connprof: wrote profile {name!r} to {target}")
    if elsewhere:
        print(
            f"connprof: note: {elsewhere[0]} defines {name!r} too; the files merge, the "
            "higher-precedence one winning key by key",
            file=sys.stderr,
        )
    if args.config or os.environ.get("CONNPROF_CONFIG"):
        print(
            "connprof: note: --config or CONNPROF_CONFIG is set, so connprof reads only those "
            f"files and not {target}",
            file=sys.stderr,
        )
    return 0


def _file_text(name: str, parsed: ParsedString) -> str:
    import yaml  # deferred: as in run_parse

    document = {"version": 1, "profiles": {name: parsed.profile}}
    header = f"# Written by `connprof import` from a {parsed.profile['driver']} {parsed.kind}.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _restore(folder: str, target: str, previous: bytes | None) -> None:
    """Take back what ``_write_new_file`` did: remove the new file, or put the old one back."""
    try:
        if previous is None:
            os.unlink(target)
        else:
            _write_new_file(folder, target, previous, replace=True)
    except (OSError, ConnprofError):
        pass  # the error being raised says what failed; this is best effort


def _write_new_file(folder: str, target: str, text: str | bytes, *, replace: bool) -> bytes | None:
    """Write ``target`` whole or not at all: a temporary file in the same folder, then a rename.

    Without ``replace`` the rename is a hard link, which fails if ``target`` appeared meanwhile.
    Returns what ``target`` held before (``replace`` only), or None when it is new.
    """
    os.makedirs(folder, exist_ok=True)
    import tempfile  # deferred: only import writes a file

    from .._safeio import PROFILE_FILE_LIMIT, read_regular  # deferred: only import writes

    previous: bytes | None = None
    if replace:
        try:
            previous = read_regular(target, limit=PROFILE_FILE_LIMIT)
        except FileNotFoundError:
            previous = None
        except OSError as exc:
            raise ConnprofError(
                f"{target} cannot be replaced ({exc.strerror}); remove it first"
            ) from None

    fd, temp = tempfile.mkstemp(dir=folder, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8") if isinstance(text, str) else text)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temp, target)
            return previous
        try:
            os.link(temp, target)
        except FileExistsError:
            raise ConnprofError(
                f"{target} already exists; pass --force to replace it, or choose another --name"
            ) from None
        except OSError:  # no hard links on this file system: check, then rename
            if os.path.exists(target):
                raise ConnprofError(
                    f"{target} already exists; pass --force to replace it"
                ) from None
            os.replace(temp, target)
        return None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
