"""doctor's verdict is the real driver's: the same server, the same profile, both ends real.

For each case the real client connects to its loopback server (``tests.helpers.run_handshake``)
and doctor probes a server with the same certificate and settings. Where the driver refuses a
setting, doctor reports ``unsupported_setting``.
"""

from __future__ import annotations

from typing import Any

import pytest

from connprof import UnsupportedSetting
from tests.doctor.conftest import Doctor, problems
from tests.helpers import DRIVERS, Certs, HandshakeRunner, SayOK

#: (id, tls block given the certs, server options, the problem doctor must name when it fails)
CASES: list[tuple[str, Any, dict[str, bool], str | None]] = [
    ("right-ca", lambda c: {"ca": str(c.ca)}, {}, None),
    ("other-ca", lambda c: {"ca": str(c.other_ca)}, {}, "untrusted_certificate"),
    ("wrong-name", lambda c: {"ca": str(c.ca)}, {"mismatch": True}, "hostname_mismatch"),
    ("wrong-name-verify-ca", lambda c: {"ca": str(c.ca), "verify": "ca"}, {"mismatch": True},
     None),
    ("client-cert-missing", lambda c: {"ca": str(c.ca)}, {"require_client_cert": True},
     "client_certificate_required"),
]  # fmt: skip


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(("case", "tls", "server", "code"), CASES, ids=[c[0] for c in CASES])
def test_doctor_agrees_with_the_driver(
    driver: str,
    case: str,
    tls: Any,
    server: dict[str, bool],
    code: str | None,
    certs: Certs,
    handshake: HandshakeRunner,
    run_doctor: Doctor,
) -> None:
    block = tls(certs)
    try:
        real = handshake(driver, block, **server)
    except UnsupportedSetting:
        with SayOK(certs.server_context(**server)) as probe:
            assert "unsupported_setting" in problems(run_doctor(driver, probe.port, block))
        return
    with SayOK(certs.server_context(**server)) as probe:
        report = run_doctor(driver, probe.port, block)
    assert report.ok == real.passed, (report.checks, real.text)
    if not real.passed:
        assert problems(report) == [code]
