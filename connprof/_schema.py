"""The JSON Schema of a profile file, generated from the models (``schemas/`` holds a copy).

The models describe the *merged* profile; a file holds partial profiles (a personal overlay
may add only ``auth``), so the file schema relaxes what only the merge can check (``driver``
required) and accepts the input spellings the models normalise (``tls: true``, driver
aliases, ``min_version: 1.2`` as a number).
"""

from __future__ import annotations

import json
from typing import Any

from ._models import Profile
from ._secretref import KINDS
from .drivers._registry import ALIASES, BUILTIN

__all__ = ["SCHEMA_ID", "build_schema", "format_schema"]

SCHEMA_ID = "https://connprof.invalid/schemas/connprof.schema.json"
_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
_SECRET = {
    "type": "string",
    # The built-in kinds exactly; any other KIND:... may be a plugin's (connprof.secret_sources),
    # which only loading can tell, so editors must not flag vault:db/prod.
    "pattern": r"^(keyring:(.+/.+)?|env:[A-Za-z_][A-Za-z0-9_]*|file:.+|exec:.*\S.*"
    rf"|(?!({'|'.join(KINDS)}):)[A-Za-z_][A-Za-z0-9_]*:.*)$",
    "description": "A secret reference, never the secret: keyring:, keyring:SERVICE/USER, "
    "env:NAME, file:PATH, exec:COMMAND ARGS, or KIND:... from an installed secret-source plugin.",
}
_VERSION = {"anyOf": [{"enum": ["1.0", "1.1", "1.2", "1.3"]}, {"enum": [1.0, 1.1, 1.2, 1.3]}]}

DESCRIPTIONS = {
    "Profile.description": "Free text.",
    "Profile.tags": "Free labels; the tag prod makes lint stricter.",
    "Profile.extends": "Another profile whose fields deep-merge under this one.",
    "Profile.uri": "pymongo: a MongoDB connection string (no password in it).",
    "Profile.dsn": "pyexasol: an Exasol DSN, host[a..b][/FINGERPRINT|/nocertcheck][:port], ...",
    "Profile.hosts": "Endpoints: host, host:port or [v6]:port; crate also takes https:// URLs.",
    "Profile.port": "Port for hosts without one; defaults to the driver's port.",
    "Profile.database": "Default database, keyspace or schema; redis: the database number.",
    "Profile.options": "Extra driver keyword arguments, passed verbatim (no TLS or auth keys).",
    "Profile.allow_insecure": (
        "Acknowledges a setting that turns verification off or below TLS 1.2."
    ),
    "Profile.tls": "true, false, or the TLS block.",
    "TLS.enabled": "TLS on or off; true when the block is written in a profile.",
    "TLS.verify": "full: chain and hostname; ca: chain only; none: no verification.",
    "TLS.ca": "PEM bundle path (relative to this file), or system for the OS trust store.",
    "TLS.client_cert": "Client certificate PEM (may hold the key too).",
    "TLS.client_key": "Client key PEM.",
    "TLS.crl": "Certificate revocation list PEM.",
    "TLS.fingerprint": "SHA-256 of the server's DER certificate (64 hex digits) or nocertcheck.",
    "TLS.min_version": "Lowest TLS version; default 1.2.",
    "TLS.max_version": "Highest TLS version.",
    "TLS.ciphers": "OpenSSL cipher string.",
    "TLS.server_name": "Name to send as SNI and to verify, when it differs from the host.",
    "TLS.ocsp": "OCSP endpoint checks where the driver supports them.",
    "Auth.user": "User name.",
    "Auth.mechanism": "MongoDB authMechanism; psycopg: libpq's require_auth (scram-sha-256 ...).",
    "Auth.source": "MongoDB authSource.",
    "Auth.properties": "MongoDB authMechanismProperties.",
}
_SECRETS = ("Auth.password", "Auth.token", "Auth.refresh_token", "TLS.client_key_password")


def _tidy(model: str, schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    schema.pop("required", None)  # partial profiles: the merge checks what is required
    props = schema["properties"]
    props.pop("name", None)
    for key, prop in props.items():
        prop.pop("title", None)
        if model == "Profile":
            prop.pop("default", None)  # the merged defaults would mislead in a partial profile
        dotted = f"{model}.{key}"
        if dotted in _SECRETS:
            props[key] = dict(_SECRET)
        elif key in ("min_version", "max_version"):
            props[key] = {**_VERSION, "description": DESCRIPTIONS[dotted]}
        elif key == "fingerprint":
            props[key] = {
                "type": "string",
                "pattern": "^([0-9A-Fa-f:]+|[Nn][Oo][Cc][Ee][Rr][Tt][Cc][Hh][Ee][Cc][Kk])$",
            }
        if dotted in DESCRIPTIONS:
            props[key]["description"] = DESCRIPTIONS[dotted]
    return schema


def build_schema() -> dict[str, Any]:
    """The draft 2020-12 schema of one profile file."""
    generated = Profile.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    defs = {name: _tidy(name, d) for name, d in generated.pop("$defs").items()}
    profile = _tidy("Profile", generated)
    profile["description"] = "A profile, or the part of it one file adds."
    props = profile["properties"]
    props["driver"] = {
        "enum": [*BUILTIN, *ALIASES],
        "description": "The driver the arguments are for; aliases " + ", ".join(ALIASES) + ".",
    }
    props["tls"] = {
        "anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/TLS"}],
        "description": DESCRIPTIONS["Profile.tls"],
    }
    props["auth"] = {"$ref": "#/$defs/Auth"}
    props["extends"] = {
        "type": "string",
        "pattern": _NAME,
        "description": DESCRIPTIONS["Profile.extends"],
    }
    defs["Profile"] = profile
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "connprof profile file",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1, "description": "The format version; only 1 exists."},
            "default": {
                "type": "string",
                "pattern": _NAME,
                "description": "The profile used when none is named.",
            },
            "defaults": {
                "$ref": "#/$defs/Profile",
                "description": "A partial profile deep-merged under every profile of this file.",
            },
            "profiles": {
                "type": "object",
                "propertyNames": {"pattern": _NAME},
                "additionalProperties": {"$ref": "#/$defs/Profile"},
            },
        },
        "$defs": dict(sorted(defs.items())),
    }


def format_schema() -> str:
    """The schema as the text checked in under ``schemas/``."""
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"
