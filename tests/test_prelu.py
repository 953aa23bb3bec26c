"""PReLU: per-channel leaky_relu with a learned weight, and its weight gradient."""

import numpy as np
import pytest

import fastact
from fastact.testing import KERNELS

leaky_relu, leaky_relu_backward = KERNELS["leaky_relu"].forward, KERNELS["leaky_relu"].backward

RNG = np.random.default_rng(3)


def _reference(g, x, w, axis):
    shape = [1] * x.ndim
    if np.size(w) > 1:
        shape[axis] = np.size(w)
    wb = np.reshape(np.asarray(w, np.float64), shape)
    y = leaky_relu(x, wb)
    gi = leaky_relu_backward(g, x, wb)
    contrib = np.where(x > 0, 0.0, np.asarray(g, np.float64) * x)
    axes = tuple(i for i in range(x.ndim) if np.size(w) == 1 or i != axis % x.ndim)
    gw = contrib.sum(axis=axes).reshape(np.shape(w))
    return y, gi, gw


@pytest.mark.parametrize(
    "shape,axis",
    [((8, 3), 1), ((2, 3, 5, 7), 1), ((4, 6, 5), -1), ((5, 4, 3), 0), ((16,), 0), ((), 0)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalar_weight", [False, True])
def test_prelu_against_reference(shape, axis, dtype, scalar_weight):
    x = RNG.standard_normal(shape).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    channels = 1 if scalar_weight or len(shape) < 2 else shape[axis]
    w = RNG.uniform(0.05, 0.5, channels).astype(dtype)
    if scalar_weight:
        w = w[0]
    y_ref, gi_ref, gw_ref = _reference(g, x, w, axis)
    y = fastact.prelu(x, w, axis=axis)
    assert y.dtype == dtype and np.shape(y) == shape
    np.testing.assert_allclose(y, y_ref.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15)
    gi, gw = fastact.prelu_backward(g, x, w, axis=axis)
    assert gi.dtype == dtype and np.shape(gw) == np.shape(w) and gw.dtype == dtype
    np.testing.assert_allclose(
        gi, gi_ref.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15
    )
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_prelu_in_place_and_float64_weight_promotes():
    x = RNG.standard_normal((4, 3, 8)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.3])  # float64 weight: promotes, as np.multiply does
    expected = fastact.prelu(x, w)
    assert expected.dtype == np.float64
    expected = expected.astype(np.float32)  # in place: cast back to x's dtype
    y = x.copy()
    assert fastact.prelu(y, w, out=y) is y
    assert np.array_equal(y, expected)
    g = np.ones_like(x)
    gi, gw = fastact.prelu_backward(g, x, w, out=g)
    assert gi is g and gw.dtype == np.float64


def test_prelu_matches_leaky_relu_per_channel():
    x = RNG.standard_normal((6, 4, 9)).astype(np.float32)
    w = np.array([0.01, 0.2, 0.5, 1.5], np.float32)
    y = fastact.prelu(x, w)
    for c in range(4):
        assert np.array_equal(y[:, c], fastact.leaky_relu(x[:, c], w[c]))


def test_prelu_errors_write_nothing():
    x = np.ones((2, 3, 4), np.float32)
    out = np.zeros_like(x)
    with pytest.raises(
        ValueError, match=r"fastact.prelu: weight has 4 elements but x.shape\[1\] is 3"
    ):
        fastact.prelu(x, np.ones(4), out=out)
    with pytest.raises(ValueError, match="fastact.prelu: weight must be a scalar or 1-D"):
        fastact.prelu(x, np.ones((3, 1)), out=out)
    with pytest.raises(ValueError, match="fastact.prelu: axis 5 is not an axis"):
        fastact.prelu(x, np.ones(3), axis=5, out=out)
    with pytest.raises(ValueError, match="fastact.prelu: x has 1 dimension"):
        fastact.prelu(np.ones(5), np.ones(5))
    with pytest.raises(TypeError, match="fastact.prelu: weight has dtype complex"):
        fastact.prelu(x, np.ones(3, complex), out=out)
    with pytest.raises(ValueError, match="fastact.prelu_backward: out has shape"):
        fastact.prelu_backward(x, x, np.ones(3), out=np.zeros(3))
    assert (out == 0).all()
