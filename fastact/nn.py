"""Layers for training loops written in NumPy: forward(x) and backward(grad_output).

    act = fastact.nn.GELU()
    h = act(x)                       # forward, keeps what backward needs
    grad_x = act.backward(grad_h)    # may write into grad_h; frees what it kept

One class per activation of the table, with torch.nn's name and constructor arguments, plus
`inplace=`. A layer keeps only what its backward needs, and only until that backward:
  - where the backward can start from the output (relu, leaky_relu and PReLU with positive
    slopes, elu and celu with alpha > 0, selu, softplus, hardtanh, relu6, sigmoid, tanh), the
    output; with inplace=True that is x's own buffer, so the layer costs no memory at all;
  - elsewhere (gelu, silu, mish, hardsigmoid, hardswish) it keeps x; with inplace=True it keeps a
    copy of x first, since the forward overwrites it.
backward(grad_output) writes into grad_output when it is a writeable array of the result's dtype
and shape, else into a new array, and returns it.
"""

import inspect
import numbers

import numpy as np

from . import _functions, _kernels, _prelu, _ufunc_path
from ._table import ACTIVATIONS, PRELU

__all__ = [a.layer for a in ACTIVATIONS] + [PRELU.layer]


def _writable_like(a, like):
    return (
        type(a) is np.ndarray
        and a.flags.writeable
        and a.shape == like.shape
        and a.dtype == like.dtype
    )


class _Layer:
    """Common machinery: what to keep for the backward, and freeing it after the backward.
    Subclasses say whether the backward can start from the output (_from_output_ok) and run
    the functions (_run_forward, _run_backward)."""

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        self._from_output = self._from_output_ok()
        # in place overwrites x, so a backward that needs x needs a copy of it first
        x_kept = x.copy() if self.inplace and not self._from_output else x
        y = self._run_forward(x, x if self.inplace else None)
        self._saved = y if self._from_output else x_kept
        return y

    def backward(self, grad_output):
        saved = getattr(self, "_saved", None)
        if saved is None:
            raise RuntimeError(
                f"fastact.nn.{type(self).__name__}: backward without a forward "
                f"(or a second backward for one forward)"
            )
        self._saved = None
        g = np.asarray(grad_output)
        out = g if _writable_like(g, saved) else None
        return self._run_backward(g, saved, out)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args())
        return f"{type(self).__name__}({args})"


class _Activation(_Layer):
    _act = None

    def __init__(self, *args, inplace=False, **kwargs):
        act = self._act
        names = [p for p, _ in act.params] + ([act.choice[0]] if act.choice else [])
        defaults = dict(act.params)
        if act.choice:
            defaults[act.choice[0]] = act.choice[1]
        if len(args) > len(names):
            raise TypeError(
                f"fastact.nn.{type(self).__name__}: takes at most {len(names)} positional "
                f"arguments ({', '.join(names)})"
            )
        values = dict(defaults, **dict(zip(names, args)))
        for k, v in kwargs.items():
            if k not in defaults:
                raise TypeError(f"fastact.nn.{type(self).__name__}: unexpected argument {k!r}")
            values[k] = v
        self.kwargs = values
        # the same arguments by position (x, params..., choice, out): keywords unpacked from a
        # dict cost 0.2 us a call, more than relu on 16 elements
        self._args = tuple(values[n] for n in names)
        self.inplace = bool(inplace)
        self._forward = _functions.FUNCTIONS[act.name]
        self._backward = _functions.FUNCTIONS[act.name + "_backward"]
        params = _ufunc_path.check_layer_params(
            f"nn.{type(self).__name__}", act, tuple(values[p] for p, _ in act.params)
        )
        self._output_ok = _functions.output_allowed(act, params) is None
        self._saved = None

    def _repr_args(self):
        return list(self.kwargs.items()) + ([("inplace", True)] if self.inplace else [])

    def _from_output_ok(self):
        return self._output_ok

    def _run_forward(self, x, out):
        return self._forward(x, *self._args, out)

    def _run_backward(self, g, saved, out):
        if self._from_output:
            return self._backward(g, None, *self._args, out, output=saved)
        return self._backward(g, saved, *self._args, out)


_INIT = PRELU._replace(params=(("init", 0.25),))  # for checking PReLU's init like a parameter


class PReLU(_Layer):
    """PReLU(num_parameters=1, init=0.25): a learned slope per channel (axis 1), or one for all.

    `weight` (float32, shape (num_parameters,)) is the parameter; backward accumulates into
    `grad_weight` (float64) until zero_grad(). Works for (N, C) and (N, C, H, W) inputs.
    """

    def __init__(self, num_parameters=1, init=0.25, inplace=False, dtype=np.float32):
        if not isinstance(num_parameters, numbers.Integral) or isinstance(num_parameters, bool):
            raise TypeError(
                f"fastact.nn.PReLU: num_parameters must be an integer, got {num_parameters!r}"
            )
        if num_parameters < 1:
            raise ValueError(
                f"fastact.nn.PReLU: num_parameters must be >= 1, got {num_parameters!r}"
            )
        (init,) = _ufunc_path.check_layer_params("nn.PReLU", _INIT, (init,))
        self.weight = np.full(int(num_parameters), init, dtype=dtype)
        self.grad_weight = np.zeros(int(num_parameters), dtype=np.float64)
        self.inplace = bool(inplace)
        self._saved = None

    def _repr_args(self):
        return [("num_parameters", self.weight.size)] + (
            [("inplace", True)] if self.inplace else []
        )

    def zero_grad(self):
        self.grad_weight[...] = 0

    def _from_output_ok(self):
        positive = _kernels.all_positive(self.weight)
        return bool(np.all(self.weight > 0)) if positive is None else positive

    def _run_forward(self, x, out):
        self._weight_used = self.weight.copy()  # an optimizer step may come before backward
        return _prelu.prelu(x, self.weight, out=out)

    def _run_backward(self, g, saved, out):
        if self._from_output:
            grad_input, grad_weight = _prelu.prelu_backward(
                g, weight=self._weight_used, out=out, output=saved
            )
        else:
            grad_input, grad_weight = _prelu.prelu_backward(g, saved, self._weight_used, out=out)
        self.grad_weight += grad_weight
        return grad_input


def _make_layer(act):
    params = "".join(f", {p}={d!r}" for p, d in act.params)
    if act.choice:
        params += f", {act.choice[0]}={act.choice[1]!r}"
    doc = (
        f"{act.layer}({params[2:]}{', ' if params else ''}inplace=False): fastact.{act.name} "
        f"as a layer: {act.formula}."
    )
    P = inspect.Parameter
    sig = inspect.Signature(
        [P(p, P.POSITIONAL_OR_KEYWORD, default=d) for p, d in act.params]
        + ([P(act.choice[0], P.POSITIONAL_OR_KEYWORD, default=act.choice[1])] if act.choice else [])
        + [P("inplace", P.KEYWORD_ONLY, default=False)]
    )
    return type(
        act.layer,
        (_Activation,),
        {"_act": act, "__doc__": doc, "__module__": __name__, "__signature__": sig},
    )


for _act in ACTIVATIONS:
    globals()[_act.layer] = _make_layer(_act)
