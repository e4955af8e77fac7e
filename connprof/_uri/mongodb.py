"""Parse and format MongoDB connection strings, and map one onto a profile's canonical fields.

The parser follows the MongoDB Connection String and URI Options specifications and is pure:
no DNS, no file reads. What the specifications call a warning (an unknown option, a bad or
empty value, a repeated key, a deprecated spelling) drops that option and is reported in
``MongoURI.warnings``. What they call an error (a malformed string, conflicting TLS options,
``directConnection`` or ``loadBalanced`` with several hosts, SRV and proxy rules) raises
``UriError``. No message carries the password or a secret option's value.

Every option the parser knows is one row of ``OPTIONS``: its spelling, its validator, its
aliases and deprecated spellings, whether it may repeat and whether its value is a secret.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote, unquote

from .._errors import UnsupportedSetting, UriError

__all__ = [
    "OPTIONS",
    "MongoURI",
    "Option",
    "format_mongodb_uri",
    "mongodb_profile_fields",
    "parse_mongodb_uri",
    "refuse_session_token",
]

Validator = Callable[[str, str], Any]

_REDACTED = "***"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 6335 section 5.1: 1-15 letters, digits and single inner hyphens, at least one letter.
_SERVICE_NAME = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9](?:-?[A-Za-z0-9]){0,14}\Z")
# Characters a host name cannot hold: they would change how the string splits, or are spaces.
_NOT_IN_HOST = frozenset("[]\\#%<>\"'`{}|^ \t\r\n\f\v")
_FORBIDDEN_IN_DATABASE = '/\\ "$'
# Kept readable in formatted values; everything else is percent-encoded. `+` and `;` are
# encoded because pymongo reads `+` as a space and `;` as a legacy option separator.
_VALUE_SAFE = "/:,@!$'()*="


# -- validators: (option_name, raw) -> value, raising ValueError that names the option ---------


def _string(name: str, raw: str) -> str:
    return raw


def _boolean(name: str, raw: str) -> bool:
    if raw == "true":
        return True
    if raw == "false":
        return False
    # The spec's legacy spellings (1, yes, t, ...) are deprecated and pymongo refuses them.
    raise ValueError(f"{name} must be true or false")


def _integer(low: int, high: int | None = None) -> Callable[[str, str], int]:
    def check(name: str, raw: str) -> int:
        text = raw[1:] if raw[:1] == "-" else raw
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"{name} must be an integer")
        # int() refuses more than 4300 digits; no option takes a number of even 20.
        value = int(raw) if len(text) <= 20 else (high or low) * 10 + 1 if raw[0] != "-" else -1
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise ValueError(f"{name} must be an integer {bound}")
        return value

    return check


def _choice(*allowed: str) -> Validator:
    def check(name: str, raw: str) -> str:
        if raw in allowed:
            return raw
        near = _did_you_mean(raw, allowed)
        raise ValueError(f"{name} must be one of {', '.join(allowed)}{near}")

    return check


def _appname(name: str, raw: str) -> str:
    # The handshake spec caps the application name at 128 bytes of UTF-8.
    if len(raw.encode("utf-8")) > 128:
        raise ValueError(f"{name} must be at most 128 bytes of UTF-8")
    return raw


def _write_concern_w(name: str, raw: str) -> int | str:
    text = raw[1:] if raw[:1] == "-" else raw
    if text.isascii() and text.isdigit():
        return _integer(0)(name, raw)
    return raw


def _max_staleness(name: str, raw: str) -> int:
    value = _integer(-1)(name, raw)
    if value != -1 and value < 90:
        raise ValueError(f"{name} must be -1 (no maximum) or at least 90")
    return value


_COMPRESSORS = ("snappy", "zlib", "zstd")


def _compressors(name: str, raw: str) -> list[str]:
    names = raw.split(",")
    unknown = [n for n in names if n not in _COMPRESSORS]
    if unknown:
        raise ValueError(f"{name} takes {', '.join(_COMPRESSORS)}, not {', '.join(unknown)}")
    return names


def _key_value_pairs(name: str, raw: str) -> dict[str, str]:
    """``k:v,k2:v2`` (the value may hold colons); used for tag sets and mechanism properties."""
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        key, colon, value = item.partition(":")
        if not key or not colon or not value:
            raise ValueError(f"{name} must be comma-separated key:value pairs")
        pairs[key] = value
    return pairs


def _tag_set(name: str, raw: str) -> dict[str, str]:
    # An empty instance is the empty tag set: "any eligible server" as the last fallback.
    return {} if raw == "" else _key_value_pairs(name, raw)


_MECHANISMS = (
    "DEFAULT",
    "GSSAPI",
    "MONGODB-AWS",
    "MONGODB-OIDC",
    "MONGODB-X509",
    "PLAIN",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
)
_MECHANISM_PROPERTIES = (
    "SERVICE_NAME",
    "CANONICALIZE_HOST_NAME",
    "SERVICE_REALM",
    "SERVICE_HOST",
    "AWS_SESSION_TOKEN",
    "ENVIRONMENT",
    "TOKEN_RESOURCE",
)
_SECRET_PROPERTIES = frozenset({"AWS_SESSION_TOKEN"})
_SESSION_TOKEN = "aws_session_token"  # matched lower-cased, in any option, valid or not
_PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_CANONICALIZE = ("true", "false", "none", "forward", "forwardAndReverse")


def _mechanism_properties(name: str, raw: str) -> dict[str, str]:
    props = _key_value_pairs(name, raw)
    for key, value in props.items():
        if key not in _MECHANISM_PROPERTIES:
            near = _did_you_mean(key, _MECHANISM_PROPERTIES)
            # A key is echoed only when it is a plain name and no token is near: with
            # 'AWS_SESSION_TOKEN=abc:def' the "key" is part of the token.
            if _SESSION_TOKEN in raw.lower() or not _PROPERTY_NAME.match(key):
                raise ValueError(f"{name} has a property that is not one of its names (not "
                                 f"shown: it may hold a secret){near}")  # fmt: skip
            raise ValueError(f"{name} has an unknown property {key!r}{near}")
        if key == "CANONICALIZE_HOST_NAME" and value not in _CANONICALIZE:
            raise ValueError(
                f"{name}: CANONICALIZE_HOST_NAME must be one of {', '.join(_CANONICALIZE)}"
            )
    return props


def _service_name(name: str, raw: str) -> str:
    if not _SERVICE_NAME.match(raw):
        raise ValueError(
            f"{name} must be an SRV service name (RFC 6335: up to 15 letters, "
            "digits and inner hyphens)"
        )
    return raw


# -- the option table ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Option:
    """One URI option: how it is spelled, checked, repeated and shown.

    ``aliases`` mean the same with no warning (``ssl`` for ``tls``). ``deprecated`` are old
    spellings: they still work, with a warning, and lose to the current spelling when both are
    given. ``repeat`` is ``"list"`` (each instance is one item), ``"warn"`` (the last one
    wins) or ``"error"``. A ``secret`` value is never shown in a message, ``repr`` or ``str``.
    """

    name: str
    parse: Validator
    aliases: tuple[str, ...] = ()
    deprecated: tuple[str, ...] = ()
    repeat: Literal["list", "warn", "error"] = "warn"
    secret: bool = False


_NON_NEGATIVE = _integer(0)
_POSITIVE = _integer(1)

# The URI Options specification's table, plus the options pymongo reads from a URI beyond it
# (tlsCRLFile, uuidRepresentation, ...), since a profile's uri is handed to pymongo.
OPTIONS: tuple[Option, ...] = (
    Option("appname", _appname),
    Option("authMechanism", _choice(*_MECHANISMS)),
    Option("authMechanismProperties", _mechanism_properties),
    Option("authSource", _string),
    Option("compressors", _compressors),
    Option("connectTimeoutMS", _NON_NEGATIVE),
    Option("directConnection", _boolean),
    Option("heartbeatFrequencyMS", _integer(500)),
    Option("journal", _boolean, deprecated=("j",)),
    Option("loadBalanced", _boolean),
    Option("localThresholdMS", _NON_NEGATIVE),
    Option("maxIdleTimeMS", _NON_NEGATIVE),
    Option("maxPoolSize", _NON_NEGATIVE),
    Option("maxConnecting", _POSITIVE),
    Option("maxStalenessSeconds", _max_staleness),
    Option("minPoolSize", _NON_NEGATIVE),
    Option("proxyHost", _string, repeat="error"),
    Option("proxyPort", _integer(0, 65535), repeat="error"),
    Option("proxyUsername", _string, repeat="error"),
    Option("proxyPassword", _string, repeat="error", secret=True),
    Option("readConcernLevel", _string),
    Option("readPreference",
           _choice("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")),
    Option("readPreferenceTags", _tag_set, repeat="list"),
    Option("replicaSet", _string),
    Option("retryReads", _boolean),
    Option("retryWrites", _boolean),
    Option("serverMonitoringMode", _choice("stream", "poll", "auto")),
    Option("serverSelectionTimeoutMS", _NON_NEGATIVE),
    Option("serverSelectionTryOnce", _boolean),
    Option("socketTimeoutMS", _NON_NEGATIVE),
    Option("srvMaxHosts", _NON_NEGATIVE),
    Option("srvServiceName", _service_name),
    Option("timeoutMS", _NON_NEGATIVE),
    Option("tls", _boolean, aliases=("ssl",)),
    Option("tlsAllowInvalidCertificates", _boolean),
    Option("tlsAllowInvalidHostnames", _boolean),
    Option("tlsCAFile", _string),
    Option("tlsCertificateKeyFile", _string),
    Option("tlsCertificateKeyFilePassword", _string, secret=True),
    Option("tlsDisableCertificateRevocationCheck", _boolean),
    Option("tlsDisableOCSPEndpointCheck", _boolean),
    Option("tlsInsecure", _boolean),
    Option("w", _write_concern_w),
    Option("waitQueueTimeoutMS", _POSITIVE),
    Option("wTimeoutMS", _NON_NEGATIVE, deprecated=("wtimeout",)),
    Option("zlibCompressionLevel", _integer(-1, 9)),
    # The client backpressure specification.
    Option("maxAdaptiveRetries", _NON_NEGATIVE),
    Option("enableOverloadRetargeting", _boolean),
    # pymongo's own URI options.
    Option("tlsCRLFile", _string),
    Option("uuidRepresentation",
           _choice("unspecified", "standard", "pythonLegacy", "javaLegacy", "csharpLegacy")),
    Option("datetime_conversion",
           _choice("DATETIME", "DATETIME_CLAMP", "DATETIME_MS", "DATETIME_AUTO")),
    Option("tz_aware", _boolean),
    Option("unicode_decode_error_handler", _choice("strict", "replace", "ignore")),
    Option("fsync", _boolean),
    Option("connect", _boolean),
)  # fmt: skip

# Every spelling, lower-cased (keys are case-insensitive), to its row and whether it is deprecated.
_BY_KEY: dict[str, tuple[Option, bool]] = {}
for _option in OPTIONS:
    _BY_KEY[_option.name.lower()] = (_option, False)
    for _alias in _option.aliases:
        _BY_KEY[_alias.lower()] = (_option, False)
    for _old in _option.deprecated:
        _BY_KEY[_old.lower()] = (_option, True)
_BY_NAME = {option.name: option for option in OPTIONS}
_CANONICAL_LOWER = {option.name.lower(): option.name for option in OPTIONS}

# Conflicts the URI Options spec names: both present is an error, whatever their values.
_CONFLICTS = (
    ("tlsInsecure", "tlsAllowInvalidCertificates"),
    ("tlsInsecure", "tlsAllowInvalidHostnames"),
    ("tlsInsecure", "tlsDisableOCSPEndpointCheck"),
    ("tlsInsecure", "tlsDisableCertificateRevocationCheck"),
    ("tlsAllowInvalidCertificates", "tlsDisableOCSPEndpointCheck"),
    ("tlsAllowInvalidCertificates", "tlsDisableCertificateRevocationCheck"),
    ("tlsDisableOCSPEndpointCheck", "tlsDisableCertificateRevocationCheck"),
)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


# -- the value -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=True)
class MongoURI:
    """A parsed MongoDB connection string.

    ``hosts`` is a tuple of ``(host, port or None)``: IPv6 literals without brackets, Unix
    socket paths decoded. ``options`` maps the spec's spelling to a typed value. ``warnings``
    says what was ignored; two URIs that mean the same compare equal whatever their warnings.
    ``str()`` and ``repr()`` show the password and secret options as ``***``.
    """

    scheme: Literal["mongodb", "mongodb+srv"]
    hosts: tuple[tuple[str, int | None], ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = field(default=(), compare=False)
    #: Some option (kept, ignored or repeated) names AWS_SESSION_TOKEN: the uri holds a secret
    #: even where the parser dropped the option, so a profile refuses it.
    names_session_token: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.options, MappingProxyType):
            object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def __str__(self) -> str:
        return format_mongodb_uri(self)

    def __repr__(self) -> str:
        more = f", warnings={self.warnings!r}" if self.warnings else ""
        return f"MongoURI({format_mongodb_uri(self)!r}{more})"

    def __hash__(self) -> int:
        return hash(format_mongodb_uri(self, reveal_password=True))


# -- parsing -------------------------------------------------------------------------------------


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_mongodb_uri(uri: str) -> MongoURI:
    """Parse ``mongodb://`` or ``mongodb+srv://`` text; ``UriError`` if the spec rejects it."""
    if not isinstance(uri, str):
        raise UriError(f"a MongoDB connection string is text, not {type(uri).__name__}")
    bad = _SURROGATE.search(uri)
    if bad is not None:
        # A lone surrogate (bytes that were not UTF-8) cannot be percent-encoded, printed or
        # sent; never echoed, it may be part of a password.
        raise UriError(
            f"the connection string is not UTF-8 text (an undecodable character at position "
            f"{bad.start() + 1}); percent-encode that byte (%XX)"
        )
    scheme: Literal["mongodb", "mongodb+srv"]
    if uri.startswith("mongodb://"):
        scheme, rest = "mongodb", uri[10:]
    elif uri.startswith("mongodb+srv://"):
        scheme, rest = "mongodb+srv", uri[14:]
    else:
        raise UriError("a MongoDB connection string starts with mongodb:// or mongodb+srv://")

    # The host information ends at the first '/' or, without one, at the first '?'.
    slash, question = rest.find("/"), rest.find("?")
    if slash != -1 and (question == -1 or slash < question):
        host_info, after = rest[:slash], rest[slash + 1 :]
        db_text, _, query = after.partition("?")
    elif question != -1:
        host_info, db_text, query = rest[:question], "", rest[question + 1 :]
    else:
        host_info, db_text, query = rest, "", ""
    if "@" in db_text:
        # An unescaped '/' in the user info moved it past the host; never echo it.
        raise UriError(
            "an '@' follows the first '/': percent-encode '/' in the user name or password "
            "as %2F (or '@' in the database name as %40)"
        )

    info, at, host_list = host_info.rpartition("@")
    username = password = None
    if at:
        username, password = _parse_userinfo(info)
    hosts = _parse_hosts(host_list, scheme)
    database = _parse_database(db_text) if db_text else None
    options, warnings = _parse_options(query, scheme, hosts) if query else ({}, [])
    return MongoURI(
        scheme,
        hosts,
        username,
        password,
        database,
        MappingProxyType(options),
        tuple(warnings),
        names_session_token=_names_session_token(query),
    )


