"""What the atheris harnesses share: instrumentation, isolation, seed corpora, the run loop.

Each harness is one file and one command (see docs/security.md)::

    .venv/bin/python fuzz/fuzz_load_profile.py -max_total_time=600

atheris is not a dependency of connprof: ``pip install atheris`` into the venv for local runs.
The harness writes its seed corpus (from sample_profiles/ and the tests' data) to
``fuzz/corpus/<target>/`` the first time and fuzzes from there; new inputs that reach new code
land there too. A finding is a crash file ``crash-*`` in the working directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STARTED_IN = os.getcwd()  # crash files go here, not into the throw-away working directory


def instrument() -> None:
    """Import every connprof module under atheris' instrumentation.

    connprof imports most of itself lazily (start-up time): a module first imported inside a
    test run would be uninstrumented, and the fuzzer blind to its branches.
    """
    import importlib
    import pkgutil

    import atheris  # deferred: an optional tool for local runs, never a dependency

    with atheris.instrument_imports(include=["connprof"]):
        import connprof

        for info in pkgutil.walk_packages(connprof.__path__, "connprof."):
            if not info.name.endswith("__main__"):  # that one runs the command line
                importlib.import_module(info.name)


instrument()  # on import: every harness imports this module before connprof


def isolate() -> Path:
    """A throw-away HOME, config and cache, no cache, no keyring: the machine stays untouched."""
    home = Path(tempfile.mkdtemp(prefix="connprof-atheris-"))
    for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir()
        os.environ[name] = str(home / sub)
    os.environ["CONNPROF_NO_CACHE"] = "1"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    for name in ("CONNPROF_CONFIG", "CONNPROF_PROFILE", "CONNPROF_CACHE_DIR"):
        os.environ.pop(name, None)
    (home / "cwd").mkdir()
    os.chdir(home / "cwd")
    return home


def yaml_seeds() -> list[bytes]:
    out = []
    for folder in ("sample_profiles", "tests/data", "tests/lint/examples"):
        out += [p.read_bytes() for p in sorted((ROOT / folder).rglob("*.yaml"))]
    return out


def string_seeds(pattern: str) -> list[bytes]:
    """Every match of ``pattern`` in the tests' and samples' sources: URIs, DSNs."""
    found: set[bytes] = set()
    regex = re.compile(pattern)
    for folder in ("sample_profiles", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yaml", ".json") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                found.update(m.group(1).encode() for m in regex.finditer(text))
    return sorted(found)


def run(target: str, seeds: Iterable[bytes], test: Callable[[bytes], None]) -> None:
    import atheris  # deferred: an optional tool for local runs, never a dependency

    corpus = ROOT / "fuzz" / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    # Paths (a corpus folder, a crash file to replay) are relative to where the run started,
    # not to the throw-away working directory.
    argv = [a if a.startswith("-") or i == 0 else os.path.join(STARTED_IN, a)
            for i, a in enumerate(sys.argv)]  # fmt: skip
    if not any(a.startswith("-artifact_prefix=") for a in argv):
        argv.insert(1, f"-artifact_prefix={STARTED_IN}{os.sep}")
    if not any(not a.startswith("-") for a in argv[1:]):
        argv.append(str(corpus))
    atheris.Setup(argv, test)
    atheris.Fuzz()
