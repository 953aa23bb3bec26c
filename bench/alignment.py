"""Speed by the output's offset from a 64-byte boundary: float32, one thread, out= given, x and
out at the same offset (NumPy aligns arrays below its huge-page size to 16 bytes only).

    python bench/alignment.py [--kernels relu,relu6,sigmoid] [--sizes 65536,1048576]
"""

import argparse
import statistics
import time

import numpy as np

import fastact


def at_offset(n, offset_bytes):
    """n float32 elements starting offset_bytes after a 64-byte boundary."""
    buf = np.empty(n + 32, np.float32)
    start = (-(buf.ctypes.data // 4)) % 16 + offset_bytes // 4
    return buf[start : start + n]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", default="relu,relu6,sigmoid")
    ap.add_argument("--sizes", default="65536,1048576")
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    fastact.set_num_threads(1)
    offsets = (0, 16, 32)
    print("| kernel | n | " + " | ".join(f"offset {o} B, Gelem/s" for o in offsets) + " |")
    print("|---|---|" + "---|" * len(offsets))
    for n in (int(s) for s in args.sizes.split(",")):
        arrays = {}
        for off in offsets:
            x, out = at_offset(n, off), at_offset(n, off)
            x[:] = np.random.default_rng(0).standard_normal(n)
            arrays[off] = (x, out)
        number = max(1, int(0.01 / (n * 1e-10)))
        for name in args.kernels.split(","):
            f = getattr(fastact, name)
            times = {off: [] for off in offsets}
            for _ in range(args.rounds):
                for off, (x, out) in arrays.items():  # interleaved
                    t0 = time.perf_counter()
                    for _ in range(number):
                        f(x, out=out)
                    times[off].append((time.perf_counter() - t0) / number)
            cells = " | ".join(f"{n / statistics.median(times[o]) / 1e9:.2f}" for o in offsets)
            print(f"| {name} | {n:,} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
