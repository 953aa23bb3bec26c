"""Real numpy.ufunc twins of every fastact function (nout=1, parameters as broadcastable operands).

    fastact.ufuncs.leaky_relu(x, negative_slope)
    fastact.ufuncs.elu_backward(grad_output, x, alpha)
    fastact.ufuncs.gelu(x), fastact.ufuncs.gelu_tanh(x)

They take every ufunc keyword (out=, where=, casting=, dtype=), .reduce aside, and work on any
object that implements __array_ufunc__ (dask, xarray).
"""

from ._ufunc_path import UFUNCS

globals().update(UFUNCS)
__all__ = sorted(UFUNCS)
