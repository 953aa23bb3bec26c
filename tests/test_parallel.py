"""The parallel path: same bits as the serial one, safe under threads and fork, settings,
laziness."""

import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import CASES

import fastact
from fastact import _config

N = 300_007  # odd, not a multiple of any block size


def _env(**kw):
    env = dict(os.environ)
    env.pop("FASTACT_NUM_THREADS", None)
    env.pop("FASTACT_PARALLEL_THRESHOLD", None)
    env.update(kw)
    return env


def _python(code, **env):
    r = subprocess.run(
        [sys.executable, "-c", code], env=_env(**env), capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


class _Counter:
    """Calls that ran on one parallel path: the worker pool (counted by the pool itself) or
    Numba's (counted by wrapping _parallel.forward/backward)."""

    def __init__(self, path, monkeypatch):
        from fastact import _kernels, _parallel

        self.path, self.numba, self.start = path, [], _kernels.pool_stats()[0]
        for name in ("forward", "backward"):
            real = getattr(_parallel, name)

            def counting(*args, _real=real):
                ran = _real(*args)
                self.numba.append(ran)
                return ran

            monkeypatch.setattr(_parallel, name, counting)

    def __call__(self):
        """[True or False per call that reached the path] (the pool counts only those it ran)."""
        from fastact import _kernels

        if self.path == "numba":
            return self.numba
        assert not self.numba, "the pool's sizes went to Numba"
        return [True] * (_kernels.pool_stats()[0] - self.start)


@pytest.fixture(params=["pool", "numba"])
def parallel_calls(request, monkeypatch):
    """Count the calls that ran on the parallel path, with thresholds that send N there: through
    the worker pool, or through Numba's path."""
    counter = _Counter(request.param, monkeypatch)
    fastact.set_parallel_threshold(10_000)
    _config._set_numba_threshold(10_000 if request.param == "numba" else 1 << 62)
    yield counter
    fastact.set_parallel_threshold(None)
    _config._set_numba_threshold(None)


def test_import_does_not_import_numba():
    out = _python("import sys, fastact; print('numba' in sys.modules, '_parallel' in dir(fastact))")
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_bits_equal_serial(case, dtype, parallel_calls):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(N) * 8).astype(dtype)
    x[::997] = np.nan
    g = rng.standard_normal(N).astype(dtype)
    with fastact.num_threads(1):
        y1 = case.forward(x, **case.kwargs)
        b1 = case.backward(g, x, **case.kwargs)
    assert not parallel_calls()
    for threads in (2, 3, 4):
        with fastact.num_threads(threads):
            y = case.forward(x, **case.kwargs)
            b = case.backward(g, x, **case.kwargs)
            inplace = x.copy()
            case.forward(inplace, **case.kwargs, out=inplace)
        assert y.tobytes() == y1.tobytes() and b.tobytes() == b1.tobytes()
        assert inplace.tobytes() == y1.tobytes()
    assert len(parallel_calls()) == 9 and all(parallel_calls())


def test_fortran_order_goes_parallel_too(parallel_calls):
    x = np.asfortranarray(np.random.default_rng(1).standard_normal((701, 513)).astype(np.float32))
    y = fastact.gelu(x)
    assert parallel_calls() == [True] and y.flags.f_contiguous
    with fastact.num_threads(1):
        assert y.tobytes(order="A") == fastact.gelu(x).tobytes(order="A")


def test_one_thread_never_takes_the_parallel_path():
    out = _python(
        "import sys, numpy as np, fastact\n"
        "fastact.set_parallel_threshold(1000)\n"
        "fastact.gelu(np.ones(100_000, np.float32))\n"
        "print('numba' in sys.modules)",
        FASTACT_NUM_THREADS="1",
    )
    assert out.strip() == "False"