def _names_session_token(query: str) -> bool:
    """The query names AWS_SESSION_TOKEN as written, or percent-encoded (once or twice)."""
    for _ in range(3):
        if _SESSION_TOKEN in query.lower():
            return True
        query = unquote(query)
    return False


def _decode(text: str) -> str:
    """Strict percent-decoding: ValueError for a '%' without two hex digits or bad UTF-8."""
    if "%" not in text:
        return text
    if _BAD_PERCENT.search(text):
        raise ValueError("a '%' not followed by two hex digits")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        pass
    # Raised outside the handler: the decode error's .object holds the decoded bytes (a
    # password's, say), which must not stay behind as __context__.
    raise ValueError("percent-encoded bytes that are not UTF-8")


def _parse_userinfo(info: str) -> tuple[str, str | None]:
    # Messages here never quote the user info: it holds the password.
    fix = "percent-encode the user name and password (urllib.parse.quote(s, safe=''))"
    if "@" in info:
        raise UriError(f"the user name or password holds an unescaped '@'; {fix}")
    user_text, colon, password_text = info.partition(":")
    if ":" in password_text:
        raise UriError(f"the user info holds more than one ':'; {fix}")
    try:
        username = _decode(user_text)
        password = _decode(password_text) if colon else None
    except ValueError as exc:
        raise UriError(f"the user name or password has {exc}; {fix}") from None
    if not username:
        raise UriError("the user info has no user name before ':'; write user:password@host")
    return username, password


