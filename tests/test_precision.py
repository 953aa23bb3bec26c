"""Precision levels: per call, per process, per thread; the ufunc twins, the parallel path and the
layers follow the level in force; float64 and the exact kernels have one level."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastact
from fastact._ufunc_path import UFUNCS

X32 = np.random.default_rng(0).uniform(-12, 12, 5000).astype(np.float32)
G32 = np.random.default_rng(1).uniform(-2, 2, 5000).astype(np.float32)
LEVELS = ("fast", "accurate")


@pytest.fixture(autouse=True)
def _restore_level():
    before = fastact.get_precision()
    yield
    fastact.set_precision(before)


def test_default_is_fast():
    r = subprocess.run(
        [sys.executable, "-c", "import fastact; print(fastact.get_precision())"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "FASTACT_PRECISION"},
    )
    assert r.stdout.strip() == "fast", r.stderr


def test_environment_sets_the_process_level():
    env = dict(os.environ, FASTACT_PRECISION="accurate")
    r = subprocess.run(
        [sys.executable, "-c", "import fastact; print(fastact.get_precision())"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.stdout.strip() == "accurate", r.stderr


def test_environment_value_is_checked():
    env = dict(os.environ, FASTACT_PRECISION="double")
    r = subprocess.run(
        [sys.executable, "-c", "import fastact"], capture_output=True, text=True, env=env
    )
    assert r.returncode != 0
    assert "fastact: FASTACT_PRECISION='double' is not one of fast, accurate" in r.stderr


def test_per_call_keyword_matches_the_context(case):
    for level in LEVELS:
        y = case.forward(X32, **case.kwargs, precision=level)
        g = case.backward(G32, X32, **case.kwargs, precision=level)
        with fastact.precision(level):
            assert fastact.get_precision() == level
            assert np.array_equal(y, case.forward(X32, **case.kwargs), equal_nan=True)
            assert np.array_equal(g, case.backward(G32, X32, **case.kwargs), equal_nan=True)
            # the ufunc twins, and the slow (strided) path, read the level in force
            params = case.params
            assert np.array_equal(y, case.ufunc(X32, *params), equal_nan=True)
            assert np.array_equal(g, case.ufunc_backward(G32, X32, *params), equal_nan=True)
        strided = case.forward(np.repeat(X32, 2)[::2], **case.kwargs, precision=level)
        assert np.array_equal(y, strided, equal_nan=True)


def test_str_subclasses_name_levels():
    x = X32[:10]
    assert np.array_equal(
        fastact.gelu(x, precision=np.str_("accurate")), fastact.gelu(x, precision="accurate")
    )
    assert np.array_equal(
        fastact.gelu_backward(x, x, precision=np.str_("fast")),
        fastact.gelu_backward(x, x, precision="fast"),
    )


def test_process_level_and_thread_level():
    fastact.set_precision("accurate")
    assert fastact.get_precision() == "accurate"
    seen = {}

    def other():
        seen["before"] = fastact.get_precision()
        with fastact.precision("fast"):
            seen["inside"] = fastact.get_precision()
            barrier.wait()
            barrier.wait()
        seen["after"] = fastact.get_precision()

    barrier = threading.Barrier(2)
    t = threading.Thread(target=other)
    t.start()
    barrier.wait()
    assert fastact.get_precision() == "accurate"  # the other thread's block is its own
    barrier.wait()
    t.join()
    assert seen == {"before": "accurate", "inside": "fast", "after": "accurate"}
    with fastact.precision("fast"):
        fastact.set_precision("accurate")  # the thread's block still wins inside it
        assert fastact.get_precision() == "fast"
    assert fastact.get_precision() == "accurate"


def test_context_restores_on_error():
    with pytest.raises(KeyError):
        with fastact.precision("accurate"):
            raise KeyError
    assert fastact.get_precision() == "fast"


@pytest.mark.parametrize("bad", ["Fast", "", None, 1, "double"])
def test_bad_level_names(bad):
    x = X32.copy()
    if bad is not None:  # None is "the level in force" for a call, not a level to set
        with pytest.raises(ValueError, match=r"^fastact\.gelu: precision must be one of"):
            fastact.gelu(x, out=x, precision=bad)
        assert np.array_equal(x, X32)
        with pytest.raises(ValueError, match=r"^fastact\.prelu_backward: precision"):
            fastact.prelu_backward(G32, X32, 0.25, precision=bad)
    with pytest.raises(ValueError, match=r"^fastact\.set_precision: precision must be one of"):
        fastact.set_precision(bad)
    with pytest.raises(ValueError, match=r"^fastact\.precision: precision must be one of"):
        with fastact.precision(bad):
            pass
    assert fastact.get_precision() == "fast"


def test_float64_and_exact_kernels_have_one_level(case):
    x64 = X32.astype(np.float64)
    assert np.array_equal(
        case.forward(x64, **case.kwargs, precision="fast"),
        case.forward(x64, **case.kwargs, precision="accurate"),
        equal_nan=True,
    )
    if case.kernel in ("relu", "leaky_relu", "hardtanh", "relu6", "hardsigmoid"):
        assert np.array_equal(
            case.forward(X32, **case.kwargs, precision="fast"),
            case.forward(X32, **case.kwargs, precision="accurate"),
        )


@pytest.mark.parametrize("level", LEVELS)
def test_parallel_path_follows_the_level(level):
    x = np.random.default_rng(3).uniform(-12, 12, 300_000).astype(np.float32)
    g = np.ones_like(x)
    fastact.set_parallel_threshold(1 << 30)
    try:
        serial = {n: (UFUNCS[n], None) for n in ("gelu", "sigmoid", "elu")}
        with fastact.precision(level):
            expect = {n: u(x) if n != "elu" else u(x, 1.0) for n, (u, _) in serial.items()}
            expect_b = UFUNCS["gelu_backward"](g, x)
        fastact.set_parallel_threshold(10_000)
        with fastact.num_threads(2):
            assert np.array_equal(fastact.gelu(x, precision=level), expect["gelu"])
            assert np.array_equal(fastact.sigmoid(x, precision=level), expect["sigmoid"])
            assert np.array_equal(fastact.elu(x, precision=level), expect["elu"])
            assert np.array_equal(fastact.gelu_backward(g, x, precision=level), expect_b)
    finally:
        fastact.set_parallel_threshold(None)


def test_layers_follow_the_level():
    layer = fastact.nn.GELU()
    with fastact.precision("accurate"):
        assert np.array_equal(layer(X32), fastact.gelu(X32, precision="accurate"))
    assert np.array_equal(layer(X32), fastact.gelu(X32, precision="fast"))


def test_show_config_names_the_level(capsys):
    with fastact.precision("accurate"):
        fastact.show_config()
    assert "precision: accurate" in capsys.readouterr().out
