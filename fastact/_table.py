"""The one table of activations: their public names, parameters and conventions.

The kernels, ufunc twins, public functions, tests and benchmarks are all generated from this table
(the C formulas live beside FASTACT_KERNELS in _kernels.h, the float64 references in
tests/reference.py). Parameters follow torch.nn.functional.
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


ACTIVATIONS = (
    Activation("relu", {None: "relu"},
               formula="max(x, 0); integer and bool inputs keep their dtype",
               derivative="1 if x > 0 else 0 (relu'(0) = 0)"),
    Activation("leaky_relu", {None: "leaky_relu"}, params=(("negative_slope", 0.01),),
               formula="x if x > 0 else negative_slope * x",
               derivative="1 if x > 0 else negative_slope (at 0: negative_slope)"),
    Activation("elu", {None: "elu"}, params=(("alpha", 1.0),),
               formula="x if x > 0 else alpha * expm1(x)",
               derivative="1 if x > 0 else alpha * exp(x) (at 0: alpha)"),
    Activation("gelu", {"none": "gelu", "tanh": "gelu_tanh"}, choice=("approximate", "none"),
               formula="x * Phi(x), Phi the standard normal CDF; approximate='tanh': "
                       "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))",
               derivative="Phi(x) + x * phi(x); approximate='tanh': the tanh form's exact derivative"),
)

PRELU = Activation("prelu", {None: "leaky_relu"},
                   formula="x if x > 0 else weight[c] * x, c the index along `axis`",
                   derivative="1 if x > 0 else weight[c]; grad_weight[c] sums "
                              "grad_output * x over x <= 0")
"""PReLU is leaky_relu with a learned per-channel slope; _dispatch writes its functions by hand."""

BY_NAME = {a.name: a for a in ACTIVATIONS + (PRELU,)}