def _parse_hosts(host_list: str, scheme: str) -> tuple[tuple[str, int | None], ...]:
    if not host_list:
        raise UriError(f"no host: write {scheme}://host[:port]")
    hosts = tuple(_parse_host(entry) for entry in host_list.split(","))
    if scheme == "mongodb+srv":
        if len(hosts) != 1:
            raise UriError(
                "a mongodb+srv:// connection string names exactly one host (the SRV "
                "name); list several hosts with mongodb:// instead"
            )
        if hosts[0][1] is not None:
            raise UriError(
                "a mongodb+srv:// host takes no port (DNS supplies the ports); remove it"
            )
    return hosts


def _parse_host(entry: str) -> tuple[str, int | None]:
    if not entry:
        raise UriError("an empty host in the host list; remove the stray ','")
    if entry[0] == "[":
        close = entry.find("]")
        if close == -1:
            raise UriError(
                "an IPv6 address is missing its closing ']'; write [addr] or [addr]:port"
            )
        # RFC 6874: a zone index is written %25 inside the brackets.
        address = entry[1:close].replace("%25", "%")
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise UriError(f"[{address}] is not an IPv6 address") from None
        return address, _parse_port(address, entry[close + 1 :])
    if entry.endswith(".sock") or "%" in entry:
        try:
            path = _decode(entry)
        except ValueError as exc:
            raise UriError(f"the host {entry!r} has {exc}") from None
        if path.endswith(".sock"):
            return path, None  # a Unix domain socket: no port
        raise UriError(
            f"percent-encoding in host {entry!r} is only for Unix socket paths (which end in .sock)"
        )
    host, colon, port_text = entry.partition(":")
    if ":" in port_text:
        raise UriError(
            f"the host {host!r} is followed by more than one ':'; write an IPv6 "
            "address as [addr]:port"
        )
    if not host or not _NOT_IN_HOST.isdisjoint(host):
        raise UriError(f"{host!r} is not a host name; write host, host:port or [ipv6]:port")
    return host, _parse_port(host, colon + port_text)


