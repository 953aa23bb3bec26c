"""Backward from the output: the same gradient as from x, where the math allows it."""

import numpy as np
import pytest

import fastact
from fastact._functions import output_allowed

RNG = np.random.default_rng(9)


def test_matches_backward_from_x(case):
    allowed = output_allowed(case.act, case.params) is None
    x = (RNG.standard_normal(20_000) * 4).astype(np.float32)
    g = RNG.standard_normal(x.size).astype(np.float32)
    y = case.forward(x, **case.kwargs)
    if not allowed:
        with pytest.raises(
            ValueError,
            match=f"fastact.{case.act.name}_backward: cannot start "
            f"from the output: .+; pass x instead",
        ):
            case.backward(g, output=y, **case.kwargs)
        return
    from_y = case.backward(g, output=y, **case.kwargs)
    from_x = case.backward(g, x, **case.kwargs)
    # y carries only float32 precision, so a derivative written from y (y + alpha, y * (1 - y),
    # (1 - y) * (1 + y), 1 - exp(-beta * y)) is known to a few ulp of max(|y|, 1) in absolute
    # terms, times |grad_output| and the parameters' scale; where it is larger than that, within
    # a few ulp of itself.
    scale = max([1.0] + [abs(p) for p in case.params if np.isfinite(p) and abs(p) < 100])
    atol = 4 * np.abs(g) * np.finfo(np.float32).eps * np.maximum(np.abs(y), 1) * scale
    bad = np.abs(from_y.astype(np.float64) - from_x) > atol + 4 * np.spacing(np.abs(from_x))
    if case.kernel == "softplus":  # y cannot tell the curve from the line's first e^-threshold
        beta, threshold = case.params
        bad &= ~((beta * x > threshold) & (beta * x <= threshold + np.log1p(np.exp(-threshold))))
    assert not bad.any(), (case, x[bad][:5], from_y[bad][:5], from_x[bad][:5])
    # in place: the forward overwrites x, the backward overwrites grad_output
    xx, gg = x.copy(), g.copy()
    case.forward(xx, **case.kwargs, out=xx)
    assert case.backward(gg, output=xx, **case.kwargs, out=gg) is gg
    assert np.array_equal(gg, from_y, equal_nan=True)


def test_exact_where_the_derivative_is_piecewise_constant():
    x = RNG.standard_normal(1000).astype(np.float32) * 8
    g = RNG.standard_normal(1000).astype(np.float32)
    for fn, kw in [
        ("relu", {}),
        ("leaky_relu", {"negative_slope": 0.3}),
        ("relu6", {}),
        ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ]:
        f, b = getattr(fastact, fn), getattr(fastact, fn + "_backward")
        assert np.array_equal(b(g, output=f(x, **kw), **kw), b(g, x, **kw)), fn


def test_refusals_say_why():
    x = np.linspace(-3, 3, 7)
    with pytest.raises(ValueError, match="negative_slope=-0.1 is not positive"):
        fastact.leaky_relu_backward(x, output=x, negative_slope=-0.1)
    with pytest.raises(ValueError, match="alpha=0.0 is not positive"):
        fastact.elu_backward(x, output=x, alpha=0.0)
    with pytest.raises(ValueError, match="gelu is not monotonic"):
        fastact.gelu_backward(x, output=x, approximate="tanh")
    with pytest.raises(TypeError, match="give x or output=, not both"):
        fastact.elu_backward(x, x, output=x)
    with pytest.raises(TypeError, match="fastact.elu_backward: x \\(or output=\\) is required"):
        fastact.elu_backward(x)
    # parameters of every kind on the path that skips the refusals' checks
    with pytest.raises(ValueError, match="alpha=np.float32\\(-1.0\\) is not positive"):
        fastact.celu_backward(x, output=x, alpha=np.float32(-1.0))
    with pytest.raises(ValueError, match="alpha=nan is not positive"):
        fastact.elu_backward(x, output=x, alpha=float("nan"))
    with pytest.raises(TypeError, match="fastact.elu_backward: alpha must be a real number"):
        fastact.elu_backward(x, output=x, alpha="1")
    assert (
        fastact.elu_backward(x, output=x, alpha=2).tolist()
        == fastact.elu_backward(x, output=x, alpha=np.float64(2.0)).tolist()
    )


def test_ufunc_twins_exist_only_where_allowed():
    names = set(fastact.ufuncs.__all__)
    assert "elu_backward_from_output" in names and "sigmoid_backward_from_output" in names
    assert "gelu_backward_from_output" not in names and "mish_backward_from_output" not in names


def test_prelu_from_output():
    x = RNG.standard_normal((8, 3, 5)).astype(np.float64)
    g = RNG.standard_normal((8, 3, 5))
    w = np.array([0.1, 0.25, 0.6])
    y = fastact.prelu(x, w)
    gi_x, gw_x = fastact.prelu_backward(g, x, w)
    gi_y, gw_y = fastact.prelu_backward(g, weight=w, output=y)
    assert np.array_equal(gi_x, gi_y)
    np.testing.assert_allclose(gw_y, gw_x, rtol=1e-12)
    with pytest.raises(ValueError, match="weight has values that are not positive"):
        fastact.prelu_backward(g, weight=-w, output=y)
