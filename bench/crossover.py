"""Is the dispatched call ever slower than the better of the serial and parallel paths?

    python bench/crossover.py [--functions relu gelu] [--max-power 24]

For each function (float32, in place) and each size 2**10 .. 2**max_power (and 2**27 with
--max-power 27), three ways are timed in interleaved rounds (median of 9): the serial path
(inside fastact.num_threads(1)), the parallel path (after set_parallel_threshold(1), every
thread) and the dispatched call (the measured thresholds); each setting is made outside the timed
calls. The last column is dispatched / min(serial, parallel):
1.00 is the better path; above 1, a cliff.
"""

import argparse
import statistics
import time

import numpy as np

import fastact


def _time(f, number):
    t0 = time.perf_counter()
    for _ in range(number):
        f()
    return (time.perf_counter() - t0) / number


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", nargs="*", default=["relu", "elu", "gelu", "sigmoid"])
    ap.add_argument("--max-power", type=int, default=24)
    args = ap.parse_args(argv)
    threads = fastact.get_num_threads()
    print(f"float32, in place, {threads} threads for the parallel path; times in microseconds\n")
    print("| function | n | serial | parallel | dispatched | dispatched / best |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name in args.functions:
        f = getattr(fastact, name)
        for p in range(10, args.max_power + 1, 2):
            x = np.random.default_rng(0).standard_normal(1 << p).astype(np.float32)

            call = lambda: f(x, out=x)  # noqa: E731

            def serial(number):
                with fastact.num_threads(1):
                    return _time(call, number)

            def parallel(number):
                fastact.set_parallel_threshold(1)
                try:
                    return _time(call, number)
                finally:
                    fastact.set_parallel_threshold(None)

            def dispatched(number):
                return _time(call, number)

            ways = {"serial": serial, "parallel": parallel, "dispatched": dispatched}
            for w in ways.values():  # warm-up (the first parallel call starts Numba)
                w(1)
            number = max(1, int(0.003 / max(serial(1), 1e-7)))
            samples = {k: [] for k in ways}
            for _ in range(9):
                for k, w in ways.items():
                    samples[k].append(w(number))
            med = {k: statistics.median(v) * 1e6 for k, v in samples.items()}
            ratio = med["dispatched"] / min(med["serial"], med["parallel"])
            worst = max(worst, ratio)
            print(
                f"| {name} | {1 << p:,} | {med['serial']:.1f} | {med['parallel']:.1f} | "
                f"{med['dispatched']:.1f} | {ratio:.2f} |",
                flush=True,
            )
    print(f"\nworst dispatched / best: {worst:.2f}")


if __name__ == "__main__":
    main()