def _parse_port(host: str, text: str) -> int | None:
    if not text:
        return None
    digits = text[1:]
    # Never echo the port text: with an unescaped '/' in it, it may be part of a password.
    if (
        text[0] != ":"
        or not (digits.isascii() and digits.isdigit())
        or len(digits) > 5  # and int() refuses more than 4300 digits
        or not (1 <= int(digits) <= 65535)
    ):
        raise UriError(f"the port of host {host!r} must be a number from 1 to 65535")
    return int(digits)


def _parse_database(text: str) -> str | None:
    try:
        database = _decode(text)
    except ValueError as exc:
        raise UriError(f"the database name has {exc}; percent-encode '%' as %25") from None
    for char in _FORBIDDEN_IN_DATABASE:
        if char in database:
            raise UriError(
                f"the database name {database!r} holds {char!r}, which MongoDB "
                "forbids in database names"
            )
    return database


def _parse_options(
    query: str, scheme: str, hosts: tuple[tuple[str, int | None], ...]
) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    # option -> [(key as written, raw value, deprecated spelling?)] in order of appearance.
    given: dict[Option, list[tuple[str, str, bool]]] = {}
    # '&' separates options; ';' only where no '&' is used (the spec's legacy separator).
    separator = "&" if "&" in query or ";" not in query else ";"
    for pair in query.split(separator):
        if not pair:
            continue
        key, equals, raw = pair.partition("=")
        if not equals:
            # Not quoted: with an unescaped '?' in a password, this text is the password.
            raise UriError("an option without '=': options are key=value pairs joined by '&'")
        if not key:
            raise UriError("an option with a value but no name ('=value')")
        lowered = key.lower() if key.isascii() else key
        found = _BY_KEY.get(lowered)
        if found is None:
            near = _did_you_mean(key, list(_CANONICAL_LOWER.values()))
            warnings.append(f"unknown option {key!r} ignored{near}")
            continue
        option, old = found
        given.setdefault(option, []).append((key, raw, old))

    _check_presence(given)
    values: dict[str, Any] = {}
    for option, entries in given.items():
        value = _value(option, entries, warnings)
        if value is not None:
            values[option.name] = value
    _check_values(values, scheme, hosts)
    return values, warnings


