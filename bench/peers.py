"""What the benchmarks compare: every fastact function and its peers, generated from the table.

A case is one public function (forward or backward, with its default parameters or choice);
each implementation is a callable `impl(inputs, out)` over the same arrays, where `out` is an
output array or, in place, the array that is overwritten. Peers:
  - numpy.maximum: relu's named baseline (np.maximum(x, 0, out=...)).
  - numpy formula: the float64-clear formulas of tests/reference.py, evaluated in the input dtype
    with NumPy and SciPy (0.5*x*erfc, np.where(x > 0, x, alpha*np.expm1(x)), ...).
  - torch: ATen's out= overloads (in place where out is the input), and the ATen backward
    kernels; same thread count as fastact.
  - jax (when installed): jax.jit of jax.nn, inputs on the device, the result waited for.
  - onnxruntime (when installed, with onnx): a one-node model, output bound to out (IOBinding),
    threads not spinning between calls.
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

    def implementations(self, torch=None, inplace=False, jax=None, ort=None, threads=1,
                        dtype=np.float32):
        """{label: impl(inputs, out)} in a fixed order, fastact first; inplace: out is inputs[0].
        jax and ort (onnxruntime) join when given (their modules, from load_jax and
        load_onnxruntime)."""
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
        direction = "backward" if self.backward else "forward"
        for label, lib, make in (("torch", torch, lambda: _torch_impl(torch, self)),
                                 ("jax", jax, lambda: jax_impl(jax, self.kernel, direction, params)),
                                 ("onnxruntime", ort, lambda: onnxruntime_impl(
                                     ort, self.kernel, direction, params, dtype, threads))):
            impl = make() if lib is not None else None
            if impl is not None:
                impls[label] = impl
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
    return torch_impl(torch, case.kernel, "backward" if case.backward else "forward", case.params)


def torch_impl(torch, kernel, direction, params):
    """impl(inputs, out) through ATen's out= overloads (out may be an input: in place), or None.
    sigmoid's and tanh's ATen backward take the forward's output (torch keeps it): they are the
    "from_output" direction; the other backwards start from x."""
    aten = torch.ops.aten
    p = tuple(params)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    fwd = {
        "relu": lambda x, o: torch.clamp_min(x, 0, out=o),
        "leaky_relu": lambda x, o: aten.leaky_relu.out(x, p[0], out=o),
        "elu": lambda x, o: aten.elu.out(x, p[0], 1, 1, out=o),
        "gelu": lambda x, o: aten.gelu.out(x, out=o),
        "gelu_tanh": lambda x, o: aten.gelu.out(x, approximate="tanh", out=o),
        "silu": lambda x, o: aten.silu.out(x, out=o),
        "mish": lambda x, o: aten.mish.out(x, out=o),
        "softplus": lambda x, o: aten.softplus.out(x, p[0], p[1], out=o),
        "selu": lambda x, o: aten.elu.out(x, alpha, scale, 1, out=o),
        "celu": lambda x, o: aten.elu.out(x, p[0], 1, 1 / p[0], out=o),
        "hardsigmoid": lambda x, o: aten.hardsigmoid.out(x, out=o),
        "hardswish": lambda x, o: aten.hardswish.out(x, out=o),
        "hardtanh": lambda x, o: aten.hardtanh.out(x, p[0], p[1], out=o),
        "relu6": lambda x, o: aten.hardtanh.out(x, 0.0, 6.0, out=o),
        "sigmoid": lambda x, o: aten.sigmoid.out(x, out=o),
        "tanh": lambda x, o: aten.tanh.out(x, out=o),
    }
    from_output = {
        "sigmoid": lambda g, y, o: aten.sigmoid_backward.grad_input(g, y, grad_input=o),
        "tanh": lambda g, y, o: aten.tanh_backward.grad_input(g, y, grad_input=o),
    }
    bwd = {
        "relu": lambda g, x, o: aten.threshold_backward.grad_input(g, x, 0, grad_input=o),
        "leaky_relu": lambda g, x, o: aten.leaky_relu_backward.grad_input(g, x, p[0], False,
                                                                          grad_input=o),
        "elu": lambda g, x, o: aten.elu_backward.grad_input(g, p[0], 1, 1, False, x,
                                                            grad_input=o),
        "gelu": lambda g, x, o: aten.gelu_backward.grad_input(g, x, grad_input=o),
        "gelu_tanh": lambda g, x, o: aten.gelu_backward.grad_input(g, x, approximate="tanh",
                                                                   grad_input=o),
        "silu": lambda g, x, o: aten.silu_backward.grad_input(g, x, grad_input=o),
        "mish": lambda g, x, o: o.copy_(aten.mish_backward(g, x)),
        "softplus": lambda g, x, o: aten.softplus_backward.grad_input(g, x, p[0], p[1],
                                                                      grad_input=o),
        "selu": lambda g, x, o: aten.elu_backward.grad_input(g, alpha, scale, 1, False, x,
                                                             grad_input=o),
        "celu": lambda g, x, o: aten.elu_backward.grad_input(g, p[0], 1, 1 / p[0], False, x,
                                                             grad_input=o),
        "hardsigmoid": lambda g, x, o: aten.hardsigmoid_backward.grad_input(g, x, grad_input=o),
        "hardswish": lambda g, x, o: o.copy_(aten.hardswish_backward(g, x)),
        "hardtanh": lambda g, x, o: aten.hardtanh_backward.grad_input(g, x, p[0], p[1],
                                                                      grad_input=o),
        "relu6": lambda g, x, o: aten.hardtanh_backward.grad_input(g, x, 0.0, 6.0, grad_input=o),
    }
    f = {"forward": fwd, "backward": bwd, "from_output": from_output}[direction].get(kernel)
    if f is None:
        return None
    t = torch.from_numpy
    if direction == "forward":
        return lambda a, out: f(t(a[0]), t(out))
    return lambda a, out: f(t(a[0]), t(a[1]), t(out))


def load_jax():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_enable_x64", True)      # float64 cases too
    return jax


def jax_impl(jax, kernel, direction, params):
    """impl(inputs, out): jax.jit of jax.nn, the inputs put on the device once per input array
    (as a JAX user's arrays live there), the result waited for; backward by jax.vjp. JAX has no
    out=: it allocates its result, as its users get it."""
    import jax.numpy as jnp
    nn = jax.nn
    p = tuple(params)
    fwd = {
        "relu": nn.relu, "leaky_relu": lambda x: nn.leaky_relu(x, p[0]),
        "elu": lambda x: nn.elu(x, p[0]), "gelu": lambda x: nn.gelu(x, approximate=False),
        "gelu_tanh": lambda x: nn.gelu(x, approximate=True), "silu": nn.silu, "mish": nn.mish,
        "softplus": lambda x: nn.softplus(p[0] * x) / p[0], "selu": nn.selu,
        "celu": lambda x: nn.celu(x, p[0]), "hardsigmoid": nn.hard_sigmoid,
        "hardswish": nn.hard_swish, "hardtanh": lambda x: jnp.clip(x, p[0], p[1]),
        "relu6": nn.relu6, "sigmoid": nn.sigmoid, "tanh": jnp.tanh,
    }
    f = fwd[kernel]
    if direction == "from_output":
        return None
    run = jax.jit(f) if direction == "forward" else jax.jit(lambda g, x: jax.vjp(f, x)[1](g)[0])
    cache = {}

    def on_device(a):
        key = (a.ctypes.data, a.dtype, a.size)
        if key not in cache:
            cache.clear() if len(cache) > 4 else None
            cache[key] = jax.device_put(a)
        return cache[key]
    return lambda a, out: run(*map(on_device, a)).block_until_ready()


def load_onnxruntime():
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def onnx_model(kernel, params, dtype):
    """A one-node ONNX model of kernel (two nodes for silu: x * Sigmoid(x)), or None."""
    from onnx import TensorProto, helper
    elem = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
    elem = elem[np.dtype(dtype)]
    p = tuple(params)
    ops = {"relu": ("Relu", {}), "gelu": ("Gelu", {}),
           "gelu_tanh": ("Gelu", {"approximate": "tanh"}), "mish": ("Mish", {}),
           "selu": ("Selu", {}), "hardsigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
           "hardswish": ("HardSwish", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {})}
    if p:
        ops.update({"leaky_relu": ("LeakyRelu", {"alpha": p[0]}), "elu": ("Elu", {"alpha": p[0]}),
                    "celu": ("Celu", {"alpha": p[0]})})
    if kernel == "softplus" and p == (1.0, 20.0):
        ops["softplus"] = ("Softplus", {})
    x = helper.make_tensor_value_info("x", elem, ["n"])
    y = helper.make_tensor_value_info("y", elem, ["n"])
    inits = []
    if kernel == "silu":
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]),
                 helper.make_node("Mul", ["x", "s"], ["y"])]
    elif kernel in ("hardtanh", "relu6"):
        lo, hi = p if kernel == "hardtanh" else (0.0, 6.0)
        inits = [helper.make_tensor("lo", elem, [], [lo]), helper.make_tensor("hi", elem, [], [hi])]
        nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])]
    elif kernel in ops:
        op, attrs = ops[kernel]
        nodes = [helper.make_node(op, ["x"], ["y"], **attrs)]
    else:
        return None
    graph = helper.make_graph(nodes, kernel, [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    return model.SerializeToString()


def onnxruntime_impl(ort, kernel, direction, params, dtype, threads):
    """impl(inputs, out): a one-node model, output bound to `out` (IOBinding, no allocation), the
    intra-op pool not spinning between calls; forward only (inference runtime), else None."""
    if direction != "forward":
        return None
    model = onnx_model(kernel, params, dtype)
    if model is None:
        return None
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    except Exception:          # no kernel for this type (some ops are float32 only)
        return None
    binding = sess.io_binding()
    state = {}

    def run(a, out):
        key = (a[0].ctypes.data, out.ctypes.data, a[0].size)
        if state.get("key") != key:
            binding.bind_cpu_input("x", a[0])
            binding.bind_output("y", "cpu", 0, out.dtype, list(out.shape), out.ctypes.data)
            state["key"] = key
        sess.run_with_iobinding(binding)
    return run


CASES = [Case(a, c, k, b) for a in ACTIVATIONS for c, k in a.kernels.items() for b in (False, True)]


def load_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch
