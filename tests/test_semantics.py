"""Ufunc semantics: dtypes, shapes, strides, memory orders, in-place, broadcasting, special values.

Every path (C fast path, ufunc twin, buffered strided or float16 loop) must give the same bits
as the contiguous fast path; that result is checked against the reference in test_accuracy.py,
and here against the reference within the float32 tolerance.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastact
from fastact.testing import KERNELS, ULPS, near_grad_root, root_ulp, ulp_error

RNG = np.random.default_rng(7)


def _data(shape, dtype, scale=4.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def _params(case, dtype):
    """The parameters as the kernel holds them: float32 for float16 and float32 inputs."""
    return case.params if np.dtype(dtype) == np.float64 else tuple(np.float32(case.params))


def _ref_forward(case, x, dtype=np.float64):
    return KERNELS[case.kernel].forward(x, *_params(case, dtype))


def _ref_backward(case, g, x, dtype=np.float64):
    return KERNELS[case.kernel].backward(g, x, *_params(case, dtype))


def _close(y, ref, dtype, direction, case=None, x=None):
    """Within the ulp tolerance for float16/32 (near a zero of f', given the case and x, in ulps
    of 1/8). A float64 formula is itself off by up to x*x/2 ulps in gelu's tail, so float64 gets
    a relative 1e-12 here (test_accuracy.py measures float64 against mpmath)."""
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-300)
        return
    err = ulp_error(y, ref, dtype)
    if case is not None:
        near = near_grad_root(case.kernel, np.asarray(x, np.float64), ref)
        err[near] = np.abs(np.asarray(y, np.float64) - ref)[near] / root_ulp(dtype)
    assert err.max(initial=0) <= ULPS[np.dtype(dtype).name][direction] + 0.5, err.max()


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).tobytes(), a.dtype, a.shape


# ---- dtypes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtypes_are_kept(case, dtype):
    x = _data(257, dtype)
    y = case.forward(x, **case.kwargs)
    assert y.dtype == dtype and y.shape == x.shape
    _close(y, _ref_forward(case, x.astype(np.float64), dtype), dtype, "forward")
    g = _data(257, dtype, 1.0)
    gi = case.backward(g, x, **case.kwargs)
    assert gi.dtype == dtype
    _close(
        gi,
        _ref_backward(case, g.astype(np.float64), x.astype(np.float64), dtype),
        dtype,
        "backward",
        case,
        x,
    )


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.bool_]
)
def test_integer_inputs_cast_like_ufuncs(case, dtype):
    x = np.array([-3, -1, 0, 1, 2, 100], dtype=np.int64).astype(dtype)
    y = case.forward(x, **case.kwargs)
    if case.kernel == "relu":
        assert y.dtype == dtype
        assert np.array_equal(y, np.maximum(x, 0).astype(dtype) if dtype != np.bool_ else x)
    else:
        assert y.dtype == np.float64
        assert np.array_equal(y, case.forward(x.astype(np.float64), **case.kwargs))
    gi = case.backward(np.ones(x.shape, np.int32), x, **case.kwargs)
    assert gi.dtype == np.float64
    assert np.array_equal(gi, case.backward(np.ones(x.shape), x.astype(np.float64), **case.kwargs))


# ---- shapes, strides, orders ---------------------------------------------------------------------

SHAPES = [
    (),
    (0,),
    (1,),
    (7,),
    (15,),
    (16,),
    (17,),
    (31,),
    (33,),
    (63,),
    (65,),
    (1000,),
    (3, 0, 2),
    (2, 3, 4, 5),
    (4, 129),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes(default_case, shape, dtype):
    case = default_case
    x = _data(shape, dtype)
    y = case.forward(x, **case.kwargs)
    assert np.shape(y) == shape and np.asarray(y).dtype == dtype
    _close(y, _ref_forward(case, x, dtype), dtype, "forward")
    g = _data(shape, dtype, 1.0)
    gi = case.backward(g, x, **case.kwargs)
    assert np.shape(gi) == shape
    _close(gi, _ref_backward(case, g, x, dtype), dtype, "backward", case, x)


def _views(base):
    """Non-contiguous, reversed, Fortran-ordered and transposed views of a 2-D base array."""
    return {
        "C": base,
        "F": np.asfortranarray(base),
        "T": base.T,
        "step2": base[:, ::2],
        "reversed": base[::-1, ::-1],
        "negative_step3": base[::-2, ::-3],
        "column": base[:, 5],
    }


@pytest.mark.parametrize("layout", list(_views(np.zeros((4, 6)))))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_layouts_match_contiguous_bits(default_case, layout, dtype):
    case = default_case
    x = _views(_data((37, 70), dtype))[layout]
    g = _views(_data((37, 70), dtype, 1.0))[layout]
    xc, gc = np.ascontiguousarray(x), np.ascontiguousarray(g)
    y = case.forward(x, **case.kwargs)
    assert y.shape == x.shape
    assert _bits(y) == _bits(case.forward(xc, **case.kwargs))
    assert _bits(case.backward(g, x, **case.kwargs)) == _bits(case.backward(gc, xc, **case.kwargs))
    if layout == "F":
        assert y.flags.f_contiguous  # NumPy's order='K': the result keeps x's layout


def test_ufunc_twin_matches_function(case):
    x = _data((5, 40), np.float32)
    g = _data((5, 40), np.float32, 1.0)
    f = case.ufunc(x, *case.params)
    assert _bits(f) == _bits(case.forward(x, **case.kwargs))
    b = case.ufunc_backward(g, x, *case.params)
    assert _bits(b) == _bits(case.backward(g, x, **case.kwargs))
    assert isinstance(case.ufunc, np.ufunc) and case.ufunc.nout == 1


def test_ufunc_twin_broadcasts_parameters(case):
    if not case.params:
        pytest.skip("no parameters")
    x = _data((3, 50), np.float32)
    p = np.array([case.params[0], 0.5, 2.0], dtype=np.float32)[:, None]  # the first parameter
    rest = case.params[1:]  # varies along axis 0
    y = case.ufunc(x, p, *rest)
    for i in range(3):
        assert _bits(y[i]) == _bits(case.ufunc(x[i], p[i, 0], *rest))
    g = _data((3, 50), np.float32, 1.0)
    b = case.ufunc_backward(g, x, p, *rest)
    for i in range(3):
        assert _bits(b[i]) == _bits(case.ufunc_backward(g[i], x[i], p[i, 0], *rest))


def test_broadcasting_between_operands(default_case):
    case = default_case
    x = _data((4, 1, 9), np.float32)
    g = _data((3, 1), np.float32, 1.0)
    gi = case.backward(g, x, **case.kwargs)
    gb, xb = np.broadcast_arrays(g, x)
    assert gi.shape == (4, 3, 9)
    assert _bits(gi) == _bits(case.backward(gb.copy(), xb.copy(), **case.kwargs))


def test_array_likes(default_case):
    case = default_case
    y = case.forward([-1.0, 0.5, 2.0], **case.kwargs)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    assert _bits(y) == _bits(case.forward(np.array([-1.0, 0.5, 2.0]), **case.kwargs))
    s = case.forward(1.5, **case.kwargs)  # 0-d in, NumPy scalar out, as ufuncs do
    assert np.ndim(s) == 0 and s == case.forward(np.array([1.5]), **case.kwargs)[0]


# ---- out=, in place, aliasing --------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["C", "F", "step2", "reversed"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_in_place_forward_and_backward(default_case, layout, dtype):
    case = default_case
    x0 = _data((33, 70), dtype)
    g0 = _data((33, 70), dtype, 1.0)
    expected_y = case.forward(x0, **case.kwargs)
    expected_g = case.backward(g0, x0, **case.kwargs)

    x = _views(x0.copy())[layout]
    y = case.forward(x, **case.kwargs, out=x)
    assert y is x and _bits(x) == _bits(_views(expected_y)[layout])

    g, x = _views(g0.copy())[layout], _views(x0.copy())[layout]
    r = case.backward(g, x, **case.kwargs, out=g)
    assert r is g and _bits(g) == _bits(_views(expected_g)[layout])

    g, x = _views(g0.copy())[layout], _views(x0.copy())[layout]
    r = case.backward(g, x, **case.kwargs, out=x)
    assert r is x and _bits(x) == _bits(_views(expected_g)[layout])


def test_out_of_place_into_given_array(default_case):
    case = default_case
    x = _data((10, 20), np.float32)
    out = np.empty((10, 20), np.float32)
    assert case.forward(x, **case.kwargs, out=out) is out
    assert _bits(out) == _bits(case.forward(x, **case.kwargs))
    out64 = np.empty((10, 20), np.float64)  # out of a wider dtype: computed in float32, cast
    case.forward(x, **case.kwargs, out=out64)
    assert np.array_equal(out64, case.forward(x, **case.kwargs).astype(np.float64))


def test_partial_overlap_is_handled(default_case):
    """out overlapping x at an offset: NumPy's ufunc rules apply (as if x were copied first)."""
    case = default_case
    buf = _data(300, np.float32)
    expected = case.forward(buf[:-5].copy(), **case.kwargs)
    case.forward(buf[:-5], **case.kwargs, out=buf[5:])
    assert _bits(buf[5:]) == _bits(expected)


