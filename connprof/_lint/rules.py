"""The lint rules: each reads one merged profile and yields ``Diagnostic``s with its code.

Rules see the profile as merged plain data (``defaults`` and ``extends`` applied, derived
values such as ``tls.enabled`` filled in) whether or not it validates, so a profile with a
schema error is still checked for plaintext secrets. Nothing here resolves a secret reference,
imports keyring or opens a socket; only ``missing_relative_files`` looks at the disk (whether a
file exists). Messages name fields and positions, never a secret's value.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import DsnError, PluginError, UriError
from .._paths import PATH_FIELDS, SECRET_PATHS, file_values
from .._redact import strip_userinfo, userinfo
from .._yaml import Origin, Path
from ..drivers import check
from .diagnostics import RULES, Diagnostic

if TYPE_CHECKING:
    from .._compose import Composed
    from .._models import Profile

__all__ = [
    "PROFILE_RULES",
    "ProfileContext",
    "driver_settings",
    "file_values",
]

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_OLD_TLS = {"1.0", "1.1"}


class ProfileContext:
    """One composed profile (``connprof._compose.Composed``) and what rules need to place findings.

    Rules read the composition; none derives a field from raw data again.
    """

    def __init__(
        self,
        composed: Composed,
        *,
        overlay: bool = False,
        exists: Callable[[str], bool] = os.path.exists,
    ) -> None:
        self.composed = composed
        self.name = composed.name
        self.data: Mapping[str, Any] = composed.data
        self.origins = composed.origins
        self.notes = composed.notes
        #: Absolute forms of the file paths that were written relative to their profile file.
        self.relative = composed.relative
        self.overlay = overlay  # a partial profile in a file linted alone (profiles.d overlays)
        self.exists = exists
        self.profile: Profile | None = None  # set once the profile validated

    def from_string(self, path: Path) -> Path | None:
        """``("uri",)`` or ``("dsn",)`` when the value at ``path`` was read from that string."""
        field_name = self.composed.from_string(path)
        return (field_name,) if field_name else None

    def origin(self, path: Path) -> Origin:
        # A value a uri or dsn said has that string's position as its own origin.
        return self.composed.origin(path)

    def at(self, code: str, path: Path, message: str, *, key: bool = False) -> Diagnostic:
        """A finding of ``code`` at the value (or the key) written for ``path``."""
        o = self.origin(path)
        line, column = (o.line, o.column) if key else (o.value_line, o.value_column)
        return Diagnostic(o.file, line, column, code, RULES[code].severity, message)

    def from_defaults(self, path: Path) -> bool:
        """True when the value at ``path`` came from a file's ``defaults`` block.

        Settings shared through ``defaults`` (a team CA, say) do not make every profile of
        the file contradictory; only what a profile writes itself (or extends) counts.
        """
        o = self.origins.get(path)
        return o is not None and o.via == "defaults"

    def block(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def tls_on(self) -> bool:
        return self.block("tls").get("enabled") is True

    @property
    def prod(self) -> bool:
        tags = self.data.get("tags")
        return isinstance(tags, list) and any(str(t).lower() == "prod" for t in tags)

    def uri_options(self) -> list[tuple[str, Any]]:
        """The uri's options by their specification names, as the composition parsed them."""
        string = self.composed.string
        if string is None or string.field != "uri":
            return []
        return list(string.options.items())


Rule = Callable[[ProfileContext], Iterator[Diagnostic]]


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


# -- secrets -------------------------------------------------------------------------------------


def _is_plaintext(value: Any) -> bool:
    # deferred: importing connprof._lint loads no pydantic until a profile is checked
    from pydantic_core import PydanticCustomError

    from .._secretref import parse_secret_ref  # deferred: the same (it imports pydantic_core)

    if isinstance(value, bool | int | float):
        return True
    if not isinstance(value, str):
        return False
    try:
        parse_secret_ref(value)
    except PydanticCustomError as exc:
        return exc.type == "plaintext_secret"
    return False


