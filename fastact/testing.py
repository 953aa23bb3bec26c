"""fastact.testing: the oracle that fastact's own tests, accuracy tool and benchmarks use.

One record per kernel (``KERNELS[name]``, a :class:`Kernel`) holds everything that is known about
it outside the C source: its float64 reference and derivative in plain NumPy/SciPy, written for
clarity and in the numerically sound form (SciPy's ndtr for the normal CDF, expm1 for ELU, expit
for the sigmoid), the same in 50-digit mpmath for measuring float64 kernels, the parameter values
the tests use, where the formula switches branch, the zero of its derivative, its peers'
equivalents (torch, JAX, onnxruntime) and its tolerance in ulps.

Check your own kernel against the same oracle::

    import numpy as np
    from fastact import testing
    x = testing.float32_sweep()
    err = testing.errors("gelu", my_gelu(x), x)          # ulps, per element
    assert err.max() <= testing.KERNELS["gelu"].tolerance("float32", "forward")

Needs SciPy and mpmath (``pip install fastact[test]``). Kink conventions are PyTorch's.
"""

from typing import Any, Callable, NamedTuple, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

try:
    import mpmath as mp
    from scipy import special
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"fastact.testing needs SciPy and mpmath ({e}); install them with "
        f"`pip install fastact[test]`"
    ) from None

__all__ = [
    "Kernel",
    "KERNELS",
    "ULPS_BY_LEVEL",
    "errors",
    "ulp_error",
    "float32_sweep",
    "mpmath_reference",
    "near_grad_root",
    "root_ulp",
    "check_derivative",
]

# ---- float64 references ----------------------------------------------------------------------

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
    return 2 * SQRT_2_PI * (x + GELU_C * x**3)


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
    return np.where(
        np.isnan(x), x, np.where(x < -3, 0.0, np.where(x <= 3, g * ((2 * x + 3) / 6), g))
    )


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


# ---- 50-digit references for float64 -------------------------------------------------------------
# (evaluated under mp.workdps(50) by mpmath_reference; mpmath's global precision is left alone)


