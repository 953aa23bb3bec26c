"""Property tests (Hypothesis): every public function, forward and backward, and every ufunc twin,
on arrays NumPy accepts: float16/32/64 in both byte orders and integer dtypes, 0 to 64 dimensions
(mostly of length 1), positive, negative and zero strides, views with offsets, C and F order,
broadcasting pairs, out= (fresh, in place, partially overlapping, another dtype), where= (twins),
every parameter over its domain with its boundaries, and both precision levels. Results are
checked against fastact.testing to the accuracy contract (float32 <= 2 ulp forward, <= 8
backward; float16 1 ulp; float64 against 50-digit mpmath as tests/test_accuracy.py does), and
rejected calls must raise a `fastact.`-named TypeError or ValueError and write nothing.

Profiles (tests/conftest.py): `ci` (the default: derandomized, fixed examples, under a minute)
and `long` (pytest tests/test_properties.py --hypothesis-profile=long).
"""

import math
import re

import mpmath as mp
import numpy as np
import pytest
from conftest import Case
from hypothesis import assume, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastact
from fastact._table import ACTIVATIONS
from fastact.testing import KERNELS, ULPS, near_grad_root, ulp_error

KERNEL_CASES = [Case(a, c, k, ()) for a in ACTIVATIONS for c, k in a.kernels.items()]
FLOATS = [np.float16, np.float32, np.float64]
INTS = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64]
NAMED_ERROR = re.compile(r"^fastact\.[A-Za-z0-9_.]+: ")


# ---- strategies ---------------------------------------------------------------------------------


@st.composite
def shapes(draw, max_big=3, max_side=4):
    """0 to 64 dimensions, at most max_big of them longer than 1 (so arrays stay small)."""
    ndim = draw(st.one_of(st.integers(0, 4), st.integers(0, 64)))
    shape = [1] * ndim
    if ndim:
        for i in draw(st.lists(st.integers(0, ndim - 1), max_size=max_big, unique=True)):
            shape[i] = draw(st.integers(0, max_side))
    return tuple(shape)


def dtypes(ints=True):
    floats = st.sampled_from(FLOATS).flatmap(
        lambda d: st.sampled_from([np.dtype(d), np.dtype(d).newbyteorder()])
    )
    return st.one_of(floats, st.sampled_from([np.dtype(d) for d in INTS])) if ints else floats


def values(dtype):
    if dtype.kind == "f":
        return hnp.from_dtype(
            dtype.newbyteorder("="), allow_nan=True, allow_infinity=True, allow_subnormal=True
        )
    return hnp.from_dtype(dtype)


@st.composite
def _filled(draw, dtype, shape, elements):
    """hnp.arrays, drawn flat (it does not take 64 dimensions) and reshaped."""
    return draw(hnp.arrays(dtype, int(np.prod(shape)), elements=elements)).reshape(shape)


@st.composite
def arrays(draw, dtype, shape, elements=None):
    """An array of this dtype and shape as a view: C or F order, offsets, steps of -2..2 (a step
    of 0 broadcasts: a read-only view with zero strides)."""
    elements = elements or values(dtype)
    kind = draw(st.sampled_from(["plain", "F", "strided", "broadcast"]))
    if kind == "broadcast" and shape:
        base_shape = tuple(1 if draw(st.booleans()) else n for n in shape)
        base = draw(_filled(dtype, base_shape, elements))
        return np.broadcast_to(base, shape)
    if kind != "strided" or not shape:
        a = draw(_filled(dtype, shape, elements))
        return np.asfortranarray(a) if kind == "F" and a.ndim else a  # (it makes 0-d 1-d)
    steps = [draw(st.sampled_from([1, 2, -1, -2])) if n > 1 else 1 for n in shape]
    offsets = [draw(st.integers(0, 1)) if n > 1 else 0 for n in shape]
    base_shape = tuple(n * abs(s) + o for n, s, o in zip(shape, steps, offsets))
    base = draw(_filled(dtype, base_shape, elements))
    view = base[tuple(slice(o, o + n * abs(s), abs(s)) for n, s, o in zip(shape, steps, offsets))]
    view = view[tuple(slice(None, None, -1 if s < 0 else 1) for s in steps)]
    assert view.shape == shape, (view.shape, shape)
    return view


def _float_param(lo=-1e4, hi=1e4):
    return st.one_of(
        st.floats(lo, hi, allow_nan=False),
        st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-30, -1e-30, 3.4e38, -3.4e38]),
    )


