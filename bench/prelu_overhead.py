"""Per-call cost of prelu, prelu_backward, nn.PReLU and nn.ReLU on small arrays, beside
leaky_relu and relu.

Each case is timed as the median, over --repeats, of the mean time of --number back-to-back calls,
after a warm-up, on one thread (fastact.set_num_threads(1)). Sizes 16, 1,000 and 65,536 float32
elements; the per-channel weight runs along axis 1 of an (N, C) array (a Linear layer's output,
one element per channel and row) and of an (N, C, L) array. It imports the fastact of the tree it
sits in, so one copy of the script per build compares two builds. Run it pinned, under the
machine's lock:

    flock /tmp/bench.lock taskset -c 1 python bench/prelu_overhead.py [--json NAME.json]

With --large, instead: 4,194,304 float32 elements as (64, 64, 32, 32) and (4096, 1024), on 1 and
2 threads (the per-channel path runs on the worker pool from its threshold on), not pinned:

    flock /tmp/bench.lock python bench/prelu_overhead.py --large
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
import fastact.nn  # noqa: E402

# size -> (N, C) and (N, C, L) shapes with that many elements
SHAPES = {
    16: ((4, 4), (1, 4, 4)),
    1000: ((100, 10), (10, 10, 10)),
    65536: ((1024, 64), (4, 64, 256)),
}


def per_call(f, number, repeats):
    for _ in range(max(1, number // 10)):
        f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(number):
            f()
        times.append((time.perf_counter_ns() - t0) / number)
    return float(np.median(times)) / 1000.0


def cases(size):
    rng = np.random.default_rng(0)
    nc, ncl = SHAPES[size]
    x = rng.standard_normal(size).astype(np.float32)
    g = rng.standard_normal(size).astype(np.float32)
    buf = np.empty_like(x)
    relu_layer = fastact.nn.ReLU()
    yield "relu(x)", lambda: fastact.relu(x)
    yield "nn.ReLU()(x)", lambda: relu_layer(x)
    yield "leaky_relu(x, 0.1)", lambda: fastact.leaky_relu(x, 0.1)
    yield "prelu(x, 0.25)", lambda: fastact.prelu(x, 0.25)
    w1 = np.array([0.25], np.float32)
    yield "prelu(x, w[1])", lambda: fastact.prelu(x, w1)
    for shape in (nc, ncl):
        xs, gs, bs = x.reshape(shape), g.reshape(shape), buf.reshape(shape)
        w = rng.uniform(0.05, 0.5, shape[1]).astype(np.float32)
        tag = "x" + "x".join(map(str, shape))
        yield f"prelu(x{tag}, w[C])", lambda xs=xs, w=w: fastact.prelu(xs, w)
        layer = fastact.nn.PReLU(shape[1])
        yield f"nn.PReLU(C)(x{tag})", lambda xs=xs, layer=layer: layer(xs)
        yield (
            f"prelu(x{tag}, w[C], out=buf)",
            lambda xs=xs, w=w, bs=bs: fastact.prelu(xs, w, out=bs),
        )
        yield (
            f"prelu_backward(g, x{tag}, w[C])",
            lambda xs=xs, gs=gs, w=w: fastact.prelu_backward(gs, xs, w),
        )
    yield "prelu_backward(g, x, 0.25)", lambda: fastact.prelu_backward(g, x, 0.25)


LARGE = ((64, 64, 32, 32), (4096, 1024))


def large_cases(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w = rng.uniform(0.05, 0.5, shape[1]).astype(np.float32)
    layer = fastact.nn.PReLU(shape[1])

    def layer_step():
        layer(x)
        layer.backward(g)

    one = fastact.nn.PReLU()  # one slope, the layer's default

    def one_step():
        one(x)
        one.backward(g)

    yield "leaky_relu(x, 0.25)", lambda: fastact.leaky_relu(x, 0.25)
    yield "prelu(x, w[C])", lambda: fastact.prelu(x, w)
    yield "prelu_backward(g, x, w[C])", lambda: fastact.prelu_backward(g, x, w)
    yield "nn.PReLU(C) forward+backward", layer_step
    yield "leaky_relu_backward(g, x, 0.25)", lambda: fastact.leaky_relu_backward(g, x, 0.25)
    yield "prelu_backward(g, x, 0.25)", lambda: fastact.prelu_backward(g, x, 0.25)
    yield "nn.PReLU() forward+backward", one_step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=31)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--large", action="store_true", help="4M elements, 1 and 2 threads")
    args = ap.parse_args()
    fastact.set_num_threads(1)
    rows = []
    if args.large:
        for shape in LARGE:
            tag = "x".join(map(str, shape))
            for name, f in large_cases(shape):
                for threads in (1, 2):
                    with fastact.num_threads(threads):
                        us = per_call(f, 20, args.repeats)
                    rows.append({"shape": shape, "case": name, "threads": threads, "us": us})
                    print(f"{tag:>14} {name:<30} {threads}T {us:9.1f} us", flush=True)
    for size in () if args.large else SHAPES:
        number = 2000 if size < 10000 else 200
        for name, f in cases(size):
            us = per_call(f, number, args.repeats)
            rows.append({"size": size, "case": name, "us": us})
            print(f"{size:>6} {name:<40} {us:9.3f} us", flush=True)
    if args.json:
        meta = {"isa": fastact.isa(), "numpy": np.__version__, "version": fastact.__version__}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
