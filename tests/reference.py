"""Reference implementations: plain float64 NumPy/SciPy, written for clarity, one entry per kernel.

Each kernel name from FASTACT_KERNELS maps to (forward(x, *params), backward(g, x, *params)),
in the numerically sound form (SciPy's ndtr for the normal CDF, expm1 for ELU, expit for the
sigmoid), so the tails are right in float64. Kink conventions are PyTorch's.

For float64 results a float64 formula is not exact enough where the function is ill-conditioned
(gelu's tail: x*x/2 rounded costs x*x/2 ulps), so MPMATH gives the same functions in 50-digit
arithmetic, used to measure float64 kernels.

Tolerances, in ulps of the result, live here too (ULPS), and the README's accuracy table is
printed from them and from the measured maxima by tools/accuracy.py.
"""
import mpmath as mp
import numpy as np
from scipy import special

SQRT_2_PI = np.sqrt(2.0 / np.pi)
GELU_C = 0.044715


def _quiet(f):
    """Evaluate f in float64 without warnings; f.__wrapped__ is the formula in the input's dtype
    (the benchmarks' NumPy/SciPy peer)."""
    def wrapped(*args):
        with np.errstate(all="ignore"):
            return f(*[np.asarray(a, dtype=np.float64) for a in args])
    wrapped.__name__ = f.__name__
    wrapped.__wrapped__ = f
    return wrapped


@_quiet
def relu(x):
    return np.where(x < 0, 0.0, x)


@_quiet
def relu_backward(g, x):
    return np.where(np.isnan(x), x, np.where(x > 0, g, 0.0))


@_quiet
def leaky_relu(x, negative_slope):
    return np.where(x > 0, x, x * negative_slope)


@_quiet
def leaky_relu_backward(g, x, negative_slope):
    return np.where(np.isnan(x), x, np.where(x > 0, g, g * negative_slope))


@_quiet
def elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(x))


@_quiet
def elu_backward(g, x, alpha):
    return np.where(np.isnan(x), x, np.where(x > 0, g, g * (alpha * np.exp(x))))


@_quiet
def gelu(x):
    return np.where(x == -np.inf, 0.0, x * special.ndtr(x))


@_quiet
def gelu_backward(g, x):
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return g * np.where(np.isinf(x), (x > 0) * 1.0, special.ndtr(x) + x * pdf)


def _tanh_w(x):
    return 2 * SQRT_2_PI * (x + GELU_C * x ** 3)


@_quiet
def gelu_tanh(x):
    # 0.5*x*(1 + tanh(w/2)) = x * sigmoid(w), which does not cancel for x < 0
    return np.where(x == -np.inf, 0.0, x * special.expit(_tanh_w(x)))


@_quiet
def gelu_tanh_backward(g, x):
    w = _tanh_w(x)
    dw = 2 * SQRT_2_PI * (1 + 3 * GELU_C * x * x)
    d = special.expit(w) * (1 + x * special.expit(-w) * dw)
    return g * np.where(np.isinf(x), (x > 0) * 1.0, d)


@_quiet
def silu(x):
    return np.where(x == -np.inf, 0.0, x * special.expit(x))


@_quiet
def silu_backward(g, x):
    return g * special.expit(x) * (1 + np.where(np.isinf(x), 0.0, x * special.expit(-x)))


def _softplus1(x):
    return np.logaddexp(0.0, x)


@_quiet
def mish(x):
    return np.where(x == -np.inf, 0.0, x * np.tanh(_softplus1(x)))


@_quiet
def mish_backward(g, x):
    sp = _softplus1(x)
    second = np.where(np.isinf(x), 0.0, x * special.expit(x) / np.cosh(sp) ** 2)
    return g * (np.tanh(sp) + second)


@_quiet
def softplus(x, beta, threshold):
    return np.where(beta * x > threshold, x, _softplus1(beta * x) / beta)


@_quiet
def softplus_backward(g, x, beta, threshold):
    return np.where(np.isnan(x), x, np.where(beta * x > threshold, g, g * special.expit(beta * x)))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@_quiet
def selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))


@_quiet
def selu_backward(g, x):
    return np.where(np.isnan(x), x, g * SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x)))


@_quiet
def celu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(x / alpha))


@_quiet
def celu_backward(g, x, alpha):
    return np.where(np.isnan(x), x, np.where(x > 0, g, g * np.exp(x / alpha)))


@_quiet
def hardsigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


@_quiet
def hardsigmoid_backward(g, x):
    return np.where(np.isnan(x), x, np.where((x > -3) & (x < 3), g * (1 / 6), 0.0))


