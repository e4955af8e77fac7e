"""A key-password callback that refuses, so OpenSSL never prompts on a terminal.

Drivers that load a client key themselves (hazelcast, websocket-client under pyexasol) pass
their password straight to ``SSLContext.load_cert_chain``. Without one, OpenSSL asks for the
pass phrase on the TTY when the key is encrypted (and hangs a service). This callback is given
instead: OpenSSL calls it only for an encrypted key, and it raises a clear error.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import TLSFileError

__all__ = ["refuse_key_prompt"]


def refuse_key_prompt(field: str = "tls.client_key") -> Callable[[], str]:
    """A password callback for ``load_cert_chain`` that raises ``TLSFileError`` if called."""

    def no_password() -> str:
        raise TLSFileError(
            f"{field}: the private key is encrypted and the profile gives no password; add "
            'tls.client_key_password: "keyring:" and run `connprof secret set PROFILE '
            "client_key_password`"
        )

    return no_password
