"""MongoDB connection strings: the spec's own tests, errors and warnings, secrecy, round trips,
and the profile fields a uri means, checked against what the real pymongo makes of it."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import warnings
from typing import Any

import pymongo
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connprof
from connprof import MongoURI, UriError, format_mongodb_uri, parse_mongodb_uri
from connprof._errors import UnsupportedSetting
from connprof._uri.mongodb import OPTIONS, mongodb_profile_fields
from tests.helpers import SHARED, need_shared

# The spec files are CC BY-NC-SA: read from ../shared at run time, never copied in. A user's
# clone has no ../shared: skipped there, a failure where CONNPROF_REQUIRE_SHARED=1 (CI).
SPECS = SHARED / "specs" / "mongodb"
SECRET = "hunter2-SECRET"


# -- the specification's tests -----------------------------------------------------------------


def _spec_cases() -> list[Any]:
    files = sorted(SPECS.glob("*/*.json"))
    if not files:
        return [pytest.param(None, id="specs-missing")]
    return [
        pytest.param(case, id=f"{f.parent.name}/{f.stem}: {case['description']}")
        for f in files
        for case in json.loads(f.read_text(encoding="utf-8"))["tests"]
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", _spec_cases())
def test_specification(case: dict[str, Any] | None) -> None:
    if case is None:
        need_shared(SPECS, "the MongoDB specification's own tests")
        pytest.fail(f"{SPECS} is there but holds no */*.json spec tests")
    if not case["valid"]:
        with pytest.raises(UriError):
            parse_mongodb_uri(case["uri"])
        return
    uri = parse_mongodb_uri(case["uri"])
    if case.get("warning") is not None:
        assert bool(uri.warnings) == case["warning"], uri.warnings
    if case.get("hosts") is not None:
        assert len(uri.hosts) == len(case["hosts"])
        for (host, port), expected in zip(uri.hosts, case["hosts"], strict=True):
            assert host == expected["host"]
            if expected.get("port") is not None:
                assert port == expected["port"]
    if case.get("auth") is not None:
        auth = case["auth"]
        for key, got in (("username", uri.username), ("password", uri.password),
                         ("db", uri.database)):  # fmt: skip
            if auth.get(key) is not None:
                assert got == auth[key]
    lowered = {("tls" if k.lower() == "ssl" else k.lower()): v for k, v in uri.options.items()}
    for name, expected in (case.get("options") or {}).items():
        key = "tls" if name.lower() == "ssl" else name.lower()
        assert key in lowered, f"{name} missing from {sorted(uri.options)}"
        assert _plain(lowered[key]) == expected


# -- what a user sees ----------------------------------------------------------------------------


def test_parts_are_decoded_and_typed() -> None:
    uri = parse_mongodb_uri(
        "mongodb://app%40corp:p%3Ass@db1.example.com:27018,[::1],%2Ftmp%2Fmongo.sock/orders"
        "?REPLICASET=rs0&ssl=true&w=2&compressors=zlib,zstd&readPreference=nearest"
        "&readPreferenceTags=dc:ny,rack:1&readPreferenceTags=&authMechanismProperties="
        "SERVICE_NAME:mongo,CANONICALIZE_HOST_NAME:forward&connectTimeoutMS=2000"
    )
    assert uri.scheme == "mongodb"
    assert uri.hosts == (("db1.example.com", 27018), ("::1", None), ("/tmp/mongo.sock", None))
    assert (uri.username, uri.password, uri.database) == ("app@corp", "p:ss", "orders")
    assert dict(uri.options) == {
        "replicaSet": "rs0",
        "tls": True,
        "w": 2,
        "compressors": ["zlib", "zstd"],
        "readPreference": "nearest",
        "readPreferenceTags": [{"dc": "ny", "rack": "1"}, {}],
        "authMechanismProperties": {"SERVICE_NAME": "mongo", "CANONICALIZE_HOST_NAME": "forward"},
        "connectTimeoutMS": 2000,
    }
    assert uri.warnings == ()


def test_the_value_is_frozen() -> None:
    uri = parse_mongodb_uri("mongodb://h/?w=1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        uri.database = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        uri.options["w"] = 2  # type: ignore[index]
    assert hash(uri) == hash(parse_mongodb_uri("mongodb://h/?w=1"))


def test_one_option_table_with_unique_spellings() -> None:
    spellings = [s.lower() for o in OPTIONS for s in (o.name, *o.aliases, *o.deprecated)]
    assert len(spellings) == len(set(spellings))
    assert {o.name for o in OPTIONS if o.secret} == {
        "proxyPassword",
        "tlsCertificateKeyFilePassword",
    }


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "starts with mongodb:// or mongodb+srv://"),
        ("MongoDB://h", "starts with mongodb:// or mongodb+srv://"),
        ("mongodb://", "no host"),
        ("mongodb://h1,,h2", "empty host"),
        ("mongodb://h:0", "port of host 'h' must be a number from 1 to 65535"),
        ("mongodb://h:", "port of host 'h'"),
        ("mongodb://[::1", "closing ']'"),
        ("mongodb://[db.example.com]", "not an IPv6 address"),
        ("mongodb://::1", "IPv6 address as [addr]:port"),
        ("mongodb://ho st", "not a host name"),
        ("mongodb://h%2Dx", "only for Unix socket paths"),
        ("mongodb://h/a$b", "forbids in database names"),
        ("mongodb://h/?w", "key=value"),
        ("mongodb://h/?=1", "no name"),
        ("mongodb+srv://a.example.com,b.example.com", "exactly one host"),
        ("mongodb+srv://a.example.com:27017", "takes no port"),
        ("mongodb://h/?tlsInsecure=true&tlsAllowInvalidHostnames=false",
         "tlsInsecure and tlsAllowInvalidHostnames cannot both be given"),
        ("mongodb://h/?tls=true&ssl=false", "ssl and tls disagree"),
        ("mongodb://a,b/?directConnection=true", "directConnection=true connects to one server"),
        ("mongodb+srv://a.example.com/?directConnection=true", "cannot be used with mongodb+srv"),
        ("mongodb://a/?loadBalanced=true&replicaSet=rs", "loadBalanced=true and replicaSet"),
        ("mongodb://a/?srvServiceName=db", "only for mongodb+srv://"),
        ("mongodb://a/?proxyHost=p&proxyHost=q", "proxyHost is given 2 times"),
        ("mongodb://a/?proxyUsername=u&proxyPassword=x&proxyHost=p&proxyUsername=v",
         "given 2 times"),
        ("mongodb://a/?proxyPort=1080", "proxyPort needs proxyHost"),
        ("mongodb://a/?readPreferenceTags=dc:ny", "need a readPreference other than primary"),
        ("mongodb://a/?maxStalenessSeconds=90", "needs a readPreference other than primary"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_a_fix(uri: str, message: str) -> None:
    with pytest.raises(UriError) as info:
        parse_mongodb_uri(uri)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("uri", "warning"),
    [
        ("mongodb://h/?replSet=rs0",
         "unknown option 'replSet' ignored; did you mean 'replicaSet'?"),
        ("mongodb://h/?tlscafle=x", "did you mean 'tlsCAFile'?"),
        ("mongodb://h/?colour=red", "unknown option 'colour' ignored"),
        ("mongodb://h/?readPreference=Nearest",
         "readPreference must be one of primary, primaryPreferred, secondary, "
         "secondaryPreferred, nearest; did you mean 'nearest'?"),
        ("mongodb://h/?authMechanism=scram-sha-256", "did you mean 'SCRAM-SHA-256'?"),
        ("mongodb://h/?journal=1", "'journal=1' ignored: journal must be true or false"),
        ("mongodb://h/?heartbeatFrequencyMS=100", "heartbeatFrequencyMS must be an integer of at "
         "least 500"),
        ("mongodb://h/?zlibCompressionLevel=10", "from -1 to 9"),
        ("mongodb://h/?compressors=lz4", "compressors takes snappy, zlib, zstd, not lz4"),
        ("mongodb://h/?maxIdleTimeMS=", "'maxIdleTimeMS' ignored: it has an empty value"),
        ("mongodb://h/?w=1&w=2", "w is given 2 times; the last one is used"),
        ("mongodb://h/?wtimeout=5", "option 'wtimeout' is deprecated; write wTimeoutMS"),
        ("mongodb://h/?appname=%ZZ", "a '%' not followed by two hex digits"),
        ("mongodb+srv://h.example.com/?srvServiceName=x_-bad",
         "srvServiceName must be an SRV service name"),
    ],
)  # fmt: skip
def test_warnings_say_what_was_ignored(uri: str, warning: str) -> None:
    parsed = parse_mongodb_uri(uri)
    assert any(warning in w for w in parsed.warnings), parsed.warnings


def test_warned_options_are_dropped_and_the_rest_kept() -> None:
    uri = parse_mongodb_uri("mongodb://h/?w=majority&journal=maybe&replSet=x&wtimeout=5"
                            "&wTimeoutMS=10&w=2")  # fmt: skip
    assert dict(uri.options) == {"w": 2, "wTimeoutMS": 10}
    assert len(uri.warnings) == 4


def test_semicolons_separate_options_only_without_ampersands() -> None:
    assert dict(parse_mongodb_uri("mongodb://h/?w=1;journal=true").options) == {
        "w": 1,
        "journal": True,
    }
    assert parse_mongodb_uri("mongodb://h/?appname=a;b&w=1").options["appname"] == "a;b"


# -- no secret escapes ---------------------------------------------------------------------------

_WITH_SECRETS = [
    f"mongodb://app:{SECRET}@h1,h2/db?replicaSet=rs",
    f"mongodb://app:{SECRET}@h/?tlsCertificateKeyFilePassword={SECRET}&foo=1",
    f"mongodb://h/?proxyHost=p&proxyUsername=u&proxyPassword={SECRET}&replSet=x",
    f"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}",
    f"mongodb://app:{SECRET}@h/?tlsCertificateKeyFilePassword=&w=2&w=3",
]


@pytest.mark.parametrize("text", _WITH_SECRETS)
def test_secrets_never_show(text: str) -> None:
    uri = parse_mongodb_uri(text)
    shown = [repr(uri), str(uri), format_mongodb_uri(uri), *uri.warnings, f"{uri!r}"]
    assert not [s for s in shown if SECRET in s]
    assert "***" in str(uri)
    # Asked for, they come back.
    assert SECRET in format_mongodb_uri(uri, reveal_password=True)


@pytest.mark.parametrize(
    "text",
    [
        f"mongodb://app:{SECRET}@@h",
        f"mongodb://app:{SECRET}:x@h",
        f"mongodb://app:{SECRET}/x@h/db",
        f"mongodb://app:{SECRET}%@h",
        f"mongodb://app:{SECRET}@h:0",
        f"mongodb://app:{SECRET}@h1,h2/?directConnection=true",
        f"mongodb://app:{SECRET}@h/?tls=true&ssl=false",
        f"mongodb://app:1234/{SECRET}@h",
        f"mongodb://app:1234?{SECRET}@h",
        f"mongodb://h/?proxyPassword={SECRET}",
        f"mongodb://h/?proxyHost=p&proxyPassword={SECRET}&proxyPassword={SECRET}",
    ],
)
def test_error_messages_never_show_the_password(text: str) -> None:
    with pytest.raises(UriError) as info:
        parse_mongodb_uri(text)
    assert SECRET not in str(info.value)
    assert "1234" not in str(info.value)


def test_a_secret_in_the_uri_is_refused_for_a_profile() -> None:
    for text, where in [
        (f"mongodb://app:{SECRET}@h", "auth.password"),
        (f"mongodb://h/?tlsCertificateKeyFilePassword={SECRET}", "tls.client_key_password"),
        (f"mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}", "AWS_SESSION_TOKEN"),
    ]:
        with pytest.raises(UriError) as info:
            mongodb_profile_fields(parse_mongodb_uri(text))
        assert where in str(info.value)
        assert SECRET not in str(info.value)


# -- round trips ---------------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_HOSTNAME = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
_PORT = st.none() | st.integers(1, 65535)
_HOST = st.one_of(
    st.tuples(_HOSTNAME, _PORT),
    st.tuples(st.ip_addresses(v=6).map(str), _PORT),
    st.tuples(_TEXT.map(lambda s: f"/tmp/{s}.sock"), st.none()),
)
_NO_COMMA = _TEXT.filter(lambda s: "," not in s)
_TAG_KEY = _NO_COMMA.filter(lambda s: ":" not in s)


def _value_for(name: str) -> st.SearchStrategy[Any]:
    """Valid values for one option, found by asking its own validator."""
    option = next(o for o in OPTIONS if o.name == name)
    if name == "w":
        return st.just("majority") | st.integers(0, 5)
    for raw in ("true", "5", "600", "primary", "standard", "auto", "SCRAM-SHA-256"):
        try:
            value = option.parse(name, raw)
        except ValueError:
            continue
        if isinstance(value, bool):
            return st.booleans()
        if isinstance(value, int):
            return st.integers(-1, 10_000).filter(lambda v: _ok(option, name, v))
        return st.just(value)
    return _TEXT


def _ok(option: Any, name: str, value: int) -> bool:
    try:
        option.parse(name, str(value))
    except ValueError:
        return False
    return True


_SIMPLE = [
    "appname", "authSource", "connectTimeoutMS", "heartbeatFrequencyMS", "journal",
    "localThresholdMS", "maxIdleTimeMS", "maxPoolSize", "maxConnecting", "minPoolSize",
    "readConcernLevel", "replicaSet", "retryReads", "retryWrites", "serverMonitoringMode",
    "serverSelectionTimeoutMS", "socketTimeoutMS", "timeoutMS", "tls", "tlsCAFile",
    "tlsCertificateKeyFile", "tlsCertificateKeyFilePassword", "w", "waitQueueTimeoutMS",
    "wTimeoutMS", "zlibCompressionLevel", "uuidRepresentation", "tz_aware", "authMechanism",
]  # fmt: skip


@st.composite
def mongo_uris(draw: st.DrawFn) -> MongoURI:
    srv = draw(st.booleans())
    hosts = (
        ((draw(_HOSTNAME), None),) if srv else tuple(draw(st.lists(_HOST, min_size=1, max_size=3)))
    )
    username = draw(st.none() | _TEXT)
    password = draw(st.none() | st.text(max_size=8)) if username is not None else None
    database = draw(st.none() | _TEXT.filter(lambda s: not set(s) & set('/\\ "$')))
    options: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(_SIMPLE), unique=True, max_size=8)):
        value = draw(_value_for(name))
        if name == "appname":
            value = value[:20]
        options[name] = value
    if draw(st.booleans()):
        options["readPreference"] = "secondaryPreferred"
        options["readPreferenceTags"] = draw(
            st.lists(st.dictionaries(_TAG_KEY, _NO_COMMA, max_size=2), min_size=1, max_size=3)
        )
        options["maxStalenessSeconds"] = draw(st.sampled_from([-1, 90, 600]))
    if draw(st.booleans()):
        options["compressors"] = draw(st.lists(st.sampled_from(["zlib", "zstd", "snappy"]),
                                               min_size=1, max_size=3))  # fmt: skip
    if draw(st.booleans()):
        options["authMechanismProperties"] = {
            "SERVICE_NAME": draw(_NO_COMMA),
            "CANONICALIZE_HOST_NAME": draw(st.sampled_from(["forward", "none", "true"])),
        }
    if srv and draw(st.booleans()):
        options["srvServiceName"] = "mongodb"
        options["srvMaxHosts"] = draw(st.integers(0, 5))
        if options["srvMaxHosts"]:
            options.pop("replicaSet", None)
    return MongoURI(
        "mongodb+srv" if srv else "mongodb", hosts, username, password, database, options
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mongo_uris())
def test_format_then_parse_is_the_identity(uri: MongoURI) -> None:
    text = format_mongodb_uri(uri, reveal_password=True)
    again = parse_mongodb_uri(text)
    assert again == uri
    assert again.warnings == ()
    assert format_mongodb_uri(again, reveal_password=True) == text


_URI_CHARS = st.sampled_from([*"ab1:@/?&=%,.[];25F", "sock", "tls=true", "w=1", "::1"])


@settings(max_examples=500)
@given(st.sampled_from(["mongodb://", "mongodb+srv://"]), st.lists(_URI_CHARS, max_size=20))
def test_parse_format_parse_is_the_identity_on_any_text(scheme: str, parts: list[str]) -> None:
    try:
        first = parse_mongodb_uri(scheme + "".join(parts))
    except UriError:
        return  # refusing is fine; crashing with anything else is not
    second = parse_mongodb_uri(format_mongodb_uri(first, reveal_password=True))
    assert second == first
    assert second.warnings == ()


# -- the profile fragment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tls"),
    [
        ("mongodb://h", None),
        ("mongodb://h/?tls=false", {"enabled": False}),
        ("mongodb+srv://h.example.com", {"enabled": True}),
        ("mongodb+srv://h.example.com/?tls=false", {"enabled": False}),
        ("mongodb://h/?ssl=true", {"enabled": True}),
        ("mongodb://h/?tlsCAFile=ca.pem", {"enabled": True, "ca": "ca.pem"}),
        ("mongodb://h/?tls=true&tlsCertificateKeyFile=c.pem&tlsCRLFile=r.pem",
         {"enabled": True, "client_cert": "c.pem", "crl": "r.pem"}),
        ("mongodb://h/?tls=true&tlsInsecure=true",
         {"enabled": True, "verify": "none", "ocsp": False}),
        ("mongodb://h/?tls=true&tlsAllowInvalidCertificates=true",
         {"enabled": True, "verify": "none"}),
        ("mongodb://h/?tls=true&tlsAllowInvalidHostnames=true", {"enabled": True, "verify": "ca"}),
        ("mongodb://h/?tls=true&tlsAllowInvalidHostnames=true&tlsAllowInvalidCertificates=true",
         {"enabled": True, "verify": "none"}),
        ("mongodb://h/?tls=true&tlsDisableOCSPEndpointCheck=true",
         {"enabled": True, "ocsp": False}),
        ("mongodb://h/?tls=true&tlsDisableCertificateRevocationCheck=true",
         {"enabled": True, "ocsp": False}),
        ("mongodb://h/?tlsAllowInvalidHostnames=false", {"enabled": True}),
    ],
)  # fmt: skip
def test_tls_fields(text: str, tls: dict[str, Any] | None) -> None:
    assert mongodb_profile_fields(parse_mongodb_uri(text)).get("tls") == tls


def test_auth_database_and_options_fields() -> None:
    fields = mongodb_profile_fields(
        parse_mongodb_uri(
            "mongodb://user%40REALM@h1,h2/orders?authMechanism=GSSAPI&authSource=%24external"
            "&authMechanismProperties=SERVICE_NAME:mongo&replicaSet=rs0&w=majority"
            "&readPreference=nearest&readPreferenceTags=dc:n%2By,rack:1&readPreferenceTags="
        )
    )
    assert fields == {
        "auth": {
            "user": "user@REALM",
            "mechanism": "GSSAPI",
            "source": "$external",
            "properties": {"SERVICE_NAME": "mongo"},
        },
        "database": "orders",
        "options": {
            "replicaSet": "rs0",
            "w": "majority",
            "readPreference": "nearest",
            "readPreferenceTags": ["dc:n%2By,rack:1", ""],
        },
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mongodb://h/?tls=false&tlsCAFile=ca.pem", "tls=false, yet the uri sets TLS options"),
        ("mongodb://h/?tls=true&tlsDisableCertificateRevocationCheck=true&tlsCRLFile=r.pem",
         "contradicts tlsCRLFile"),
    ],
)  # fmt: skip
def test_contradictions_are_uri_errors(text: str, message: str) -> None:
    with pytest.raises(UriError, match=re.escape(message)):
        mongodb_profile_fields(parse_mongodb_uri(text))


@pytest.mark.parametrize(
    "text",
    [
        "mongodb://h/?serverSelectionTryOnce=false",
        "mongodb://h/?proxyHost=socks.example.com&proxyPort=1080",
    ],
)
def test_what_pymongo_cannot_do_is_refused(text: str) -> None:
    with pytest.raises(UnsupportedSetting) as info:
        mongodb_profile_fields(parse_mongodb_uri(text))
    assert info.value.driver == "pymongo"


# -- the fragment means to pymongo what the uri means --------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    ca.issue_cert("client.example.com").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "client.pem")
    )
    key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject
    now = datetime.datetime.now(datetime.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now)
        .next_update(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (folder / "crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return {name: str(folder / f"{name}.pem") for name in ("ca", "client", "crl")}


def _kwargs(uri: MongoURI) -> dict[str, Any]:
    """The fragment as ``MongoClient`` keywords, spelling the tls/auth blocks as the contract
    defines them (``verify: ca`` is hostname checks off, ``ocsp: false`` the OCSP check off)."""
    fields = mongodb_profile_fields(uri)
    kw = dict(fields.get("options", {}))
    tls = fields.get("tls", {})
    for key, name in (("enabled", "tls"), ("ca", "tlsCAFile"),
                      ("client_cert", "tlsCertificateKeyFile"), ("crl", "tlsCRLFile")):  # fmt: skip
        if key in tls:
            kw[name] = tls[key]
    if tls.get("verify") == "none":
        kw["tlsAllowInvalidCertificates"] = True
    else:
        if tls.get("verify") == "ca":
            kw["tlsAllowInvalidHostnames"] = True
        if tls.get("ocsp") is False:
            kw["tlsDisableOCSPEndpointCheck"] = True
    auth = fields.get("auth", {})
    names = {"user": "username", "mechanism": "authMechanism", "source": "authSource",
             "properties": "authMechanismProperties"}  # fmt: skip
    for key, name in names.items():
        if key in auth:
            kw[name] = auth[key]
    return kw


def _effective(client: Any) -> dict[str, Any]:
    """What a MongoClient will do, read from its parsed options (no server needed)."""
    o = client.options
    pool = o.pool_options
    ctx = pool._ssl_context
    raw = {k.lower(): v for k, v in o._options.items()}
    cred = pool._credentials
    compression = pool._compression_settings
    return {
        "seeds": sorted(client._topology_settings.seeds),
        "codec": o.codec_options,
        "direct": o.direct_connection,
        "heartbeat": o.heartbeat_frequency,
        "load_balanced": o.load_balanced,
        "local_threshold": o.local_threshold_ms,
        "read_concern": o.read_concern.document,
        "read_preference": (o.read_preference.mode, o.read_preference.document),
        "replica_set": o.replica_set_name,
        "retry": (o.retry_reads, o.retry_writes),
        "monitoring": o.server_monitoring_mode,
        "selection_timeout": o.server_selection_timeout,
        "timeout": o.timeout,
        "write_concern": o.write_concern.document,
        "pool": (
            pool.appname,
            pool.connect_timeout,
            pool.max_connecting,
            pool.max_idle_time_seconds,
            pool.max_pool_size,
            pool.min_pool_size,
            pool.socket_timeout,
            pool.wait_queue_timeout,
        ),
        "compression": (compression.compressors, compression.zlib_compression_level),
        "tls": None
        if ctx is None
        else (ctx.verify_mode, ctx.check_hostname, ctx.verify_flags, len(ctx.get_ca_certs())),
        "ocsp_off": bool(
            raw.get("tlsdisableocspendpointcheck")
            or raw.get("tlsinsecure")
            or raw.get("tlsallowinvalidcertificates")
        ),
        "credentials": None
        if cred is None
        else (cred.mechanism, cred.source, cred.username, _properties(cred.mechanism_properties)),
    }


def _properties(props: Any) -> Any:
    # OIDC properties hold a callback object made per client: compare its type, not identity.
    if dataclasses.is_dataclass(props):
        values = {f.name: getattr(props, f.name) for f in dataclasses.fields(props)}
        return {k: type(v) if k == "callback" else v for k, v in values.items()}
    return props


_SAME_MEANING = [
    "mongodb://h1:27017,h2/orders?replicaSet=rs0&readPreference=secondaryPreferred"
    "&readPreferenceTags=dc:ny,rack:1&readPreferenceTags=&maxStalenessSeconds=120&w=majority"
    "&wTimeoutMS=2500&journal=true&readConcernLevel=majority",
    "mongodb://h/?maxPoolSize=50&minPoolSize=5&maxIdleTimeMS=60000&maxConnecting=3"
    "&waitQueueTimeoutMS=1000&connectTimeoutMS=2000&socketTimeoutMS=0"
    "&serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=15000&localThresholdMS=30"
    "&appname=orders-api&compressors=zlib&zlibCompressionLevel=6&retryWrites=false"
    "&retryReads=false&timeoutMS=1000&serverMonitoringMode=poll",
    "mongodb://h/db?w=0&fsync=true&uuidRepresentation=standard&tz_aware=true"
    "&datetime_conversion=DATETIME_AUTO&unicode_decode_error_handler=replace",
    "mongodb://h/?directConnection=true",
    "mongodb://h/?loadBalanced=true",
    "mongodb://%2Ftmp%2Fmongodb-27017.sock/admin?w=2",
    "mongodb://[::1]:27018,h2/?readPreference=nearest&readPreferenceTags=dc:n%2By",
    "mongodb://h/?tls=true&tlsCAFile={ca}&tlsCertificateKeyFile={client}",
    "mongodb://h/?tlsCAFile={ca}",
    "mongodb://h/?ssl=true&tlsAllowInvalidHostnames=true&tlsCAFile={ca}",
    "mongodb://h/?tls=true&tlsInsecure=true",
    "mongodb://h/?tls=true&tlsAllowInvalidCertificates=true",
    "mongodb://h/?tls=true&tlsDisableOCSPEndpointCheck=true&tlsCAFile={ca}",
    "mongodb://h/?tls=true&tlsCRLFile={crl}&tlsCAFile={ca}",
    "mongodb://h/?tls=false",
    "mongodb://h/?tlsInsecure=false",
    "mongodb://h/?tlsAllowInvalidHostnames=false&tlsCAFile={ca}",
    "mongodb://app@h1,h2/orders?authSource=admin&authMechanism=SCRAM-SHA-256",
    "mongodb://app@h/orders",
    "mongodb://CN%3Dclient@h/?authMechanism=MONGODB-X509&tlsCertificateKeyFile={client}"
    "&tlsCAFile={ca}",
    "mongodb://user%40EXAMPLE.COM@h/?authMechanism=GSSAPI"
    "&authMechanismProperties=SERVICE_NAME:mongo,CANONICALIZE_HOST_NAME:forward",
    "mongodb://h/?authMechanism=MONGODB-AWS",
    "mongodb://h/?authMechanism=MONGODB-OIDC"
    "&authMechanismProperties=ENVIRONMENT:azure,TOKEN_RESOURCE:api://mongo",
]


@pytest.mark.parametrize("template", _SAME_MEANING)
def test_the_fragment_gives_pymongo_the_same_options(template: str, pki: dict[str, str]) -> None:
    text = template.format(**pki)
    uri = parse_mongodb_uri(text)
    assert uri.warnings == ()
    # A user without a password needs one from the profile's secret, on both sides alike.
    needs_password = uri.username is not None and uri.options.get("authMechanism") in (
        None, "SCRAM-SHA-256", "PLAIN",
    )  # fmt: skip
    extra = {"password": "from-the-keyring"} if needs_password else {}
    if uri.options.get("authMechanism") == "MONGODB-OIDC":
        extra["username"] = "app"
    # The endpoint: seeds and database only, no user, no options.
    host = format_mongodb_uri(dataclasses.replace(uri, username=None, options={}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_uri = pymongo.MongoClient(text, connect=False, **extra)
        from_fields = pymongo.MongoClient(host, **_kwargs(uri), **extra, connect=False)
    try:
        assert _effective(from_fields) == _effective(from_uri)
    finally:
        from_uri.close()
        from_fields.close()


def test_the_comparison_can_tell_a_difference(pki: dict[str, str]) -> None:
    # The check above is only worth something if _effective sees what the options change.
    base = pymongo.MongoClient("mongodb://h/?tls=true", connect=False)
    changes = ["tlsAllowInvalidHostnames=true", "tlsInsecure=true", f"tlsCRLFile={pki['crl']}",
               "w=2", "readPreference=nearest", "maxPoolSize=3", "compressors=zlib"]  # fmt: skip
    for other in changes:
        client = pymongo.MongoClient(f"mongodb://h/?tls=true&{other}", connect=False)
        assert _effective(client) != _effective(base), other
        client.close()
    base.close()


def test_srv_turns_tls_on() -> None:
    # pymongo does the same (it cannot be shown here without DNS: it resolves SRV on parsing).
    fields = mongodb_profile_fields(parse_mongodb_uri("mongodb+srv://cluster0.example.com"))
    assert fields == {"tls": {"enabled": True}}


def test_public_names() -> None:
    assert connprof.parse_mongodb_uri is parse_mongodb_uri
    assert connprof.format_mongodb_uri is format_mongodb_uri
    assert connprof.MongoURI is MongoURI
