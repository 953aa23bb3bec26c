"""fastact: fast, accurate activation functions (forward and backward) for NumPy arrays."""
from ._dispatch import FUNCTIONS, prelu, prelu_backward
from ._kernels import isa
from . import ufuncs

globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS) + ["prelu", "prelu_backward", "ufuncs", "isa"]
__version__ = "0.1.0"