def _mp_phi(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _mp_pdf(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _mp_w(x):
    return 2 * mp.sqrt(2 / mp.pi) * (x + mp.mpf(GELU_C) * x**3)


def _mp_sigmoid(w):
    return 1 / (1 + mp.exp(-w))


def _mp_softplus(x, beta=1, threshold=20):
    return x if beta * x > threshold else mp.log1p(mp.exp(beta * x)) / beta


# ---- tolerances, in ulps of the result -----------------------------------------------------------
# float32, at the two precision levels: fast (the default) <= 2 ulp forward, <= 4 ulp backward;
# accurate <= 1 ulp forward, <= 2 ulp backward; wherever |reference| >= 2**-126, and near a zero of
# f' (Kernel.grad_root) counted in ulps of 1/8. Parameters count as the float32 values the kernel
# gets. float16 (computed through float32 at either level): 1 ulp.
# float64 (one level): <= 4 ulp forward, measured against the mpmath reference; backward <= 5: the
# sigmoid products in the derivatives of gelu_tanh, silu and mish reach 5 ulp (tools/accuracy.py),
# one over the 4-ulp aim. Exact kernels (Kernel.exact) must equal their float64 formula.
ULPS_BY_LEVEL = {
    "fast": {
        "float32": {"forward": 2, "backward": 4},
        "float64": {"forward": 4, "backward": 5},
        "float16": {"forward": 1, "backward": 1},
    },
    "accurate": {
        "float32": {"forward": 1, "backward": 2},
        "float64": {"forward": 4, "backward": 5},
        "float16": {"forward": 1, "backward": 1},
    },
}
ULPS = ULPS_BY_LEVEL["fast"]
"""The default level's tolerances."""


# ---- the records ---------------------------------------------------------------------------------


class Kernel(NamedTuple):
    """Everything the tests, tools/accuracy.py and bench/ know about one C kernel."""

    name: str
    """The kernel's name: fastact.ufuncs.<name>, FASTACT_KERNELS in _kernels.h."""
    function: str
    """The public function that reaches it: fastact.<function>(x, ..., **choice)."""
    forward: Callable
    """forward(x, *params): float64 reference (NumPy/SciPy); forward.__wrapped__ is the same formula
    in the input's own dtype (the benchmarks' "numpy formula" peer)."""
    backward: Callable
    """backward(grad_output, x, *params): grad_output * f'(x), float64 reference."""
    params: tuple = ((),)
    """Parameter values the tests run (in the function's order; the defaults first)."""
    choice: dict = {}
    """The keyword that selects this kernel in its public function, e.g. {"approximate": "tanh"}."""
    domain: str = "every x; no parameters"
    """Where the function is defined, and its parameters' domain (fastact raises outside it)."""
    switches: Callable = lambda *params: ()
    """switches(*params): the x where the formula changes branch or has a kink (tests sample
    densely around them; numerical derivatives avoid them)."""
    grad_root: Optional[float] = None
    """The zero of f' where f'(x) is a cancelling difference: errors there count in ulps of 1/8."""
    exact: bool = False
    """float64 results equal the float64 formula bit for bit (the same operations as torch)."""
    mp_forward: Optional[Callable] = None
    mp_backward: Optional[Callable] = None
    """The same functions on mpmath numbers (evaluated at 50 digits by mpmath_reference)."""
    torch: dict = {}
    """{"forward" | "backward" | "from_output": make(aten, params) -> f(x_or_g, [x_or_y,] out)}:
    ATen's out= overloads, the peer's equivalent (aten = torch.ops.aten)."""
    jax: Optional[Callable] = None
    """make(jax.nn, jax.numpy, params) -> f(x): JAX's equivalent (backward through jax.vjp)."""
    onnx: Optional[Callable] = None
    """make(params) -> [(op_type, inputs, attributes), ...] (one node per entry, chained from "x"
    to "y"; a float input is a constant), or None where ONNX has no such operator."""

    def reference(self, backward: bool = False) -> Callable[..., NDArray[np.float64]]:
        """The float64 reference of one direction: forward(x, *p) or backward(g, x, *p)."""
        return self.backward if backward else self.forward

    def mp_reference(self, backward: bool = False) -> Optional[Callable[..., Any]]:
        return self.mp_backward if backward else self.mp_forward

    def tolerance(self, dtype: DTypeLike, direction: str, level: str = "fast") -> int:
        """The bound in ulps that the tests check (0 for an exact float64 kernel)."""
        dtype = np.dtype(dtype).name
        if self.exact and dtype == "float64":
            return 0
        return ULPS_BY_LEVEL[level][dtype][direction]


_SWISH_ROOT = -1.2784645427610738  # silu'(x) = 0
_NO_EXP_DOMAIN = "every x"


def _k(name, forward, backward, **kw):
    return Kernel(name, kw.pop("function", name), forward, backward, **kw)


def _aten_bwd(op, args):
    """make(aten, p) for an ATen backward with a grad_input= overload: op(g, x, *args(p))."""
    return lambda aten, p: (
        lambda g, x, o: getattr(aten, op).grad_input(g, x, *args(p), grad_input=o)
    )


_KERNELS = [
    _k(
        "relu",
        relu,
        relu_backward,
        exact=True,
        switches=lambda: (0.0,),
        domain="every x; integer and bool inputs keep their dtype",
        torch={
            "forward": lambda aten, p: lambda x, o: aten.clamp_min.out(x, 0, out=o),
            "backward": _aten_bwd("threshold_backward", lambda p: (0,)),
        },
        jax=lambda nn, jnp, p: nn.relu,
        onnx=lambda p: [("Relu", (), {})],
    ),
    _k(
        "leaky_relu",
        leaky_relu,
        leaky_relu_backward,
        exact=True,
        params=((0.01,), (0.2,), (1.5,)),
        switches=lambda s: (0.0,),
        domain="every x; any negative_slope",
        torch={
            "forward": lambda aten, p: lambda x, o: aten.leaky_relu.out(x, p[0], out=o),
            "backward": _aten_bwd("leaky_relu_backward", lambda p: (p[0], False)),
        },
        jax=lambda nn, jnp, p: lambda x: nn.leaky_relu(x, p[0]),
        onnx=lambda p: [("LeakyRelu", (), {"alpha": p[0]})],
    ),
    _k(
        "elu",
        elu,
        elu_backward,
        params=((1.0,), (0.3,), (2.5,)),
        switches=lambda a: (0.0,),
        domain="every x; any alpha (backward from the output needs alpha > 0)",
        mp_forward=lambda x, a: x if x > 0 else a * mp.expm1(x),
        mp_backward=lambda g, x, a: g if x > 0 else g * a * mp.exp(x),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.elu.out(x, p[0], 1, 1, out=o),
            "backward": lambda aten, p: (
                lambda g, x, o: aten.elu_backward.grad_input(g, p[0], 1, 1, False, x, grad_input=o)
            ),
        },
        jax=lambda nn, jnp, p: lambda x: nn.elu(x, p[0]),
        onnx=lambda p: [("Elu", (), {"alpha": p[0]})],
    ),
    _k(
        "gelu",
        gelu,
        gelu_backward,
        grad_root=-0.751791524693564,
        choice={"approximate": "none"},
        mp_forward=lambda x: x * _mp_phi(x),
        mp_backward=lambda g, x: g * (_mp_phi(x) + x * _mp_pdf(x)),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.gelu.out(x, out=o),
            "backward": _aten_bwd("gelu_backward", lambda p: ()),
        },
        jax=lambda nn, jnp, p: lambda x: nn.gelu(x, approximate=False),
        onnx=lambda p: [("Gelu", (), {})],
    ),
    _k(
        "gelu_tanh",
        gelu_tanh,
        gelu_tanh_backward,
        function="gelu",
        grad_root=-0.7517916,
        choice={"approximate": "tanh"},
        mp_forward=lambda x: x * _mp_sigmoid(_mp_w(x)),
        mp_backward=lambda g, x: (
            g
            * _mp_sigmoid(_mp_w(x))
            * (
                1
                + x
                * _mp_sigmoid(-_mp_w(x))
                * 2
                * mp.sqrt(2 / mp.pi)
                * (1 + 3 * mp.mpf(GELU_C) * x * x)
            )
        ),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.gelu.out(x, approximate="tanh", out=o),
            "backward": lambda aten, p: (
                lambda g, x, o: aten.gelu_backward.grad_input(
                    g, x, approximate="tanh", grad_input=o
                )
            ),
        },
        jax=lambda nn, jnp, p: lambda x: nn.gelu(x, approximate=True),
        onnx=lambda p: [("Gelu", (), {"approximate": "tanh"})],
    ),
    _k(
        "silu",
        silu,
        silu_backward,
        grad_root=_SWISH_ROOT,
        mp_forward=lambda x: x * _mp_sigmoid(x),
        mp_backward=lambda g, x: g * _mp_sigmoid(x) * (1 + x * _mp_sigmoid(-x)),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.silu.out(x, out=o),
            "backward": _aten_bwd("silu_backward", lambda p: ()),
        },
        jax=lambda nn, jnp, p: nn.silu,
        onnx=lambda p: [("Sigmoid", (), {}), ("Mul", ("x",), {})],
    ),  # x * Sigmoid(x)
    _k(
        "mish",
        mish,
        mish_backward,
        grad_root=-1.1924312145154952,
        mp_forward=lambda x: x * mp.tanh(_mp_softplus(x, 1, mp.inf)),
        mp_backward=lambda g, x: (
            g
            * (
                mp.tanh(_mp_softplus(x, 1, mp.inf))
                + x * _mp_sigmoid(x) * mp.sech(_mp_softplus(x, 1, mp.inf)) ** 2
            )
        ),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.mish.out(x, out=o),
            "backward": lambda aten, p: lambda g, x, o: o.copy_(aten.mish_backward(g, x)),
        },
        jax=lambda nn, jnp, p: nn.mish,
        onnx=lambda p: [("Mish", (), {})],
    ),
    _k(
        "softplus",
        softplus,
        softplus_backward,
        params=((1.0, 20.0), (2.0, 5.0), (0.5, 20.0)),
        switches=lambda beta, threshold: (threshold / beta,),
        domain="every x; any beta and threshold (backward from the output needs beta > 0)",
        mp_forward=lambda x, b, t: _mp_softplus(x, b, t),
        mp_backward=lambda g, x, b, t: g if b * x > t else g * _mp_sigmoid(b * x),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.softplus.out(x, p[0], p[1], out=o),
            "backward": _aten_bwd("softplus_backward", lambda p: (p[0], p[1])),
        },
        jax=lambda nn, jnp, p: lambda x: nn.softplus(p[0] * x) / p[0],
        onnx=lambda p: [("Softplus", (), {})] if tuple(p) == (1.0, 20.0) else None,
    ),
    _k(
        "selu",
        selu,
        selu_backward,
        switches=lambda: (0.0,),
        mp_forward=lambda x: (
            mp.mpf(SELU_SCALE) * (x if x > 0 else mp.mpf(SELU_ALPHA) * mp.expm1(x))
        ),
        mp_backward=lambda g, x: (
            g * mp.mpf(SELU_SCALE) * (1 if x > 0 else mp.mpf(SELU_ALPHA) * mp.exp(x))
        ),
        torch={
            "forward": lambda aten, p: (
                lambda x, o: aten.elu.out(x, SELU_ALPHA, SELU_SCALE, 1, out=o)
            ),
            "backward": lambda aten, p: (
                lambda g, x, o: aten.elu_backward.grad_input(
                    g, SELU_ALPHA, SELU_SCALE, 1, False, x, grad_input=o
                )
            ),
        },
        jax=lambda nn, jnp, p: nn.selu,
        onnx=lambda p: [("Selu", (), {})],
    ),
    _k(
        "celu",
        celu,
        celu_backward,
        params=((1.0,), (0.5,), (3.0,)),
        switches=lambda a: (0.0,),
        domain="every x; alpha > 0 (0 is refused; alpha < 0 is not supported)",
        mp_forward=lambda x, a: x if x > 0 else a * mp.expm1(x / a),
        mp_backward=lambda g, x, a: g if x > 0 else g * mp.exp(x / a),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.elu.out(x, p[0], 1, 1 / p[0], out=o),
            "backward": lambda aten, p: (
                lambda g, x, o: aten.elu_backward.grad_input(
                    g, p[0], 1, 1 / p[0], False, x, grad_input=o
                )
            ),
        },
        jax=lambda nn, jnp, p: lambda x: nn.celu(x, p[0]),
        onnx=lambda p: [("Celu", (), {"alpha": p[0]})],
    ),
    _k(
        "hardsigmoid",
        hardsigmoid,
        hardsigmoid_backward,
        exact=True,
        switches=lambda: (-3.0, 3.0),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.hardsigmoid.out(x, out=o),
            "backward": _aten_bwd("hardsigmoid_backward", lambda p: ()),
        },
        jax=lambda nn, jnp, p: nn.hard_sigmoid,
        onnx=lambda p: [("HardSigmoid", (), {"alpha": 1 / 6, "beta": 0.5})],
    ),
    _k(
        "hardswish",
        hardswish,
        hardswish_backward,
        exact=True,
        switches=lambda: (-3.0, 3.0),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.hardswish.out(x, out=o),
            "backward": lambda aten, p: lambda g, x, o: o.copy_(aten.hardswish_backward(g, x)),
        },
        jax=lambda nn, jnp, p: nn.hard_swish,
        onnx=lambda p: [("HardSwish", (), {})],
    ),
    _k(
        "hardtanh",
        hardtanh,
        hardtanh_backward,
        exact=True,
        params=((-1.0, 1.0), (-2.0, 0.5)),
        switches=lambda lo, hi: (lo, hi),
        domain="every x; min_val <= max_val",
        torch={
            "forward": lambda aten, p: lambda x, o: aten.hardtanh.out(x, p[0], p[1], out=o),
            "backward": _aten_bwd("hardtanh_backward", lambda p: (p[0], p[1])),
        },
        jax=lambda nn, jnp, p: lambda x: jnp.clip(x, p[0], p[1]),
        onnx=lambda p: [("Clip", (p[0], p[1]), {})],
    ),
    _k(
        "relu6",
        relu6,
        relu6_backward,
        exact=True,
        switches=lambda: (0.0, 6.0),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.hardtanh.out(x, 0.0, 6.0, out=o),
            "backward": _aten_bwd("hardtanh_backward", lambda p: (0.0, 6.0)),
        },
        jax=lambda nn, jnp, p: nn.relu6,
        onnx=lambda p: [("Clip", (0.0, 6.0), {})],
    ),
    _k(
        "sigmoid",
        sigmoid,
        sigmoid_backward,
        mp_forward=lambda x: _mp_sigmoid(x),
        mp_backward=lambda g, x: g * _mp_sigmoid(x) * _mp_sigmoid(-x),
        torch={
            "forward": lambda aten, p: lambda x, o: aten.sigmoid.out(x, out=o),
            "from_output": _aten_bwd("sigmoid_backward", lambda p: ()),
        },
        jax=lambda nn, jnp, p: nn.sigmoid,
        onnx=lambda p: [("Sigmoid", (), {})],
    ),
    _k(
        "tanh",
        tanh,
        tanh_backward,
        mp_forward=lambda x: mp.tanh(x),
        mp_backward=lambda g, x: g * mp.sech(x) ** 2,
        torch={
            "forward": lambda aten, p: lambda x, o: aten.tanh.out(x, out=o),
            "from_output": _aten_bwd("tanh_backward", lambda p: ()),
        },
        jax=lambda nn, jnp, p: jnp.tanh,
        onnx=lambda p: [("Tanh", (), {})],
    ),
]
KERNELS = {k.name: k for k in _KERNELS}
"""Every kernel's record, by kernel name, in FASTACT_KERNELS' order."""


