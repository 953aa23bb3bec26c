"""Regression tests for unusual and hostile inputs (issue 10): each gives NumPy's answer or a
clear error that names the function."""
import numpy as np
import pytest

import fastact

from reference import REFERENCE


@pytest.mark.parametrize("dtype", [">f4", ">f8", ">f2", "<f4"])
def test_byte_order(default_case, dtype):
    """Non-native byte order: the right values, on the fast path's shapes, into out= and in place."""
    case = default_case
    native = np.linspace(-4, 4, 1001).astype(np.dtype(dtype).newbyteorder("="))
    x = native.astype(dtype)
    g = (native * 0 + 1.5).astype(dtype)
    want = case.forward(native, **case.kwargs)
    want_b = case.backward(g.astype(native.dtype), native, **case.kwargs)
    got = case.forward(x, **case.kwargs)
    assert got.dtype.newbyteorder("=") == native.dtype and np.array_equal(got, want)
    assert np.array_equal(case.backward(g, x, **case.kwargs), want_b)
    y = x.copy()
    assert case.forward(y, **case.kwargs, out=y) is y and np.array_equal(y, want)
    gy = g.copy()
    assert case.backward(gy, x, **case.kwargs, out=gy) is gy and np.array_equal(gy, want_b)
    out = np.empty_like(native)                      # swapped input, native out, and back
    assert np.array_equal(case.forward(x, **case.kwargs, out=out), want)
    out = np.empty_like(x)
    assert np.array_equal(case.forward(native, **case.kwargs, out=out), want)


def test_byte_order_relu_issue_example():
    assert fastact.relu(np.array([-1, 2], dtype=">f4")).tolist() == [0, 2]
    y = np.array([-1, 2], dtype=">f4")
    fastact.relu(y, out=y)
    assert y.tolist() == [0, 2]


def _python(code, **env):
    import os
    import subprocess
    import sys
    full = {k: v for k, v in os.environ.items() if not k.startswith("FASTACT_")}
    full.update(env)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], env=full,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("content", ['{"thresholds": 5}', '{"thresholds": [1]}',
                                     '{"thresholds": {"relu": {"float32": "many"}}}',
                                     '{"thresholds": {"relu": 7}}', '[1, 2]', '{"thresholds"',
                                     '{"thresholds": {"relu": {"float32": -3}}}'])
def test_malformed_thresholds_file(tmp_path, content):
    """A tuned thresholds file of the wrong shape: one warning naming it, then the packaged file."""
    path = tmp_path / "fastact" / "thresholds.json"
    path.parent.mkdir()
    path.write_text(content)
    r = _python("import numpy as np, fastact\n"
                "from fastact import _config\n"
                "table, source = _config.measured_thresholds()\n"
                "assert source == _config.PACKAGED, source\n"
                "fastact.set_num_threads(2)\n"
                "x = np.linspace(-1, 1, 3_000_000)\n"
                "assert np.array_equal(fastact.relu(x), np.maximum(x, 0))\n"
                "print('ok')", XDG_CACHE_HOME=str(tmp_path))
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    warnings = [line for line in r.stderr.splitlines() if "Warning" in line]
    assert len(warnings) == 1 and str(path) in warnings[0], r.stderr
    assert "fastact: ignoring the thresholds file" in warnings[0]


def test_numba_disable_jit():
    """NUMBA_DISABLE_JIT=1: no thread pool, so a call above the threshold runs serially."""
    r = _python("import numpy as np, fastact\n"
                "fastact.set_num_threads(2); fastact.set_parallel_threshold(1000)\n"
                "x = np.linspace(-3, 3, 100_001, dtype=np.float32)\n"
                "with fastact.num_threads(1):\n"
                "    want, want_b = fastact.gelu(x), fastact.gelu_backward(x, x)\n"
                "assert fastact.gelu(x).tobytes() == want.tobytes()\n"
                "assert fastact.gelu_backward(x, x).tobytes() == want_b.tobytes()\n"
                "print('ok')", NUMBA_DISABLE_JIT="1")
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
