"""atheris: ``lint_paths`` (with and without --check-files) on arbitrary profile files.

.venv/bin/python fuzz/fuzz_lint.py -max_total_time=600
"""

from __future__ import annotations

import _harness  # first: sys.path to the repository, every connprof module instrumented

from connprof import lint_paths
from connprof._lint.report import format_github, format_text
from tests.fuzz.checks import check_error, check_text, plant_env

PATH = "connprof.yaml"


def test(data: bytes) -> None:
    check_files = bool(data[:1]) and data[0] & 1 == 1
    with open(PATH, "wb") as out:
        out.write(data[1:])
    try:
        found = lint_paths([PATH], check_files=check_files)
    except Exception as exc:
        check_error(exc)
        return
    for d in found:
        check_text(d.format(), "a diagnostic")
    check_text(format_text(found), "the text report", lines=max(len(found), 1))
    check_text(format_github(found), "the github report", lines=max(len(found), 1))


if __name__ == "__main__":
    _harness.isolate()
    plant_env()
    _harness.run("lint", [b"\x01" + s for s in _harness.yaml_seeds()], test)