def _check_presence(given: dict[Option, list[tuple[str, str, bool]]]) -> None:
    """The spec's errors that depend only on which options are written.

    An instance with an empty value is not counted: it is ignored with a warning (``_one``),
    so it cannot conflict with anything.
    """
    names = {
        option.name: written
        for option, entries in given.items()
        if (written := [e for e in entries if e[1] != "" or option.repeat == "list"])
    }
    for first, second in _CONFLICTS:
        if first in names and second in names:
            raise UriError(
                f"{first} and {second} cannot both be given (the URI options spec "
                f"forbids it); keep one"
            )
    tls = names.get("tls", ())
    if len({raw for _, raw, _ in tls}) > 1:
        spellings = " and ".join(sorted({key for key, _, _ in tls}))
        raise UriError(f"{spellings} disagree (ssl is another name for tls); give one value")
    for option, entries in given.items():
        if option.repeat == "error" and len(entries) > 1:
            raise UriError(f"{option.name} is given {len(entries)} times; give it once")


#: Options whose value is not a secret itself but may carry one (AWS_SESSION_TOKEN:...).
_MAY_HOLD_SECRETS = frozenset({"authMechanismProperties"})


def _value(option: Option, entries: list[tuple[str, str, bool]], warnings: list[str]) -> Any:
    """The typed value of one option from its instances, or None (with a warning)."""
    if option.deprecated:
        current = [e for e in entries if not e[2]]
        for key, _, old in entries:
            if old and current:
                warnings.append(f"deprecated option {key!r} ignored: {option.name} is given too")
            elif old:
                warnings.append(f"option {key!r} is deprecated; write {option.name}")
        entries = current or entries
    if option.repeat == "list":
        items = [_one(option, key, raw, warnings, allow_empty=True) for key, raw, _ in entries]
        if any(item is None for item in items):
            return None  # one bad instance drops the list: a partial tag list reorders reads
        return items
    # An empty instance is ignored, never the "last one" that wins over a real value.
    for key, raw, _ in entries:
        if raw == "":
            warnings.append(f"{key!r} ignored: it has an empty value")
    entries = [e for e in entries if e[1] != ""]
    if not entries:
        return None
    if len(entries) > 1 and not (option.name == "tls" and len({e[1] for e in entries}) == 1):
        warnings.append(f"{option.name} is given {len(entries)} times; the last one is used")
    key, raw, _ = entries[-1]
    return _one(option, key, raw, warnings, allow_empty=False)


