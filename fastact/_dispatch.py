"""Choosing a path: the public functions, generated from the table, and everything off the fast path.

A call first tries fastact._kernels.forward/backward, which runs the C loop directly on plain,
contiguous float32/float64 arrays. Anything else comes here: objects that implement
__array_ufunc__ (dask, xarray, ndarray subclasses) go to the ufunc twins untouched; everything
else is converted, checked (with errors that name the function, raised before any memory is
written) and run through the same ufunc twins, which give NumPy's broadcasting, strides, casting
and overlap handling.
"""
import numbers

import numpy as np

from . import _config, _kernels
from ._table import ACTIVATIONS, PRELU

KERNEL_INDEX = {kernel[0]: k for k, kernel in enumerate(_kernels.KERNELS)}
for _act in ACTIVATIONS + (PRELU,):
    for _kname in _act.kernels.values():
        if _kname not in KERNEL_INDEX:
            raise ImportError(f"fastact: kernel {_kname!r} of {_act.name} is not in FASTACT_KERNELS")
        _, _nparams, _, _has_output = _kernels.KERNELS[KERNEL_INDEX[_kname]]
        if PRELU is not _act and _nparams != len(_act.params):
            raise ImportError(f"fastact: kernel {_kname!r} and the table disagree on parameters")
        if _act.from_output is not None and not _has_output:
            raise ImportError(f"fastact: {_act.name} allows output= but kernel {_kname!r} has no "
                              f"backward from the output in FASTACT_KERNELS")


def _ufunc_doc(kname):
    act = next(a for a in ACTIVATIONS if kname in a.kernels.values())
    params = "".join(f", {p}" for p, _ in act.params)
    choice = "" if act.choice is None else \
        f" ({act.choice[0]}={next(c for c, k in act.kernels.items() if k == kname)!r})"
    formula, derivative = (act.kernel_docs or {}).get(kname, (act.formula, act.derivative))
    return {kname: f"{kname}(x{params}): {act.name}{choice}, {formula}.",
            kname + "_backward": f"{kname}_backward(grad_output, x{params}): grad_output times "
                                 f"{act.name}'(x){choice}: {derivative}.",
            kname + "_backward_from_output": f"{kname}_backward_from_output(grad_output, y"
                                             f"{params}): the same, from the output y = "
                                             f"{act.name}(x){choice}."}


UFUNCS = _kernels.make_ufuncs({k: v for n in KERNEL_INDEX for k, v in _ufunc_doc(n).items()})

# Kernel index -> (public name, parameter names) for the slow path's messages.
_CALLER = {KERNEL_INDEX[k]: (a.name, tuple(p for p, _ in a.params))
           for a in ACTIVATIONS for k in a.kernels.values()}
_ACT_OF = {KERNEL_INDEX[k]: a for a in ACTIVATIONS for k in a.kernels.values()}

_FLOAT_CODES = "efd"


def _defers(a):
    """Objects that take ufuncs themselves (dask, xarray, subclasses) are handed the ufunc."""
    return (a is not None and type(a) is not np.ndarray and not isinstance(a, np.generic)
            and getattr(type(a), "__array_ufunc__", None) is not None)


def _check_dtype(name, what, dtype):
    if dtype.kind not in "biuf" or (dtype.kind == "f" and dtype.char not in _FLOAT_CODES):
        raise TypeError(f"fastact.{name}: {what} has dtype {dtype}; expected float16, float32, "
                        f"float64, an integer or bool dtype")


def _check_params(name, pnames, values):
    for pname, v in zip(pnames, values):
        try:
            if isinstance(v, (str, bytes)):
                raise TypeError
            float(v)
        except (TypeError, ValueError):
            raise TypeError(f"fastact.{name}: {pname} must be a real number, got {v!r}") from None
        except OverflowError:
            raise ValueError(f"fastact.{name}: {pname}={_short(v)} overflows float64") from None
    return tuple(float(v) for v in values[:len(pnames)])


