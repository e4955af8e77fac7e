"""How long parsing a MongoDB connection string takes: connprof against pymongo, same process.

Both parsers read the same TLS URI (hosts, user info, tls, tlsCAFile, tlsCertificateKeyFile,
replicaSet, authSource, readPreference, w). pymongo opens the two files while validating, so
they exist (empty) in a temporary directory; connprof never touches them. Each figure is the
median over rounds of the mean time per call within a round; rounds alternate between the two
parsers so machine noise hits both. Target: connprof at most 0.5x pymongo's time.

    python bench/bench_parse.py [--rounds 31] [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo.uri_parser import parse_uri

from connprof import parse_mongodb_uri

TARGET = 0.5


def per_call(parse: Callable[[str], Any], uri: str, calls: int) -> float:
    """Mean seconds per call over ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        parse(uri)
    return (time.perf_counter() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ca, cert = Path(tmp, "ca.pem"), Path(tmp, "client.pem")
        ca.write_text("")
        cert.write_text("")
        uri = (
            "mongodb://app@db1.example.com:27017,db2.example.com:27017,db3.example.com:27017/"
            f"orders?tls=true&tlsCAFile={ca}&tlsCertificateKeyFile={cert}&replicaSet=rs0"
            "&authSource=admin&readPreference=secondaryPreferred&w=majority"
        )
        # Same answer first: a benchmark of two parsers that disagree would mean nothing.
        ours, theirs = parse_mongodb_uri(uri), parse_uri(uri)
        assert [(h, p or 27017) for h, p in ours.hosts] == theirs["nodelist"]
        assert ours.options["tlsCAFile"] == theirs["options"]["tlsCAFile"]
        assert not ours.warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would make pymongo's path slower
            connprof_times, pymongo_times = [], []
            for _ in range(args.rounds):
                connprof_times.append(per_call(parse_mongodb_uri, uri, args.calls))
                pymongo_times.append(per_call(parse_uri, uri, args.calls))

    ours_us = statistics.median(connprof_times) * 1e6
    theirs_us = statistics.median(pymongo_times) * 1e6
    ratio = ours_us / theirs_us
    print(f"pymongo.uri_parser.parse_uri   {theirs_us:8.1f} us per call")
    print(f"connprof.parse_mongodb_uri     {ours_us:8.1f} us per call")
    verdict = "ok" if ratio <= TARGET else "SLOWER THAN TARGET"
    print(f"ratio                          {ratio:8.2f}x (target <= {TARGET}x: {verdict})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
