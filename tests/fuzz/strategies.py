"""Hypothesis strategies: connection strings and profile files, near-valid and hostile."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

from tests.fuzz.checks import CANARY, CANARY_ENV, ROOT, seeds

CERTS = ROOT / "sample_profiles" / "certs"

# Characters that matter to the parsers, mixed with anything at all.
_SPECIAL = st.sampled_from(list(":/@?&=,;[]%.-_!*'\"\\#\n\r\t\x00\x01\u2028\ud800\ufeffé "))
_piece = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.text(_SPECIAL, max_size=6),
    st.sampled_from(["", "0", "65535", "65536", "9" * 5000, "-1", "localhost", "::1", "[::1]",
                     "db.example.com", "h1..3", "nocertcheck", "%", "%zz", "%40"]),
)  # fmt: skip

MONGO_OPTIONS = [
    "tls", "ssl", "tlsInsecure", "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames",
    "tlsCAFile", "tlsCertificateKeyFile", "tlsCertificateKeyFilePassword",
    "tlsDisableOCSPEndpointCheck", "authMechanism", "authMechanismProperties", "authSource",
    "replicaSet", "directConnection", "loadBalanced", "connectTimeoutMS", "w", "appName",
    "readPreference", "readPreferenceTags", "srvMaxHosts", "compressors", "zlibCompressionLevel",
]  # fmt: skip


@st.composite
def mongodb_uris(draw: Any) -> str:
    scheme = draw(st.sampled_from(["mongodb://", "mongodb+srv://", "MONGODB://", "mongo://", ""]))
    user = draw(st.sampled_from(["", "app@", f"app:{CANARY}@", f"u:{CANARY}:x@", ":@"]))
    hosts = draw(st.lists(_piece, min_size=0, max_size=3))
    ports = [draw(st.sampled_from(["", ":27017", ":0", ":99999", ":x", f":{'1' * 5000}"]))
             for _ in hosts]  # fmt: skip
    host_text = ",".join(h + p for h, p in zip(hosts, ports, strict=True))
    path = draw(st.sampled_from(["", "/", "/db", "/a.b"]))
    opts = draw(
        st.lists(
            st.tuples(st.sampled_from(MONGO_OPTIONS) | _piece, _piece),
            max_size=4,
        )
    )
    query = (
        ("?" + "&".join(f"{k}={v}" for k, v in opts)) if opts else draw(st.sampled_from(["", "?"]))
    )
    return scheme + user + host_text + path + query


@st.composite
def exasol_dsns(draw: Any) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        host = draw(st.sampled_from(["db", "db1..3", "exa-01..10.example.com", "[::1]", "10.0.0.1"])
                    | _piece)  # fmt: skip
        fp = draw(st.sampled_from(["", "/" + "A" * 64, "/nocertcheck", "/NOCERTCHECK", "/zz"])
                  | _piece.map(lambda p: "/" + p))  # fmt: skip
        port = draw(st.sampled_from(["", ":8563", ":0", ":70000", ":", ":" + "9" * 5000]))
        parts.append(host + fp + port)
    prefix = draw(st.sampled_from(["", f"admin:{CANARY}@", "u@"]))
    return prefix + ",".join(parts)


_DRIVERS = ["pymongo", "mongodb", "cassandra", "crate", "cratedb", "hazelcast", "pyexasol",
            "exasol", "nope", "PyMongo"]  # fmt: skip
_PATHS = [str(CERTS / "ca.pem"), str(CERTS / "client.pem"), str(CERTS / "client.key"),
          "certs/ca.pem", "/dev/null", "/dev/zero", "/nonexistent/ca.pem", "~/ca.pem",
          ""]  # fmt: skip
_REFS = [f"env:{CANARY_ENV}", "env:UNSET_VAR_XYZ", "keyring:", "keyring:svc/user",
         "file:/nonexistent", CANARY, f"evn:{CANARY}", "vault:x/y"]  # fmt: skip

junk: Any = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _piece),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_piece, inner, max_size=3),
    max_leaves=6,
)


def _maybe(strategy: Any) -> Any:
    """Mostly a plausible value, sometimes anything."""
    return st.one_of(strategy, strategy, strategy, junk)


tls_blocks = st.one_of(
    st.booleans(),
    st.fixed_dictionaries(
        {},
        optional={
            "enabled": _maybe(st.booleans()),
            "verify": _maybe(st.sampled_from(["full", "ca", "none", "FULL", "off"])),
            "ca": _maybe(st.sampled_from(_PATHS)),
            "client_cert": _maybe(st.sampled_from(_PATHS)),
            "client_key": _maybe(st.sampled_from(_PATHS)),
            "client_key_password": _maybe(st.sampled_from(_REFS)),
            "crl": _maybe(st.sampled_from(_PATHS)),
            "min_version": _maybe(st.sampled_from(["1.0", "1.1", "1.2", "1.3", "1.4", 1.2])),
            "max_version": _maybe(st.sampled_from(["1.2", "1.3"])),
            "fingerprint": _maybe(st.sampled_from(["nocertcheck", "A" * 64, "ab:cd", ""])),
            "server_name": _maybe(st.sampled_from(["db.example.com", "", "a b"])),
            "ciphers": _maybe(st.sampled_from(["ECDHE+AESGCM", "DEFAULT", "NOT-A-CIPHER"])),
        },
    ),
)

profiles = st.fixed_dictionaries(
    {"driver": _maybe(st.sampled_from(_DRIVERS))},
    optional={
        "hosts": _maybe(st.lists(_maybe(st.sampled_from(
            ["db.example.com", "db:9042", "[::1]:1", "https://u:" + CANARY + "@h:4200",
             "127.0.0.1", "h:0", "h:" + "9" * 5000])), max_size=3)),
        "port": _maybe(st.sampled_from([9042, 0, 65536, True, "27017", 10**10])),
        "uri": _maybe(mongodb_uris()),
        "dsn": _maybe(exasol_dsns()),
        "database": _maybe(st.sampled_from(["orders", "", "a/b"])),
        "auth": _maybe(st.fixed_dictionaries({}, optional={
            "user": _maybe(st.sampled_from(["app", ""])),
            "password": _maybe(st.sampled_from(_REFS)),
            "token": _maybe(st.sampled_from(_REFS)),
            "mechanism": _maybe(st.sampled_from(["SCRAM-SHA-256", "MONGODB-AWS", "PLAIN"])),
            "properties": _maybe(st.dictionaries(st.sampled_from(
                ["AWS_SESSION_TOKEN", "SERVICE_NAME"]), st.sampled_from(["x", "y:z"]))),
        })),
        "tls": tls_blocks,
        "allow_insecure": _maybe(st.booleans()),
        "options": _maybe(st.dictionaries(st.sampled_from(MONGO_OPTIONS) | _piece, junk,
                                          max_size=3)),
        "tags": _maybe(st.lists(st.sampled_from(["prod", "dev"]), max_size=2)),
        "extends": _maybe(st.sampled_from(["p0", "p1", "missing"])),
        "description": _maybe(_piece),
    },
)  # fmt: skip


@st.composite
def sound_profiles(draw: Any) -> dict[str, Any]:
    """Profiles that mostly load: the right endpoint field per driver, TLS settings from the
    real choices, weakening with or without ``allow_insecure``; what the no-weakening check
    judges."""
    driver = draw(st.sampled_from(["pymongo", "cassandra", "crate", "hazelcast", "pyexasol"]))
    profile: dict[str, Any] = {"driver": driver}
    if driver == "pymongo":
        opts = draw(
            st.sampled_from(
                [
                    "",
                    "?tls=true",
                    "?tlsInsecure=true",
                    "?ssl=false",
                    "?tlsAllowInvalidHostnames=true",
                    "?replicaSet=rs0",
                ]
            )
        )
        profile["uri"] = f"mongodb://db1.example.com,db2.example.com/orders{opts}"
    elif driver == "pyexasol":
        fp = draw(st.sampled_from(["", "/" + "A" * 64, "/nocertcheck"]))
        profile["dsn"] = f"exa1..3.example.com{fp}:8563"
    else:
        profile["hosts"] = draw(
            st.lists(
                st.sampled_from(["db1.example.com", "db2.example.com:9043", "10.0.0.1", "[::1]"]),
                min_size=1,
                max_size=2,
                unique=True,
            )
        )
    tls = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "enabled": st.booleans(),
                "verify": st.sampled_from(["full", "ca", "none"]),
                "ca": st.sampled_from([str(CERTS / "ca.pem"), "system"]),
                "min_version": st.sampled_from(["1.0", "1.1", "1.2", "1.3"]),
                "max_version": st.sampled_from(["1.2", "1.3"]),
                "fingerprint": st.sampled_from(["nocertcheck", "AB" * 32]),
                "server_name": st.just("db.example.com"),
                "ciphers": st.sampled_from(["ECDHE+AESGCM", "HIGH:!aNULL"]),
                "client_cert": st.just(str(CERTS / "client.pem")),
            },
        )
    )
    if tls or draw(st.booleans()):
        profile["tls"] = tls or draw(st.booleans())
    if draw(st.booleans()):
        profile["allow_insecure"] = draw(st.booleans())
    if draw(st.booleans()):
        profile["auth"] = {"user": "app", "password": f"env:{CANARY_ENV}"}
    if draw(st.integers(0, 5)) == 0:
        profile["tags"] = ["prod"]
    return profile


def _mutate(text: str, edits: list[tuple[int, str]]) -> str:
    for where, insert in edits:
        i = where % (len(text) + 1)
        text = text[:i] + insert + text[i + len(insert) // 2 :]
    return text


@st.composite
def profile_files(draw: Any) -> str:
    """The text of a profile file: dumped generated profiles or a seed file, maybe mutated."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        _, text = draw(st.sampled_from(seeds()))
    elif kind == 1:
        text = yaml.safe_dump({"profiles": {"p0": draw(sound_profiles())}}, sort_keys=False)
        if draw(st.integers(0, 2)):
            return text  # unmutated: most of these load, and their arguments are judged
    else:
        body = draw(st.dictionaries(st.sampled_from(["p0", "p1", "p2"]), profiles, min_size=1,
                                    max_size=3))  # fmt: skip
        top: dict[str, Any] = {"profiles": body}
        if draw(st.booleans()):
            top["default"] = draw(st.sampled_from(["p0", "p1", "zz"]))
        if draw(st.integers(0, 4)) == 0:
            top["defaults"] = draw(st.fixed_dictionaries({}, optional={"tls": tls_blocks,
                                                                        "port": junk}))  # fmt: skip
        flow = draw(st.sampled_from([False, None, True]))
        text = yaml.safe_dump(top, sort_keys=False, allow_unicode=True, default_flow_style=flow)
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, 10**6),
                st.sampled_from(["{", "}", "[", "]", ":", "\n", "  ", "- ", "<<: *a", "&a ",
                                 "*a", "!!python/object:os.system", "\t", "\x01", '"', "'",
                                 "\ufeff", "%YAML 1.1\n", "---\n", "9" * 5000]) | _piece,
            ),
            max_size=3,
        )
    )  # fmt: skip
    return _mutate(text, edits)
