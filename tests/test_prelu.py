"""PReLU: per-channel leaky_relu with a learned weight, and its weight gradient."""

import numpy as np
import pytest

import fastact
from fastact.testing import KERNELS

leaky_relu, leaky_relu_backward = KERNELS["leaky_relu"].forward, KERNELS["leaky_relu"].backward

RNG = np.random.default_rng(3)


def _reference(g, x, w, axis):
    shape = [1] * x.ndim
    if np.size(w) > 1:
        shape[axis] = np.size(w)
    wb = np.reshape(np.asarray(w, np.float64), shape)
    y = leaky_relu(x, wb)
    gi = leaky_relu_backward(g, x, wb)
    contrib = np.where(x > 0, 0.0, np.asarray(g, np.float64) * x)
    axes = tuple(i for i in range(x.ndim) if np.size(w) == 1 or i != axis % x.ndim)
    gw = contrib.sum(axis=axes).reshape(np.shape(w))
    return y, gi, gw


@pytest.mark.parametrize(
    "shape,axis",
    [((8, 3), 1), ((2, 3, 5, 7), 1), ((4, 6, 5), -1), ((5, 4, 3), 0), ((16,), 0), ((), 0)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalar_weight", [False, True])
def test_prelu_against_reference(shape, axis, dtype, scalar_weight):
    x = RNG.standard_normal(shape).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    channels = 1 if scalar_weight or len(shape) < 2 else shape[axis]
    w = RNG.uniform(0.05, 0.5, channels).astype(dtype)
    if scalar_weight:
        w = w[0]
    y_ref, gi_ref, gw_ref = _reference(g, x, w, axis)
    y = fastact.prelu(x, w, axis=axis)
    assert y.dtype == dtype and np.shape(y) == shape
    np.testing.assert_allclose(y, y_ref.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15)
    gi, gw = fastact.prelu_backward(g, x, w, axis=axis)
    assert gi.dtype == dtype and np.shape(gw) == np.shape(w) and gw.dtype == dtype
    np.testing.assert_allclose(
        gi, gi_ref.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15
    )
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_prelu_in_place_and_float64_weight_promotes():
    x = RNG.standard_normal((4, 3, 8)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.3])  # float64 weight: promotes, as np.multiply does
    expected = fastact.prelu(x, w)
    assert expected.dtype == np.float64
    expected = expected.astype(np.float32)  # in place: cast back to x's dtype
    y = x.copy()
    assert fastact.prelu(y, w, out=y) is y
    assert np.array_equal(y, expected)
    g = np.ones_like(x)
    gi, gw = fastact.prelu_backward(g, x, w, out=g)
    assert gi is g and gw.dtype == np.float64


def test_prelu_matches_leaky_relu_per_channel():
    x = RNG.standard_normal((6, 4, 9)).astype(np.float32)
    w = np.array([0.01, 0.2, 0.5, 1.5], np.float32)
    y = fastact.prelu(x, w)
    for c in range(4):
        assert np.array_equal(y[:, c], fastact.leaky_relu(x[:, c], w[c]))


def test_prelu_errors_write_nothing():
    x = np.ones((2, 3, 4), np.float32)
    out = np.zeros_like(x)
    with pytest.raises(
        ValueError, match=r"fastact.prelu: weight has 4 elements but x.shape\[1\] is 3"
    ):
        fastact.prelu(x, np.ones(4), out=out)
    with pytest.raises(ValueError, match="fastact.prelu: weight must be a scalar or 1-D"):
        fastact.prelu(x, np.ones((3, 1)), out=out)
    with pytest.raises(ValueError, match="fastact.prelu: axis 5 is not an axis"):
        fastact.prelu(x, np.ones(3), axis=5, out=out)
    with pytest.raises(ValueError, match="fastact.prelu: x has 1 dimension"):
        fastact.prelu(np.ones(5), np.ones(5))
    with pytest.raises(TypeError, match="fastact.prelu: weight has dtype complex"):
        fastact.prelu(x, np.ones(3, complex), out=out)
    with pytest.raises(ValueError, match="fastact.prelu_backward: out has shape"):
        fastact.prelu_backward(x, x, np.ones(3), out=np.zeros(3))
    assert (out == 0).all()


# ---- the per-channel path (_kernels.prelu_forward / prelu_backward) against the ufunc twins ----

_LEAKY = fastact._prelu._LEAKY
_UINT = {np.float32: np.uint32, np.float64: np.uint64}
# inner lengths 1 (channels last), 2..127 (rows with the weight repeated), >= 128 or >= 16 with
# one outer index (one loop call per channel block); axis 0 and negative axes; (300, 5) and
# (40, 3, 4): several calls of 256 elements' rows and a shorter last one; (3, 40, 20) and
# (2, 300): buffers beyond the stack's (the repeated weight in float64, 300 channels' weights);
# (1100, 40) and (700, 12, 5): the backward's grad_weight summed in two blocks of rows
_CHANNEL_SHAPES = [
    ((1100, 40), 1),
    ((700, 12, 5), 1),
    ((2, 3, 130), 1),
    ((3, 40, 20), 1),
    ((2, 300), 1),
    ((8, 3), 1),
    ((300, 5), 1),
    ((40, 3, 4), -2),
    ((5, 7), 0),
    ((3, 4, 5), 1),
    ((2, 3, 20), -2),
    ((4, 6, 5), -1),
    ((2, 3, 5, 7), 1),
    ((3, 2, 17, 2), 2),
    ((6, 5, 4, 3), 0),
]


def _specials(shape, dtype, rng):
    """Random values with NaN, infinities, signed zeros and subnormals sprinkled in."""
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -1e-40, 1e-40, -np.nan], dtype)
    at = rng.choice(flat.size, min(flat.size, 2 * special.size), replace=False)
    flat[at] = np.resize(special, at.size)
    return x