@st.composite
def parameters(draw, act):
    """Values over each parameter's domain, boundaries included (some rejected by the check)."""
    vals = {}
    for p, default in act.params:
        vals[p] = draw(st.one_of(st.just(default), _float_param()))
    if act.name == "softplus":
        # log1p(exp(b x)) / b, either sign of beta (a beta near 0 overflows b x / beta)
        assume(abs(vals["beta"]) >= 1e-3)
        vals["threshold"] = draw(
            st.one_of(
                st.just(vals["threshold"]), st.sampled_from([0.0, -1.0, 1e4, np.inf, -np.inf])
            )
        )
    if act.name == "hardtanh" and draw(st.booleans()):
        vals["max_val"] = draw(st.sampled_from([vals["min_val"], abs(vals["min_val"]) + 1.0]))
    if act.name == "celu":
        # alpha < 0 is left out: the kernels take x / alpha <= 0 for x <= 0 (see the README)
        assume(vals["alpha"] == 0 or vals["alpha"] >= 1e-3)
    return vals


# ---- expected values -----------------------------------------------------------------------------

mp.mp.dps = 50


def _compute_dtype(dtype):
    return np.dtype(np.float64) if dtype.kind != "f" else np.dtype(dtype.char)


def _rounded(params, dtype):
    """The parameters as the kernel sees them: float32 for float16/float32, float64 otherwise."""
    t = np.float32 if dtype.char in "ef" else np.float64
    return tuple(float(t(p)) for p in params)


def _reference(kernel, backward, g, x, params, dtype):
    """float64 reference of the result; 50-digit mpmath for finite float64 results of the
    non-exact kernels (a float64 formula loses up to x*x/2 ulps in gelu's tail)."""
    args = (g, x) if backward else (x,)
    ref = np.asarray(KERNELS[kernel].reference(backward)(*args, *params), np.float64)
    if dtype == np.float64 and not KERNELS[kernel].exact:
        f = KERNELS[kernel].mp_reference(backward)
        flat_args = [np.broadcast_to(np.asarray(a, np.float64), ref.shape).ravel() for a in args]
        out = ref.ravel().copy()
        with mp.workdps(50):
            _fill_mpmath(f, flat_args, params, out)
        ref = out.reshape(ref.shape)
    return ref


def _fill_mpmath(f, flat_args, params, out):
    """out[i] = f at the i-th finite point, in the caller's mpmath precision."""
    for i in range(out.size):
        point = [a[i] for a in flat_args]
        if all(np.isfinite(point)):
            try:
                out[i] = float(f(*map(mp.mpf, point), *map(mp.mpf, params)))
            except OverflowError:  # an exponent beyond float64's: 0 or inf, as float64's
                pass


def _check_close(kernel, backward, got, ref, x, g, dtype):
    with np.errstate(all="ignore"):  # infinities and NaNs in the comparison itself
        _check_close_quiet(kernel, backward, got, ref, x, g, dtype)


def _check_close_quiet(kernel, backward, got, ref, x, g, dtype):
    dtype = np.dtype(dtype)
    name = dtype.name
    tol = ULPS[name]["backward" if backward else "forward"]
    if dtype == np.float64 and KERNELS[kernel].exact:
        tol = 0
    err = ulp_error(got, ref, dtype)
    if backward and dtype != np.float32:
        # near a zero of f'(x) the error is bounded in absolute terms (tests/test_accuracy.py)
        xb = np.broadcast_to(np.asarray(x, np.float64), ref.shape)
        gb = np.broadcast_to(np.abs(np.asarray(g, np.float64)), ref.shape)
        with np.errstate(all="ignore"):
            near = near_grad_root(kernel, xb, ref / np.where(gb == 0, 1, gb))
            unit = gb * (2.0**-13 if dtype == np.float16 else 2.0**-55)
            err = np.where(near & (unit > 0), np.abs(got - ref) / unit, err)
    worst = np.unravel_index(np.argmax(err), err.shape) if err.size else None
    assert not err.size or err[worst] <= tol, (
        f"{kernel} {'backward' if backward else 'forward'} {name}: {err[worst]:.2f} ulp at "
        f"x={np.broadcast_to(x, ref.shape)[worst]!r}, got {got[worst]!r}, want {ref[worst]!r}"
    )


