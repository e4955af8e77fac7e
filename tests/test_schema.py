"""The checked-in JSON Schema: no drift from the models; it accepts and refuses what it should."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from connprof._schema import build_schema, format_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schemas" / "connprof.schema.json"
SAMPLES = ROOT / "sample_profiles"
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".yaml", ".yml"))
SCHEMA_COMMENT = "# yaml-language-server: $schema="


def sample_params() -> list[Any]:
    if not SAMPLE_FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no sample_profiles/*.yaml yet"))]
    return [pytest.param(p, id=str(p.relative_to(SAMPLES))) for p in SAMPLE_FILES]


@pytest.fixture(scope="module")
def validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_checked_in_schema_matches_the_models() -> None:
    regenerate = "python -m connprof schema > schemas/connprof.schema.json"
    assert SCHEMA_FILE.is_file(), f"{SCHEMA_FILE} is missing; generate it with: {regenerate}"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == format_schema(), (
        f"schemas/connprof.schema.json has drifted from the models; regenerate it with: "
        f"{regenerate}"
    )


def test_format_schema_is_build_schema_as_json() -> None:
    assert json.loads(format_schema()) == build_schema()
    assert format_schema().endswith("}\n")


# -- the schema accepts the format -------------------------------------------------------------

CONTRACT_EXAMPLE = """
version: 1
default: prod
defaults:
  tls: {min_version: "1.2"}
profiles:
  prod:
    driver: pymongo
    description: Orders replica set
    tags: [prod]
    uri: mongodb://app@db1.example.com,db2.example.com/orders?replicaSet=rs0&tls=true&tlsCAFile=certs/ca.pem
    auth:
      password: "keyring:"
    tls:
      client_cert: certs/client.pem
      client_key_password: env:MONGO_KEY_PASS
  warehouse:
    driver: pyexasol
    dsn: exa1..3.example.com/135A1D2DCE102DE866F58267521F4232153545A075DC85F8F7596F57E588A181:8563
    auth: {user: analyst, password: "keyring:"}
  events:
    driver: cassandra
    hosts: [10.0.0.1, 10.0.0.2]
    port: 9042
    auth: {user: app, password: "keyring:"}
    tls: {ca: certs/rootca.crt, verify: full, server_name: cassandra.internal,
          client_cert: certs/client.crt, client_key: certs/client.key}
  cache:
    driver: hazelcast
    hosts: ["hz1.example.com:5701"]
    options: {cluster_name: prod}
    auth: {token: "keyring:"}
    tls: {ca: certs/ca.pem, min_version: "1.2", ciphers: "ECDHE-RSA-AES256-GCM-SHA384"}
  dev:
    extends: prod
    uri: mongodb://localhost/orders?tls=true
    tls: {verify: none}
    allow_insecure: true
  overlay_only:
    auth: {password: "keyring:vault/app", token: "file:secrets/token"}
  spellings:
    driver: scylla
    hosts: [db.example.com]
    tls: true
  versions:
    driver: crate
    hosts: ["https://crate.example.com:4200"]
    tls: {min_version: 1.2, max_version: 1.3}
"""


def test_the_contract_example_is_valid(validator: Any) -> None:
    doc = yaml.safe_load(CONTRACT_EXAMPLE)
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ("profiles:\n  p: {driver: crate, hosts: [x], tls: {verfiy: none}}\n", "unknown tls key"),
        ("profiles:\n  p: {driver: crate, hosts: [x], colour: red}\n", "unknown profile key"),
        ("profile:\n  p: {driver: crate, hosts: [x]}\n", "unknown top-level key"),
        ("profiles:\n  p: {driver: crate, auth: {password: hunter2}}\n", "plaintext password"),
        ("profiles:\n  p: {driver: crate, tls: {client_key_password: s3cret}}\n", "plaintext key"),
        ("profiles:\n  p: {driver: oracledb, hosts: [x]}\n", "bad driver"),
        ("profiles:\n  p: {driver: crate, tls: {verify: maybe}}\n", "bad verify"),
        ("profiles:\n  -bad: {driver: crate}\n", "bad profile name"),
        ("version: 2\nprofiles: {}\n", "bad version"),
    ],
    ids=lambda v: v if " " in v and "\n" not in v else None,
)
def test_bad_documents_fail_the_schema(validator: Any, document: str, why: str) -> None:
    doc = yaml.safe_load(textwrap.dedent(document))
    assert list(validator.iter_errors(doc)), f"the schema accepts a document with a {why}"


# -- the sample files --------------------------------------------------------------------------


@pytest.mark.parametrize("sample", sample_params())
def test_sample_file_is_valid_against_the_schema(validator: Any, sample: Path) -> None:
    doc = yaml.safe_load(sample.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == [], f"{sample} does not match the schema"


@pytest.mark.parametrize("sample", sample_params())
def test_sample_file_points_at_the_schema(sample: Path) -> None:
    first = sample.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(SCHEMA_COMMENT), f"{sample}: first line must be {SCHEMA_COMMENT}PATH"
    target = (sample.parent / first[len(SCHEMA_COMMENT) :].strip()).resolve()
    assert target.is_file(), f"{sample}: {first} points at a missing file"
    assert target == SCHEMA_FILE


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("keyring:", True),
        ("keyring:connprof/prod", True),
        ("env:CI_DB_PASSWORD", True),
        ("file:secrets/db", True),
        ("exec:vault kv get -field=password secret/orders", True),
        ("vault:secret/orders#password", True),  # a plugin's kind: editors must not flag it
        ("op:vault/item", True),
        ("hunter2", False),
        ("keyring:no-slash", False),
        ("env:1BAD", False),
        ("exec:  ", False),
    ],
)
def test_the_secret_pattern_takes_every_kind(validator: Any, reference: str, valid: bool) -> None:
    doc = {"profiles": {"p": {"driver": "crate", "hosts": ["x"], "auth": {"password": reference}}}}
    assert (list(validator.iter_errors(doc)) == []) is valid