def _record(fn: str, kernel: str) -> Kernel:
    try:
        return KERNELS[kernel]
    except KeyError:
        raise KeyError(
            f"fastact.testing.{fn}: no kernel {kernel!r}; the kernels are {', '.join(KERNELS)}"
        ) from None


def mpmath_reference(
    kernel: str,
    backward: bool,
    x: ArrayLike,
    params: Sequence[float] = (),
    grad_output: Optional[ArrayLike] = None,
) -> NDArray[np.float64]:
    """float64 array of the correctly rounded function values (50-digit mpmath) at finite float64
    x (and grad_output, 1 by default); where x or grad_output is not finite, the float64
    reference's value."""
    rec = _record("mpmath_reference", kernel)
    f = rec.mp_reference(backward)
    if f is None:
        raise ValueError(f"fastact.testing.mpmath_reference: {kernel} is exact (no mpmath form)")
    xs = np.asarray(x, np.float64)
    g = np.broadcast_to(
        np.asarray(1.0 if grad_output is None else grad_output, np.float64), xs.shape
    )
    fallback = rec.backward(g, xs, *params) if backward else rec.forward(xs, *params)
    out = np.array(fallback, np.float64).reshape(xs.shape)
    with mp.workdps(50):
        mparams = tuple(map(mp.mpf, params))
        for i in np.ndindex(xs.shape):
            if np.isfinite(xs[i]) and np.isfinite(g[i]):
                args = (mp.mpf(float(g[i])),) if backward else ()
                out[i] = float(f(*args, mp.mpf(float(xs[i])), *mparams))
    return out


