"""fastact: fast, accurate activation functions (forward and backward) for NumPy arrays."""

from . import nn, ufuncs
from ._config import (
    get_num_threads,
    get_precision,
    num_threads,
    precision,
    set_num_threads,
    set_parallel_threshold,
    set_precision,
    show_config,
)
from ._functions import FUNCTIONS
from ._kernels import isa
from ._prelu import prelu, prelu_backward
from ._version import __version__ as __version__  # the one place it is written

globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS) + [
    "prelu",
    "prelu_backward",
    "nn",
    "ufuncs",
    "isa",
    "get_num_threads",
    "num_threads",
    "set_num_threads",
    "set_parallel_threshold",
    "show_config",
    "get_precision",
    "set_precision",
    "precision",
]
