"""A plain-NumPy MLP trained with fastact.nn layers on scikit-learn's bundled digits.

    pip install -e ".[examples]" && python examples/train_mlp.py

64 -> 256 -> 128 -> 10, GELU then PReLU, softmax cross-entropy, SGD with momentum, float32.
The same loop then runs with the activations written as NumPy formulas, and the script prints the
time each spent in activations (forward + backward) and the test accuracy of both.
"""

import argparse
import time

import numpy as np
from scipy import special

import fastact.nn as nn


class NumpyGELU:
    """GELU as NumPy/SciPy formulas: the baseline a NumPy user would write."""

    def __call__(self, x):
        self.x = x
        return 0.5 * x * (1 + special.erf(x / np.float32(np.sqrt(2))))

    def backward(self, g):
        x = self.x
        cdf = 0.5 * (1 + special.erf(x / np.float32(np.sqrt(2))))
        pdf = np.exp(-0.5 * x * x) / np.float32(np.sqrt(2 * np.pi))
        return g * (cdf + x * pdf)


class NumpyPReLU:
    def __init__(self, channels, init=0.25):
        self.weight = np.full(channels, init, np.float32)
        self.grad_weight = np.zeros(channels, np.float64)

    def __call__(self, x):
        self.x = x
        return np.where(x > 0, x, self.weight * x)

    def backward(self, g):
        self.grad_weight += np.where(self.x > 0, 0, g * self.x).sum(axis=0)
        return np.where(self.x > 0, g, g * self.weight)

    def zero_grad(self):
        self.grad_weight[...] = 0


class Timed:
    """Wraps an activation layer and adds up the seconds spent in it."""

    def __init__(self, layer, clock):
        self.layer, self.clock = layer, clock

    def __call__(self, x):
        t = time.perf_counter()
        y = self.layer(x)
        self.clock[0] += time.perf_counter() - t
        return y

    def backward(self, g):
        t = time.perf_counter()
        r = self.layer.backward(g)
        self.clock[0] += time.perf_counter() - t
        return r


def load_digits(seed=0):
    from sklearn.datasets import load_digits as sk_load

    data = sk_load()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = x[order], y[order]
    split = int(0.8 * len(y))
    return (x[:split], y[:split]), (x[split:], y[split:])


def train(data, act1, act2, epochs, seed=0, batch=32, lr=0.05, momentum=0.9, log=print):
    """Train the MLP on data = load_digits(); returns (per-epoch train losses, test accuracy)."""
    (xtr, ytr), (xte, yte) = data
    rng = np.random.default_rng(seed)
    sizes = [64, 256, 128, 10]
    W = [
        (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
        for a, b in zip(sizes, sizes[1:])
    ]
    B = [np.zeros(b, np.float32) for b in sizes[1:]]
    vel = [np.zeros_like(p) for p in W + B]
    acts = [act1, act2]
    losses = []

    def forward(x):
        hs = [x]
        for i in range(3):
            z = hs[-1] @ W[i] + B[i]
            hs.append(acts[i](z) if i < 2 else z)
        return hs

    for epoch in range(epochs):
        order = rng.permutation(len(ytr))
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            hs = forward(xtr[idx])
            logits = hs[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            n = len(idx)
            total += -np.log(p[np.arange(n), ytr[idx]] + 1e-12).sum()
            g = p
            g[np.arange(n), ytr[idx]] -= 1
            g /= n
            grads_w, grads_b = [None] * 3, [None] * 3
            for i in (2, 1, 0):
                grads_w[i] = hs[i].T @ g
                grads_b[i] = g.sum(axis=0)
                if i > 0:
                    g = acts[i - 1].backward(g @ W[i].T)
            prelu = acts[1].layer if isinstance(acts[1], Timed) else acts[1]
            for j, (param, grad) in enumerate(zip(W + B, grads_w + grads_b)):
                vel[j] = momentum * vel[j] - lr * grad
                param += vel[j]
            prelu.weight -= (lr * prelu.grad_weight).astype(prelu.weight.dtype)
            prelu.zero_grad()
        losses.append(total / len(ytr))
        acc = (forward(xte)[-1].argmax(axis=1) == yte).mean()
        log(f"epoch {epoch + 1:2d}: train loss {losses[-1]:.4f}, test accuracy {acc:.4f}")
    return losses, float((forward(xte)[-1].argmax(axis=1) == yte).mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args(argv)
    data = load_digits()
    results = {}
    for label, make in (
        ("fastact.nn", lambda: (nn.GELU(), nn.PReLU(128))),
        ("NumPy formulas", lambda: (NumpyGELU(), NumpyPReLU(128))),
    ):
        clock = [0.0]
        layers = make()
        # One untimed call per layer at the test-set size: fastact's first large call starts
        # Numba's thread pool once per process (README, "Cold start"); the loop then measures
        # steady-state time for both.
        for layer, width in zip(layers, (256, 128)):
            layer.backward(np.ones_like(layer(np.ones((360, width), np.float32))))
        a1, a2 = (Timed(a, clock) for a in layers)
        t0 = time.perf_counter()
        print(f"-- {label}")
        _, acc = train(
            data, a1, a2, args.epochs, log=print if label == "fastact.nn" else lambda s: None
        )
        results[label] = (time.perf_counter() - t0, clock[0], acc)
    print()
    for label, (total, in_act, acc) in results.items():
        print(
            f"{label:15s} total {total:6.2f} s, in activations {in_act:6.3f} s, "
            f"test accuracy {acc:.4f}"
        )
    fa, npf = results["fastact.nn"][1], results["NumPy formulas"][1]
    print(f"time in activations: fastact {speedup_text(npf / fa)} than the NumPy formulas")


def speedup_text(ratio):
    """'1.25x faster' or '0.80x (slower)': the NumPy formulas' time over fastact's."""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{ratio:.2f}x (slower)"


if __name__ == "__main__":
    main()