def ulp_error(y: ArrayLike, ref: ArrayLike, dtype: DTypeLike) -> NDArray[np.float64]:
    """|y - ref| in ulps of `dtype` at ref, where |ref| is normal in that dtype (elsewhere 0).
    Matching infinities and NaNs count as exact; a NaN against a number counts as infinite."""
    dtype = np.dtype(dtype)
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    tiny = np.finfo(dtype).tiny
    with np.errstate(all="ignore"):
        ulp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
        err = np.abs(y - ref) / ulp
    with np.errstate(over="ignore"):  # a result beyond the dtype's range rounds to inf
        overflow = (np.abs(ref) > np.finfo(dtype).max) & (y == ref.astype(dtype))
    same = (y == ref) | (np.isnan(y) & np.isnan(ref)) | overflow
    err = np.where(same, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return np.where((np.abs(ref) >= tiny) | ~np.isfinite(ref) | same, err, 0.0)


def root_ulp(dtype: DTypeLike) -> float:
    """The unit near a zero of f': one ulp of 1/8 in `dtype`."""
    return float(np.spacing(np.asarray(0.125, dtype)))


def near_grad_root(kernel: str, x: ArrayLike, ref: ArrayLike) -> NDArray[np.bool_]:
    """Where f'(x) is a difference of O(1) terms that cancels to below 1/8 (within 1.5 of the zero
    of f'); there errors are counted in ulps of 1/8, not of f'(x)."""
    root = _record("near_grad_root", kernel).grad_root
    if root is None:
        return np.zeros(np.shape(x), bool)
    return (np.abs(ref) < 0.125) & (np.abs(x - root) < 1.5)


def errors(
    kernel: str,
    y: ArrayLike,
    x: ArrayLike,
    params: Optional[Sequence[float]] = None,
    backward: bool = False,
    grad_output: Optional[ArrayLike] = None,
) -> NDArray[np.float64]:
    """Per-element error of y = kernel(x) (or grad_output * kernel'(x)), in ulps of y's dtype,
    as fastact's tests count it: against the float64 reference with the parameters rounded to the
    dtype the kernel computes in (float32 for float16 and float32), or for a float64 y against
    50-digit mpmath (a float64 formula is itself off by up to x*x/2 ulps in gelu's tail; slow:
    one mpmath evaluation per element), and near a zero of f' in ulps of 1/8 (times
    |grad_output|). params: the kernel's parameters (default: its first test set); grad_output:
    1 by default."""
    rec = _record("errors", kernel)
    y = np.asarray(y)
    x = np.asarray(x)
    params = rec.params[0] if params is None else tuple(params)
    if y.dtype != np.float64:
        params = tuple(float(np.float32(p)) for p in params)
    g = np.ones_like(x) if grad_output is None else grad_output
    if y.dtype == np.float64 and rec.mp_forward is not None:
        ref = mpmath_reference(kernel, backward, x, params, g if backward else None)
    elif backward:
        ref = rec.backward(g, x, *params)
    else:
        ref = rec.forward(x, *params)
    err = ulp_error(y, ref, y.dtype)
    if backward:
        # near the zero of f', |f'| < 1/8 is bounded in ulps of 1/8; with grad_output g, g f'
        # in |g| ulps of 1/8 (where |g f'| may exceed 1/8)
        gabs = np.abs(np.broadcast_to(np.asarray(g, np.float64), np.shape(ref)))
        with np.errstate(all="ignore"):
            unit = gabs * root_ulp(y.dtype)
            near = near_grad_root(kernel, x.astype(np.float64), ref / np.where(gabs == 0, 1, gabs))
            near &= unit > 0
            err = np.where(near, np.abs(y.astype(np.float64) - ref) / unit, err)
    return err


def float32_sweep(n: int = 1 << 21, seed: int = 0) -> NDArray[np.float32]:
    """n float32 values spread over every exponent: random bit patterns (both signs, all
    exponents), every 2**-10 step on [-16, 16], and the special values."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    dense = np.arange(-16, 16, 2.0**-10, dtype=np.float32)
    return np.concatenate([x, dense])


def check_derivative(
    kernel: str, params: Optional[Sequence[float]] = None, points: Optional[ArrayLike] = None
) -> float:
    """The largest relative disagreement between the reference derivative and a numerical
    derivative of the reference forward, at `points` (default: a grid over [-12, 12] kept away
    from the kernel's switches): 50-digit mpmath differentiation where the kernel has an mpmath
    form (also checking the mpmath derivative), else a float64 central difference. A wrong
    reference derivative shows up as an O(1) disagreement."""
    rec = _record("check_derivative", kernel)
    params = rec.params[0] if params is None else tuple(params)
    if points is None:
        points = np.linspace(-12, 12, 241) + 0.013
    sw = np.asarray(rec.switches(*params), np.float64)
    x = np.asarray([v for v in points if sw.size == 0 or np.min(np.abs(v - sw)) > 1e-3])
    ref = rec.backward(np.ones_like(x), x, *params)
    if rec.mp_forward is not None:
        with mp.workdps(50):
            mp_params = tuple(map(mp.mpf, params))
            num = np.array(
                [float(mp.diff(lambda t: rec.mp_forward(t, *mp_params), mp.mpf(v))) for v in x]
            )
            mp_der = np.array([float(rec.mp_backward(mp.mpf(1), mp.mpf(v), *mp_params)) for v in x])
        worst_mp = np.max(np.abs(mp_der - num) / np.maximum(np.abs(num), 1e-300))
    else:
        h = 1e-6 * np.maximum(1.0, np.abs(x))
        num = (rec.forward(x + h, *params) - rec.forward(x - h, *params)) / (2 * h)
        worst_mp = 0.0
    scale = np.maximum(np.abs(num), 1e-300)
    tiny = np.abs(num) < 1e-250  # an underflowed tail: compare absolutely
    rel = np.where(tiny, np.abs(ref - num), np.abs(ref - num) / scale)
    return max(float(np.max(rel)), float(worst_mp))
