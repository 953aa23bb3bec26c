"""PReLU: leaky_relu with a learned per-channel slope, written by hand (the weight is an array)."""

import numbers

import numpy as np

from . import _kernels
from ._table import PRELU
from ._ufunc_path import (
    _FLT_MAX,
    KERNEL_INDEX,
    UFUNCS,
    _check_dtype,
    _check_out,
    _defers,
    broadcast_shapes,
    call_ufunc,
    check_precision,
)

_LEAKY = KERNEL_INDEX[PRELU.kernels[None]]
# grad_weight is summed in blocks of this many elements (64 KiB of float64), so prelu_backward
# needs no temporary larger than its output.
_GRAD_WEIGHT_BLOCK = 8192


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _prelu_operands(name, x, weight, axis):
    """(x as an array, the result dtype, the slope: a float, or the weight as a 1-D array in the
    compute type, the normalized axis or None). The result dtype is NumPy's promotion of x and
    weight, as np.multiply(x, weight) gives it (integers alone: float64)."""
    if type(x) is not np.ndarray and _defers(x):
        raise TypeError(
            f"fastact.{name}: x of type {type(x).__name__} is not supported; use "
            f"fastact.ufuncs.leaky_relu(x, weight_broadcast) on such arrays"
        )
    if type(axis) is not int and (
        not isinstance(axis, numbers.Integral) or isinstance(axis, (bool, np.bool_))
    ):
        raise TypeError(f"fastact.{name}: axis must be an integer, got {axis!r}")
    if type(x) is not np.ndarray:
        x = np.asarray(x)
    dtype = x.dtype
    # The common cases in a few attribute reads: x float32 or float64 (native order) with a
    # Python float, which NumPy does not promote, or with a weight array of x's own dtype, to
    # which result_type adds nothing. Every other case takes the general checks below.
    if type(weight) is float and (dtype is _F32 or dtype is _F64):
        w = None
    elif type(weight) is np.ndarray and weight.dtype is dtype and (dtype is _F32 or dtype is _F64):
        w = weight
    else:
        _check_dtype(name, "x", dtype)
        weak = type(weight) in (int, float)  # Python numbers promote weakly, as in NumPy
        w = np.asarray(weight)
        _check_dtype(name, "weight", w.dtype)
        dtype = np.result_type(x, weight if weak else w)
        if dtype.kind != "f":
            dtype = np.dtype(np.float64)  # integers and bool, as leaky_relu takes them
    if w is not None and w.ndim > 1:
        raise ValueError(f"fastact.{name}: weight must be a scalar or 1-D, got shape {w.shape}")
    if w is None or w.size == 1:
        slope = weight if w is None else float(w.reshape(()))
        if dtype.char in "ef" and _FLT_MAX < abs(slope) < np.inf:
            raise ValueError(
                f"fastact.{name}: weight={slope!r} overflows float32, the dtype this "
                f"call computes in"
            )
        return x, dtype, slope, None
    if x.ndim < 2:
        raise ValueError(
            f"fastact.{name}: x has {x.ndim} dimension(s), so it has one channel "
            f"and weight must have 1 element, got {w.size}"
        )
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"fastact.{name}: axis {axis!r} is not an axis of x (ndim {x.ndim})")
    axis = int(axis) % x.ndim
    if w.size != x.shape[axis]:
        raise ValueError(
            f"fastact.{name}: weight has {w.size} elements but x.shape[{axis}] is {x.shape[axis]}"
        )
    compute = np.float32 if dtype.char in "ef" else np.float64  # float16 computes in float32
    return x, dtype, w.astype(compute).ravel(), axis


def _along(w, ndim, axis):
    """The 1-D weight w shaped to broadcast along `axis` of an ndim-dimensional array."""
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


def _out_fits(out, like):
    """`out` is a writeable array of `like`'s shape and (native float) dtype, which _check_out
    would pass (it costs a microsecond)."""
    return (
        type(out) is np.ndarray
        and out.dtype is like.dtype
        and out.shape == like.shape
        and out.flags.writeable
    )


def _runs_fast(dtype, out, *arrays):
    """Whether the serial kernel takes these operands as they are (else the ufunc twin does,
    with the dtype forced to `dtype`)."""
    return (
        dtype.char in "fd"
        and all(a.dtype == dtype and a.shape == arrays[0].shape for a in arrays)
        and (
            out is None
            or (type(out) is np.ndarray and out.dtype == dtype and out.shape == arrays[0].shape)
        )
    )


