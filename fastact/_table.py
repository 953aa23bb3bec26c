"""The one table of activations: their public names, parameters and conventions.

The kernels, ufunc twins, public functions, tests and benchmarks are all generated from this table
(the C formulas live beside FASTACT_KERNELS in _kernels.h, the float64 references in
fastact/testing.py). Parameters follow torch.nn.functional.
"""

from typing import NamedTuple


class Activation(NamedTuple):
    name: str
    """Public name: fastact.<name> and fastact.<name>_backward."""
    kernels: dict
    """{choice: C kernel name}; a single kernel has the choice None."""
    params: tuple = ()
    """((name, default), ...): scalar parameters, passed to the kernel in this order."""
    choice: tuple = None
    """(parameter name, default) of a string parameter that selects the kernel, or None."""
    formula: str = ""
    derivative: str = ""
    """Derivative, with the convention at any kink (PyTorch's)."""
    layer: str = ""
    """The fastact.nn layer's class name (torch.nn's)."""
    from_output_when: object = None
    """When the backward may start from the output y instead of x (a call's output=): None (never;
    `no_output` says why), True (always), or the name of the parameter that must be > 0."""
    no_output: str = ""
    kernel_docs: dict = None
    """{kernel: (formula, derivative)} for the ufunc twins of a function with a choice."""
    check: object = None
    """check(*params) -> None, or why the values are outside the function's domain (torch raises
    there too); the public functions and layers raise ValueError with it."""


_NOT_MONOTONIC = "{} is not monotonic, so its output does not determine x"

ACTIVATIONS = (
    Activation(
        "relu",
        layer="ReLU",
        kernels={None: "relu"},
        from_output_when=True,
        formula="max(x, 0); integer and bool inputs keep their dtype",
        derivative="1 if x > 0 else 0 (relu'(0) = 0)",
    ),
    Activation(
        "leaky_relu",
        layer="LeakyReLU",
        kernels={None: "leaky_relu"},
        params=(("negative_slope", 0.01),),
        from_output_when="negative_slope",
        formula="x if x > 0 else negative_slope * x",
        derivative="1 if x > 0 else negative_slope (at 0: negative_slope)",
    ),
    Activation(
        "elu",
        layer="ELU",
        kernels={None: "elu"},
        params=(("alpha", 1.0),),
        from_output_when="alpha",
        formula="x if x > 0 else alpha * expm1(x)",
        derivative="1 if x > 0 else alpha * exp(x) (at 0: alpha); from the output y: "
        "1 if y > 0 else y + alpha",
    ),
    Activation(
        "gelu",
        layer="GELU",
        kernels={"none": "gelu", "tanh": "gelu_tanh"},
        choice=("approximate", "none"),
        no_output=_NOT_MONOTONIC.format("gelu"),
        formula="x * Phi(x), Phi the standard normal CDF; approximate='tanh': "
        "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))",
        derivative="Phi(x) + x * phi(x); approximate='tanh': the tanh form's exact derivative",
        kernel_docs={
            "gelu": (
                "x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), the exact (erf) form",
                "Phi(x) + x * phi(x), phi the normal density",
            ),
            "gelu_tanh": (
                "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), the tanh approximation",
                "the tanh form's exact derivative",
            ),
        },
    ),
    Activation(
        "silu",
        layer="SiLU",
        kernels={None: "silu"},
        no_output=_NOT_MONOTONIC.format("silu"),
        formula="x * sigmoid(x)",
        derivative="sigmoid(x) * (1 + x * (1 - sigmoid(x)))",
    ),
    Activation(
        "mish",
        layer="Mish",
        kernels={None: "mish"},
        no_output=_NOT_MONOTONIC.format("mish"),
        formula="x * tanh(softplus(x))",
        derivative="tanh(softplus(x)) + x * sigmoid(x) * (1 - tanh(softplus(x))**2)",
    ),
    Activation(
        "softplus",
        layer="Softplus",
        kernels={None: "softplus"},
        params=(("beta", 1.0), ("threshold", 20.0)),
        from_output_when="beta",
        formula="x if beta * x > threshold else log1p(exp(beta * x)) / beta",
        derivative="1 if beta * x > threshold else sigmoid(beta * x); from the output y: "
        "1 - exp(-beta * y)",
    ),
    Activation(
        "selu",
        layer="SELU",
        kernels={None: "selu"},
        from_output_when=True,
        formula="scale * (x if x > 0 else alpha * expm1(x)), alpha = 1.6732632423543772, "
        "scale = 1.0507009873554805",
        derivative="scale if x > 0 else scale * alpha * exp(x) (at 0: scale * alpha)",
    ),
    Activation(
        "celu",
        layer="CELU",
        kernels={None: "celu"},
        params=(("alpha", 1.0),),
        from_output_when="alpha",
        check=lambda alpha: (
            "alpha must not be 0: celu divides by it"
            if alpha == 0
            else f"alpha={alpha!r} is negative: fastact's celu needs alpha > 0"
            if alpha < 0
            else None
        ),
        formula="x if x > 0 else alpha * expm1(x / alpha)",
        derivative="1 if x > 0 else exp(x / alpha)",
    ),
    Activation(
        "hardsigmoid",
        layer="Hardsigmoid",
        kernels={None: "hardsigmoid"},
        from_output_when=True,
        formula="min(max(x + 3, 0), 6) / 6",
        derivative="1/6 if -3 < x < 3 else 0; from the output y: 1/6 if 0 < y < 1 else 0",
    ),
    Activation(
        "hardswish",
        layer="Hardswish",
        kernels={None: "hardswish"},
        no_output=_NOT_MONOTONIC.format("hardswish"),
        formula="x * (min(max(x + 3, 0), 6) / 6)",
        derivative="0 if x < -3 else ((2x + 3) / 6 if x <= 3 else 1)",
    ),
    Activation(
        "hardtanh",
        layer="Hardtanh",
        kernels={None: "hardtanh"},
        params=(("min_val", -1.0), ("max_val", 1.0)),
        check=lambda min_val, max_val: (
            None
            if min_val <= max_val
            else f"min_val must be less than or equal to max_val, got min_val={min_val!r}, "
            f"max_val={max_val!r}"
        ),
        from_output_when=True,
        formula="min(max(x, min_val), max_val)",
        derivative="0 if x <= min_val or x >= max_val else 1",
    ),
    Activation(
        "relu6",
        layer="ReLU6",
        kernels={None: "relu6"},
        from_output_when=True,
        formula="min(max(x, 0), 6)",
        derivative="0 if x <= 0 or x >= 6 else 1",
    ),
    Activation(
        "sigmoid",
        layer="Sigmoid",
        kernels={None: "sigmoid"},
        from_output_when=True,
        formula="1 / (1 + exp(-x))",
        derivative="sigmoid(x) * (1 - sigmoid(x)); from the output y: y * (1 - y)",
    ),
    Activation(
        "tanh",
        layer="Tanh",
        kernels={None: "tanh"},
        from_output_when=True,
        formula="tanh(x)",
        derivative="1 - tanh(x)**2; from the output y: (1 - y) * (1 + y)",
    ),
)

PRELU = Activation(
    "prelu",
    layer="PReLU",
    kernels={None: "leaky_relu"},
    from_output_when="weight",
    formula="x if x > 0 else weight[c] * x, c the index along `axis`",
    derivative="1 if x > 0 else weight[c]; grad_weight[c] sums grad_output * x over x <= 0",
)
"""PReLU is leaky_relu with a learned per-channel slope; _prelu.py writes its functions by hand."""

BY_NAME = {a.name: a for a in ACTIVATIONS + (PRELU,)}
