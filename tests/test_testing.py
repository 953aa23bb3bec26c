"""fastact.testing, the oracle itself: one record per kernel, and derivatives that agree with
their forwards (so that a wrong reference derivative cannot pass the accuracy tests)."""

import mpmath
import numpy as np
import pytest

import fastact
from fastact import _kernels, testing
from fastact.testing import KERNELS


def test_one_record_per_kernel():
    assert list(KERNELS) == [k.name for k in _kernels.KERNELS]
    for name, rec in KERNELS.items():
        assert rec.name == name and callable(getattr(fastact, rec.function))
        assert rec.params and all(len(p) == len(rec.params[0]) for p in rec.params)
        assert rec.exact != (rec.mp_forward is not None), f"{name}: exact or an mpmath reference"


@pytest.mark.parametrize("name", KERNELS)
def test_derivative_matches_forward(name):
    for params in KERNELS[name].params:
        assert testing.check_derivative(name, params) < 1e-6, (name, params)


def test_a_wrong_derivative_is_caught(monkeypatch):
    rec = KERNELS["silu"]
    wrong = rec._replace(
        backward=lambda g, x: g * testing.sigmoid(x),  # forgot a term
        mp_backward=lambda g, x: g / (1 + mpmath.exp(-x)),
    )
    monkeypatch.setitem(KERNELS, "silu", wrong)
    assert testing.check_derivative("silu") > 0.1
    rec = KERNELS["hardswish"]
    monkeypatch.setitem(KERNELS, "hardswish", rec._replace(backward=lambda g, x: g * x / 3))
    assert testing.check_derivative("hardswish") > 0.1


def test_errors_counts_like_the_tests():
    x = np.linspace(-5, 5, 1001, dtype=np.float32)
    y = fastact.gelu(x)
    err = testing.errors("gelu", y, x)
    assert err.max() <= KERNELS["gelu"].tolerance("float32", "forward")
    bumped = np.nextafter(y, np.float32(np.inf))
    bumped = np.nextafter(bumped, np.float32(np.inf))
    bumped = np.nextafter(bumped, np.float32(np.inf))
    assert testing.errors("gelu", bumped, x).max() > 2  # three ulps off is seen
    g = np.ones_like(x)
    assert testing.errors("gelu", fastact.gelu_backward(g, x), x, backward=True).max() <= 4


def test_mpmath_precision_is_left_alone():
    before = mpmath.mp.dps
    testing.mpmath_reference("sigmoid", False, [0.5])
    testing.check_derivative("tanh")
    assert mpmath.mp.dps == before


def test_tolerances():
    assert KERNELS["relu"].tolerance(np.float64, "forward") == 0
    assert KERNELS["gelu"].tolerance(np.float32, "backward", "accurate") == 2


def test_numpy_references_agree_with_mpmath():
    """The float64 NumPy/SciPy references (the float32 tests' truth) against the 50-digit ones."""
    x = np.concatenate([np.linspace(-30, 12, 181), [-1e-3, 1e-3, 0.25]])
    for name, rec in KERNELS.items():
        if rec.mp_forward is None:
            continue
        for backward in (False, True):
            for params in rec.params:
                want = testing.mpmath_reference(name, backward, x, params)
                got = rec.reference(backward)(*((np.ones_like(x),) if backward else ()), x, *params)
                rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
                assert rel.max() < 1e-9, (name, backward, params, x[np.argmax(rel)])


def test_errors_uses_mpmath_for_float64():
    x = np.linspace(-30, -20, 200)
    assert testing.errors("gelu", fastact.gelu(x), x).max() <= 4  # the NumPy form: ~500 ulp
    g = np.full_like(x, 3.0)
    err = testing.errors("gelu", fastact.gelu_backward(g, x), x, backward=True, grad_output=g)
    assert err.max() <= 5


def test_unknown_kernel_is_named():
    with pytest.raises(KeyError, match="fastact.testing.errors: no kernel 'gleu'"):
        testing.errors("gleu", np.zeros(1), np.zeros(1))
