"""atheris: ``parse_exasol_dsn`` on arbitrary text; what parses formats to the same nodes.

.venv/bin/python fuzz/fuzz_exasol_dsn.py -max_total_time=600
"""

from __future__ import annotations

import _harness  # first: sys.path to the repository, every connprof module instrumented

from connprof import format_exasol_dsn, parse_exasol_dsn
from tests.fuzz.checks import check_error


def test(data: bytes) -> None:
    # The bytes as text, seeds intact (a FuzzedDataProvider would eat the first byte).
    text = data.decode("utf-8", "replace")
    try:
        dsn = parse_exasol_dsn(text)
    except Exception as exc:
        check_error(exc, secret=None)
        return
    if parse_exasol_dsn(format_exasol_dsn(dsn)).nodes != dsn.nodes:
        raise AssertionError(f"{text!r} does not format to the same nodes")


if __name__ == "__main__":
    _harness.isolate()
    seeds = _harness.string_seeds(r"dsn:\s*\"?([^\s\"#]+)")
    seeds.append(b"exa1..3.example.com/NOCERTCHECK:8563")
    _harness.run("exasol_dsn", seeds, test)
