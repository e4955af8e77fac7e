"""``python -m connprof``: the same as the ``connprof`` command."""

from ._cli import run

run()