def plaintext_secrets(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP002: a secret field holding a value instead of a reference."""
    for path in SECRET_PATHS:
        if _is_plaintext(ctx.block(path[0]).get(path[1])):
            yield ctx.at(
                "CP002",
                path,
                f"{_dotted(path)} holds a plaintext secret; store it with `connprof secret set "
                f'{ctx.name} {path[1]}` and write "keyring:" here (or env:NAME, file:PATH)',
            )


def passwords_in_urls(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP003: user info with a password in the uri or in a crate host URL."""
    fix = (
        f"remove it and reference it in auth.password (`connprof secret set {ctx.name} "
        'password`, then password: "keyring:")'
    )
    uri = ctx.data.get("uri")
    if isinstance(uri, str) and ":" in (userinfo(uri) or ""):
        yield ctx.at("CP003", ("uri",), f"the uri carries a password; {fix}")
    hosts = ctx.data.get("hosts")
    for i, host in enumerate(hosts if isinstance(hosts, list) else []):
        if isinstance(host, str) and "://" in host and ":" in (userinfo(host) or ""):
            yield ctx.at("CP003", ("hosts", i), f"the host URL carries a password; {fix}")


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


def inline_private_keys(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP004: PEM key material pasted into any value."""
    if "PRIVATE KEY-----" not in repr(ctx.data):
        return  # one C-speed scan instead of a walk over every value of every profile
    for path, text in _strings(ctx.data, ()):
        if "PRIVATE KEY-----" in text:
            yield ctx.at(
                "CP004",
                path,
                f"{_dotted(path)} holds an inline private key; put the key in its own file "
                "(mode 600) and give its path in tls.client_key, then rotate the key: it was "
                "written into a profile file",
            )


_SECRET_NAME = re.compile(
    r"passw(?:or)?d|passphrase|secret|token|api[_-]?key|credential|bearer|private[_-]?key", re.I
)
_TOKEN_SHAPES = (
    re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*\Z"),  # a JWT
    re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\Z|github_pat_\w{20,}\Z"),
    re.compile(r"xox[abposr]-[\w-]{10,}\Z"),  # Slack
    re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}\Z"),  # AWS access key id
    re.compile(r"(?:sk|rk|pk)_(?:live|test)_\w{16,}\Z|sk-[\w-]{20,}\Z"),
)
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_-]{32,}\Z")


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_secret(key: str, value: str) -> bool:
    if not value or value.startswith(("keyring:", "env:", "file:")):
        return False
    if _SECRET_NAME.search(key) and len(value) >= 6:
        return True
    if any(shape.match(value) for shape in _TOKEN_SHAPES):
        return True
    # A long run of mixed letters and digits with no word structure: a key or token.
    return bool(
        _OPAQUE.match(value)
        and re.search(r"[a-z]", value)
        and re.search(r"[A-Z]", value)
        and re.search(r"[0-9]", value)
        and _entropy(value) >= 4.0
    )


def secrets_in_options(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP005: options are passed verbatim and never resolved, so a secret there is plaintext."""
    for path, text in _strings(ctx.block("options"), ("options",)):
        key = str(path[-1]) if isinstance(path[-1], str) else str(path[-2])
        if _looks_secret(key, text):
            yield ctx.at(
                "CP005",
                path,
                f"{_dotted(path)} looks like a token or password, and options are written "
                "verbatim into the file; move the credential to auth as a reference (auth.token: "
                '"keyring:" or auth.password) and remove it here',
            )


# -- verification -----------------------------------------------------------------------------

_URI_INSECURE = ("tlsinsecure", "tlsallowinvalidcertificates", "tlsallowinvalidhostnames",
                 "sslallowinvalidcertificates", "sslallowinvalidhostnames")  # fmt: skip


def _min_version(value: Any) -> str | None:
    from .._models import _resolve_version  # deferred: _models imports pydantic

    resolved = _resolve_version(value)
    return resolved if isinstance(resolved, str) else None


def _weakenings(ctx: ProfileContext) -> Iterator[tuple[str, Path, str]]:
    """``(code without prod, path, what)`` for each setting that weakens TLS."""
    # Settings read from the profile's own uri or dsn are reported from their spelling below;
    # those inherited from another profile's string are judged here, at that string.
    tls = {k: v for k, v in ctx.block("tls").items() if not _own_string(ctx, ("tls", k))}
    if ctx.tls_on:
        if tls.get("verify") == "none":
            yield "CP010", ("tls", "verify"), "verify: none turns certificate verification off"
        fp = tls.get("fingerprint")
        if isinstance(fp, str) and fp.strip().lower() == "nocertcheck":
            yield "CP010", ("tls", "fingerprint"), "fingerprint: nocertcheck turns checks off"
        if _min_version(tls.get("min_version")) in _OLD_TLS:
            yield "CP012", ("tls", "min_version"), "min_version allows TLS below 1.2"
    for key, value in ctx.uri_options():
        if key.lower() in _URI_INSECURE and value is True:
            yield "CP010", ("uri",), f"{key}=true in the uri turns certificate checks off"
    if (
        ctx.from_string(("tls", "fingerprint")) == ("dsn",)
        and ctx.block("tls").get("fingerprint") == "nocertcheck"
    ):
        yield "CP010", ("dsn",), "nocertcheck in the dsn turns certificate checks off"


def _own_string(ctx: ProfileContext, path: Path) -> bool:
    """The value at ``path`` was said by the uri or dsn this profile itself holds."""
    string = ctx.from_string(path)
    if string is None or string not in ctx.origins:
        return False
    said, own = ctx.origins.get(path), ctx.origins[string]
    return said is not None and said[:3] == own[:3]


def weakened_verification(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP010, CP012 without ``allow_insecure``; CP011 on a prod profile whatever it says."""
    acknowledged = ctx.data.get("allow_insecure") is True
    for code, path, what in _weakenings(ctx):
        if ctx.prod:
            yield ctx.at(
                "CP011",
                path,
                f"{what} on a profile tagged prod (allow_insecure does not cover prod); remove "
                "the setting so certificates are verified over TLS 1.2 or later",
            )
        elif not acknowledged:
            fix = (
                'raise it to "1.2", or add `allow_insecure: true` to the profile to acknowledge it'
                if code == "CP012"
                else "remove it, or add `allow_insecure: true` to the profile to acknowledge it"
            )
            yield ctx.at(code, path, f"{what}; {fix}")


def weak_ciphers(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP046: a cipher string whose context offers anonymous, NULL or export suites, or a lower
    security level: without ``allow_insecure``, and on a prod profile whatever it says."""
    tls = ctx.block("tls")
    ciphers = tls.get("ciphers")
    if not ctx.tls_on or not isinstance(ciphers, str) or not ciphers:
        return
    low, high = _min_version(tls.get("min_version", "1.2")), tls.get("max_version")
    high = None if high is None else _min_version(high)
    if low not in ("1.0", "1.1", "1.2", "1.3") or high not in (None, "1.0", "1.1", "1.2", "1.3"):
        return  # a schema error (CP001) says what to write
    from .._tls import judge_ciphers  # deferred: ssl loads only for a profile with ciphers

    weakness = judge_ciphers(ciphers, low, high).weakness
    if weakness is None:
        return
    if ctx.prod:
        yield ctx.at(
            "CP046",
            ("tls", "ciphers"),
            f"tls.ciphers: {weakness}, on a profile tagged prod (allow_insecure does not cover "
            "prod); remove ciphers, or exclude those suites (e.g. append :!aNULL:!eNULL) and "
            "the @SECLEVEL below the default",
        )
    elif ctx.data.get("allow_insecure") is not True:
        yield ctx.at(
            "CP046",
            ("tls", "ciphers"),
            f"tls.ciphers: {weakness}; remove ciphers or those suites, or add "
            "`allow_insecure: true` to the profile to acknowledge it",
        )


def verify_ca_on_prod(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP047: ``verify: ca`` on a prod profile accepts any certificate of the CA for the host."""
    if ctx.tls_on and ctx.prod and ctx.block("tls").get("verify") == "ca":
        yield ctx.at(
            "CP047",
            ("tls", "verify"),
            "verify: ca checks the chain but not the host name on a profile tagged prod, so any "
            "certificate the CA issued is accepted for this host; use verify: full (name the "
            "hosts as their certificates do, or set tls.server_name)",
        )


def _host_names(ctx: ProfileContext) -> list[str]:
    """The endpoint host names, as the composition read them from hosts, uri or dsn."""
    return [host for host, _ in ctx.composed.endpoints]


def _loopback(host: str) -> bool:
    lowered = host.lower().rstrip(".")
    if lowered in _LOOPBACK_NAMES or lowered.endswith(".localhost") or lowered.endswith(".sock"):
        return True
    if lowered.startswith("/"):  # a unix socket path
        return True
    try:
        return ipaddress.ip_address(lowered).is_loopback
    except ValueError:
        return False


def tls_off_remote(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP013: plaintext to a host that is not this machine."""
    tls = ctx.data.get("tls")
    if not isinstance(tls, dict) or tls.get("enabled") is not False:
        return
    remote = [h for h in _host_names(ctx) if h and not _loopback(h)]
    if not remote:
        return
    written = ctx.origins.get(("tls", "enabled")) or ctx.origins.get(("tls",))
    if written is not None and written.via != "defaults":
        path: Path = ("tls", "enabled")  # the profile turned it off: point there
    else:
        path = next((f,) for f in ("hosts", "uri", "dsn", "driver") if f in ctx.data)
    yield ctx.at(
        "CP013",
        path,
        f"TLS is off for {strip_userinfo(remote[0])}, which is not loopback: credentials and "
        "data cross the network in clear; turn TLS on (tls: true, or a tls block)",
    )


# -- contradictions -------------------------------------------------------------------------------


def _own(ctx: ProfileContext, key: str) -> bool:
    """The tls ``key`` is set, by the profile itself (or what it extends), not by defaults."""
    value = ctx.block("tls").get(key)
    if value is None or (key == "ca" and value == "system"):
        return False
    return not ctx.from_defaults(("tls", key))


def contradictions(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP020, CP021, CP022: TLS settings that cancel each other out."""
    tls = ctx.data.get("tls")
    if not isinstance(tls, dict):
        return
    if tls.get("enabled") is False:
        for key in PATH_FIELDS:
            if _own(ctx, key):
                yield ctx.at(
                    "CP020",
                    ("tls", key),
                    f"tls.{key} is set but TLS is off, so it is never used; turn TLS on "
                    f"(tls.enabled: true) or remove tls.{key}",
                )
        return
    if tls.get("verify") == "none" and _own(ctx, "ca"):
        yield ctx.at(
            "CP021",
            ("tls", "ca"),
            "tls.ca is set but verify: none ignores it; use verify: full (or ca), or remove the CA",
        )
    # A pin together with a CA runs both checks (pyexasol 3 does so given websocket_sslopt):
    # that is a documented setup, not a contradiction. nocertcheck, though, ignores the CA.
    if tls.get("fingerprint") == "nocertcheck" and _own(ctx, "ca"):
        yield ctx.at(
            "CP022",
            ("tls", "ca"),
            "tls.ca is set but fingerprint: nocertcheck ignores it; pin the certificate's "
            "fingerprint (or drop nocertcheck) to have it checked, or remove the CA",
        )


def _srv_problem(uri: str) -> str | None:
    if not uri.lower().startswith("mongodb+srv://"):
        return None
    hostpart = re.split(r"[/?]", strip_userinfo(uri)[len("mongodb+srv://") :], maxsplit=1)[0]
    if "," in hostpart:
        return "several hosts"
    if ":" in hostpart.rsplit("]", 1)[-1]:
        return "a port"
    return None


def srv_with_port(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP023: an SRV uri names one host and no port; DNS gives the rest."""
    uri = ctx.data.get("uri")
    what = _srv_problem(uri) if isinstance(uri, str) else None
    if what is not None:
        yield ctx.at(
            "CP023",
            ("uri",),
            f"a mongodb+srv:// uri with {what}; write one host name and no port (the SRV "
            "record gives the hosts and ports), or use mongodb://",
        )


def uri_conflicts(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP024: a uri the MongoDB specification rejects; CP025: one it warns about."""
    uri = ctx.data.get("uri")
    if not isinstance(uri, str) or _srv_problem(uri):
        return  # no uri, or CP023 already speaks for it
    problem = ctx.composed.string_problem
    # A secret in the uri is the secret rules' finding (CP003 ...), not a spec violation.
    if problem is not None and problem[0] == "uri" and not problem[1].startswith("the uri carries"):
        # The parser's messages end in their fix and never carry the password.
        yield ctx.at("CP024", ("uri",), problem[1])
        return
    string = ctx.composed.string
    for warning in string.warnings if string is not None else ():
        yield ctx.at("CP025", ("uri",), f"the uri: {warning}; correct the option or remove it")


def _same(path: Path, a: Any, b: Any) -> bool:
    # Both sides are composed values: file paths are absolute already.
    if path == ("tls", "fingerprint") and isinstance(a, str) and isinstance(b, str):
        return a.replace(":", "").upper() == b.replace(":", "").upper()
    if path[-1] in ("min_version", "max_version"):
        return bool(_min_version(a) == _min_version(b))
    return bool(a == b)


def string_disagrees(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP026: the YAML and the uri (or dsn) set one field to different values; the YAML wins."""
    for shadowed in ctx.composed.shadowed:
        path = shadowed.path
        block = ctx.data.get(str(path[0])) if len(path) == 2 else ctx.data
        leaf = str(path[-1])
        if not isinstance(block, dict) or leaf not in block or path in SECRET_PATHS:
            continue
        if _same(path, block[leaf], shadowed.said):
            continue
        dotted = _dotted(path)
        yield ctx.at(
            "CP026",
            path,
            f"{dotted} here differs from what the {shadowed.label} says ({shadowed.said!r}), and "
            f"this value wins; make them agree, or keep {dotted} in one place only",
        )


# -- shapes ----------------------------------------------------------------------------------


def _fingerprint_problem(text: str) -> str | None:
    hexed = text.strip().replace(":", "")
    if hexed.lower() == "nocertcheck" or not re.fullmatch(r"[0-9A-Fa-f]+", hexed):
        return None  # nocertcheck is CP010's; non-hex text is a schema error (CP001)
    if len(hexed) != 64:
        return f"has {len(hexed)} hex digits, a SHA-256 fingerprint has 64"
    return None


def fingerprints(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP031: a pin that cannot match any certificate."""
    fix = "copy it again: `openssl x509 -noout -fingerprint -sha256 -in CERT`"
    fp = ctx.block("tls").get("fingerprint")
    if ctx.from_string(("tls", "fingerprint")):
        fp = None  # read from the dsn: reported from the dsn below
    problem = _fingerprint_problem(fp) if isinstance(fp, str) else None
    if problem:
        yield ctx.at("CP031", ("tls", "fingerprint"), f"tls.fingerprint {problem}; {fix}")
    if ctx.from_string(("tls", "fingerprint")) == ("dsn",):
        pin = ctx.block("tls").get("fingerprint")
        problem = _fingerprint_problem(pin) if isinstance(pin, str) else None
        if problem:
            yield ctx.at("CP031", ("dsn",), f"the fingerprint in the dsn {problem}; {fix}")


def missing_relative_files(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP040: a relative path names a file beside the profile file, so it must be there."""
    for path, value in file_values(ctx.data):
        if value in ctx.relative and not ctx.exists(value):
            yield ctx.at(
                "CP040",
                path,
                f"{_dotted(path)}: {os.path.relpath(value)} does not exist (relative paths are "
                "read from the profile file's folder); fix the path or add the file",
            )


#: Data rules, run on every merged profile, valid or not.
PROFILE_RULES: tuple[Rule, ...] = (
    plaintext_secrets,
    passwords_in_urls,
    inline_private_keys,
    secrets_in_options,
    weakened_verification,
    weak_ciphers,
    verify_ca_on_prod,
    tls_off_remote,
    contradictions,
    srv_with_port,
    uri_conflicts,
    string_disagrees,
    fingerprints,
    missing_relative_files,
)


def driver_settings(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP030: what the driver refuses (``connprof.drivers.check``), at the setting's line."""
    if ctx.profile is None or ctx.overlay:
        return
    try:
        problems = check(ctx.profile)
    except (UriError, DsnError):
        return  # the uri and dsn rules (and the schema check) report these at the string
    except PluginError as failed:
        yield ctx.at("CP030", ("driver",), str(failed))
        return
    for problem in problems:
        first, _, rest = problem.setting.partition(".")
        # Option names may hold dots themselves: split options.NAME once only.
        path: Path = (first, rest) if first == "options" else tuple(problem.setting.split("."))
        yield ctx.at("CP030", path, str(problem))