def _one(option: Option, key: str, raw: str, warnings: list[str], *, allow_empty: bool) -> Any:
    # A value that may hold a secret (a token inside the properties, say) is never repeated.
    shown = key if option.secret or option.name in _MAY_HOLD_SECRETS else f"{key}={raw}"
    try:
        text = _decode(raw)
    except ValueError as exc:
        warnings.append(f"{shown!r} ignored: the value has {exc}")
        return None
    if not text and not allow_empty:
        warnings.append(f"{key!r} ignored: it has an empty value")
        return None
    try:
        return option.parse(option.name, text)
    except ValueError as exc:
        warnings.append(f"{shown!r} ignored: {exc}")
        return None


def _check_values(
    values: dict[str, Any], scheme: str, hosts: tuple[tuple[str, int | None], ...]
) -> None:
    """The spec's errors that depend on the parsed values."""
    srv = scheme == "mongodb+srv"
    direct = values.get("directConnection") is True
    if direct and len(hosts) > 1:
        raise UriError(
            f"directConnection=true connects to one server but {len(hosts)} hosts "
            "are given; remove directConnection or keep one host"
        )
    if direct and srv:
        raise UriError(
            "directConnection=true cannot be used with mongodb+srv:// (it may "
            "resolve to several hosts); use mongodb://host instead"
        )
    if values.get("loadBalanced") is True:
        if len(hosts) > 1:
            raise UriError("loadBalanced=true takes exactly one host (the load balancer)")
        if direct:
            raise UriError("loadBalanced=true and directConnection=true cannot be combined")
        if "replicaSet" in values:
            raise UriError("loadBalanced=true and replicaSet cannot be combined; remove one")
    # Judged on parsed values, so a dropped (warned) value cannot leave a pair half-formed
    # that a second parse of the formatted string would then reject.
    if "proxyHost" not in values:
        for name in ("proxyPort", "proxyUsername", "proxyPassword"):
            if name in values:
                raise UriError(f"{name} needs proxyHost; add proxyHost or remove {name}")
    if ("proxyUsername" in values) != ("proxyPassword" in values):
        raise UriError("proxyUsername and proxyPassword go together; give both or neither")
    for name in ("srvServiceName", "srvMaxHosts"):
        if name in values and not srv:
            raise UriError(f"{name} is only for mongodb+srv:// connection strings; remove it")
    if values.get("srvMaxHosts", 0) > 0:
        if "replicaSet" in values:
            raise UriError("srvMaxHosts and replicaSet cannot be combined; remove one")
        if values.get("loadBalanced") is True:
            raise UriError("srvMaxHosts and loadBalanced=true cannot be combined; remove one")
    if values.get("readPreference", "primary") == "primary":
        tags = values.get("readPreferenceTags")
        if tags is not None and tags != [{}]:
            raise UriError(
                "readPreferenceTags need a readPreference other than primary "
                "(e.g. readPreference=nearest)"
            )
        if values.get("maxStalenessSeconds", -1) != -1:
            raise UriError(
                "maxStalenessSeconds needs a readPreference other than primary "
                "(e.g. readPreference=secondaryPreferred)"
            )