@_quiet
def hardswish(x):
    return x * (np.clip(x + 3, 0, 6) / 6)


@_quiet
def hardswish_backward(g, x):
    # x/3 + 1/2 as (2x + 3)/6, which does not cancel near x = -1.5
    return np.where(np.isnan(x), x, np.where(x < -3, 0.0, np.where(x <= 3, g * ((2 * x + 3) / 6), g)))


@_quiet
def hardtanh(x, min_val, max_val):
    return np.clip(x, min_val, max_val)


@_quiet
def hardtanh_backward(g, x, min_val, max_val):
    return np.where(np.isnan(x), x, np.where((x <= min_val) | (x >= max_val), 0.0, g))


@_quiet
def relu6(x):
    return np.clip(x, 0, 6)


@_quiet
def relu6_backward(g, x):
    return np.where(np.isnan(x), x, np.where((x <= 0) | (x >= 6), 0.0, g))


@_quiet
def sigmoid(x):
    return special.expit(x)


@_quiet
def sigmoid_backward(g, x):
    return g * special.expit(x) * special.expit(-x)


@_quiet
def tanh(x):
    return np.tanh(x)


@_quiet
def tanh_backward(g, x):
    return g / np.cosh(x) ** 2


REFERENCE = {
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "elu": (elu, elu_backward),
    "gelu": (gelu, gelu_backward),
    "gelu_tanh": (gelu_tanh, gelu_tanh_backward),
    "silu": (silu, silu_backward),
    "mish": (mish, mish_backward),
    "softplus": (softplus, softplus_backward),
    "selu": (selu, selu_backward),
    "celu": (celu, celu_backward),
    "hardsigmoid": (hardsigmoid, hardsigmoid_backward),
    "hardswish": (hardswish, hardswish_backward),
    "hardtanh": (hardtanh, hardtanh_backward),
    "relu6": (relu6, relu6_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
}

# Parameter values the tests run each kernel with (the table's defaults come first).
PARAMS = {
    "relu": [()],
    "leaky_relu": [(0.01,), (0.2,), (1.5,)],
    "elu": [(1.0,), (0.3,), (2.5,)],
    "gelu": [()],
    "gelu_tanh": [()],
    "silu": [()],
    "mish": [()],
    "softplus": [(1.0, 20.0), (2.0, 5.0), (0.5, 20.0)],
    "selu": [()],
    "celu": [(1.0,), (0.5,), (3.0,)],
    "hardsigmoid": [()],
    "hardswish": [()],
    "hardtanh": [(-1.0, 1.0), (-2.0, 0.5)],
    "relu6": [()],
    "sigmoid": [()],
    "tanh": [()],
}

# ---- 50-digit references for float64 -------------------------------------------------------------

mp.mp.dps = 50


def _mp_phi(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _mp_pdf(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _mp_w(x):
    return 2 * mp.sqrt(2 / mp.pi) * (x + mp.mpf(GELU_C) * x ** 3)


def _mp_sigmoid(w):
    return 1 / (1 + mp.exp(-w))


def _mp_softplus(x, beta=1, threshold=20):
    return x if beta * x > threshold else mp.log1p(mp.exp(beta * x)) / beta


MPMATH = {
    "silu": (lambda x: x * _mp_sigmoid(x),
             lambda g, x: g * _mp_sigmoid(x) * (1 + x * _mp_sigmoid(-x))),
    "mish": (lambda x: x * mp.tanh(_mp_softplus(x, 1, mp.inf)),
             lambda g, x: g * (mp.tanh(_mp_softplus(x, 1, mp.inf)) + x * _mp_sigmoid(x)
                               * mp.sech(_mp_softplus(x, 1, mp.inf)) ** 2)),
    "softplus": (lambda x, b, t: _mp_softplus(x, b, t),
                 lambda g, x, b, t: g if b * x > t else g * _mp_sigmoid(b * x)),
    "selu": (lambda x: mp.mpf(SELU_SCALE) * (x if x > 0 else mp.mpf(SELU_ALPHA) * mp.expm1(x)),
             lambda g, x: g * mp.mpf(SELU_SCALE) * (1 if x > 0 else mp.mpf(SELU_ALPHA) * mp.exp(x))),
    "celu": (lambda x, a: x if x > 0 else a * mp.expm1(x / a),
             lambda g, x, a: g if x > 0 else g * mp.exp(x / a)),
    "sigmoid": (lambda x: _mp_sigmoid(x),
                lambda g, x: g * _mp_sigmoid(x) * _mp_sigmoid(-x)),
    "tanh": (lambda x: mp.tanh(x), lambda g, x: g * mp.sech(x) ** 2),
    "elu": (lambda x, a: x if x > 0 else a * mp.expm1(x),
            lambda g, x, a: g if x > 0 else g * a * mp.exp(x)),
    "gelu": (lambda x: x * _mp_phi(x),
             lambda g, x: g * (_mp_phi(x) + x * _mp_pdf(x))),
    "gelu_tanh": (lambda x: x * _mp_sigmoid(_mp_w(x)),
                  lambda g, x: g * _mp_sigmoid(_mp_w(x)) * (
                      1 + x * _mp_sigmoid(-_mp_w(x)) * 2 * mp.sqrt(2 / mp.pi)
                      * (1 + 3 * mp.mpf(GELU_C) * x * x))),
}


def mpmath_reference(kernel, backward, x, params=()):
    """float64 array of the exactly rounded function values, for finite float64 x, g = 1."""
    f = MPMATH[kernel][backward]
    args = (mp.mpf(1),) if backward else ()
    return np.array([float(f(*args, mp.mpf(float(v)), *map(mp.mpf, params))) for v in x])


# ---- tolerances, in ulps of the result ------------------------------------------------------------
# float32, at the two precision levels: fast (the default) <= 2 ulp forward, <= 4 ulp backward;
# accurate <= 1 ulp forward, <= 2 ulp backward; wherever |reference| >= 2**-126, and near a zero of
# f' (GRAD_ROOT) counted in ulps of 1/8. Parameters count as the float32 values the kernel gets.
# float16 (computed through float32 at either level): 1 ulp.
# float64 (one level): <= 4 ulp forward, measured against MPMATH; backward <= 5: the sigmoid
# products in the derivatives of gelu_tanh, silu and mish reach 5 ulp (tools/accuracy.py), one over
# the 4-ulp aim. The exact forms (EXACT below) must equal their float64 formula.
ULPS_BY_LEVEL = {
    "fast": {"float32": {"forward": 2, "backward": 4},
             "float64": {"forward": 4, "backward": 5},
             "float16": {"forward": 1, "backward": 1}},
    "accurate": {"float32": {"forward": 1, "backward": 2},
                 "float64": {"forward": 4, "backward": 5},
                 "float16": {"forward": 1, "backward": 1}},
}
ULPS = ULPS_BY_LEVEL["fast"]
"""The default level's tolerances."""
# Exact forms: float64 results equal the float64 formula bit for bit (same operations, torch's).
EXACT = {"relu", "leaky_relu", "hardsigmoid", "hardswish", "hardtanh", "relu6"}


def ulp_error(y, ref, dtype):
    """|y - ref| in ulps of `dtype` at ref, where |ref| is normal in that dtype (elsewhere 0).
    Matching infinities and NaNs count as exact; a NaN against a number counts as infinite."""
    dtype = np.dtype(dtype)
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    tiny = np.finfo(dtype).tiny
    with np.errstate(all="ignore"):
        ulp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
        err = np.abs(y - ref) / ulp
    with np.errstate(over="ignore"):   # a result beyond the dtype's range rounds to inf
        overflow = (np.abs(ref) > np.finfo(dtype).max) & (y == ref.astype(dtype))
    same = (y == ref) | (np.isnan(y) & np.isnan(ref)) | overflow
    err = np.where(same, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return np.where((np.abs(ref) >= tiny) | ~np.isfinite(ref) | same, err, 0.0)


def float32_sweep(n=1 << 21, seed=0):
    """n float32 values spread over every exponent: random bit patterns (both signs, all
    exponents), every 2**-10 step on [-16, 16], and the special values."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    dense = np.arange(-16, 16, 2.0 ** -10, dtype=np.float32)
    return np.concatenate([x, dense])


# Zeros of the derivative: there the backward's relative error is unbounded for any method that
# rounds, so the float64 and float16 tests bound it in absolute terms instead.
GRAD_ROOT = {"gelu": -0.751791524693564, "gelu_tanh": -0.7517916, "silu": -1.2784645427610738,
             "mish": -1.1924312145154952}


def root_ulp(dtype):
    """The unit near a zero of f': one ulp of 1/8 in `dtype`."""
    return float(np.spacing(np.asarray(0.125, dtype)))


def near_grad_root(kernel, x, ref):
    """Where f'(x) is a difference of O(1) terms that cancels to below 1/8 (within 1.5 of the zero
    of f'); there errors are counted in ulps of 1/8, not of f'(x)."""
    if kernel not in GRAD_ROOT:
        return np.zeros(np.shape(x), bool)
    return (np.abs(ref) < 0.125) & (np.abs(x - GRAD_ROOT[kernel]) < 1.5)