@pytest.mark.parametrize("path", ["pool", "numba"])
def test_threads_mixed_calls_are_correct(path):
    """8 Python threads x 1,000 mixed calls, small and large, every function and dtype, on either
    parallel path (a call that finds it busy runs serially)."""
    rng = np.random.default_rng(5)
    work = []
    for case in CASES:
        for dtype in (np.float32, np.float64):
            for n in (100, 5_000, 200_001):
                x = (rng.standard_normal(n) * 5).astype(dtype)
                with fastact.num_threads(1):
                    expected = (case.forward(x, **case.kwargs), case.backward(x, x, **case.kwargs))
                work.append((case, x, expected))
    failures = []
    fastact.set_parallel_threshold(50_000)
    _config._set_numba_threshold(50_000 if path == "numba" else 1 << 62)
    try:

        def run(seed):
            r = np.random.default_rng(seed)
            for _ in range(1000):
                case, x, (y_ref, b_ref) = work[r.integers(len(work))]
                if r.random() < 0.5:
                    ok = np.array_equal(case.forward(x, **case.kwargs), y_ref, equal_nan=True)
                else:
                    ok = np.array_equal(case.backward(x, x, **case.kwargs), b_ref, equal_nan=True)
                if not ok:
                    failures.append(case)

        threads = [threading.Thread(target=run, args=(s,)) for s in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not any(t.is_alive() for t in threads), "deadlock"
    finally:
        fastact.set_parallel_threshold(None)
        _config._set_numba_threshold(None)
    assert not failures, failures[:5]


FORK_CHILD = r"""
import os, sys, multiprocessing, numpy as np, fastact
from fastact import _config, _kernels, _parallel
fastact.set_parallel_threshold(10_000)
_config._set_numba_threshold(NUMBA_FROM)
x = np.random.default_rng(0).standard_normal(400_001).astype(np.float32)
with fastact.num_threads(1):
    expected = fastact.gelu(x)
assert np.array_equal(fastact.gelu(x), expected)            # the parent used the parallel path

def child_work(_):
    return bool(np.array_equal(fastact.gelu(x), expected))

pid = os.fork()
if pid == 0:
    ok = np.array_equal(fastact.gelu(x), expected)
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
with multiprocessing.get_context("fork").Pool(2) as pool:
    assert all(pool.map(child_work, range(4)))
print("ok", _parallel.threading_layer(), _kernels.pool_stats()[0] > 0)
"""


@pytest.mark.parametrize("path", ["pool", "numba"])
def test_fork_after_parallel_use(path):
    """A forked child (os.fork, multiprocessing's fork context) of a parent that used the
    parallel path gets correct results: the pool starts new workers there, and Numba's TBB layer
    is fork-safe."""
    out = _python(FORK_CHILD.replace("NUMBA_FROM", "10_000" if path == "numba" else "1 << 62"))
    assert out.split()[0] == "ok" and out.split()[-1] == str(path == "pool")


@pytest.mark.skipif(
    platform.machine() != "x86_64" or not sys.platform.startswith("linux"),
    reason="sets the rounding mode through glibc's fesetround with x86-64's FE_UPWARD",
)
def test_pool_keeps_the_callers_rounding_mode():
    """Workers compute with the caller's floating-point control, so a directed rounding mode (or
    flush-to-zero) gives the same bits on any number of threads."""
    r = _python(
        "import ctypes, numpy as np, fastact\n"
        "from fastact import _config\n"
        "libm = ctypes.CDLL('libm.so.6')\n"
        "x = np.random.default_rng(3).standard_normal(400_001).astype(np.float32)\n"
        "fastact.set_parallel_threshold(10_000)\n"
        "_config._set_numba_threshold(1 << 62)\n"
        "nearest = fastact.gelu(x)\n"
        "assert libm.fesetround(0x800) == 0\n"  # FE_UPWARD on x86-64
        "with fastact.num_threads(1):\n"
        "    up1 = fastact.gelu(x)\n"
        "up2 = fastact.gelu(x)\n"
        "libm.fesetround(0)\n"
        "print(up1.tobytes() != nearest.tobytes(), up1.tobytes() == up2.tobytes())"
    )
    assert r.split() == ["True", "True"]


def test_settings(monkeypatch):
    before = fastact.get_num_threads()
    with fastact.num_threads(3):
        assert fastact.get_num_threads() == 3
        seen = []
        t = threading.Thread(target=lambda: seen.append(fastact.get_num_threads()))
        t.start()
        t.join()
        assert seen == [before]  # the context manager is per thread
    assert fastact.get_num_threads() == before
    fastact.set_num_threads(1)
    try:
        assert fastact.get_num_threads() == 1
    finally:
        fastact.set_num_threads(before)
    for bad in (0, -1, 1.5, "two", None, True):
        with pytest.raises(ValueError, match="positive integer"):
            fastact.set_num_threads(bad)
    with pytest.raises(ValueError, match="positive integer"):
        fastact.set_parallel_threshold(0)

    fastact.set_parallel_threshold(1234)
    assert set(_config.thresholds().values()) == {1234}
    fastact.set_parallel_threshold(None)
    measured = _config.thresholds()
    assert measured and all(v >= 1 for v in measured.values())


def test_environment_variables():
    out = _python(
        "import fastact; from fastact import _config\n"
        "print(fastact.get_num_threads(), set(_config.thresholds().values()))",
        FASTACT_NUM_THREADS="3",
        FASTACT_PARALLEL_THRESHOLD="4321",
    )
    assert out.split(None, 1) == ["3", "{4321}\n"]
    r = subprocess.run(
        [sys.executable, "-c", "import fastact"],
        capture_output=True,
        text=True,
        env=_env(FASTACT_NUM_THREADS="many"),
    )
    assert r.returncode != 0 and "FASTACT_NUM_THREADS must be a positive integer" in r.stderr


def test_show_config(capsys):
    fastact.show_config()
    out = capsys.readouterr().out
    for word in ("fastact", "serial kernels", "numba", "threading layer", "threads", "threshold"):
        assert word in out


@pytest.mark.slow
def test_more_than_2_to_the_31_elements():
    """A 2**31 + 7 element float32 array (8 GiB): no 32-bit index anywhere. Run with -m slow."""
    n = (1 << 31) + 7
    x = np.empty(n, np.float32)
    x[:] = -1.0
    x[-7:] = np.arange(7, dtype=np.float32) + 1
    fastact.relu(x, out=x)
    assert x[0] == 0 and x[(1 << 31) - 1] == 0 and np.array_equal(x[-7:], np.arange(1, 8))
    g = fastact.gelu_backward(x, x, out=x)
    assert g[0] == 0 and np.isclose(g[-1], 7 * 1.0, rtol=1e-6)


def test_pool_starts_workers_as_asked():
    """The pool starts threads - 1 workers, lazily, and only for calls it splits."""
    r = _python(
        "import numpy as np, fastact\n"
        "from fastact import _config, _kernels\n"
        "fastact.set_parallel_threshold(10_000)\n"
        "_config._set_numba_threshold(1 << 62)\n"
        "x = np.ones(200_000, np.float32)\n"
        "seen = [_kernels.pool_stats()[:2]]\n"
        "fastact.sigmoid(x[:5_000])\n"  # below the threshold: serial
        "seen.append(_kernels.pool_stats()[:2])\n"
        "for t in (2, 3, 2):\n"
        "    with fastact.num_threads(t):\n"
        "        fastact.sigmoid(x)\n"
        "    seen.append(_kernels.pool_stats()[:2])\n"
        "print(seen)\n"
        "allowed = []\n"
        "for t in (4, 2, 3):\n"
        "    with fastact.num_threads(t):\n"
        "        fastact.sigmoid(x)\n"
        "    allowed.append(_kernels.pool_stats()[2])\n"
        "print(allowed)",
        NUMBA_NUM_THREADS="4",
    )
    lines = r.splitlines()
    assert lines[0] == "[(0, 0), (0, 0), (1, 1), (2, 2), (3, 2)]"
    # threads - 1 workers may take chunks, however many the pool has started
    assert lines[1] == "[4, 2, 3]"
