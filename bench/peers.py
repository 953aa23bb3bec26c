"""What the benchmarks compare: every fastact function and its peers, generated from the table.

A case is one public function (forward or backward, with its default parameters or choice);
each implementation is a callable `impl(inputs, out)` over the same arrays, where `out` is an
output array or, in place, the array that is overwritten. Peers:
  - numpy.maximum: relu's named baseline (np.maximum(x, 0, out=...)).
  - numpy formula: the float64-clear formulas of tests/reference.py, evaluated in the input dtype
    with NumPy and SciPy (0.5*x*erfc, np.where(x > 0, x, alpha*np.expm1(x)), ...).
  - torch: torch.nn.functional in place where torch has it, else into a fresh tensor, and the
    ATen backward kernels; same thread count as fastact.
  - copy: the same bytes moved with no arithmetic, the roofline (np.copyto for a forward, an
    add of the two inputs for a backward; in place, the same streams on the output's buffer).
"""
import os
import sys

import numpy as np

import fastact
from fastact._table import ACTIVATIONS

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from reference import PARAMS, REFERENCE  # noqa: E402


class Case:
    def __init__(self, act, choice, kernel, backward):
        self.act, self.choice, self.kernel, self.backward = act, choice, kernel, backward
        self.params = PARAMS[kernel][0]
        self.kwargs = {p: v for (p, _), v in zip(act.params, self.params)}
        if act.choice is not None:
            self.kwargs[act.choice[0]] = choice
        self.name = kernel + ("_backward" if backward else "")
        self.nin = 2 if backward else 1

    def inputs(self, n, dtype, seed=0):
        rng = np.random.default_rng(seed)
        return [(rng.standard_normal(n) * 3).astype(dtype) for _ in range(self.nin)]

    def implementations(self, torch=None, inplace=False):
        """{label: impl(inputs, out)} in a fixed order, fastact first; inplace: out is inputs[0]."""
        params = self.params
        fa = getattr(fastact, self.act.name + ("_backward" if self.backward else ""))
        positional = list(params) + ([self.choice] if self.act.choice else [])
        impls = {"fastact": _bind(fa, self.nin, positional)}
        if self.kernel == "relu" and not self.backward:
            impls["numpy.maximum"] = lambda a, out: np.maximum(a[0], 0, out=out)
        ref = REFERENCE[self.kernel][self.backward]

        def numpy_formula(a, out):
            with np.errstate(all="ignore"):
                np.copyto(out, ref.__wrapped__(*a, *params), casting="unsafe")
        impls["numpy formula"] = numpy_formula
        if torch is not None:
            impls["torch"] = _torch_impl(torch, self)
        if inplace:       # the same streams as the in-place call: read, write back
            impls["copy"] = (lambda a, out: np.add(out, a[1], out=out)) if self.backward else \
                (lambda a, out: np.negative(out, out=out))
        else:
            impls["copy"] = (lambda a, out: np.add(a[0], a[1], out=out)) if self.backward else \
                (lambda a, out: np.copyto(out, a[0]))
        return impls


def _bind(f, nin, args):
    """impl(a, out) that calls f(a[0], ..., *args, out=out) with no per-call tuple or dict, so the
    allocation count measures the function and not the harness."""
    call = ", ".join([f"a[{i}]" for i in range(nin)] + [f"p[{j}]" for j in range(len(args))])
    return eval(f"lambda a, out: f({call}, out=out)", {"f": f, "p": tuple(args)})


def _torch_impl(torch, case):
    F = torch.nn.functional
    aten = torch.ops.aten
    p = case.params
    if not case.backward:
        f = getattr(F, case.act.name)
        kw = case.kwargs
        inplace = "inplace" in (f.__code__.co_varnames if hasattr(f, "__code__") else ())

        def run(a, out):
            x, o = torch.from_numpy(a[0]), torch.from_numpy(out)
            if inplace:
                if a[0] is not out:
                    o.copy_(x)      # torch has no out= here: in place on out, after a copy
                f(o, **kw, inplace=True)
            else:
                o.copy_(f(x, **kw))
        return run
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    # ATen's backward kernels; sigmoid's and tanh's take the forward's output, which the timing
    # feeds with x (their cost does not depend on the values).
    backward = {
        "relu": lambda g, x: aten.threshold_backward(g, x, 0),
        "leaky_relu": lambda g, x: aten.leaky_relu_backward(g, x, p[0], False),
        "elu": lambda g, x: aten.elu_backward(g, p[0], 1, 1, False, x),
        "gelu": lambda g, x: aten.gelu_backward(g, x),
        "gelu_tanh": lambda g, x: aten.gelu_backward(g, x, approximate="tanh"),
        "silu": lambda g, x: aten.silu_backward(g, x),
        "mish": lambda g, x: aten.mish_backward(g, x),
        "softplus": lambda g, x: aten.softplus_backward(g, x, p[0], p[1]),
        "selu": lambda g, x: aten.elu_backward(g, alpha * scale, scale, 1, False, x),
        "celu": lambda g, x: aten.elu_backward(g, p[0], 1, 1 / p[0], False, x),
        "hardsigmoid": lambda g, x: aten.hardsigmoid_backward(g, x),
        "hardswish": lambda g, x: aten.hardswish_backward(g, x),
        "hardtanh": lambda g, x: aten.hardtanh_backward(g, x, p[0], p[1]),
        "relu6": lambda g, x: aten.hardtanh_backward(g, x, 0.0, 6.0),
        "sigmoid": lambda g, x: aten.sigmoid_backward(g, x),
        "tanh": lambda g, x: aten.tanh_backward(g, x),
    }[case.kernel]

    def run(a, out):
        torch.from_numpy(out).copy_(backward(torch.from_numpy(a[0]), torch.from_numpy(a[1])))
    return run


CASES = [Case(a, c, k, b) for a in ACTIVATIONS for c, k in a.kernels.items() for b in (False, True)]


def load_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch
