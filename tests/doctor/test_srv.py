"""mongodb+srv: the SRV lookup through dnspython, against a DNS responder on 127.0.0.1."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.doctor.conftest import Doctor, problems
from tests.helpers import Certs, SayOK


class FakeDNS:
    """Answers SRV questions over UDP from a table, NXDOMAIN otherwise (dnspython's messages)."""

    def __init__(self, srv: dict[str, list[tuple[str, int]]]) -> None:
        self.srv = srv
        self.asked: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeDNS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        while not self._stop.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            for question in query.question:
                name = question.name.to_text().rstrip(".")
                self.asked.append(name)
                targets = self.srv.get(name)
                if question.rdtype == dns.rdatatype.SRV and targets:
                    records = [f"0 5 {port} {host}." for host, port in targets]
                    response.answer.append(
                        dns.rrset.from_text(question.name, 60, "IN", "SRV", *records)
                    )
                else:
                    response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), client)


@pytest.fixture
def use_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeDNS]]:
    """Point dnspython's default resolver at a ``FakeDNS``: ``with use_dns(table) as dns: ...``."""
    import dns.resolver

    class Pointed(FakeDNS):
        def __enter__(self) -> FakeDNS:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
            resolver.port = self.port
            monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
            return super().__enter__()

    yield Pointed


def test_srv_hosts_are_looked_up_and_each_is_checked(
    certs: Certs, run_doctor: Doctor, use_dns: type[FakeDNS]
) -> None:
    with SayOK(certs.server_context()) as server:
        table = {"_mongodb._tcp.cluster.example.test": [("localhost", server.port)]}
        with use_dns(table) as dns:
            report = run_doctor(
                "pymongo",
                None,
                {"ca": str(certs.ca)},
                uri="mongodb+srv://cluster.example.test/orders",
            )
    assert dns.asked == ["_mongodb._tcp.cluster.example.test"]
    assert report.ok, report.checks
    srv = report.checks[[c.target for c in report.checks].index("cluster.example.test")]
    assert srv.step == "dns" and f"localhost:{server.port}" in srv.message
    assert f"localhost:{server.port}" in report.certificate


def test_an_srv_name_without_records_is_dns_failed(
    certs: Certs, run_doctor: Doctor, use_dns: type[FakeDNS]
) -> None:
    with use_dns({}):
        report = run_doctor(
            "pymongo", None, {"ca": str(certs.ca)}, uri="mongodb+srv://nothing.example.test/orders"
        )
    assert problems(report) == ["dns_failed"]


def test_without_dnspython_the_srv_step_is_skipped_and_says_why(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("dns", "dns.resolver", "dns.exception"):
        monkeypatch.setitem(sys.modules, module, None)  # type: ignore[arg-type]
    report = run_doctor(
        "pymongo", None, {"ca": str(certs.ca)}, uri="mongodb+srv://cluster.example.test/orders"
    )
    assert report.ok
    (skipped,) = [c for c in report.checks if c.warning]
    assert skipped.step == "dns" and "dnspython" in skipped.message