def prelu(x, weight, /, axis=1, out=None, *, precision=None):
    """prelu(x, weight, /, axis=1, out=None, *, precision=None)

    x if x > 0 else weight[c] * x, with c the index along ``axis`` (an integer). ``weight`` is a
    scalar or 1-D with len(weight) == x.shape[axis]; inputs with fewer than 2 dimensions have one
    channel and take a 1-element weight, as in torch. The result's dtype is NumPy's promotion of
    x and weight, as np.multiply(x, weight) gives it (a Python number does not promote; integers
    alone give float64); float16 computes in float32. ``out`` may be ``x``. ``precision`` is
    accepted for uniformity: PReLU is exact at both levels.
    """
    # the common calls in one C call; None for everything else, which _prelu checks
    y = _kernels.prelu_call(_LEAKY, x, weight, axis, out, precision)
    if y is not None:
        return y
    return _kernels.keeping_fp_flags(_prelu, x, weight, axis, out, precision)


def _prelu(x, weight, axis, out, precision):
    level = check_precision("prelu", precision)
    x, dtype, slope, axis = _prelu_operands("prelu", x, weight, axis)
    if out is not None and not _out_fits(out, x):
        _check_out("prelu", out, [x.shape])
    if axis is None:
        if _runs_fast(dtype, out, x):
            return _kernels.forward(_LEAKY, x, out, slope, 0.0)
    else:
        # the C loops per channel block (on the pool when large); None where they do not apply
        y = _kernels.prelu_forward(_LEAKY, x, out, slope, axis, level)
        if y is not None:
            return y
        slope = _along(slope, x.ndim, axis)
    return call_ufunc(
        "prelu", UFUNCS["leaky_relu"], (x, slope), (), out, ("x", "weight"), dtype=dtype
    )


def prelu_backward(
    grad_output, x=None, /, weight=None, axis=1, out=None, *, output=None, precision=None
):
    """prelu_backward(grad_output, x, weight, /, axis=1, out=None, *, output=None, precision=None)
    -> (grad_input, grad_weight)

    grad_input = grad_output * (1 if x > 0 else weight[c]), written to ``out`` if given (which
    may be ``grad_output`` or ``x``). grad_output and x broadcast as NumPy operands do; the
    channel axis is x's ``axis`` (counted in x's dimensions, so it keeps its place when
    grad_output has more). grad_input has the broadcast shape and the promoted dtype of
    grad_output, x and weight. grad_weight has weight's shape and dtype (float64 for an integer
    weight) and sums grad_output * x over the elements with x <= 0 of each channel, accumulated
    in float64 without a temporary larger than the output (in C for C-contiguous float32 and
    float64 operands alike, else block by block through NumPy: the order of the additions, and
    so the last bits, may differ between the two).
    With ``output=y`` (y = prelu(x, weight)) instead of x, and every weight > 0, the same from
    the output alone: x = y / weight[c] where y <= 0 (for float32 in C: the sum of
    grad_output * y, exact in float64, divided by weight[c]).
    """
    done = _kernels.prelu_backward_call(
        _LEAKY, grad_output, x, weight, axis, out, output, precision
    )
    if done is not None:
        return done
    return _kernels.keeping_fp_flags(
        _prelu_backward, grad_output, x, weight, axis, out, output, precision
    )


