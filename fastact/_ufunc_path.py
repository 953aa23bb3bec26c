"""The ufunc twins and the path through them: everything off the C fast path.

A call first tries fastact._kernels.forward/backward, which runs the C loop directly on plain,
contiguous float32/float64 arrays. Anything else comes here: objects that implement
__array_ufunc__ (dask, xarray, ndarray subclasses) go to the ufunc twins untouched; everything
else is converted, checked (with errors that name the function, raised before any memory is
written) and run through the same ufunc twins, which give NumPy's broadcasting, strides, casting
and overlap handling. The public functions (_functions.py) and PReLU (_prelu.py) call in here.
"""

import numpy as np

from . import _config, _kernels
from ._table import ACTIVATIONS, PRELU

KERNEL_INDEX = {kernel.name: k for k, kernel in enumerate(_kernels.KERNELS)}
for _act in ACTIVATIONS + (PRELU,):
    for _kname in _act.kernels.values():
        if _kname not in KERNEL_INDEX:
            raise ImportError(
                f"fastact: kernel {_kname!r} of {_act.name} is not in FASTACT_KERNELS"
            )
        _kernel = _kernels.KERNELS[KERNEL_INDEX[_kname]]
        if PRELU is not _act and _kernel.nparams != len(_act.params):
            raise ImportError(f"fastact: kernel {_kname!r} and the table disagree on parameters")
        if _act.from_output_when is not None and not _kernel.has_backward_from_output:
            raise ImportError(
                f"fastact: {_act.name} allows output= but kernel {_kname!r} has no "
                f"backward from the output in FASTACT_KERNELS"
            )


def _ufunc_doc(kname):
    act = next(a for a in ACTIVATIONS if kname in a.kernels.values())
    params = "".join(f", {p}" for p, _ in act.params)
    choice = (
        ""
        if act.choice is None
        else f" ({act.choice[0]}={next(c for c, k in act.kernels.items() if k == kname)!r})"
    )
    formula, derivative = (act.kernel_docs or {}).get(kname, (act.formula, act.derivative))
    return {
        kname: f"{kname}(x{params}): {act.name}{choice}, {formula}.",
        kname + "_backward": f"{kname}_backward(grad_output, x{params}): grad_output times "
        f"{act.name}'(x){choice}: {derivative}.",
        kname + "_backward_from_output": f"{kname}_backward_from_output(grad_output, y"
        f"{params}): the same, from the output y = "
        f"{act.name}(x){choice}.",
    }


UFUNCS = _kernels.make_ufuncs({k: v for n in KERNEL_INDEX for k, v in _ufunc_doc(n).items()})

# Kernel index -> (public name, parameter names) for the slow path's messages.
_CALLER = {
    KERNEL_INDEX[k]: (a.name, tuple(p for p, _ in a.params))
    for a in ACTIVATIONS
    for k in a.kernels.values()
}
_ACT_OF = {KERNEL_INDEX[k]: a for a in ACTIVATIONS for k in a.kernels.values()}

_FLOAT_CODES = "efd"


def _defers(a):
    """Objects that take ufuncs themselves (dask, xarray, subclasses) are handed the ufunc."""
    return (
        a is not None
        and type(a) is not np.ndarray
        and not isinstance(a, np.generic)
        and getattr(type(a), "__array_ufunc__", None) is not None
    )


def _check_dtype(name, what, dtype):
    if dtype.kind not in "biuf" or (dtype.kind == "f" and dtype.char not in _FLOAT_CODES):
        raise TypeError(
            f"fastact.{name}: {what} has dtype {dtype}; expected float16, float32, "
            f"float64, an integer or bool dtype"
        )


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
    return tuple(float(v) for v in values[: len(pnames)])


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
    values = (v0, v1)[: len(act.params)]
    if is_float32:
        for (pname, _), v in zip(act.params, values):
            if _FLT_MAX < abs(v) < np.inf:
                raise ValueError(
                    f"fastact.{name}: {pname}={v!r} overflows float32, the dtype this "
                    f"call computes in (use float64 inputs for such values)"
                )
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
        return False  # not a float dtype: the dtype check that follows says so


