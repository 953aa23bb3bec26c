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


def _paths(dtype=np.float32):
    """The same values as the fast path, the strided (ufunc) path, float16 and the parallel path
    see them: (label, x, threshold for the parallel path or None)."""
    x = np.linspace(-3, 3, 4001).astype(dtype)
    big = np.linspace(-3, 3, 300_001).astype(dtype)
    return [("fast", x, None), ("strided", np.repeat(x, 2)[::2], None),
            ("float16", x.astype(np.float16), None), ("parallel", big, 10_000)]


def _each_path(call):
    """call(x) on every path; returns [(label, exception or result)]."""
    results = []
    for label, x, threshold in _paths():
        fastact.set_parallel_threshold(threshold)
        try:
            with fastact.num_threads(2 if threshold else 1):
                results.append((label, call(x)))
        except (TypeError, ValueError) as e:
            results.append((label, e))
        finally:
            fastact.set_parallel_threshold(None)
    return results


@pytest.mark.parametrize("call, message", [
    (lambda x: fastact.hardtanh(x, min_val=2, max_val=-2), "fastact.hardtanh: min_val must be"),
    (lambda x: fastact.hardtanh(x, -1, float("nan")), "fastact.hardtanh: min_val must be"),
    (lambda x: fastact.hardtanh_backward(x, x, 2.0, -2.0), "fastact.hardtanh_backward: min_val"),
    (lambda x: fastact.hardtanh_backward(x, min_val=1, max_val=0, output=x),
     "fastact.hardtanh_backward: min_val"),
    (lambda x: fastact.celu(x, alpha=0), "fastact.celu: alpha must not be 0"),
    (lambda x: fastact.celu(x, alpha=-0.0), "fastact.celu: alpha must not be 0"),
    (lambda x: fastact.celu(x, alpha=1e-50), "fastact.celu: alpha must not be 0"),   # 0 in float32
    (lambda x: fastact.celu_backward(x, x, 0), "fastact.celu_backward: alpha must not be 0"),
    (lambda x: fastact.elu(x, alpha=1e300), "fastact.elu: alpha=1e[+]300 overflows float32"),
    (lambda x: fastact.elu(x, alpha=-1e39), "fastact.elu: alpha=-1e[+]39 overflows float32"),
    (lambda x: fastact.elu_backward(x, x, alpha=1e300), "fastact.elu_backward: alpha=1e[+]300"),
    (lambda x: fastact.leaky_relu(x, 1e39), "fastact.leaky_relu: negative_slope=1e[+]39"),
    (lambda x: fastact.softplus(x, threshold=1e300), "fastact.softplus: threshold=1e[+]300"),
    (lambda x: fastact.hardtanh(x, -1e300, 1e300), "fastact.hardtanh: min_val=-1e[+]300"),
    (lambda x: fastact.elu(x, alpha=10 ** 400), "fastact.elu: alpha=1000.* overflows float64"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_parameter_domain_and_overflow_on_every_path(call, message):
    """torch raises for hardtanh(min_val > max_val) and celu(alpha=0); a parameter that float32
    cannot hold raises the same ValueError on every path, before anything is written."""
    for label, got in _each_path(call):
        assert isinstance(got, ValueError), (label, got)
        assert __import__("re").match(message, str(got)), (label, str(got))


def test_parameter_values_that_are_fine():
    x = np.array([-2.0, 0.5, 3.0], np.float32)
    assert fastact.hardtanh(x, 0.5, 0.5).tolist() == [0.5, 0.5, 0.5]         # min_val == max_val
    assert fastact.softplus(x, threshold=np.inf).dtype == np.float32          # inf is not overflow
    assert fastact.elu(x, alpha=np.inf)[0] == -np.inf
    assert np.isfinite(fastact.elu(x.astype(np.float64), alpha=1e300)).all()  # float64 holds it
    assert fastact.ufuncs.celu(np.float64(-1.0), 0.0) != 1.0    # the twins stay plain ufuncs


def test_layers_check_parameters():
    with pytest.raises(ValueError, match="fastact.nn.Hardtanh: min_val must be"):
        fastact.nn.Hardtanh(2, -2)
    with pytest.raises(ValueError, match="fastact.nn.CELU: alpha must not be 0"):
        fastact.nn.CELU(alpha=0)
    with pytest.raises(TypeError, match="fastact.nn.ELU: alpha must be a real number"):
        fastact.nn.ELU("one")


@pytest.mark.parametrize("name, kw", [("elu", dict(alpha=1.3)), ("celu", dict(alpha=1.3)),
                                      ("leaky_relu", dict(negative_slope=0.1)),
                                      ("softplus", dict(beta=1.3, threshold=2.7)),
                                      ("hardtanh", dict(min_val=-0.1, max_val=0.3))])
def test_float16_parameters_applied_in_float32(name, kw):
    """float16 inputs compute in float32 with the parameters in float32, rounded once at the end
    (they were rounded to float16 first: elu(x16, alpha=1.3) used alpha = 1.2998)."""
    from reference import ulp_error
    x = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    x = x[np.isfinite(x)]
    params = [np.float32(v) for v in kw.values()]
    ref = REFERENCE[name][0](x, *params)
    fn = getattr(fastact, name)
    for got in (fn(x, **kw), fn(x[::-1], **kw)[::-1], getattr(fastact.ufuncs, name)(x, *kw.values())):
        assert got.dtype == np.float16
        assert ulp_error(got, ref, np.float16).max() <= 0.501
    g = np.full_like(x, 1.5)
    ref_b = REFERENCE[name][1](g, x, *params)
    got = getattr(fastact, name + "_backward")(g, x, **kw)
    assert ulp_error(got, ref_b, np.float16).max() <= 1


def _zero_paths(dtype):
    """-0.0 and +0.0 on each path: (label, x, parallel threshold)."""
    z = np.zeros(4096, dtype)
    z[::2] = -0.0
    return [("fast", z, None), ("strided", np.repeat(z, 2)[::2], None),
            ("reversed", z[::-1], None), ("parallel", np.tile(z, 64), 10_000)]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("precision", ["fast", "accurate"])
def test_signed_zeros(case, dtype, precision):
    """f(-0.0) and f(+0.0) have the sign of zero the exact formula gives (elu(-0) = -0), on every
    path and at both precision levels, and in the ufunc twin."""
    want = REFERENCE[case.kernel][0](np.array([-0.0, 0.0]), *case.params)
    for label, x, threshold in _zero_paths(dtype):
        fastact.set_parallel_threshold(threshold)
        try:
            with fastact.num_threads(2 if threshold else 1):
                y = case.forward(x, **case.kwargs, precision=precision)
        finally:
            fastact.set_parallel_threshold(None)
        flat = np.asarray(y).ravel()
        neg, pos = (flat[::2], flat[1::2]) if label != "reversed" else (flat[1::2], flat[::2])
        for got, w in ((neg, want[0]), (pos, want[1])):
            assert ((got == 0) == (w == 0)).all() and (np.signbit(got) == np.signbit(w)).all(), \
                (label, case, float(got[0]), float(w))
    with fastact.precision(precision):
        y = case.ufunc(np.array([-0.0, 0.0], dtype), *case.params)
    assert np.array_equal(np.signbit(y), np.signbit(want)), (case, y, want)


def test_signed_zero_elu_issue_example():
    assert np.signbit(fastact.elu(np.float32(-0.0)))
    assert np.signbit(fastact.elu(-0.0)) and np.signbit(fastact.selu(-0.0))
    assert np.signbit(fastact.celu(np.float16(-0.0), alpha=2.0))
