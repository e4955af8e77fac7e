"""What a lint finding is (``Diagnostic``) and the table of every rule code with its fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from .._redact import printable

__all__ = ["RULES", "Diagnostic", "Rule", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding at ``path:line:column``. Ordering is by file, then line: the report order."""

    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str  # ends with what to do about it; never holds a secret value

    def format(self) -> str:
        # One line whatever the file echoes: a name or value may hold a newline or a control.
        text = f"{self.path}:{self.line}:{self.column}: {self.code} {self.severity} {self.message}"
        return printable(text)


class Rule(NamedTuple):
    severity: Severity
    summary: str
    fix: str
    check_files: bool = False  # only with --check-files


#: Every code lint can report. Codes are stable: a retired rule keeps its number unused.
RULES: dict[str, Rule] = {
    "CP001": Rule("error", "invalid file or profile: YAML, unknown keys (with a did-you-mean), "
                  "types, required fields", "the message says what to write instead"),
    "CP002": Rule("error", "a plaintext secret in a secret field",
                  '`connprof secret set PROFILE FIELD`, then `FIELD: "keyring:"` '
                  "(or env:NAME, file:PATH)"),
    "CP003": Rule("error", "a password inside a uri or a host URL",
                  'remove it; put the user in auth.user and the password in `auth.password: '
                  '"keyring:"`'),
    "CP004": Rule("error", "an inline private key (PEM key material in the file)",
                  "put the key in its own file (mode 600) and give its path in tls.client_key"),
    "CP005": Rule("error", "a value in options that looks like a token or password",
                  'credentials go in auth as references (`auth.token: "keyring:"`)'),
    "CP010": Rule("error", "certificate verification off (verify: none, nocertcheck, "
                  "tlsInsecure, tlsAllowInvalidCertificates) without allow_insecure",
                  "remove the setting, or acknowledge it with `allow_insecure: true`"),
    "CP011": Rule("error", "verification off or TLS below 1.2 on a profile tagged prod, even "
                  "with allow_insecure", "remove the setting; a prod profile verifies "
                  "certificates over TLS 1.2 or later"),
    "CP012": Rule("error", "min_version below 1.2 without allow_insecure",
                  'raise it to "1.2", or acknowledge it with `allow_insecure: true`'),
    "CP013": Rule("warning", "TLS off for a host that is not loopback",
                  "turn TLS on (`tls: true` or a tls block)"),
    "CP020": Rule("error", "TLS files (ca, client_cert, client_key, crl) with TLS off",
                  "turn TLS on, or remove the files"),
    "CP021": Rule("warning", "verify: none with a CA (the CA has no effect)",
                  "use verify: full (or ca), or drop the CA"),
    "CP022": Rule("error", "a CA with fingerprint: nocertcheck, which ignores it",
                  "pin the certificate's fingerprint, or remove the CA"),
    "CP023": Rule("error", "mongodb+srv:// with a port or several hosts",
                  "write one host name and no port: the SRV record gives them"),
    "CP024": Rule("error", "a uri the MongoDB specification rejects (conflicting TLS options, "
                  "directConnection or loadBalanced with several hosts, ...)",
                  "the message says which options to change"),
    "CP025": Rule("warning", "a uri option the MongoDB specification ignores with a warning "
                  "(unknown, deprecated, repeated, bad value)", "correct the option or remove it"),
    "CP026": Rule("warning", "a field the YAML sets differently from the uri or dsn (the YAML "
                  "value wins)", "make them agree, or keep the setting in one place"),
    "CP030": Rule("error", "a setting the profile's driver cannot express",
                  "the message says what the driver accepts instead"),
    "CP031": Rule("warning", "a fingerprint that is not 64 hex digits",
                  "copy the SHA-256 again: `openssl x509 -noout -fingerprint -sha256 -in CERT`"),
    "CP032": Rule("error", "extends names a missing profile, or makes a cycle",
                  "name a defined profile (lint layered files together with --config), or "
                  "break the cycle"),
    "CP033": Rule("error", "default: names a profile no file defines",
                  "name a defined profile, or remove default:"),
    "CP040": Rule("error", "a relative file path (tls files, file: secrets) that does not exist",
                  "fix the path (relative to the profile file) or add the file"),
    "CP041": Rule("error", "an absolute or ~ file path that does not exist on this machine, or is "
                  "not a regular file (a FIFO, a device) or is too large",
                  "fix the path or create the file", check_files=True),
    "CP042": Rule("error", "a certificate that is expired or not yet valid",
                  "renew the certificate", check_files=True),
    "CP043": Rule("error", "a client key that does not match its certificate",
                  "pair the certificate with its own key", check_files=True),
    "CP044": Rule("error", "a host not covered by the names of the pinned server certificate",
                  "connect by a name the certificate holds, set tls.server_name, or reissue it",
                  check_files=True),
    "CP045": Rule("error", "a key file or file: secret readable by group or others",
                  "`chmod 600 FILE`", check_files=True),
    "CP046": Rule("error", "tls.ciphers that let OpenSSL use anonymous, unencrypted or export "
                  "suites, or a security level below the default, without allow_insecure (on a "
                  "prod profile even with it)", "remove ciphers, or exclude those suites "
                  "(`:!aNULL:!eNULL`) and the low `@SECLEVEL`"),
    "CP047": Rule("warning", "verify: ca (no host name check) on a profile tagged prod",
                  "use verify: full, naming the hosts as their certificates do"),
}  # fmt: skip
