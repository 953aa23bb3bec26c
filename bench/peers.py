"""What the benchmarks compare: every fastact function and its peers, generated from the table.

A case is one public function (forward or backward, with its default parameters or choice);
each implementation is a callable `impl(inputs, out)` over the same arrays, where `out` is an
output array or, in place, the array that is overwritten. Peers:
  - numpy.maximum: relu's named baseline (np.maximum(x, 0, out=...)).
  - numpy formula: fastact.testing's float64-clear reference formulas, evaluated in the input dtype
    with NumPy and SciPy (0.5*x*erfc, np.where(x > 0, x, alpha*np.expm1(x)), ...).
  - torch: ATen's out= overloads (in place where out is the input), and the ATen backward
    kernels; same thread count as fastact.
  - jax (when installed): jax.jit of jax.nn, inputs on the device, the result waited for.
  - onnxruntime (when installed, with onnx): a one-node model, output bound to out (IOBinding),
    threads not spinning between calls.
  - copy: the same bytes moved with no arithmetic, the roofline (np.copyto for a forward, an
    add of the two inputs for a backward; in place, the same streams on the output's buffer).
"""

import numpy as np

import fastact
from fastact._table import ACTIVATIONS
from fastact.testing import KERNELS


class Case:
    def __init__(self, act, choice, kernel, backward):
        self.act, self.choice, self.kernel, self.backward = act, choice, kernel, backward
        self.params = KERNELS[kernel].params[0]
        self.kwargs = {p: v for (p, _), v in zip(act.params, self.params)}
        if act.choice is not None:
            self.kwargs[act.choice[0]] = choice
        self.name = kernel + ("_backward" if backward else "")
        self.nin = 2 if backward else 1

    def inputs(self, n, dtype, seed=0):
        rng = np.random.default_rng(seed)
        return [(rng.standard_normal(n) * 3).astype(dtype) for _ in range(self.nin)]

    def implementations(
        self, torch=None, inplace=False, jax=None, ort=None, threads=1, dtype=np.float32
    ):
        """{label: impl(inputs, out)} in a fixed order, fastact first; inplace: out is inputs[0].
        jax and ort (onnxruntime) join when given (their modules, from load_jax and
        load_onnxruntime)."""
        params = self.params
        fa = getattr(fastact, self.act.name + ("_backward" if self.backward else ""))
        positional = list(params) + ([self.choice] if self.act.choice else [])
        impls = {"fastact": _bind(fa, self.nin, positional)}
        if self.kernel == "relu" and not self.backward:
            impls["numpy.maximum"] = lambda a, out: np.maximum(a[0], 0, out=out)
        ref = KERNELS[self.kernel].reference(self.backward)

        def numpy_formula(a, out):
            with np.errstate(all="ignore"):
                np.copyto(out, ref.__wrapped__(*a, *params), casting="unsafe")

        impls["numpy formula"] = numpy_formula
        direction = "backward" if self.backward else "forward"
        for label, lib, make in (
            ("torch", torch, lambda: _torch_impl(torch, self)),
            ("jax", jax, lambda: jax_impl(jax, self.kernel, direction, params)),
            (
                "onnxruntime",
                ort,
                lambda: onnxruntime_impl(ort, self.kernel, direction, params, dtype, threads),
            ),
        ):
            impl = make() if lib is not None else None
            if impl is not None:
                impls[label] = impl
        if inplace:  # the same streams as the in-place call: read, write back
            impls["copy"] = (
                (lambda a, out: np.add(out, a[1], out=out))
                if self.backward
                else (lambda a, out: np.negative(out, out=out))
            )
        else:
            impls["copy"] = (
                (lambda a, out: np.add(a[0], a[1], out=out))
                if self.backward
                else (lambda a, out: np.copyto(out, a[0]))
            )
        return impls


def _bind(f, nin, args):
    """impl(a, out) that calls f(a[0], ..., *args, out=out) with no per-call tuple or dict, so the
    allocation count measures the function and not the harness."""
    call = ", ".join([f"a[{i}]" for i in range(nin)] + [f"p[{j}]" for j in range(len(args))])
    return eval(f"lambda a, out: f({call}, out=out)", {"f": f, "p": tuple(args)})


def _torch_impl(torch, case):
    return torch_impl(torch, case.kernel, "backward" if case.backward else "forward", case.params)


def torch_impl(torch, kernel, direction, params):
    """impl(inputs, out) through ATen's out= overloads (out may be an input: in place), or None:
    the kernel record's torch equivalent. sigmoid's and tanh's ATen backward take the forward's
    output (torch keeps it): they are the "from_output" direction; the other backwards start
    from x."""
    make = KERNELS[kernel].torch.get(direction)
    if make is None:
        return None
    f = make(torch.ops.aten, tuple(params))
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
    jax.config.update("jax_enable_x64", True)  # float64 cases too
    return jax


def jax_impl(jax, kernel, direction, params):
    """impl(inputs, out): jax.jit of jax.nn, the inputs put on the device once per input array
    (as a JAX user's arrays live there), the result waited for; backward by jax.vjp. JAX has no
    out=: it allocates its result, as its users get it."""
    import jax.numpy as jnp

    if direction == "from_output" or KERNELS[kernel].jax is None:
        return None
    f = KERNELS[kernel].jax(jax.nn, jnp, tuple(params))
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
    """The kernel record's ONNX equivalent as a model (a chain of nodes from x to y), or None."""
    from onnx import TensorProto, helper

    elem = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
    elem = elem[np.dtype(dtype)]
    make = KERNELS[kernel].onnx
    chain = make(tuple(params)) if make is not None else None
    if not chain:
        return None
    nodes, inits, prev = [], [], "x"
    for i, (op, extra, attrs) in enumerate(chain):
        inputs = [prev]
        for j, v in enumerate(extra):  # a name ("x") or a constant
            if isinstance(v, str):
                inputs.append(v)
            else:
                inputs.append(f"c{i}_{j}")
                inits.append(helper.make_tensor(inputs[-1], elem, [], [v]))
        prev = "y" if i == len(chain) - 1 else f"t{i}"
        nodes.append(helper.make_node(op, inputs, [prev], **attrs))
    x = helper.make_tensor_value_info("x", elem, ["n"])
    y = helper.make_tensor_value_info("y", elem, ["n"])
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
    except Exception:  # no kernel for this type (some ops are float32 only)
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