# ---- special values ------------------------------------------------------------------------------

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_special_values(case, dtype):
    x = np.array(SPECIAL, dtype=dtype)
    ref = _ref_forward(case, x.astype(np.float64))
    y = case.forward(x, **case.kwargs)
    np.testing.assert_array_equal(y, ref.astype(dtype))
    g = np.ones_like(x)
    gi = case.backward(g, x, **case.kwargs)
    np.testing.assert_array_equal(gi, _ref_backward(case, g, x).astype(dtype))
    assert np.isnan(gi[0]), "backward is NaN where x is NaN"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extremes_do_not_overflow(case, dtype):
    """Huge, subnormal and smallest values: finite results stay finite and correct."""
    fi = np.finfo(dtype)
    x = np.array(
        [
            fi.max,
            -fi.max,
            fi.tiny,
            -fi.tiny,
            fi.smallest_subnormal,
            -fi.smallest_subnormal,
            3e38 if dtype == np.float32 else 1e308,
        ],
        dtype=dtype,
    )
    y = case.forward(x, **case.kwargs)
    ref = _ref_forward(case, x.astype(np.float64), dtype)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(np.isfinite(y), np.isfinite(ref.astype(dtype)))
    _close(y, ref, dtype, "forward")


def test_nan_payload_stays_nan_without_warnings(case):
    x = np.full(100, np.nan, np.float32)
    x[::3] = 1.0
    with np.errstate(all="raise"):  # a raised flag would turn into an exception
        y = case.ufunc(x[::2], *case.params)  # through the ufunc machinery
        case.forward(x, **case.kwargs)
        case.backward(x, x, **case.kwargs)
    assert np.isnan(y[1::3]).all()