def _expect_rejected(call, *arrays):
    """call() must raise a fastact-named TypeError or ValueError and leave the arrays as they
    were."""
    before = [a.copy() for a in arrays]
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert NAMED_ERROR.match(str(info.value)), str(info.value)
    for a, b in zip(arrays, before):
        assert np.array_equal(a, b, equal_nan=True) and a.dtype == b.dtype
    return info.value


# ---- forward and backward of every public function -----------------------------------------------


@st.composite
def calls(draw, backward):
    case = draw(st.sampled_from(KERNEL_CASES))
    xdtype = draw(dtypes(ints=True))
    shape = draw(shapes())
    x = draw(arrays(xdtype, shape))
    g = None
    if backward:
        gshape = list(shape)
        for i in range(len(gshape)):
            if draw(st.integers(0, 4)) == 0:
                gshape[i] = 1  # broadcasting pairs: either side may be 1
        gshape = (
            [draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2)))] + gshape
            if len(gshape) < 62
            else gshape
        )
        gdtype = draw(st.one_of(st.just(xdtype), dtypes(ints=False)))
        elements = st.one_of(st.floats(-1e3, 1e3, width=16), st.sampled_from([0.0, -0.0, 1.0]))
        if gdtype.kind != "f":
            elements = None
        g = draw(arrays(gdtype, tuple(gshape), elements=elements))
        if draw(st.booleans()):
            x = (
                np.broadcast_to(x, fastact._ufunc_path.broadcast_shapes(x.shape, g.shape))
                if max(x.ndim, g.ndim) <= 32
                else x
            )
    params = draw(parameters(case.act))
    precision = draw(st.sampled_from([None, "fast", "accurate"]))
    out_kind = draw(st.sampled_from(["none", "fresh", "other dtype", "in place", "overlap"]))
    return case, x, g, params, precision, out_kind


def _result_dtype(case, backward, x, g):
    if backward:
        dts = [_compute_dtype(x.dtype), _compute_dtype(g.dtype)]
        return np.result_type(*dts)
    if case.kernel == "relu" and x.dtype.kind in "biu":
        return np.dtype(x.dtype.char)
    return _compute_dtype(x.dtype)


def _run(case, backward, x, g, params, precision, out_kind):
    fn = case.backward if backward else case.forward
    kw = dict(params)
    if case.act.choice:
        kw[case.act.choice[0]] = case.choice
    args = (g, x) if backward else (x,)
    with np.errstate(all="ignore"):
        shape = (
            np.broadcast_shapes(*(a.shape for a in args))
            if max(a.ndim for a in args) <= 32
            else fastact._ufunc_path.broadcast_shapes(*(a.shape for a in args))
        )
    rdtype = _result_dtype(case, backward, x, g)
    out = None
    if out_kind == "fresh":
        out = np.full(shape, 7, rdtype)
    elif out_kind == "other dtype" and rdtype.kind == "f":
        out = np.full(shape, 7, np.float64 if rdtype != np.float64 else np.float32)
    elif out_kind == "in place" and x.flags.writeable and x.shape == shape and x.dtype == rdtype:
        out = x
    elif out_kind == "overlap" and shape and rdtype.kind == "f" and x.dtype == rdtype:
        # out and x share memory, shifted by one element: as if x were copied first
        buf = np.empty(x.size + 1, rdtype)
        buf[:-1] = x.ravel()
        x = buf[:-1].reshape(x.shape)
        out = buf[1:].reshape(x.shape)
        args = (g, x) if backward else (x,)
        if x.shape != shape:
            out = None
    x_in, g_in = x.copy(), (None if g is None else g.copy())
    note(
        f"{case.kernel} {'backward' if backward else 'forward'} x={x.dtype}{x.shape} "
        f"strides={x.strides} g={None if g is None else (g.dtype, g.shape)} params={params} "
        f"precision={precision} out={out_kind}"
    )
    rejects = (
        case.act.check and case.act.check(*_rounded(params.values(), rdtype))
        if case.act.params
        else None
    )
    overflows = rdtype.char in "ef" and any(
        3.4028234663852886e38 < abs(v) < math.inf for v in params.values()
    )
    if rejects or overflows:
        arrays_ = [a for a in (x, g, out) if a is not None and a.flags.writeable]
        err = _expect_rejected(lambda: fn(*args, **kw, out=out, precision=precision), *arrays_)
        assert isinstance(err, ValueError)
        return
    result = fn(*args, **kw, out=out, precision=precision)
    if out is not None:
        assert result is out
    got = np.asarray(result)
    assert got.shape == shape and (out is not None or got.dtype == rdtype), (got.dtype, rdtype)
    ps = _rounded(params.values(), rdtype)
    ref = _reference(case.kernel, backward, g_in, x_in, ps, rdtype)
    if out is not None and out.dtype != rdtype:
        if out.dtype.itemsize < rdtype.itemsize:  # computed in rdtype, rounded into out
            with np.errstate(all="ignore"):
                assert (ulp_error(got, ref, out.dtype) <= 1).all()
        else:
            _check_close(case.kernel, backward, got.astype(rdtype), ref, x_in, g_in, rdtype)
        return
    if rdtype.kind in "biu":
        assert np.array_equal(got, np.maximum(x_in, 0).astype(rdtype))
        return
    _check_close(case.kernel, backward, got, ref, x_in, g_in, rdtype)