def _prelu_backward(grad_output, x, weight, axis, out, output, precision):
    name = "prelu_backward"
    level = check_precision(name, precision)
    if weight is None:
        raise TypeError(f"fastact.{name}: weight is required")
    if output is not None:
        if x is not None:
            raise TypeError(f"fastact.{name}: give x or output=, not both")
        x = output
    elif x is None:
        raise TypeError(f"fastact.{name}: x (or output=) is required")
    x, dtype, slope, axis = _prelu_operands(name, x, weight, axis)
    from_output = output is not None
    if from_output and not (slope > 0 if axis is None else np.all(slope > 0)):
        raise ValueError(
            f"fastact.{name}: cannot start from the output: weight has values "
            f"that are not positive, so the output does not determine the sign "
            f"of x; pass x instead"
        )
    g = grad_output if type(grad_output) is np.ndarray else np.asarray(grad_output)
    if g.dtype is not dtype:  # dtype: float32 or float64 where they are the same
        _check_dtype(name, "grad_output", g.dtype)
    if g.shape == x.shape:  # what broadcast_shapes and _check_out would find, in less time
        shape = x.shape
        if out is not None and not _out_fits(out, x):
            _check_out(name, out, [g.shape, x.shape])
    else:
        try:
            shape = broadcast_shapes(g.shape, x.shape)
        except ValueError:
            raise ValueError(
                f"fastact.{name}: grad_output's shape {g.shape} and x's shape "
                f"{x.shape} do not broadcast together"
            ) from None
        if out is not None:
            _check_out(name, out, [g.shape, x.shape])
    if g.dtype is not dtype:
        dtype = np.result_type(dtype, g.dtype if g.dtype.kind == "f" else np.float64)
    w = weight if type(weight) is np.ndarray else np.asarray(weight)
    gw_dtype = w.dtype if w.dtype.kind == "f" else _F64
    # grad_weight first: out may be x or grad_output, which grad_input would overwrite.
    if axis is not None:
        # both in one pass of C loops per channel block; None where they do not apply
        done = _kernels.prelu_backward(_LEAKY, g, x, out, slope, axis, from_output, level)
        if done is not None:
            return done[0], _grad_weight_as(done[1], gw_dtype, w.shape)
        slope = _along(slope, x.ndim, axis)
        grad_weight = _prelu_grad_weight(g, x, slope, axis, from_output, shape)
    else:
        fast = _runs_fast(dtype, out, g, x)
        grad_weight = _kernels.prelu_grad_weight(g, x, slope, from_output) if fast else None
        if grad_weight is None:
            grad_weight = _prelu_grad_weight(g, x, slope, axis, from_output, shape)
    grad_weight = _grad_weight_as(grad_weight, gw_dtype, w.shape)
    # y and x have the same sign when every weight is positive, so one kernel serves both
    if axis is None and fast:
        grad_input = _kernels.backward(_LEAKY, g, x, out, slope, 0.0)
    else:
        grad_input = call_ufunc(
            name,
            UFUNCS["leaky_relu_backward"],
            (g, x, slope),
            (),
            out,
            ("grad_output", "x", "weight"),
            dtype=dtype,
        )
    return grad_input, grad_weight


def _grad_weight_as(total, dtype, shape):
    """The float64 sums as weight's dtype and shape."""
    if dtype == _F64:
        return np.asarray(total, _F64).reshape(shape)
    with np.errstate(over="ignore"):  # a sum beyond float16's range is inf, as it should be
        return np.asarray(total).astype(dtype).reshape(shape)


def _prelu_grad_weight(g, x, slope, axis, from_output, shape):
    """sum of g * x (x = y / slope from the output) over x <= 0 and NaN x, per channel along x's
    `axis` (None: one channel), in float64, in blocks of _GRAD_WEIGHT_BLOCK elements."""
    nd = len(shape)
    operands = [
        g.reshape((1,) * (nd - g.ndim) + g.shape),
        x.reshape((1,) * (nd - x.ndim) + x.shape),
    ]
    channels = 1
    if axis is not None:
        channels = slope.size
        operands.append(np.arange(channels).reshape((1,) * (nd - x.ndim) + slope.shape))
        slope64 = slope.astype(np.float64).ravel()
    drop = tuple(i for i, n in enumerate(shape) if n == 1)  # the iterator takes <= 32 dims
    if 0 in shape:
        return np.zeros(channels) if axis is not None else 0.0
    operands = [a.squeeze(drop) for a in operands]
    total = np.zeros(channels)
    it = np.nditer(
        operands,
        flags=["external_loop", "buffered", "zerosize_ok"],
        op_flags=[["readonly"]] * len(operands),
        op_dtypes=[np.float64, np.float64, np.intp][: len(operands)],
        casting="unsafe",
        buffersize=_GRAD_WEIGHT_BLOCK,
    )
    with it, np.errstate(all="ignore"):  # inf * 0 is NaN in grad_weight, as it should be
        for block in it:
            gb, xb = block[0], block[1]
            if from_output:
                xb = xb / (slope64[block[2]] if axis is not None else slope)
            c = np.multiply(gb, xb, out=np.zeros_like(gb), where=~(xb > 0))
            if axis is None:
                total[0] += c.sum()
            else:
                total += np.bincount(block[2], weights=c, minlength=channels)
    return total if axis is not None else total[0]