def _weights(channels, dtype, rng):
    w = rng.uniform(-0.5, 1.5, channels).astype(dtype)
    w[: min(channels, 2)] = [0.0, -0.0][: min(channels, 2)]
    return w


def _bits(a):
    a = np.asarray(a)
    return a.view(_UINT[a.dtype.type])


def _along(w, ndim, axis):
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


# precision as a plain str lets prelu take its one-call lane (_kernels.prelu_call); a str
# subclass sends it through _prelu's checks to _kernels.prelu_forward (or the ufunc)
_ENTRIES = {"lane": str, "checked": np.str_}


@pytest.mark.parametrize("shape,axis", _CHANNEL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("level", ["fast", "accurate"])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "in place"])
@pytest.mark.parametrize("entry", _ENTRIES)
def test_prelu_channels_same_bits_as_ufunc(shape, axis, dtype, level, layout, entry):
    level = _ENTRIES[entry](level)
    rng = np.random.default_rng(sum(shape) + len(layout))
    x = _specials(shape, dtype, rng)
    w = _weights(shape[axis], dtype, rng)
    want = fastact.ufuncs.leaky_relu(x, _along(w, x.ndim, axis))
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=-1)[..., ::2]
    out = x.copy() if layout == "in place" else None
    y = fastact.prelu(out if out is not None else x, w, axis=axis, out=out, precision=level)
    assert y.dtype == dtype and y.shape == shape and (out is None or y is out)
    assert np.array_equal(_bits(y), _bits(want))
    taken = fastact._kernels.prelu_forward(_LEAKY, x, None, w, axis % x.ndim, 0)
    assert (taken is not None) == (layout in ("C", "in place"))
    if taken is not None:
        assert np.array_equal(_bits(taken), _bits(want))