def _short(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


_FLT_MAX = float(np.finfo(np.float32).max)


def check_values(k, backward, is_float32, v0, v1):
    """Raise the named ValueError if kernel k's parameter values (floats) are outside its domain,
    or overflow float32 where the call computes in float32 (float16 and float32 inputs). Called by
    the fast path when needed, and by the slow path on every call."""
    act = _ACT_OF[k]
    name = act.name + ("_backward" if backward else "")
    values = (v0, v1)[:len(act.params)]
    if is_float32:
        for (pname, _), v in zip(act.params, values):
            if _FLT_MAX < abs(v) < np.inf:
                raise ValueError(f"fastact.{name}: {pname}={v!r} overflows float32, the dtype this "
                                 f"call computes in (use float64 inputs for such values)")
        seen = tuple(float(np.float32(v)) for v in values)
    else:
        seen = values
    why = act.check and act.check(*seen)
    if why:
        if list(map(repr, seen)) != list(map(repr, values)):
            why += f" ({', '.join(map(repr, values))} given, rounded to float32)"
        raise ValueError(f"fastact.{name}: {why}")


def check_layer_params(name, act, values):
    """A layer's parameters, checked as the functions check them (fastact.<name>: ...)."""
    values = _check_params(name, [p for p, _ in act.params], values)
    why = act.check and act.check(*values)
    if why:
        raise ValueError(f"fastact.{name}: {why}")
    return values


def _computes_in_float32(arrays):
    """Whether the ufunc twin runs its float32 loop for these operands (float16 or float32 only;
    integers are taken as float64)."""
    dtypes = []
    for a in arrays:
        dt = getattr(a, "dtype", None)
        dt = dt if isinstance(dt, np.dtype) else np.asarray(a).dtype
        dtypes.append(dt if dt.kind == "f" else np.dtype(np.float64))
    try:
        return np.result_type(*dtypes).char in "ef"
    except TypeError:
        return False     # not a float dtype: the dtype check that follows says so


def broadcast_shapes(*shapes):
    """np.broadcast_shapes, also beyond the 32 dimensions np.broadcast handles."""
    if all(len(s) <= 32 for s in shapes):
        return np.broadcast_shapes(*shapes)
    nd = max(map(len, shapes))
    result = []
    for i in range(nd):
        sizes = {s[i - nd + len(s)] for s in shapes if i - nd + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError("shapes do not broadcast")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _check_out(name, out, shapes):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"fastact.{name}: out must be a numpy.ndarray, got {type(out).__name__}")
    if not out.flags.writeable:
        raise ValueError(f"fastact.{name}: out is read-only")
    _check_dtype(name, "out", out.dtype)
    try:
        shape = broadcast_shapes(*shapes)
        fits = broadcast_shapes(shape, out.shape) == out.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"fastact.{name}: out has shape {out.shape}, but the inputs broadcast "
                         f"to {shape}")


# NumPy's buffered ufunc iterator (needed to cast: float16, byte-swapped, mixed dtypes) handles up
# to 32 dimensions although arrays may have 64.
_ITER_MAXDIMS = 32


def call_ufunc(name, ufunc, operands, params, out, what=("x",), keeps_int=False, dtype=None):
    """Run a ufunc twin with fastact's checks and error messages; `what` names the operands.
    Integer and bool operands are taken as float64 unless the kernel keeps integer dtypes; `dtype`
    picks the loop (for prelu, whose result dtype is NumPy's promotion of x and weight)."""
    kw = {} if out is None else {"out": out}
    if dtype is not None:     # the loop of this dtype; its last input, the parameter, in its type
        kw["signature"] = ((dtype,) * (ufunc.nin - 1)
                           + (np.float32 if dtype.char in "ef" else np.float64, dtype))
    if any(_defers(a) for a in operands) or _defers(out):
        if not keeps_int and any(getattr(getattr(a, "dtype", None), "kind", "f") in "biu"
                                 for a in operands):
            kw["dtype"] = np.float64    # as for ndarrays (the twin alone would pick float16)
        return ufunc(*operands, *params, **kw)
    arrays = []
    for role, a in zip(what, operands):
        a = np.asarray(a)
        _check_dtype(name, role, a.dtype)
        arrays.append(a if keeps_int or a.dtype.kind == "f" else a.astype(np.float64))
    try:
        shapes = [a.shape for a in arrays]
        shape = broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"fastact.{name}: shapes {' and '.join(map(str, shapes))} do not "
                         f"broadcast together") from None
    if out is not None:
        _check_out(name, out, shapes)
        shape = out.shape
    if len(shape) > _ITER_MAXDIMS:
        return _call_squeezed(name, ufunc, arrays, params, out, shape, kw)
    try:
        # the kernels raise no flags; NumPy would warn about a result too large for a narrower
        # out= (it becomes inf), and fastact emits no floating-point warnings
        with np.errstate(all="ignore"):
            return ufunc(*arrays, *params, **kw)
    except TypeError as e:   # NumPy's casting checks, which run before anything is written
        raise TypeError(f"fastact.{name}: {e}") from None