# ---- hypothesis: random layouts ------------------------------------------------------------------


@st.composite
def strided_arrays(draw):
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=12))
    base = draw(
        hnp.arrays(
            dtype,
            tuple(s * 2 + 1 for s in shape),
            elements=st.floats(-30, 30, width=np.dtype(dtype).itemsize * 8),
        )
    )
    index = tuple(slice(None, None, draw(st.sampled_from([1, 2, -1, -2]))) for _ in shape)
    view = base[index]
    return view if draw(st.booleans()) else view.T


@settings(max_examples=60, deadline=None)
@given(x=strided_arrays(), which=st.integers(0, 100))
def test_random_layouts(x, which):
    from conftest import DEFAULT_CASES

    case = DEFAULT_CASES[which % len(DEFAULT_CASES)]
    xc = np.ascontiguousarray(x)
    assert _bits(case.forward(x, **case.kwargs)) == _bits(case.forward(xc, **case.kwargs))
    assert _bits(case.backward(x, x, **case.kwargs)) == _bits(case.backward(xc, xc, **case.kwargs))
    y = x.copy()
    case.forward(y, **case.kwargs, out=y)
    assert _bits(y) == _bits(case.forward(xc, **case.kwargs))


def _at(n, dtype, offset_items):
    """n elements of dtype starting offset_items elements after a 64-byte boundary."""
    buf = np.empty(n + 64, dtype)
    start = (-(buf.ctypes.data // buf.itemsize)) % (64 // buf.itemsize) + offset_items
    return buf[start : start + n]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_off_a_cache_line_give_the_same_bits(default_case, dtype):
    """The entry points run the elements before the output's first 64-byte boundary as a call of
    their own: x, grad_output and the output at different offsets from a cache line give the
    bits of aligned arrays, out of place and in place."""
    case, n = default_case, 3001
    x0, g0 = _data(n, dtype), _data(n, dtype, 1.0)
    y_ref, b_ref = case.forward(x0, **case.kwargs), case.backward(g0, x0, **case.kwargs)
    _close(y_ref, _ref_forward(case, x0.astype(np.float64), dtype), dtype, "forward")
    per_line = 64 // np.dtype(dtype).itemsize
    for ox, og, oy in [(0, 0, 1), (3, 5, 0), (1, 2, per_line - 1), (5, 0, 3), (7, 7, 7)]:
        x, g, out = _at(n, dtype, ox), _at(n, dtype, og), _at(n, dtype, oy)
        x[:], g[:] = x0, g0
        assert _bits(case.forward(x, **case.kwargs, out=out)) == _bits(y_ref)
        assert _bits(case.backward(g, x, **case.kwargs, out=out)) == _bits(b_ref)
        inplace = _at(n, dtype, oy)
        inplace[:] = x0
        case.forward(inplace, **case.kwargs, out=inplace)
        assert _bits(inplace) == _bits(y_ref)


def test_hardswish_backward_divides_by_six_exactly():
    """float32 hardswish' at the fast level computes (2x + 3) / 6 without a division (a multiply
    by RN(1/6) and an exact-residual correction); on every 61st float32 in [-3, 3], and the
    stretch around -1.5 where 2x + 3 is tiny, it must give the bits of the division itself (the
    accurate level computes in double, without 2x + 3's float32 rounding)."""
    bits = np.arange(0, 0x40400001, 61, dtype=np.uint32)  # +0 .. 3.0
    x = np.concatenate([bits.view(np.float32), -bits.view(np.float32)])
    x = np.concatenate([x, np.float32(-1.5) + np.arange(-4096, 4097, dtype=np.float32) * 2**-23])
    with np.errstate(all="ignore"):
        expected = (np.float32(2) * x + np.float32(3)) / np.float32(6)
    got = fastact.hardswish_backward(np.ones_like(x), x, precision="fast")
    assert _bits(got) == _bits(expected)


@pytest.mark.parametrize("precision", ["fast", "accurate"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("g0", [0.0, -0.0])
def test_gelu_backward_keeps_the_sign_of_a_zero_grad_output(precision, dtype, g0):
    """g * gelu'(x) with g = +-0 is a zero with the sign of g * gelu'(x): gelu' > 0 for x > -0.7518
    and < 0 below. Lengths 1..40 put the values through the vector loops and their remainders."""
    pos = [0.0, 1e-30, 0.3, 0.75, 0.76, 1.0, 3.0, 5.0, 6.0, 20.0]
    x = np.array(pos + [-v for v in pos] + [np.inf], dtype=dtype)
    want = np.signbit(np.float64(g0) * _ref_backward_sign(x.astype(np.float64)))
    for n in (1, 7, 16, 40):
        xs = np.resize(x, n)
        got = fastact.gelu_backward(np.full(n, g0, dtype), xs, precision=precision)
        assert (got == 0).all()
        np.testing.assert_array_equal(np.signbit(got), np.resize(want, n), err_msg=str(xs))


def _ref_backward_sign(x):
    """sign of gelu'(x): +1 above its zero at -0.75179, -1 below (0 never happens for floats)."""
    return np.where(x > -0.7517916, 1.0, -1.0)