# -- formatting ----------------------------------------------------------------------------------


def format_mongodb_uri(uri: MongoURI, *, reveal_password: bool = False) -> str:
    """The connection string ``uri`` means; secrets are ``***`` unless ``reveal_password``.

    ``parse_mongodb_uri(format_mongodb_uri(u, reveal_password=True)) == u``.
    """
    parts = [uri.scheme, "://"]
    if uri.username is not None:
        parts.append(quote(uri.username, safe=""))
        if uri.password is not None:
            parts += [":", quote(uri.password, safe="") if reveal_password else _REDACTED]
        parts.append("@")
    parts.append(",".join(_format_host(host, port) for host, port in uri.hosts))
    if uri.database is not None or uri.options:
        parts += ["/", quote(uri.database or "", safe="")]
    if uri.options:
        pairs = []
        for name, value in uri.options.items():
            option = _BY_NAME.get(name)
            if option is not None and option.secret and not reveal_password:
                pairs.append(f"{name}={_REDACTED}")
            elif name == "readPreferenceTags":
                pairs += [f"{name}={_format_pairs(tags, reveal_password)}" for tags in value]
            else:
                pairs.append(f"{name}={_format_value(value, reveal_password)}")
        parts += ["?", "&".join(pairs)]
    return "".join(parts)


def _format_host(host: str, port: int | None) -> str:
    if host.endswith(".sock") and port is None:
        return quote(host, safe="")
    if ":" in host:
        host = "[" + host.replace("%", "%25") + "]"
    return host if port is None else f"{host}:{port}"