def _call_squeezed(name, ufunc, arrays, params, out, shape, kw):
    """The ufunc on views without the axes of length 1, for more than 32 dimensions."""
    if 0 in shape:      # empty: the dtype (and casting checks) from 1-D empty operands
        kw = dict(kw, **({} if out is None else {"out": np.empty(0, out.dtype)}))
        try:
            result = ufunc(*[np.empty(0, a.dtype) for a in arrays], *params, **kw)
        except TypeError as e:
            raise TypeError(f"fastact.{name}: {e}") from None
        return out if out is not None else np.empty(shape, result.dtype)
    keep = [i for i, n in enumerate(shape) if n != 1]
    if len(keep) > _ITER_MAXDIMS:
        raise ValueError(f"fastact.{name}: {len(keep)} dimensions longer than 1; at most "
                         f"{_ITER_MAXDIMS} are supported")
    drop = tuple(i for i in range(len(shape)) if i not in keep)
    views = [a.reshape((1,) * (len(shape) - a.ndim) + a.shape).squeeze(drop) for a in arrays]
    kw = dict(kw, **({} if out is None else {"out": out.squeeze(drop)}))
    try:
        with np.errstate(all="ignore"):
            result = ufunc(*views, *params, **kw)
    except TypeError as e:
        raise TypeError(f"fastact.{name}: {e}") from None
    return out if out is not None else result.reshape(shape)


def at_level(level, ufunc, *args, **kwargs):
    """ufunc(*args, **kwargs) run at precision level `level` (the ufunc twins read the level in
    force on the calling thread; a lazy array computes later, at the level in force there)."""
    if level == _kernels.get_level():
        return ufunc(*args, **kwargs)
    before = _kernels.set_thread_level(level)
    try:
        return ufunc(*args, **kwargs)
    finally:
        _kernels.set_thread_level(before)


def _slow_forward_flags(k, x, out, p0, p1, level):
    name, pnames = _CALLER[k]
    params = _check_params(name, pnames, (p0, p1))
    check_values(k, False, _computes_in_float32((x,)), *(params + (0.0, 0.0))[:2])
    kname, _, keeps_int, _ = _kernels.KERNELS[k]
    return at_level(level, call_ufunc, name, UFUNCS[kname], (x,), params, out, keeps_int=keeps_int)


def _slow_backward_flags(k, grad_output, x, out, p0, p1, from_output, level):
    name, pnames = _CALLER[k]
    params = _check_params(name + "_backward", pnames, (p0, p1))
    check_values(k, True, _computes_in_float32((grad_output, x)), *(params + (0.0, 0.0))[:2])
    suffix = "_backward_from_output" if from_output else "_backward"
    return at_level(level, call_ufunc, name + "_backward", UFUNCS[_kernels.KERNELS[k][0] + suffix],
                    (grad_output, x), params, out,
                    ("grad_output", "output" if from_output else "x"))


def _slow_forward(*args):
    return _kernels.keeping_fp_flags(_slow_forward_flags, *args)


def _slow_backward(*args):
    return _kernels.keeping_fp_flags(_slow_backward_flags, *args)


def check_precision(name, precision):
    """The level index of a `precision=` argument (None: the one in force)."""
    if precision is None:
        return _kernels.get_level()
    return _config.level_index(name, precision, none_ok=True)


def _bad_precision(k, precision):
    return check_precision(_CALLER.get(k, ("prelu",))[0], precision)


_kernels.set_slow_paths(_slow_forward, _slow_backward, _bad_precision, check_values,
                        {k for k, a in _ACT_OF.items() if a.check is not None})


# ---- public functions ---------------------------------------------------------------------------

_FORWARD_DOC = """{name}(x, /{sig}, out=None, *, precision=None)

{name}(x) = {formula}.

Works like a NumPy ufunc: x is any array-like; float16, float32 and float64 are computed in
their own dtype (float16 through float32); integer and bool inputs are taken as float64 (relu
keeps them).
Returns the result; with ``out`` it writes there (``out`` may be ``x``) and returns ``out``.
``precision``: 'fast' (float32 within 2 ulp) or 'accurate' (within 1 ulp); None, the default, is
the level in force (fastact.set_precision, fastact.precision). float64 is always accurate.
Real ufunc twin{twins}: fastact.ufuncs.{kernels}.
"""

