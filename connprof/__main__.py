"""``python -m connprof``: the same as the ``connprof`` command."""

from .cli import run

run()
