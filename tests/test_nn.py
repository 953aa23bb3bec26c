"""fastact.nn: layers keep only what backward needs and give the functions' gradients."""

import os
import runpy

import numpy as np
import pytest

import fastact
import fastact.nn as nn
from fastact._table import ACTIVATIONS

RNG = np.random.default_rng(4)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.layer)
@pytest.mark.parametrize("inplace", [False, True])
def test_layer_matches_functions(act, inplace):
    layer = getattr(nn, act.layer)(inplace=inplace)
    x = (RNG.standard_normal((16, 33)) * 3).astype(np.float32)
    g = RNG.standard_normal((16, 33)).astype(np.float32)
    fwd, bwd = getattr(fastact, act.name), getattr(fastact, act.name + "_backward")
    y_ref, g_ref = fwd(x), bwd(g, x)
    xi, gi = x.copy(), g.copy()
    y = layer(xi)
    assert np.array_equal(y, y_ref)
    assert (y is xi) == inplace
    grad = layer.backward(gi)
    assert grad is gi  # written into grad_output
    np.testing.assert_allclose(grad, g_ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="backward without a forward"):
        layer.backward(g)


def test_layers_keep_only_what_backward_needs():
    x = RNG.standard_normal((8, 8)).astype(np.float32)
    relu = nn.ReLU(inplace=True)
    y = relu(x)
    assert relu._saved is x and y is x  # the output, in x's own buffer: nothing extra
    gelu = nn.GELU()
    gelu(x)
    assert gelu._saved is x  # gelu needs x itself
    elu_neg = nn.ELU(alpha=-1.0)  # alpha <= 0: the output does not determine x
    elu_neg(x)
    assert not elu_neg._from_output and elu_neg._saved is x
    relu.backward(np.ones_like(x))
    assert relu._saved is None  # freed after the backward


def test_constructor_arguments_follow_torch():
    assert nn.LeakyReLU(0.2).kwargs == {"negative_slope": 0.2}
    assert nn.Softplus(beta=2.0).kwargs == {"beta": 2.0, "threshold": 20.0}
    assert nn.Hardtanh(-2.0, 2.0).kwargs == {"min_val": -2.0, "max_val": 2.0}
    assert nn.GELU(approximate="tanh").kwargs == {"approximate": "tanh"}
    assert repr(nn.ELU(alpha=0.5, inplace=True)) == "ELU(alpha=0.5, inplace=True)"
    with pytest.raises(TypeError):
        nn.ReLU(0.1)
    with pytest.raises(TypeError):
        nn.ELU(beta=1.0)


@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3, 5)])
def test_prelu_layer_accumulates_grad_weight(shape):
    layer = nn.PReLU(num_parameters=4, init=0.25)
    total = np.zeros(4)
    for _ in range(3):
        x = RNG.standard_normal(shape).astype(np.float32)
        g = RNG.standard_normal(shape).astype(np.float32)
        y = layer(x)
        assert np.array_equal(y, fastact.prelu(x, layer.weight))
        gi_ref, gw_ref = fastact.prelu_backward(g, x, layer.weight)
        gi = layer.backward(g.copy())
        np.testing.assert_allclose(gi, gi_ref, rtol=1e-6)
        total += gw_ref
    np.testing.assert_allclose(layer.grad_weight, total, rtol=1e-5)
    layer.zero_grad()
    assert not layer.grad_weight.any()


def test_mlp_example_learns():
    pytest.importorskip("sklearn")
    train_mlp = runpy.run_path(
        os.path.join(os.path.dirname(__file__), "..", "examples", "train_mlp.py"),
        run_name="train_mlp",
    )
    data = train_mlp["load_digits"]()
    losses, acc = train_mlp["train"](data, nn.GELU(), nn.PReLU(128), epochs=3, log=lambda s: None)
    assert losses[-1] < losses[0] * 0.5 and acc > 0.9


@pytest.mark.parametrize(
    "layer,name,kwargs",
    [
        (nn.LeakyReLU(0.2), "leaky_relu", {"negative_slope": 0.2}),
        (nn.LeakyReLU(negative_slope=-0.5), "leaky_relu", {"negative_slope": -0.5}),
        (nn.Softplus(beta=2.0, threshold=1.5), "softplus", {"beta": 2.0, "threshold": 1.5}),
        (nn.GELU(approximate="tanh"), "gelu", {"approximate": "tanh"}),
        (nn.Hardtanh(-2.0, 0.5), "hardtanh", {"min_val": -2.0, "max_val": 0.5}),
        (nn.ELU(0.5, inplace=True), "elu", {"alpha": 0.5}),
    ],
    ids=lambda v: repr(v) if not isinstance(v, dict) else "",
)
def test_layer_passes_its_arguments(layer, name, kwargs):
    """Layers call the functions with their arguments by position; the same bits as keywords."""
    x = (RNG.standard_normal((5, 7)) * 3).astype(np.float32)
    g = RNG.standard_normal((5, 7)).astype(np.float32)
    fwd, bwd = getattr(fastact, name), getattr(fastact, name + "_backward")
    y_ref = fwd(x, **kwargs)
    y = layer(x.copy())
    assert np.array_equal(y, y_ref)
    grad = layer.backward(g.copy())
    if layer._from_output:
        assert np.array_equal(grad, bwd(g, output=y_ref, **kwargs))
    else:
        assert np.array_equal(grad, bwd(g, x, **kwargs))


def test_prelu_layer_from_output_only_with_positive_weights():
    """all_positive reads the weight's bits: NaN, zeros and negative weights keep x."""
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    for weight, ok in [
        ([0.25, "tiny", np.inf, 2.0], True),
        ([0.25, 0.0, 1.0, 2.0], False),
        ([0.25, -0.0, 1.0, 2.0], False),
        ([0.25, np.nan, 1.0, 2.0], False),
        ([0.25, -1.0, 1.0, 2.0], False),
    ]:
        for dtype in (np.float32, np.float64, np.float16):
            layer = nn.PReLU(4, dtype=dtype)
            tiny = np.finfo(dtype).smallest_subnormal
            layer.weight[:] = [tiny if w == "tiny" else w for w in weight]
            layer(x)
            assert layer._from_output == ok and (layer._saved is x) == (not ok), (weight, dtype)
            assert fastact._kernels.all_positive(layer.weight) == (
                None if dtype == np.float16 else ok
            )
    assert fastact._kernels.all_positive(np.ones((3, 4), np.float32)[:, ::2]) is None