_BACKWARD_DOC = """{name}_backward(grad_output, x, /{sig}, out=None, *, output=None, precision=None)

grad_output times the derivative of {name} at x: {derivative}.
NaN wherever x is NaN. ``out`` may be ``grad_output`` or ``x``.
``precision``: as for {name}; float32 within 4 ulp ('fast') or 2 ulp ('accurate').
{from_output}
Real ufunc twin{twins}: fastact.ufuncs.{bkernels}.
"""


def _bad_choice(name, choice, options, value):
    raise ValueError(f"fastact.{name}: {choice} must be one of "
                     f"{', '.join(map(repr, options))}, got {value!r}")


def output_allowed(act, values):
    """None if act's backward may start from its output with these parameter values, else why not."""
    if act.from_output is None:
        return act.no_output
    if act.from_output is True:
        return None
    value = dict(zip((p for p, _ in act.params), values)).get(act.from_output)
    if value is not None and not value > 0:
        return (f"{act.from_output}={value!r} is not positive, so the output does not determine "
                f"the sign of x")
    return None


def _from_output(act, k, grad_output, x, output, out, p0, p1, precision):
    name = act.name + "_backward"
    if x is not None:
        raise TypeError(f"fastact.{name}: give x or output=, not both")
    why = output_allowed(act, (p0, p1))
    if why:
        raise ValueError(f"fastact.{name}: cannot start from the output: {why}; pass x instead")
    return _kernels.backward(k, grad_output, output, out, p0, p1, True, precision)


def _need_x(name):
    raise TypeError(f"fastact.{name}: x (or output=) is required")


def _make_functions(act):
    """fastact.<name> and <name>_backward with the exact signatures, generated like namedtuple's."""
    sig = "".join(f", {p}={d!r}" for p, d in act.params)
    args = [p for p, _ in act.params] + ["0.0"] * (2 - len(act.params))
    ns = {"_forward": _kernels.forward, "_backward": _kernels.backward, "_bad_choice": _bad_choice,
          "_from_output": _from_output, "_need_x": _need_x, "_act": act}
    if act.choice is None:
        pick, kernel = "", str(KERNEL_INDEX[act.kernels[None]])
    else:
        cname, cdefault = act.choice
        sig += f", {cname}={cdefault!r}"
        ns["_choices"] = {c: KERNEL_INDEX[k] for c, k in act.kernels.items()}
        pick = (f"    k = _choices.get({cname}) if type({cname}) is str else None\n"
                f"    if k is None:\n"
                f"        _bad_choice({{fn}}, {cname!r}, tuple(_choices), {cname})\n")
        kernel = "k"
    params = ", ".join(args)
    src = (f"def {act.name}(x, /{sig}, out=None, *, precision=None):\n"
           + pick.format(fn=repr(act.name))
           + f"    return _forward({kernel}, x, out, {params}, precision)\n"
           f"def {act.name}_backward(grad_output, x=None, /{sig}, out=None, *, output=None,"
           f" precision=None):\n"
           + pick.format(fn=repr(act.name + "_backward"))
           + f"    if output is not None:\n"
           f"        return _from_output(_act, {kernel}, grad_output, x, output, out, {params},"
           f" precision)\n"
           f"    if x is None:\n"
           f"        _need_x({act.name + '_backward'!r})\n"
           f"    return _backward({kernel}, grad_output, x, out, {params}, False, precision)\n")
    exec(src, ns)
    fwd, bwd = ns[act.name], ns[act.name + "_backward"]
    kernels = list(act.kernels.values())
    if act.from_output is None:
        from_output = f"output= is refused: {act.no_output}."
    else:
        cond = "" if act.from_output is True else f" (when {act.from_output} > 0)"
        from_output = (f"With ``output=y`` instead of x, where y = {act.name}(x), the same result"
                       f" from the output alone{cond}, so the forward may overwrite x.")
    fmt = dict(name=act.name, sig=sig, formula=act.formula,
               derivative=act.derivative, twins="s" if len(kernels) > 1 else "",
               kernels=", ".join(kernels), bkernels=", ".join(k + "_backward" for k in kernels),
               from_output=from_output)
    fwd.__doc__, bwd.__doc__ = _FORWARD_DOC.format(**fmt), _BACKWARD_DOC.format(**fmt)
    fwd.__module__ = bwd.__module__ = "fastact"
    return fwd, bwd


FUNCTIONS = {}
for _act in ACTIVATIONS:
    FUNCTIONS[_act.name], FUNCTIONS[_act.name + "_backward"] = _make_functions(_act)


