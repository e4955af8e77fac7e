"""atheris: ``load_profile`` and ``driver_kwargs()`` on arbitrary profile files.

.venv/bin/python fuzz/fuzz_load_profile.py -max_total_time=600
"""

from __future__ import annotations

import _harness  # first: sys.path to the repository, every connprof module instrumented

import connprof
from tests.fuzz.checks import check_error, load_and_emit, plant_env

PATH = "profiles.yaml"


def test(data: bytes) -> None:
    with open(PATH, "wb") as out:
        out.write(data)
    try:
        names = connprof.list_profiles(config=PATH)
    except Exception as exc:
        check_error(exc)
        names = []
    for name in [None, *names[:4]]:
        load_and_emit(PATH, name)  # type: ignore[arg-type]


if __name__ == "__main__":
    home = _harness.isolate()
    plant_env()
    _harness.run("load_profile", _harness.yaml_seeds(), test)