def _format_value(value: Any, reveal: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return ",".join(quote(item, safe=_VALUE_SAFE) for item in value)
    if isinstance(value, Mapping):
        return _format_pairs(value, reveal)
    return quote(str(value), safe=_VALUE_SAFE)


def _format_pairs(pairs: Mapping[str, str], reveal: bool) -> str:
    return ",".join(
        f"{quote(k, safe=_VALUE_SAFE)}:"
        + (_REDACTED if k in _SECRET_PROPERTIES and not reveal else quote(v, safe=_VALUE_SAFE))
        for k, v in pairs.items()
    )


# -- the profile fragment ------------------------------------------------------------------------

# Options the profile's tls and auth blocks carry instead of `options`.
_TLS_OPTIONS = frozenset(name for name in _BY_NAME if name.startswith("tls"))
_AUTH_OPTIONS = frozenset({"authMechanism", "authSource", "authMechanismProperties"})
# Options that turn TLS on when `tls` is not written, as pymongo decides (client_options.py):
# any file option, or an "allow invalid"/"disable" switch written as false.
_TLS_FILES = ("tlsCAFile", "tlsCertificateKeyFile", "tlsCRLFile")
_TLS_SWITCHES = (
    "tlsAllowInvalidCertificates",
    "tlsAllowInvalidHostnames",
    "tlsDisableOCSPEndpointCheck",
    "tlsInsecure",
)
# Spec options pymongo does not implement: refused rather than dropped.
_NOT_IN_PYMONGO = {
    "serverSelectionTryOnce": "it applies to single-threaded drivers only; remove it",
    "proxyHost": "pymongo cannot connect through a SOCKS5 proxy; remove the proxy options "
    "and route the connection another way (e.g. an SSH tunnel)",
}


def mongodb_profile_fields(uri: MongoURI) -> dict[str, Any]:
    """The canonical profile fields ``uri`` means: ``tls``, ``auth``, ``database``, ``options``.

    A key appears only when the uri sets it, so the fragment can be merged under a profile's own
    YAML. ``options`` are spelled as ``pymongo.MongoClient`` keyword arguments take them. Hosts
    are not included: the profile keeps the uri as its endpoint. A secret in the uri (password,
    ``tlsCertificateKeyFilePassword``, ``AWS_SESSION_TOKEN``) is a ``UriError``; an option
    pymongo cannot honour is ``UnsupportedSetting``.
    """
    opts = uri.options
    if uri.password is not None:
        raise UriError(
            "the uri carries a password; remove it from the uri, store it with `connprof secret "
            'set PROFILE password` and reference it as auth.password: "keyring:"'
        )
    if "tlsCertificateKeyFilePassword" in opts:
        raise UriError(
            "the uri carries tlsCertificateKeyFilePassword, a secret; remove it from the uri and "
            'reference it as tls.client_key_password: "keyring:" (connprof secret set PROFILE '
            "client_key_password)"
        )
    properties = opts.get("authMechanismProperties") or {}
    refuse_session_token(uri)
    for name, why in _NOT_IN_PYMONGO.items():
        if name in opts:
            raise UnsupportedSetting("pymongo", f"uri option {name}", why)

    fields: dict[str, Any] = {}
    tls = _tls_fields(uri)
    if tls:
        fields["tls"] = tls
    auth = {
        key: value
        for key, value in (
            ("user", uri.username),
            ("mechanism", opts.get("authMechanism")),
            ("source", opts.get("authSource")),
            ("properties", dict(properties) if properties else None),
        )
        if value is not None
    }
    if auth:
        fields["auth"] = auth
    if uri.database is not None:
        fields["database"] = uri.database
    options = {
        name: _pymongo_value(name, value)
        for name, value in opts.items()
        if name not in _TLS_OPTIONS and name not in _AUTH_OPTIONS
    }
    if options:
        fields["options"] = options
    return fields


def refuse_session_token(uri: MongoURI) -> None:
    """``UriError`` when the uri names AWS_SESSION_TOKEN anywhere, in a valid option or not.

    An option the parser ignores (malformed, repeated, misspelt) still sits in the uri's text,
    which a profile would keep and ``show`` would print.
    """
    if uri.names_session_token or "AWS_SESSION_TOKEN" in (
        uri.options.get("authMechanismProperties") or {}
    ):
        raise UriError(
            "the uri carries AWS_SESSION_TOKEN, a secret; remove it from authMechanismProperties "
            "(pymongo reads it from the AWS_SESSION_TOKEN environment variable)"
        )


def _tls_fields(uri: MongoURI) -> dict[str, Any]:
    opts = uri.options
    tls: dict[str, Any] = {}
    implied = any(opts.get(name) for name in _TLS_FILES) or any(
        opts.get(name) is False for name in _TLS_SWITCHES
    )
    if "tls" in opts:
        tls["enabled"] = opts["tls"]
        if not opts["tls"] and implied:
            # pymongo refuses this too: the TLS settings would have nothing to apply to.
            raise UriError("tls=false, yet the uri sets TLS options; remove them or set tls=true")
    elif uri.scheme == "mongodb+srv" or implied:
        tls["enabled"] = True
    for name, key in (
        ("tlsCAFile", "ca"),
        ("tlsCertificateKeyFile", "client_cert"),
        ("tlsCRLFile", "crl"),
    ):
        if name in opts:
            tls[key] = opts[name]
    if opts.get("tlsInsecure") or opts.get("tlsAllowInvalidCertificates"):
        tls["verify"] = "none"
    elif opts.get("tlsAllowInvalidHostnames"):
        tls["verify"] = "ca"
    if opts.get("tlsInsecure") or opts.get("tlsDisableOCSPEndpointCheck"):
        tls["ocsp"] = False
    if opts.get("tlsDisableCertificateRevocationCheck"):
        # Revocation is checked by OCSP, and by a CRL only when one is given; pymongo has no
        # option of this name, so "no revocation check" is said as ocsp: false.
        if "tlsCRLFile" in opts:
            raise UriError(
                "tlsDisableCertificateRevocationCheck=true contradicts tlsCRLFile (a CRL is a "
                "revocation check); remove one"
            )
        tls["ocsp"] = False
    return tls


def _pymongo_value(name: str, value: Any) -> Any:
    if name == "readPreferenceTags":
        # pymongo's keyword takes each tag set as "k:v,k:v" text and unquotes each part.
        return [",".join(f"{quote(k, safe='')}:{quote(v, safe='')}" for k, v in tags.items())
                for tags in value]  # fmt: skip
    if isinstance(value, list):
        return list(value)
    return value