# ---- PReLU: leaky_relu with a per-channel slope ----------------------------------------------------

_LEAKY = KERNEL_INDEX[PRELU.kernels[None]]
# grad_weight is summed in blocks of this many elements (64 KiB of float64), so prelu_backward
# needs no temporary larger than its output.
_GRAD_WEIGHT_BLOCK = 8192


def _prelu_operands(name, x, weight, axis):
    """(x as an array, the result dtype, the slope: a float, or the weight in the compute type
    shaped to broadcast along axis, the normalized axis or None). The result dtype is NumPy's
    promotion of x and weight, as np.multiply(x, weight) gives it (integers alone: float64)."""
    if _defers(x):
        raise TypeError(f"fastact.{name}: x of type {type(x).__name__} is not supported; use "
                        f"fastact.ufuncs.leaky_relu(x, weight_broadcast) on such arrays")
    if not isinstance(axis, numbers.Integral) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"fastact.{name}: axis must be an integer, got {axis!r}")
    x = np.asarray(x)
    _check_dtype(name, "x", x.dtype)
    weak = type(weight) in (int, float)       # Python numbers promote weakly, as in NumPy
    w = np.asarray(weight)
    _check_dtype(name, "weight", w.dtype)
    if w.ndim > 1:
        raise ValueError(f"fastact.{name}: weight must be a scalar or 1-D, got shape {w.shape}")
    dtype = np.result_type(x, weight if weak else w)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)          # integers and bool, as leaky_relu takes them
    if w.size == 1:
        slope = float(w.reshape(()))
        if dtype.char in "ef" and _FLT_MAX < abs(slope) < np.inf:
            raise ValueError(f"fastact.{name}: weight={slope!r} overflows float32, the dtype this "
                             f"call computes in")
        return x, dtype, slope, None
    if x.ndim < 2:
        raise ValueError(f"fastact.{name}: x has {x.ndim} dimension(s), so it has one channel "
                         f"and weight must have 1 element, got {w.size}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"fastact.{name}: axis {axis!r} is not an axis of x (ndim {x.ndim})")
    axis = int(axis) % x.ndim
    if w.size != x.shape[axis]:
        raise ValueError(f"fastact.{name}: weight has {w.size} elements but x.shape[{axis}] is "
                         f"{x.shape[axis]}")
    shape = [1] * x.ndim
    shape[axis] = w.size
    compute = np.float32 if dtype.char in "ef" else np.float64   # float16 computes in float32
    return x, dtype, w.astype(compute).reshape(shape), axis


def _runs_fast(dtype, out, *arrays):
    """Whether the serial kernel takes these operands as they are (else the ufunc twin does,
    with the dtype forced to `dtype`)."""
    return (dtype.char in "fd" and all(a.dtype == dtype and a.shape == arrays[0].shape
                                       for a in arrays)
            and (out is None or (type(out) is np.ndarray and out.dtype == dtype
                                 and out.shape == arrays[0].shape)))


def prelu(x, weight, /, axis=1, out=None, *, precision=None):
    """prelu(x, weight, /, axis=1, out=None, *, precision=None)

    x if x > 0 else weight[c] * x, with c the index along ``axis`` (an integer). ``weight`` is a
    scalar or 1-D with len(weight) == x.shape[axis]; inputs with fewer than 2 dimensions have one
    channel and take a 1-element weight, as in torch. The result's dtype is NumPy's promotion of
    x and weight, as np.multiply(x, weight) gives it (a Python number does not promote; integers
    alone give float64); float16 computes in float32. ``out`` may be ``x``. ``precision`` is
    accepted for uniformity: PReLU is exact at both levels.
    """
    return _kernels.keeping_fp_flags(_prelu, x, weight, axis, out, precision)


def _prelu(x, weight, axis, out, precision):
    check_precision("prelu", precision)
    x, dtype, slope, _ = _prelu_operands("prelu", x, weight, axis)
    if out is not None:
        _check_out("prelu", out, [x.shape])
    if isinstance(slope, float) and _runs_fast(dtype, out, x):
        return _kernels.forward(_LEAKY, x, out, slope, 0.0)
    return call_ufunc("prelu", UFUNCS["leaky_relu"], (x, slope), (), out, ("x", "weight"),
                      dtype=dtype)


def prelu_backward(grad_output, x=None, /, weight=None, axis=1, out=None, *, output=None,
                   precision=None):
    """prelu_backward(grad_output, x, weight, /, axis=1, out=None, *, output=None, precision=None)
    -> (grad_input, grad_weight)

    grad_input = grad_output * (1 if x > 0 else weight[c]), written to ``out`` if given (which
    may be ``grad_output`` or ``x``). grad_output and x broadcast as NumPy operands do; the
    channel axis is x's ``axis`` (counted in x's dimensions, so it keeps its place when
    grad_output has more). grad_input has the broadcast shape and the promoted dtype of
    grad_output, x and weight. grad_weight has weight's shape and dtype (float64 for an integer
    weight) and sums grad_output * x over the elements with x <= 0 of each channel, accumulated
    in float64 block by block (no temporary larger than the output).
    With ``output=y`` (y = prelu(x, weight)) instead of x, and every weight > 0, the same from
    the output alone: x = y / weight[c] where y <= 0.
    """
    return _kernels.keeping_fp_flags(_prelu_backward, grad_output, x, weight, axis, out, output,
                                     precision)


def _prelu_backward(grad_output, x, weight, axis, out, output, precision):
    name = "prelu_backward"
    check_precision(name, precision)
    if weight is None:
        raise TypeError(f"fastact.{name}: weight is required")
    if output is not None:
        if x is not None:
            raise TypeError(f"fastact.{name}: give x or output=, not both")
        x = output
    elif x is None:
        raise TypeError(f"fastact.{name}: x (or output=) is required")
    x, dtype, slope, axis = _prelu_operands(name, x, weight, axis)
    if output is not None and not np.all(np.asarray(slope) > 0):
        raise ValueError(f"fastact.{name}: cannot start from the output: weight has values "
                         f"that are not positive, so the output does not determine the sign "
                         f"of x; pass x instead")
    g = np.asarray(grad_output)
    _check_dtype(name, "grad_output", g.dtype)
    try:
        shape = broadcast_shapes(g.shape, x.shape)
    except ValueError:
        raise ValueError(f"fastact.{name}: grad_output's shape {g.shape} and x's shape "
                         f"{x.shape} do not broadcast together") from None
    if out is not None:
        _check_out(name, out, [g.shape, x.shape])
    dtype = np.result_type(dtype, g.dtype if g.dtype.kind == "f" else np.float64)
    w = np.asarray(weight)
    # grad_weight first: out may be x or grad_output, which grad_input would overwrite.
    grad_weight = _prelu_grad_weight(g, x, slope, axis, output is not None, shape)
    with np.errstate(over="ignore"):        # a sum beyond float16's range is inf, as it should be
        grad_weight = np.asarray(grad_weight).astype(w.dtype if w.dtype.kind == "f"
                                                     else np.float64).reshape(w.shape)
    # y and x have the same sign when every weight is positive, so one kernel serves both
    if isinstance(slope, float) and _runs_fast(dtype, out, g, x):
        grad_input = _kernels.backward(_LEAKY, g, x, out, slope, 0.0)
    else:
        grad_input = call_ufunc(name, UFUNCS["leaky_relu_backward"], (g, x, slope), (), out,
                                ("grad_output", "x", "weight"), dtype=dtype)
    return grad_input, grad_weight


def _prelu_grad_weight(g, x, slope, axis, from_output, shape):
    """sum of g * x (x = y / slope from the output) over x <= 0 and NaN x, per channel along x's
    `axis` (None: one channel), in float64, in blocks of _GRAD_WEIGHT_BLOCK elements."""
    nd = len(shape)
    operands = [g.reshape((1,) * (nd - g.ndim) + g.shape),
                x.reshape((1,) * (nd - x.ndim) + x.shape)]
    channels = 1
    if axis is not None:
        channels = slope.size
        operands.append(np.arange(channels).reshape((1,) * (nd - x.ndim) + slope.shape))
        slope64 = slope.astype(np.float64).ravel()
    drop = tuple(i for i, n in enumerate(shape) if n == 1)   # the iterator takes <= 32 dims
    if 0 in shape:
        return np.zeros(channels) if axis is not None else 0.0
    operands = [a.squeeze(drop) for a in operands]
    total = np.zeros(channels)
    it = np.nditer(operands, flags=["external_loop", "buffered", "zerosize_ok"],
                   op_flags=[["readonly"]] * len(operands),
                   op_dtypes=[np.float64, np.float64, np.intp][:len(operands)],
                   casting="unsafe", buffersize=_GRAD_WEIGHT_BLOCK)
    with it, np.errstate(all="ignore"):     # inf * 0 is NaN in grad_weight, as it should be
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
