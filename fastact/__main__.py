"""python -m fastact: what this build runs with, and a short demonstration on this machine."""

import timeit

import numpy as np

import fastact


def _best(f, number):
    f()
    return min(timeit.repeat(f, number=number, repeat=5)) / number


def main():
    print(f"fastact {fastact.__version__}, numpy {np.__version__}, kernels: {fastact.isa()}")
    x = np.linspace(-6, 6, 7, dtype=np.float32)
    print("x                     ", x)
    for name in ("relu", "leaky_relu", "elu", "gelu"):
        print(f"fastact.{name:15s}", getattr(fastact, name)(x))
    print("fastact.gelu tanh     ", fastact.gelu(x, approximate="tanh"))
    print("fastact.gelu_backward ", fastact.gelu_backward(np.ones_like(x), x))
    t = np.float32(-9)
    naive = (
        np.float32(0.5)
        * t
        * (
            np.float32(1)
            + np.tanh(np.float32(np.sqrt(2 / np.pi)) * (t + np.float32(0.044715) * t**3))
        )
    )
    print(
        f"tanh-form gelu(-9) in float32: fastact {fastact.gelu(t, approximate='tanh'):.7g}, "
        f"0.5*x*(1+np.tanh(...)) {naive:.7g} (cancelled)"
    )
    y = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    t_np = _best(lambda: np.maximum(y, 0, out=y), 20000)
    t_fa = _best(lambda: fastact.relu(y, out=y), 20000)
    print(
        f"relu on 1,000 float32 in place: np.maximum {t_np * 1e6:.2f} us, fastact "
        f"{t_fa * 1e6:.2f} us ({t_np / t_fa:.1f}x); best of 5, one thread"
    )


if __name__ == "__main__":
    main()
