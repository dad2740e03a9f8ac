"""Helpers shared by the worker scripts of ``bench/`` (run as ``python bench/<name>.py``, so this
directory is on ``sys.path``)."""

import math
import sys


def percentile(values, q):
    """The ``q`` quantile (0 to 1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def log(message):
    """A progress line, on stderr (stdout carries the result)."""
    print(message, file=sys.stderr, flush=True)
