"""A second oracle: torch.nn.functional and autograd, when torch is importable (.ci/run installs
it)."""

import numpy as np
import pytest

import fastact

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_forward(case, t):
    """torch.nn.functional.<name>(t, **kwargs): the table follows torch's names and parameters."""
    return getattr(F, case.act.name)(t, **case.kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_torch(case, dtype):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(5000) * 4, [0.0, -0.0, 1e-30, -1e-30, 7.0, -7.0]])
    x = x.astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    t = torch.tensor(x, requires_grad=True)
    y_t = _torch_forward(case, t)
    y_t.backward(torch.tensor(g))
    y = case.forward(x, **case.kwargs)
    gi = case.backward(g, x, **case.kwargs)
    # torch's float32 kernels work in float32, so they cancel where the result is much smaller than
    # its terms (gelu_tanh backward near 0 and in the tails: 2.4e-6 absolute seen, with |g| < 4);
    # the ulp-level checks are test_accuracy.py's, against float64 and mpmath.
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(y, y_t.detach().numpy(), **tol)
    if case.kernel == "hardsigmoid" and dtype == np.float64:
        tol = dict(rtol=1e-7, atol=0)  # torch multiplies by 1/6 rounded to float32, in float64 too
    np.testing.assert_allclose(gi, t.grad.numpy(), **tol)


def test_prelu_matches_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    g = rng.standard_normal((4, 3, 5)).astype(np.float32)
    w = np.array([0.1, 0.25, 0.6], np.float32)
    t, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y_t = F.prelu(t, tw)
    y_t.backward(torch.tensor(g))
    np.testing.assert_allclose(fastact.prelu(x, w), y_t.detach().numpy(), rtol=1e-6)
    gi, gw = fastact.prelu_backward(g, x, w)
    np.testing.assert_allclose(gi, t.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-5)
