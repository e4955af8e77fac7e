"""``connprof add NAME``: write a new profile by asking (on a terminal) or from flags (scripts).

It asks for the driver, the endpoints (hosts, or a uri or dsn), the user and the TLS settings,
then the secrets, which go straight to the keyring and appear in the file only as references.
The profile is composed and validated with the files it will be read with, exactly as
``load_profile`` would, before anything is stored or written; the file is then changed by
splicing text into it (``connprof._edit``), atomically, its mode kept. The arguments are
declared in ``connprof._cli.add_cmd``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from .._errors import ConnprofError

__all__ = ["AddError", "run"]

_KEY_LIMIT = 1024 * 1024  # a PEM key file is a few KB


class AddError(ConnprofError):
    """An answer connprof add cannot use, or a profile it must not write."""


# -- asking --------------------------------------------------------------------------------------


class Asker:
    """Questions on the terminal; without one, a missing answer is an error naming its flag."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        #: The answers of a try that did not validate, by flag: offered again as defaults.
        self.previous: dict[str, str] = {}

    def ask(
        self,
        question: str,
        flag: str,
        *,
        default: str | None = None,
        required: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> str | None:
        if not self.interactive:
            if required:
                raise AddError(
                    f"{flag} is needed (no terminal to ask on); pass {flag}, or run connprof "
                    "add on a terminal"
                )
            return default
        default = self.previous.get(flag, default)
        shown = f" [{default}]" if default else ""
        while True:
            sys.stderr.write(f"{question}{shown}: ")
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:  # end of input: stop, rather than loop or guess
                sys.stderr.write("\n")
                raise AddError("no answer (end of input); nothing was written")
            answer = line.strip() or default
            if not answer:
                if required:
                    sys.stderr.write("  an answer is needed here\n")
                    continue
                return None
            problem = check(answer) if check is not None else None
            if problem is None:
                return answer
            sys.stderr.write(f"  {problem}\n")

    def yes(self, question: str, *, default: bool) -> bool:
        if not self.interactive:
            return default
        choice = "Y/n" if default else "y/N"
        while True:
            answer = self.ask(f"{question} ({choice})", "", default=None)
            if answer is None:
                return default
            if answer.lower() in ("y", "yes", "n", "no"):
                return answer.lower().startswith("y")
            sys.stderr.write("  answer y or n\n")


def _check_driver(value: str) -> str | None:
    # deferred: the registry imports every driver module; only add asks for a driver
    from ..drivers._registry import driver_choices, is_known_driver, resolve_driver

    if is_known_driver(resolve_driver(value)):
        return None
    return f"unknown driver {value!r}: choose {driver_choices()}"


def _check_file(value: str) -> str | None:
    if value == "system" or os.path.isfile(os.path.expanduser(value)):
        return None
    return f"no such file: {value} (give the path of an existing PEM file)"


def _verify_check(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"choose one of {', '.join(choices)}"

    return check


def _path(value: str | None) -> str | None:
    """A path as the profile should hold it: ``~`` kept, relative made absolute (they were typed
    relative to the working directory, a profile's are relative to its file)."""
    if value is None or value.startswith("~") or os.path.isabs(value):
        return value
    return os.path.abspath(value)


def _gather(args: argparse.Namespace, asker: Asker) -> dict[str, Any]:
    """The profile body the answers make; flags first, questions for the rest."""
    # deferred: the registry imports every driver module; only add asks for a driver
    from ..drivers._registry import BUILTIN, builtin_spec, resolve_driver

    driver = args.driver or asker.ask(
        f"driver ({', '.join(BUILTIN)})",
        "--driver",
        required=True,
        check=_check_driver,
    )
    assert driver is not None
    driver = resolve_driver(driver)
    problem = _check_driver(driver)
    if problem is not None:
        raise AddError(f"--driver: {problem}")
    spec = builtin_spec(driver)
    body: dict[str, Any] = {"driver": driver}
    given = [f for f in ("hosts", "uri", "dsn") if getattr(args, f)]
    if len(given) > 1:
        raise AddError("give one of --host, --uri and --dsn, not several")
    if given:
        body[given[0]] = getattr(args, given[0])
    else:
        string = spec.string if spec is not None else None
        what = f"hosts, comma-separated, or a {string}" if string else "hosts, comma-separated"
        answer = asker.ask(what, "--host", required=True)
        assert answer is not None
        if string == "uri" and answer.startswith("mongodb"):
            body["uri"] = answer
        elif string == "dsn" and ("/" in answer or ".." in answer):
            body["dsn"] = answer
        else:
            body["hosts"] = [h.strip() for h in answer.split(",") if h.strip()]
    user = args.user or asker.ask("user (Enter: none)", "--user")
    if user:
        body["auth"] = {"user": user}
    # A uri or dsn says whether it uses TLS; flags (or answers) only add to what it says.
    from_string = "uri" in body or "dsn" in body
    tls = _gather_tls(args, asker, ask=not from_string)
    if tls is not None and not (from_string and tls is True and args.tls is None):
        body["tls"] = tls
        if isinstance(tls, dict) and tls.get("verify") == "none":
            body["allow_insecure"] = True
    return body


def _gather_tls(args: argparse.Namespace, asker: Asker, *, ask: bool = True) -> Any:
    """``False``, ``True`` (on, defaults) or the ``tls`` block; TLS is on unless said off."""
    flags = (args.ca, args.client_cert, args.client_key, args.verify)
    if args.tls == "off":
        if any(flags):
            raise AddError("--tls off with TLS settings (--ca, --client-cert, ...): drop one")
        return False
    if not any(flags) and args.tls is None:
        if not ask:
            return True
        if not asker.yes("TLS", default=True):
            return False
    tls: dict[str, Any] = {}
    ca = args.ca or (
        None
        if any(flags)
        else asker.ask("CA file (Enter: the system store)", "--ca", check=_check_file)
    )
    cert = args.client_cert or (
        None
        if any(flags)
        else asker.ask("client certificate file (Enter: none)", "--client-cert", check=_check_file)
    )
    key = args.client_key or (
        None
        if any(flags) or not cert
        else asker.ask(
            "client key file (Enter: the key is in the certificate file)",
            "--client-key",
            check=_check_file,
        )
    )
    verify = args.verify or (
        None
        if any(flags)
        else asker.ask(
            "verify (full, ca, none)",
            "--verify",
            default="full",
            check=_verify_check(args.verify_choices),
        )
    )
    if ca:
        tls["ca"] = _path(ca)
    if cert:
        tls["client_cert"] = _path(cert)
    if key:
        tls["client_key"] = _path(key)
    if verify and verify != "full":
        tls["verify"] = verify
    return tls or True  # TLS on, the defaults (system store, verify full)


def _encrypted_key(body: dict[str, Any]) -> str | None:
    """The client key file when it is encrypted (its password must be stored), else None."""
    # deferred: loaded only when add gets here
    from .._safeio import read_regular

    tls = body.get("tls")
    if not isinstance(tls, dict):
        return None
    path = tls.get("client_key") or tls.get("client_cert")
    if not isinstance(path, str):
        return None
    try:
        text = read_regular(os.path.expanduser(path), limit=_KEY_LIMIT)
    except OSError:
        return None  # validation reports a missing file
    if b"ENCRYPTED PRIVATE KEY" in text or b"Proc-Type: 4,ENCRYPTED" in text:
        return path
    return None


# -- validating and writing ---------------------------------------------------------------------


def _target(args: argparse.Namespace) -> str:
    # deferred: loaded only when add gets here
    from .._discover import user_config_dir

    if args.file:
        return str(os.path.abspath(os.path.expanduser(args.file)))
    return os.path.join(user_config_dir(), "profiles.yaml")


def _read(target: str) -> tuple[str, int | None]:
    """The file's text and mode, ``("", None)`` when it does not exist yet."""
    # deferred: loaded only when add gets here
    from .._safeio import PROFILE_FILE_LIMIT, open_regular, read_fd

    try:
        # One open: the mode kept is that of the file read, not of whatever the path names later.
        fd, st = open_regular(target)
        try:
            raw = read_fd(fd, target, limit=PROFILE_FILE_LIMIT)
        finally:
            os.close(fd)
        mode = st.st_mode & 0o7777
    except FileNotFoundError:
        return "", None
    except OSError as exc:
        raise AddError(f"{target}: cannot read it ({exc.strerror}); nothing was written") from None
    try:
        return raw.decode("utf-8"), mode
    except UnicodeDecodeError:
        raise AddError(f"{target}: not UTF-8 text; nothing was written") from None


def _validate(name: str, text: str, target: str, config: Any) -> None:
    """Compose and validate ``name`` from ``text`` (as ``target``) with the other files a run
    reads, and check its driver can take it: what ``load_profile`` would say, before writing."""
    # deferred: loaded only when add gets here
    import tempfile

    # deferred: loaded only when add gets here
    from .._compose import Composer, validate
    from .._config import load_files
    from .._discover import discover
    from .._errors import PluginError, ProfileValidationError, UnsupportedSetting
    from ..drivers import emit

    folder = os.path.dirname(target)
    made = not os.path.isdir(folder)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".add-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        try:
            paths = discover(config)
        except ConnprofError:
            paths = []
        real = os.path.realpath(target)
        paths = [temp if os.path.realpath(p) == real else p for p in paths]
        if temp not in paths:
            paths.append(temp)
        try:
            composed = Composer(load_files(paths)).compose(name)
            emit(validate(composed))
        except (ProfileValidationError, UnsupportedSetting, PluginError) as exc:
            message = str(exc).replace(temp, target)
            raise AddError(f"the profile would not load: {message}; nothing was written") from None
    finally:
        os.unlink(temp)
        if made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def _elsewhere(name: str, target: str, config: Any) -> str | None:
    # deferred: loaded only when add gets here
    from .._config import load_files
    from .._discover import discover

    real = os.path.realpath(target)
    try:
        files = load_files([p for p in discover(config) if os.path.realpath(p) != real])
    except ConnprofError:
        return None
    return next((f.path for f in files if name in f.names()), None)


def _write(target: str, old: str, new: str, mode: int | None) -> None:
    """Replace ``target`` with ``new`` atomically (temporary file, then rename), mode kept."""
    # deferred: loaded only when add gets here
    import tempfile

    real = os.path.realpath(target)
    folder = os.path.dirname(real)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".add-", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(new)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        if _read(real)[0] != old:
            raise AddError(f"{target} changed while connprof add ran; nothing was written")
        if mode is None and os.path.exists(real):
            raise AddError(f"{target} appeared while connprof add ran; nothing was written")
        os.replace(temp, real)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def run(args: argparse.Namespace) -> int:
    # deferred: only add composes, edits files and stores secrets
    from .._edit import splice_profile
    from .._yaml import PROFILE_NAME
    from ..secrets import ensure_writable, store_secret
    from ..secrets._source import where
    from .secret_cmd import _entry_text, _read_value

    name: str = args.name
    if not PROFILE_NAME.fullmatch(name):
        raise AddError(
            f"{name!r} is not a profile name: start with a letter or digit, then use letters, "
            "digits, '.', '_' and '-'"
        )
    if args.password_stdin and args.key_password_stdin:
        raise AddError("stdin holds one secret: give --password-stdin or --key-password-stdin")
    stdin = sys.stdin
    asker = Asker(interactive=stdin is not None and stdin.isatty())
    target = _target(args)
    old, mode = _read(target)
    other = _elsewhere(name, target, args.config)
    if other is not None:
        raise AddError(
            f"profile {name!r} is already defined in {other}; connprof add writes whole "
            "profiles and the two would merge: choose another name, or edit that file"
        )
    while True:
        body = _gather(args, asker)
        secrets: list[str] = []
        if "auth" in body and (
            args.password_stdin
            or (
                asker.interactive
                and asker.yes(
                    f"a password for {body['auth']['user']}, kept in the keyring", default=True
                )
            )
        ):
            body["auth"]["password"] = "keyring:"
            secrets.append("auth.password")
        key = _encrypted_key(body)
        if key is not None or args.key_password_stdin:
            if key is None and not asker.interactive:
                raise AddError("--key-password-stdin: the client key is not encrypted")
            if key is not None and not (args.key_password_stdin or asker.interactive):
                raise AddError(f"{key} is encrypted: give its password with --key-password-stdin")
            body["tls"]["client_key_password"] = "keyring:"
            secrets.append("tls.client_key_password")
        new = splice_profile(old, name, body, path=target, replace=args.replace)
        try:
            _validate(name, new, target, args.config)
            break
        except AddError as problem:
            if not asker.interactive:
                raise
            sys.stderr.write(f"connprof: {problem}\nonce more (Enter keeps an answer):\n")
            asker.previous = _answers(body)
            cleared = ("driver", "hosts", "uri", "dsn", "user", "ca", "client_cert",
                       "client_key", "verify", "tls")  # fmt: skip
            args = argparse.Namespace(**{**vars(args), **dict.fromkeys(cleared)})
    for field in secrets:
        ensure_writable("keyring:", profile=name, field=field)
    for field in secrets:
        at = where(name, field, "keyring:")
        value = _read_value(at, f"{field} of profile '{name}'")
        store_secret("keyring:", profile=name, field=field, value=value)
        del value
        print(f"stored {field} of profile '{name}' in {_entry_text('keyring:', name, field)}")
    _write(target, old, new, mode)
    verb = "replaced" if args.replace and name in _names(old) else "added"
    print(f"{verb} profile '{name}' in {target}")
    if args.config or os.environ.get("CONNPROF_CONFIG"):
        print(
            "connprof: note: --config or CONNPROF_CONFIG is set, so connprof reads only those "
            f"files, and {target} only if it is one of them",
            file=sys.stderr,
        )
    print(f"next: connprof doctor {name}")
    return 0


def _answers(body: dict[str, Any]) -> dict[str, str]:
    """What a try answered, by the flag that gives it, to offer again."""
    endpoints = body.get("uri") or body.get("dsn") or ", ".join(body.get("hosts") or [])
    tls: dict[str, Any] = body["tls"] if isinstance(body.get("tls"), dict) else {}
    found = {
        "--driver": body["driver"],
        "--host": endpoints,
        "--user": (body.get("auth") or {}).get("user"),
        "--ca": tls.get("ca"),
        "--client-cert": tls.get("client_cert"),
        "--client-key": tls.get("client_key"),
        "--verify": tls.get("verify"),
    }
    return {k: str(v) for k, v in found.items() if v}


def _names(text: str) -> set[str]:
    # deferred: loaded only when add gets here
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return set()
    profiles = data.get("profiles") if isinstance(data, dict) else None
    return set(profiles) if isinstance(profiles, dict) else set()
