"""pytest-benchmark suite: every function x dtype x size x mode, fastact beside each peer.

    pytest bench/ --benchmark-only [--large] [-k "gelu and float32"]

Each group (function, dtype, size, mode) holds fastact and its peers (bench/peers.py), so
pytest-benchmark prints them side by side. bench/report.py runs the same cases interleaved and
writes the README's table.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's threads must not spin between calls
from peers import CASES, load_jax, load_onnxruntime, load_torch  # noqa: E402

TORCH, JAX, ORT = load_torch(1), load_jax(), load_onnxruntime()
LABELS = ["fastact", "numpy.maximum", "numpy formula", "torch", "jax", "onnxruntime", "copy"]


@pytest.mark.parametrize("mode", ["in place", "out"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_throughput(benchmark, case, label, dtype, n, mode):
    impls = case.implementations(TORCH, inplace=mode == "in place", jax=JAX, ort=ORT, dtype=dtype)
    if label not in impls:
        pytest.skip(f"no {label} peer for {case.name}")
    inputs = case.inputs(n, dtype)
    out = inputs[0] if mode == "in place" else np.empty(n, dtype)
    impl = impls[label]
    benchmark.group = f"{case.name} {dtype} n={n} {mode}"
    benchmark.extra_info.update(function=case.name, dtype=dtype, n=n, mode=mode, impl=label)
    benchmark(impl, inputs, out)