@given(calls(backward=False))
def test_forward(args):
    case, x, _, params, precision, out_kind = args
    _run(case, False, x, None, params, precision, out_kind)


@given(calls(backward=True))
def test_backward(args):
    case, x, g, params, precision, out_kind = args
    _run(case, True, x, g, params, precision, out_kind)


# ---- the ufunc twins -----------------------------------------------------------------------------


@st.composite
def twin_calls(draw):
    case = draw(st.sampled_from(KERNEL_CASES))
    direction = draw(st.sampled_from(["", "_backward"]))
    dtype = draw(dtypes(ints=False))
    shape = draw(shapes())
    x = draw(arrays(dtype, shape))
    params = draw(parameters(case.act))
    assume(not (case.act.check and case.act.check(*_rounded(params.values(), dtype))))
    assume(not (dtype.char in "ef" and any(3.4e38 < abs(v) < math.inf for v in params.values())))
    g = draw(arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=16))) if direction else None
    where = draw(st.one_of(st.none(), _filled(np.dtype(np.bool_), shape, st.booleans())))
    precision = draw(st.sampled_from(["fast", "accurate"]))
    return case, direction, x, g, params, where, precision


@given(twin_calls())
def test_ufunc_twins(args):
    case, direction, x, g, params, where, precision = args
    ufunc = getattr(fastact.ufuncs, case.kernel + direction)
    operands = (g, x) if direction else (x,)
    rdtype = np.dtype(x.dtype.char)
    out = np.full(x.shape, 7, rdtype)
    kw = {"out": out} if where is None else {"out": out, "where": where}
    x_in, g_in = x.copy(), (None if g is None else g.copy())
    with fastact.precision(precision):
        result = ufunc(*operands, *params.values(), **kw)
    assert result is out
    ref = _reference(
        case.kernel, bool(direction), g_in, x_in, _rounded(params.values(), rdtype), rdtype
    )
    if where is not None:
        assert (out[~where] == 7).all()
        ref = np.where(where, ref, 7.0)
    _check_close(case.kernel, bool(direction), out, ref, x_in, g_in, rdtype)


# ---- prelu ---------------------------------------------------------------------------------------


@st.composite
def prelu_calls(draw):
    dtype = draw(dtypes(ints=True))
    shape = draw(shapes())
    x = draw(arrays(dtype, shape))
    per_channel = x.ndim >= 2 and draw(st.booleans())
    axis = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    n = x.shape[axis] if per_channel else 1
    per_channel = per_channel and n != 1
    wdtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    w = draw(hnp.arrays(wdtype, n, elements=st.floats(-4, 4, width=16)))
    weight = w if per_channel or draw(st.booleans()) else float(w[0])
    g = draw(arrays(np.dtype(np.float32), shape, elements=st.floats(-1e3, 1e3, width=16)))
    return x, weight, axis, g


