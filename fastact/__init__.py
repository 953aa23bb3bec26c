"""fastact: fast, accurate activation functions (forward and backward) for NumPy arrays."""
from ._dispatch import FUNCTIONS, prelu, prelu_backward
from ._config import (get_num_threads, get_precision, num_threads, precision, set_num_threads,
                      set_parallel_threshold, set_precision, show_config)
from ._kernels import isa
from ._version import __version__
from . import nn, ufuncs

globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS) + ["prelu", "prelu_backward", "nn", "ufuncs", "isa", "get_num_threads",
                               "num_threads", "set_num_threads", "set_parallel_threshold",
                               "show_config", "get_precision", "set_precision", "precision"]