def broadcast_shapes(*shapes):
    """np.broadcast_shapes, also beyond the 32 dimensions np.broadcast handles."""
    if shapes and all(
        s == shapes[0] for s in shapes[1:]
    ):  # the common case, without NumPy's 1.4 us
        return tuple(shapes[0])
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
        raise ValueError(
            f"fastact.{name}: out has shape {out.shape}, but the inputs broadcast to {shape}"
        )


# NumPy's buffered ufunc iterator (needed to cast: float16, byte-swapped, mixed dtypes) handles up
# to 32 dimensions although arrays may have 64.
_ITER_MAXDIMS = 32


def call_ufunc(name, ufunc, operands, params, out, what=("x",), keeps_int=False, dtype=None):
    """Run a ufunc twin with fastact's checks and error messages; `what` names the operands.
    Integer and bool operands are taken as float64 unless the kernel keeps integer dtypes; `dtype`
    picks the loop (for prelu, whose result dtype is NumPy's promotion of x and weight)."""
    kw = {} if out is None else {"out": out}
    if dtype is not None:  # the loop of this dtype; its last input, the parameter, in its type
        kw["signature"] = (dtype,) * (ufunc.nin - 1) + (
            np.float32 if dtype.char in "ef" else np.float64,
            dtype,
        )
    if any(_defers(a) for a in operands) or _defers(out):
        if not keeps_int and any(
            getattr(getattr(a, "dtype", None), "kind", "f") in "biu" for a in operands
        ):
            kw["dtype"] = np.float64  # as for ndarrays (the twin alone would pick float16)
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
        raise ValueError(
            f"fastact.{name}: shapes {' and '.join(map(str, shapes))} do not broadcast together"
        ) from None
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
    except TypeError as e:  # NumPy's casting checks, which run before anything is written
        raise TypeError(f"fastact.{name}: {e}") from None


def _call_squeezed(name, ufunc, arrays, params, out, shape, kw):
    """The ufunc on views without the axes of length 1, for more than 32 dimensions."""
    if 0 in shape:  # empty: the dtype (and casting checks) from 1-D empty operands
        kw = dict(kw, **({} if out is None else {"out": np.empty(0, out.dtype)}))
        try:
            result = ufunc(*[np.empty(0, a.dtype) for a in arrays], *params, **kw)
        except TypeError as e:
            raise TypeError(f"fastact.{name}: {e}") from None
        return out if out is not None else np.empty(shape, result.dtype)
    keep = [i for i, n in enumerate(shape) if n != 1]
    if len(keep) > _ITER_MAXDIMS:
        raise ValueError(
            f"fastact.{name}: {len(keep)} dimensions longer than 1; at most "
            f"{_ITER_MAXDIMS} are supported"
        )
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
    kernel = _kernels.KERNELS[k]
    return at_level(
        level, call_ufunc, name, UFUNCS[kernel.name], (x,), params, out, keeps_int=kernel.keeps_int
    )


def _slow_backward_flags(k, grad_output, x, out, p0, p1, from_output, level):
    name, pnames = _CALLER[k]
    params = _check_params(name + "_backward", pnames, (p0, p1))
    check_values(k, True, _computes_in_float32((grad_output, x)), *(params + (0.0, 0.0))[:2])
    suffix = "_backward_from_output" if from_output else "_backward"
    return at_level(
        level,
        call_ufunc,
        name + "_backward",
        UFUNCS[_kernels.KERNELS[k].name + suffix],
        (grad_output, x),
        params,
        out,
        ("grad_output", "output" if from_output else "x"),
    )


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


_kernels.set_slow_paths(
    _slow_forward,
    _slow_backward,
    _bad_precision,
    check_values,
    {k for k, a in _ACT_OF.items() if a.check is not None},
)