@given(prelu_calls())
def test_prelu(args):
    x, weight, axis, g = args
    xin = x.copy()
    y = fastact.prelu(x, weight, axis=axis)
    want_dtype = np.result_type(x, weight if isinstance(weight, float) else np.asarray(weight))
    want_dtype = want_dtype if want_dtype.kind == "f" else np.dtype(np.float64)
    assert y.dtype == want_dtype
    per_channel = np.ndim(weight) == 1 and np.size(weight) != 1
    shape = [1] * x.ndim
    if per_channel:
        shape[axis] = np.size(weight)
    w64 = np.asarray(weight, np.float64).reshape(shape) if x.ndim else float(np.ravel(weight)[0])
    if want_dtype != np.float64:
        w64 = np.asarray(w64, np.float32).astype(np.float64)
    x64 = xin.astype(np.float64)
    with np.errstate(all="ignore"):
        ref = np.where(x64 > 0, x64, x64 * w64)
    _check_close("leaky_relu", False, np.asarray(y), ref, x64, None, want_dtype)
    gi, gw = fastact.prelu_backward(g, x, weight, axis=axis)
    assert np.shape(gw) == np.shape(weight)
    with np.errstate(all="ignore"):
        contrib = np.where(x64 > 0, 0.0, g.astype(np.float64) * x64)
        if per_channel:
            axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
            want_gw = contrib.sum(axis=axes)
        else:
            want_gw = contrib.sum()
        scale = np.abs(contrib).sum(axis=axes) if per_channel else np.abs(contrib).sum()
    gw_dtype = np.asarray(weight).dtype if np.asarray(weight).dtype.kind == "f" else np.float64
    with np.errstate(all="ignore"):
        want_gw = np.asarray(want_gw).astype(gw_dtype)
    eps = np.finfo(gw_dtype).eps
    with np.errstate(all="ignore"):
        ok = (
            (
                np.abs(np.asarray(gw, np.float64) - want_gw)
                <= 4 * eps * np.maximum(scale, np.abs(want_gw))
            )
            | (np.asarray(gw) == want_gw)
            | (np.isnan(gw) & np.isnan(want_gw))
        )
    assert ok.all(), (gw, want_gw)


# ---- rejected calls write nothing ----------------------------------------------------------------


def _first_param(case):
    return case.act.params[0][0] if case.act.params else case.act.choice[0]


BAD_CALLS = [
    ("complex x", lambda c, x, out: c.forward(x.astype(np.complex64), out=out)),
    ("object x", lambda c, x, out: c.forward(x.astype(object), out=out)),
    ("int out", lambda c, x, out: c.forward(x, out=np.zeros(x.shape, np.int32))),
    ("list out", lambda c, x, out: c.forward(x, out=[0.0] * x.size)),
    (
        "bad out shape",
        lambda c, x, out: c.forward(x, out=np.zeros(x.shape[:-1] + (x.shape[-1] + 1,), x.dtype)),
    ),
    ("read-only out", lambda c, x, out: c.forward(x, out=np.broadcast_to(out, x.shape))),
    ("bad precision", lambda c, x, out: c.forward(x, out=out, precision="fastest")),
    ("no x", lambda c, x, out: c.backward(x)),
    ("x and output", lambda c, x, out: c.backward(x, x, output=x, out=out)),
    (
        "shapes",
        lambda c, x, out: c.backward(np.ones(x.shape[:-1] + (x.shape[-1] + 1,)), x, out=out),
    ),
    ("string param", lambda c, x, out: c.forward(x, out=out, **{_first_param(c): "a"})),
    ("list param", lambda c, x, out: c.backward(x, x, out=out, **{_first_param(c): [1.0, 2.0]})),
    ("prelu axis", lambda c, x, out: fastact.prelu(x, 0.5, axis="1", out=out)),
    (
        "prelu weight",
        lambda c, x, out: fastact.prelu(x, np.ones(x.shape[-1] + 2), axis=-1, out=out),
    ),
    ("prelu_backward weight", lambda c, x, out: fastact.prelu_backward(x, x, out=out)),
]


@given(
    st.sampled_from(KERNEL_CASES),
    st.sampled_from(BAD_CALLS),
    dtypes(ints=False),
    shapes(),
    st.data(),
)
def test_rejected_calls(case, bad, dtype, shape, data):
    label, call = bad
    shape = shape if shape else (3,)
    assume(len(shape) <= 60)
    x = data.draw(arrays(dtype, shape, elements=st.floats(-10, 10, width=16)))
    if label in ("prelu weight",) and x.ndim < 2:
        x = x.reshape((1,) + x.shape)
    if label in ("bad out shape", "shapes") and x.shape[-1] < 2:  # so that x cannot broadcast
        x = np.zeros(x.shape[:-1] + (3,), x.dtype)
    out = np.full(x.shape, 7, x.dtype.newbyteorder("="))
    if "param" in label and not case.act.params and not case.act.choice:
        return  # nothing to get wrong
    note(label)
    _expect_rejected(lambda: call(case, x, out), *[a for a in (x, out) if a.flags.writeable])