@pytest.mark.parametrize("shape,axis", _CHANNEL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("source", ["x", "output"])
@pytest.mark.parametrize("out", [None, "grad_output", "x"])
@pytest.mark.parametrize("entry", _ENTRIES)
def test_prelu_backward_channels_against_general_path(shape, axis, dtype, source, out, entry):
    """grad_input bit for bit; grad_weight sums the same terms in another order (from a float32
    output, the exact products g * y, divided once by the weight), so it is within the bound on
    both paths' rounding: (n + 1) eps sum(|terms|) for n terms per channel."""
    level = _ENTRIES[entry]("fast")
    rng = np.random.default_rng(sum(shape) + 7)
    x = _specials(shape, dtype, rng)
    g = _specials(shape, dtype, rng)
    w = _weights(shape[axis], dtype, rng)
    if source == "output":
        w = np.abs(w) + dtype(0.25)  # positive weights, as the output requires
    wb = _along(w, x.ndim, axis)
    from_output = source == "output"
    xin = fastact.ufuncs.leaky_relu(x, wb) if from_output else x
    want_gi = fastact.ufuncs.leaky_relu_backward(g, xin, wb)
    want_gw = fastact._prelu._prelu_grad_weight(g, xin, wb, axis % x.ndim, from_output, shape)
    g_, xin_ = g.copy(), xin.copy()
    target = {"grad_output": g_, "x": xin_, None: None}[out]
    if from_output:
        gi, gw = fastact.prelu_backward(
            g_, weight=w, axis=axis, out=target, output=xin_, precision=level
        )
    else:
        gi, gw = fastact.prelu_backward(g_, xin_, w, axis=axis, out=target, precision=level)
    assert target is None or gi is target
    assert np.array_equal(_bits(gi), _bits(want_gi))
    assert gw.dtype == dtype and gw.shape == w.shape
    # the terms, as the general path forms them (x from the output: y / w in float64)
    x64 = xin.astype(np.float64) / (wb.astype(np.float64) if from_output else 1.0)
    with np.errstate(all="ignore"):
        terms = np.where(x64 > 0, 0.0, g.astype(np.float64) * x64)
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    n = x.size // w.size
    bound = (n + 1) * np.finfo(np.float64).eps * np.abs(terms).sum(axis=axes)
    got64 = fastact._kernels.prelu_backward(_LEAKY, g, xin, None, w, axis % x.ndim, from_output, 0)
    assert got64 is not None
    assert np.array_equal(np.isnan(got64[1]), np.isnan(want_gw))
    finite = np.isfinite(want_gw)
    assert np.all(np.abs(got64[1][finite] - want_gw[finite]) <= bound[finite])
    assert np.array_equal(got64[1][~finite], want_gw[~finite], equal_nan=True)
    assert np.array_equal(_bits(gw), _bits(got64[1].astype(dtype)))


@pytest.mark.parametrize("source", ["x", "output"])
@pytest.mark.parametrize("weight", [0.1, np.float32(0.1), 2.5])
def test_prelu_backward_scalar_grad_weight(source, weight):
    """The scalar weight's sum in C, within the rounding bound of the general path's sum; from
    the output, x = y / weight with the weight as given (0.1 is not float32's 0.1: that would
    be 1.5e-9 off, beyond the bound)."""
    rng = np.random.default_rng(11)
    x = _specials((3, 1000), np.float32, rng)
    g = rng.standard_normal((3, 1000)).astype(np.float32)
    from_output = source == "output"
    xin = fastact.prelu(x, weight) if from_output else x
    want = fastact._prelu._prelu_grad_weight(g, xin, float(weight), None, from_output, x.shape)
    got = fastact._kernels.prelu_grad_weight(g, xin, float(weight), from_output)
    x64 = xin.astype(np.float64) / (float(weight) if from_output else 1.0)
    with np.errstate(all="ignore"):
        terms = np.where(x64 > 0, 0.0, g.astype(np.float64) * x64)
    if np.isnan(want):
        assert np.isnan(got)
    else:
        assert abs(got - want) <= (x.size + 1) * np.finfo(np.float64).eps * np.abs(terms).sum()
    xin = np.nan_to_num(xin, posinf=0, neginf=0)  # a finite sum, through the public function
    kw = {"output": xin} if from_output else {}
    args = (g,) if from_output else (g, xin)
    gi, gw = fastact.prelu_backward(*args, weight=weight, **kw)
    assert np.array_equal(_bits(gi), _bits(fastact.leaky_relu_backward(g, xin, float(weight))))
    want = fastact._prelu._prelu_grad_weight(g, xin, float(weight), None, from_output, x.shape)
    assert np.shape(gw) == () and gw.dtype == np.asarray(weight).dtype
    rtol = 1e-12 if gw.dtype == np.float64 else 2.0**-23  # float32: the rounding of the sum
    assert abs(float(gw) - want) <= rtol * abs(want)


def test_prelu_channels_run_in_c_from_the_parallel_threshold_on_too():
    """The per-channel path runs at every size (the ufunc path it spares is single-threaded),
    with the same bits as the ufunc path, from the parallel threshold on too."""
    x = _specials((10, 4, 25), np.float32, np.random.default_rng(5))
    g = _specials((10, 4, 25), np.float32, np.random.default_rng(7))
    w = _weights(4, np.float32, np.random.default_rng(6))
    want = fastact.ufuncs.leaky_relu(x, _along(w, 3, 1))
    want_g = fastact.ufuncs.leaky_relu_backward(g, x, _along(w, 3, 1))
    fastact.set_parallel_threshold(1000)
    try:
        y = fastact._kernels.prelu_forward(_LEAKY, x, None, w, 1, 0)
        assert y is not None and np.array_equal(_bits(y), _bits(want))
        gi, _ = fastact._kernels.prelu_backward(_LEAKY, g, x, None, w, 1, False, 0)
        assert np.array_equal(_bits(gi), _bits(want_g))
        assert np.array_equal(_bits(fastact.prelu(x, w)), _bits(want))
    finally:
        fastact.set_parallel_threshold(None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_channels_bad_calls_write_nothing(dtype):
    x = np.full((2, 3, 4), -1.0, dtype)
    g = np.ones_like(x)
    w = np.full(3, 0.5, dtype)
    ro = np.zeros_like(x)
    ro.flags.writeable = False
    for call, exc, msg in [
        (lambda: fastact.prelu(x, w, out=ro), ValueError, "fastact.prelu: out is read-only"),
        (lambda: fastact.prelu(x, w, out=x[:1]), ValueError, "fastact.prelu: out has shape"),
        (lambda: fastact.prelu(x, w, out=list(x)), TypeError, "fastact.prelu: out must be"),
        (lambda: fastact.prelu(x, w[:2], out=x), ValueError, "fastact.prelu: weight has 2"),
        (lambda: fastact.prelu(x, w, axis=3, out=x), ValueError, "fastact.prelu: axis 3 is not"),
        (lambda: fastact.prelu(x, w, axis=1.0, out=x), TypeError, "fastact.prelu: axis must be"),
        (lambda: fastact.prelu(x, w, out=x, precision="exact"), ValueError, "fastact.prelu: "),
        (
            lambda: fastact.prelu_backward(g, x, w, out=ro),
            ValueError,
            "fastact.prelu_backward: out is read-only",
        ),
        (
            lambda: fastact.prelu_backward(g, x, w, out=g[:, :1]),
            ValueError,
            "fastact.prelu_backward: out has shape",
        ),
        (
            lambda: fastact.prelu_backward(g, weight=-w, output=x, out=g),
            ValueError,
            "fastact.prelu_backward: cannot start from the output",
        ),
        (
            lambda: fastact.prelu_backward(g, weight=-0.5, output=x, out=g),
            ValueError,
            "fastact.prelu_backward: cannot start from the output",
        ),
        (
            lambda: fastact.prelu_backward(g[:, :2], x, w, out=g),
            ValueError,
            "fastact.prelu_backward: grad_output's shape",
        ),
        (
            lambda: fastact.prelu_backward(g.astype(complex), x, w, out=x),
            TypeError,
            "fastact.prelu_backward: grad_output has dtype complex",
        ),
    ]:
        with pytest.raises(exc, match="^" + msg.replace("(", r"\(")):
            call()
        assert (x == -1).all() and (g == 1).all() and (ro == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_weight_inside_out(dtype):
    """A weight that is a view of out is read before out is written, as the general path's copy
    of the weight reads it (the one-call lane reads the weight in place, so it steps aside)."""
    rng = np.random.default_rng(8)
    x = _specials((2, 3, 4), dtype, rng)
    g = _specials((2, 3, 4), dtype, rng)
    out = np.zeros_like(x)
    w = out.reshape(-1)[:3]
    w[:] = [0.1, 0.2, 0.3]
    wb = _along(w.copy(), 3, 1)
    want, want_gi = fastact.ufuncs.leaky_relu(x, wb), fastact.ufuncs.leaky_relu_backward(g, x, wb)
    assert fastact.prelu(x, w, out=out) is out
    assert np.array_equal(_bits(out), _bits(want))
    w[:] = [0.1, 0.2, 0.3]
    gi, gw = fastact.prelu_backward(g, x, w, out=out)
    assert gi is out and np.array_equal(_bits(gi), _bits(want_gi))
    assert gw.dtype == dtype and gw.shape == (3,)


def test_prelu_lanes_keep_fp_flags():
    """The one-call lanes leave the caller's floating-point flags as they were, for the calls
    they run and the ones they hand on (NaN weights compared, overflowing ones, sums cast)."""
    import ctypes
    import ctypes.util

    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    all_flags = 0x3D
    x = np.array([[-1e30, -3.0, -0.0, np.nan], [0.5, 1e30, np.inf, -np.inf]], np.float32)
    w = np.array([0.5, np.nan, 1e-30, 2.0], np.float32)
    big, huge = np.full_like(x, 3e38), np.full(4, 1e30, np.float32)  # made before: casts raise
    calls = [
        lambda: fastact.prelu(x, w),
        lambda: fastact.prelu(x, 1e39),  # overflows float32: handed on, then raises
        lambda: fastact.prelu(x, float("nan")),
        lambda: fastact.leaky_relu(x, float("nan")),  # the float32 overflow check, shared
        lambda: fastact.prelu_backward(x, x, w),
        lambda: fastact.prelu_backward(x, weight=w, output=x),  # NaN weight: raises
        lambda: fastact.prelu_backward(x, weight=float("nan"), output=x),
        lambda: fastact.prelu_backward(big, x, huge),  # sums beyond float32
    ]
    for raised in (0, 0x01, all_flags):
        for i, call in enumerate(calls):
            libm.feclearexcept(all_flags)
            libm.feraiseexcept(raised)
            try:
                call()
            except ValueError:
                assert i in (1, 5, 6)
            assert libm.fetestexcept(all_flags) == raised, (i, raised)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "form", ["float", "1-D", "0-d", "scalar", "big-endian", "other dtype", "other scalar"]
)
@pytest.mark.parametrize("source", ["x", "output"])
def test_prelu_one_slope_lane_same_as_checked_path(dtype, form, source):
    """One slope (nn.PReLU()'s weight of shape (1,)): the lane and the checked path give the same
    bits, grad_weight in the weight's dtype and shape."""
    rng = np.random.default_rng(12)
    x = _specials((6, 50), dtype, rng)
    g = rng.standard_normal((6, 50)).astype(dtype)
    other = np.float64 if dtype == np.float32 else np.float32
    weight = {
        "float": 0.3,
        "1-D": np.array([0.3], dtype),
        "0-d": np.array(0.3, dtype),
        "scalar": dtype(0.3),
        "other scalar": other(0.3),
        "big-endian": np.array([0.3], np.dtype(dtype).newbyteorder(">")),
        "other dtype": np.array([0.3], other),
    }[form]
    results = {}
    for entry, precision in _ENTRIES.items():
        y = fastact.prelu(x, weight, precision=precision("fast"))
        kw = {"output": y} if source == "output" else {}
        args = (g,) if source == "output" else (g, x)
        results[entry] = (
            y,
            *fastact.prelu_backward(*args, weight=weight, **kw, precision=precision("fast")),
        )
    (y, gi, gw), (y2, gi2, gw2) = results["lane"], results["checked"]
    assert y.dtype == y2.dtype and np.array_equal(_bits(y), _bits(y2))
    assert np.array_equal(_bits(gi), _bits(gi2))
    assert gw.dtype == gw2.dtype == np.asarray(weight).dtype
    assert gw.shape == gw2.shape == np.shape(weight)
    assert np.array_equal(gw, gw2, equal_nan=True)
    lane = form in ("float", "1-D", "0-d", "scalar")
    assert (fastact._kernels.prelu_call(_LEAKY, x, weight, 1, None, None) is not None) == lane
    done = fastact._kernels.prelu_backward_call(_LEAKY, g, x, weight, 1, None, None, None)
    assert (done is not None) == lane


# ---- the per-channel path on the worker pool (_kernels.pyx's _ChannelJob, _pool.h) -------------

# (N, C) rows (grad_weight's chunks: whole cache lines of the columns), (N, C, L) with small L
# (the repeated weight: chunks start inside its rows), (N, C, H, W) and long channels along axis
# -2 and 0 (one call per channel block: chunks start inside blocks); sizes not multiples of any
# chunk, from the pool's two chunks of 8,192 elements on. With the pool jobs of a backward: one
# (grad_weight and grad_input in one pass, by blocks of rows or by channel blocks), or two for
# one block of rows (grad_weight by ranges of channels, then grad_input): (512, 64).
_POOL_SHAPES = [
    ((700, 96), 1, 1),
    ((2001, 7, 5), 1, 1),
    ((3, 13, 37, 41), 1, 1),
    ((2, 5, 7001), -2, 1),
    ((41, 1500), 0, 1),
    ((512, 64), 1, 2),
]


@pytest.mark.parametrize("shape,axis,backward_jobs", _POOL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("source", ["x", "output"])
def test_prelu_channels_pool_same_bits_for_any_thread_count(
    shape, axis, backward_jobs, dtype, source
):
    """prelu, grad_input and grad_weight: the same bits on 1, 2 and 3 threads (the pool splits
    elements, row blocks and channel blocks differently for each), equal to the ufunc twins'
    where elementwise, and the pool ran every call."""
    from fastact import _kernels

    rng = np.random.default_rng(sum(shape))
    x = _specials(shape, dtype, rng)
    g = _specials(shape, dtype, rng)
    w = _weights(shape[axis], dtype, rng)
    if source == "output":
        w = np.abs(w) + dtype(0.25)
        x = fastact.prelu(x, w, axis=axis)
    kw = {"weight": w, "output": x} if source == "output" else {"weight": w}
    args = (g,) if source == "output" else (g, x)
    want_y = fastact.ufuncs.leaky_relu(x, _along(w, x.ndim, axis))
    want_gi = fastact.ufuncs.leaky_relu_backward(g, x, _along(w, x.ndim, axis))
    fastact.set_parallel_threshold(10_000)
    try:
        results = {}
        for threads in (1, 2, 3):
            with fastact.num_threads(threads):
                jobs = _kernels.pool_stats()[0]
                y = fastact.prelu(x, w, axis=axis)
                ran_forward = _kernels.pool_stats()[0] - jobs
                gi, gw = fastact.prelu_backward(*args, axis=axis, **kw)
                inplace = g.copy()  # out=grad_output: grad_weight reads it before it is written
                gi_in, gw_in = fastact.prelu_backward(
                    inplace, *args[1:], axis=axis, out=inplace, **kw
                )
                ran = _kernels.pool_stats()[0] - jobs
            assert gi_in is inplace
            want = (0, 0) if threads == 1 else (1, 1 + 2 * backward_jobs)
            assert (ran_forward, ran) == want, threads
            results[threads] = [_bits(a) for a in (y, gi, gw, gi_in, gw_in)]
        assert np.array_equal(results[1][0], _bits(want_y))
        assert np.array_equal(results[1][1], _bits(want_gi))
        for threads in (2, 3):
            for name, got, want in zip(
                ["y", "gi", "gw", "gi in place", "gw in place"], results[threads], results[1]
            ):
                assert np.array_equal(got, want), (threads, name)
    finally:
        fastact.set_parallel_threshold(None)


# One slope, and channels longer than the one pass's pieces (32,768 elements): grad_weight in
# pieces, which the pool shares out; sizes not multiples of a piece or of 16.
_PIECE_CASES = [
    ((100_003,), None),
    ((3, 70_001), None),
    ((2, 3, 40_001), 1),
    ((2, 70_001), 0),
]


@pytest.mark.parametrize("shape,axis", _PIECE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("source", ["x", "output"])
def test_prelu_backward_pieces_same_bits_for_any_thread_count(shape, axis, dtype, source):
    """grad_input and grad_weight of one slope (axis None) and of long channels: the same bits
    on 1, 2 and 3 threads, one pool job where more than one thread is in force, grad_input
    equal to leaky_relu_backward's, grad_weight within the rounding bound of its terms' sum."""
    from fastact import _kernels

    rng = np.random.default_rng(sum(shape))
    x = _specials(shape, dtype, rng)
    g = _specials(shape, dtype, rng)
    if axis is None:
        w = dtype(0.3)
        wb = w
    else:
        w = np.abs(_weights(shape[axis], dtype, rng)) + dtype(0.25)
        wb = _along(w, x.ndim, axis)
    if source == "output":
        x = fastact.ufuncs.leaky_relu(x, wb)
    kw = {"weight": w, "output": x} if source == "output" else {"weight": w}
    args = (g,) if source == "output" else (g, x)
    if axis is not None:
        kw["axis"] = axis
    results = {}
    for threads in (1, 2, 3):
        with fastact.num_threads(threads):
            jobs = _kernels.pool_stats()[0]
            gi, gw = fastact.prelu_backward(*args, **kw)
            assert _kernels.pool_stats()[0] - jobs == (threads > 1)
        results[threads] = (_bits(gi), _bits(gw))
    for threads in (2, 3):
        assert np.array_equal(results[threads][0], results[1][0]), threads
        assert np.array_equal(results[threads][1], results[1][1]), threads
    assert np.array_equal(results[1][0], _bits(fastact.ufuncs.leaky_relu_backward(g, x, wb)))
    if axis is None:  # the one pass's pieces, as the grad_weight-only call sums them
        alone = _kernels.prelu_grad_weight(g, x, float(w), source == "output")
        assert np.array_equal(results[1][1], _bits(dtype(alone)))
    x64 = x.astype(np.float64) / (np.asarray(wb, np.float64) if source == "output" else 1.0)
    with np.errstate(all="ignore"):
        terms = np.where(x64 > 0, 0.0, g.astype(np.float64) * x64)
    axes = tuple(i for i in range(x.ndim) if axis is None or i != axis)
    want = terms.sum(axis=axes)
    eps = np.finfo(np.float64).eps
    bound = (x.size // np.size(w) + 1) * eps * np.abs(terms).sum(axis=axes)
    got = np.asarray(gw, np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = np.isfinite(want)
    # grad_weight comes back in x's dtype: its rounding too for float32
    rnd = np.abs(want[ok]) * (2.0**-24 if dtype == np.float32 else 0.0)
    assert np.all(np.abs(got[ok] - want[ok]) <= bound[ok] + rnd)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [60, 203])
def test_prelu_grad_weight_nan_same_bits_at_any_alignment(dtype, n):
    """A grad_weight sum that is NaN (NaN terms of either sign) has the same bits wherever the
    arrays start: the C sum's vector and scalar parts order a NaN's operands differently, and
    which of the last n % 16 elements each takes depends on the alignment (float64 at n = 60
    gave NaNs of both signs before the sum's NaN was made one)."""
    rng = np.random.default_rng(13)
    x = -np.abs(rng.standard_normal(n)).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    t = n - n % 16  # where the last n % 16 elements start
    x[[5, t + 1, t + 3]] = [np.nan, -np.nan, np.nan]
    g[[9, t + 1, t + 2]] = [-np.nan, np.nan, -np.nan]
    seen = set()
    for off in range(16):
        xb = np.empty(n + 16, dtype)[off : off + n]
        gb = np.empty(n + 16, dtype)[off : off + n]
        xb[...], gb[...] = x, g
        for slope in (0.25, 3.0):
            gw = fastact._kernels.prelu_grad_weight(gb, xb, slope, False)
            seen.add(np.float64(gw).view(np.uint64).item())
            _, gw = fastact.prelu_backward(gb, xb, dtype(slope))
            seen.add(np.float64(gw).view(np.uint64).item())
    assert len(seen) == 1 and np.isnan(np.uint64(seen.pop()).view(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(40, 7), (9, 7, 5), (3, 7, 40)])
def test_prelu_grad_weight_per_channel_nan_same_bits_at_any_alignment(dtype, shape):
    """Per channel too ((N, C) rows, short and long channel blocks): a channel whose sum is NaN
    gets the same NaN bits wherever the arrays start, and a finite one the same value."""
    rng = np.random.default_rng(14)
    x = -np.abs(rng.standard_normal(shape)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    flat_x, flat_g = x.reshape(-1), g.reshape(-1)
    at = rng.choice(x.size, 12, replace=False)
    flat_x[at[:6]] = [np.nan, -np.nan] * 3
    flat_g[at[6:]] = [-np.nan, np.nan] * 3
    w = np.full(shape[1], 0.25, dtype)
    seen = None
    for off in range(16):
        xb = np.empty(x.size + 16, dtype)[off : off + x.size].reshape(shape)
        gb = np.empty(x.size + 16, dtype)[off : off + x.size].reshape(shape)
        xb[...], gb[...] = x, g
        _, gw = fastact.prelu_backward(gb, xb, w)
        bits = _bits(gw).copy()
        assert seen is None or np.array_equal(bits, seen), off
        seen = bits


@pytest.mark.parametrize("shape", [(2, 3, 0), (0, 3, 5), (0, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_backward_empty_channels(shape, dtype):
    """No elements: an empty grad_input and zero grad_weight (the C sum once divided the
    stack buffer by an empty block's length: a floating-point exception, found by
    hypothesis)."""
    x = np.zeros(shape, dtype)
    w = np.full(3, 0.25, dtype)
    gi, gw = fastact.prelu_backward(x, x, w)
    assert gi.shape == shape and gi.dtype == dtype
    assert np.array_equal(gw, np.zeros(3, dtype)) and gw.dtype == dtype


def test_prelu_backward_takes_the_pool_from_a_smaller_size():
    """The backward's grad_weight sum costs several times its elementwise loop, so it runs on
    the pool from an eighth of the threshold (no lower than 32,768 elements), the forward
    from the threshold."""
    from fastact import _kernels

    rng = np.random.default_rng(4)
    x = rng.standard_normal((100, 4, 100)).astype(np.float32)  # 40,000 elements
    w = _weights(4, np.float32, rng)
    fastact.set_parallel_threshold(262_144)
    try:
        with fastact.num_threads(2):
            jobs = _kernels.pool_stats()[0]
            fastact.prelu(x, w)
            assert _kernels.pool_stats()[0] == jobs
            fastact.prelu_backward(x, x, w)
            assert _kernels.pool_stats()[0] == jobs + 1
            fastact.prelu_backward(x[:50], x[:50], w)  # 20,000 elements
            assert _kernels.pool_stats()[0] == jobs + 1
    finally:
        fastact.set_parallel_threshold(None)


def test_prelu_channels_beside_another_thread_on_the_pool():
    """Python threads calling prelu and prelu_backward at once, each on two threads: a call that
    finds the pool busy runs serially, with the same bits."""
    import threading

    rng = np.random.default_rng(9)
    cases = []
    for shape in [(3, 13, 37, 41), (700, 96), (2001, 7, 5)]:
        x, g = _specials(shape, np.float32, rng), _specials(shape, np.float32, rng)
        w = _weights(shape[1], np.float32, rng)
        with fastact.num_threads(1):
            want = [_bits(a) for a in (fastact.prelu(x, w), *fastact.prelu_backward(g, x, w))]
        cases.append((x, g, w, want))
    errors = []

    def work(seed):
        try:
            with fastact.num_threads(2):
                for i in range(40):
                    x, g, w, want = cases[(seed + i) % len(cases)]
                    got = [
                        _bits(a) for a in (fastact.prelu(x, w), *fastact.prelu_backward(g, x, w))
                    ]
                    assert all(np.array_equal(a, b) for a, b in zip(got, want))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    fastact.set_parallel_threshold(10_000)
    try:
        threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        fastact.set_parallel_threshold(None)
    assert not errors, errors
