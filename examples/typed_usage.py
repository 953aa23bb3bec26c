"""The public API under a type checker: `mypy --strict examples/typed_usage.py` passes (CI runs it).

float32 in gives float32 out, in the types too, for the functions, their backwards, the layers
and the ufunc twins; fastact.testing checks a result against the same oracle as fastact's tests.
"""

import numpy as np
from numpy.typing import NDArray

import fastact
from fastact import nn, testing


def train_step(x: NDArray[np.float32], grad: NDArray[np.float32]) -> NDArray[np.float32]:
    h: NDArray[np.float32] = fastact.gelu(x, approximate="tanh", precision="accurate")
    fastact.relu(h, out=h)
    layer = nn.SiLU(inplace=True)
    y = layer(h)
    g = layer.backward(grad)
    dx: NDArray[np.float32] = fastact.sigmoid_backward(grad, output=fastact.sigmoid(x))
    with fastact.precision("fast"), fastact.num_threads(2):
        dx = fastact.elu_backward(dx, x, 0.5, out=dx)
    w, gw = fastact.prelu_backward(grad, x, np.full(x.shape[1], 0.25, np.float32))
    total = dx + np.asarray(y, np.float32) * np.asarray(g, np.float32) + w + gw.sum()
    return np.asarray(total, dtype=np.float32)


def worst_ulps(x: NDArray[np.float32]) -> float:
    y = fastact.ufuncs.softplus(x, 1.0, 20.0)
    err = testing.errors("softplus", y, x)
    record = testing.KERNELS["softplus"]
    assert err.max() <= record.tolerance(np.float32, "forward", fastact.get_precision())
    return float(err.max())


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    print(train_step(x, np.ones_like(x)).dtype, worst_ulps(x.ravel()))
