"""fastact against torch, JAX and onnxruntime, each library in its own process.

    python bench/vs_peers.py --quick        # 65,536 and 1,048,576 elements, one thread, ~3 min
    python bench/vs_peers.py                # 1,000 .. 16,777,216, one thread and all threads
    python bench/vs_peers.py -k sigmoid,gelu --sizes 1048576 --threads 1
    python bench/vs_peers.py --quick --avx2  # every library held to AVX2, as on a Zen 3

float32. Every function of the table, forward and backward, on two data sets: standard normal,
and uniform over [-10, 10] (so that a fast body with a slow tail cannot hide). fastact runs at
both precision levels (fast, the default, and accurate) into a preallocated output (in place at
16,777,216); the peers run as their users call them:
  - torch: the ATen out= overloads (no allocation), backward through the ATen backward kernels
    (sigmoid's and tanh's start from the output: they sit in the from-output rows);
  - JAX: jax.jit of jax.nn, inputs already on the device, result waited for; backward by jax.vjp;
  - onnxruntime: a one-node ONNX model per function (two for silu: x * Sigmoid(x)), outputs bound
    to a preallocated array (IOBinding); forward only.
(bench/peers.py holds these, for bench/report.py and the pytest-benchmark suite too.)
Why a process each: torch's OpenMP pool, XLA's and onnxruntime's threads spin after a call and
steal the next library's cores. For one thread the process is pinned to one core
(os.sched_setaffinity), since XLA splits large loops over its own pool whatever it is told.
Each worker times every case after a warm-up, `--rounds` rounds of repeated calls, and keeps the
median round. The parent writes bench/results/peers-<host>-<date>.json and .md: Gelem/s per
library, and fastact's ratio to the fastest peer (above 1: fastact is faster).
"""

import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LIBS = ["fastact", "fastact-accurate", "torch", "jax", "onnxruntime"]
# what each library reads to stay below AVX-512 (torch's ATen kernels, oneDNN, XLA's code generator)
AVX2_ENV = {
    "FASTACT_ISA": "avx2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
}
AVX2_TEXT = " ".join(f"{k}={v}" for k, v in AVX2_ENV.items())
DATA = {
    "normal": lambda rng, n: rng.standard_normal(n),
    "uniform10": lambda rng, n: rng.uniform(-10, 10, n),
}


def _page_aligned(a):
    """a copy of `a` whose data starts on a 4 KiB boundary. Every array of a case starts on one,
    so out - x is a multiple of 4096 bytes: on the Zen 5 this was measured on, a load that sits
    a few vectors past a pending store modulo 4096 (out - x = 32 or 64 bytes mod 4096) is, for
    some 1-2% of the higher address bits, predicted to depend on it, and the loop runs
    serialized: AVX-512 tanh 0.28x, gelu 0.34x, silu' 0.32x, sigmoid 0.56-0.73x of its speed,
    AVX2 sigmoid 0.30x (session 7; it made sigmoid read 0.68 Gelem/s after gelu's cases in the
    AVX2 run of session 6, where the heap happened to place x and out so). A hazard of the CPU,
    not of a library: aligned, no library meets it, and the comparison is of the kernels."""
    buf = np.empty(a.size + 4096 // a.itemsize, a.dtype)
    k = (-buf.ctypes.data % 4096) // a.itemsize
    out = buf[k : k + a.size]
    out[...] = a
    return out


def cases(only=None):
    """(label, public function, kernel, choice, direction) for every function of the table;
    direction: "forward", "backward" (from x) or "from_output" (the backward from y = f(x), where
    the table allows it)."""
    from fastact._table import ACTIVATIONS

    out = []
    for act in ACTIVATIONS:
        for choice, kernel in act.kernels.items():
            for direction in ("forward", "backward", "from_output"):
                if direction == "from_output" and act.from_output_when is None:
                    continue
                label = (
                    kernel
                    + {
                        "forward": "",
                        "backward": "_backward",
                        "from_output": "_backward_from_output",
                    }[direction]
                )
                if only and not any(o == kernel or o == label for o in only):
                    continue
                out.append((label, act, kernel, choice, direction))
    return out


# ---- one library per process ---------------------------------------------------------------------


def _fastact_impl(precision):
    import fastact

    def make(act, kernel, choice, direction, params):
        kw = dict(zip((p for p, _ in act.params), params))
        if act.choice is not None:
            kw[act.choice[0]] = choice
        kw["precision"] = precision
        if direction == "from_output":
            f = getattr(fastact, act.name + "_backward")
            return lambda a, out: f(a[0], out=out, output=a[1], **kw)
        if direction == "backward":
            f = getattr(fastact, act.name + "_backward")
            return lambda a, out: f(a[0], a[1], out=out, **kw)
        f = getattr(fastact, act.name)
        return lambda a, out: f(a[0], out=out, **kw)

    return make


def _peer_impl(lib, threads):
    import peers

    if lib == "torch":
        torch = peers.load_torch(threads)
        return lambda act, kernel, choice, direction, params: peers.torch_impl(
            torch, kernel, direction, params
        )
    if lib == "jax":
        jax = peers.load_jax()
        return lambda act, kernel, choice, direction, params: peers.jax_impl(
            jax, kernel, direction, params
        )
    ort = peers.load_onnxruntime()
    return lambda act, kernel, choice, direction, params: peers.onnxruntime_impl(
        ort, kernel, direction, params, np.float32, threads
    )


def worker(lib, threads, sizes, only, rounds, target_s):
    """Time every case with one library; prints one JSON list."""
    if threads == 1:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import fastact
    from fastact.testing import KERNELS

    fastact.set_num_threads(threads)
    make = {
        "fastact": lambda: _fastact_impl("fast"),
        "fastact-accurate": lambda: _fastact_impl("accurate"),
    }.get(lib, lambda: _peer_impl(lib, threads))()
    results = []
    for label, act, kernel, choice, direction in cases(only):
        backward = direction != "forward"
        try:
            impl = make(act, kernel, choice, direction, KERNELS[kernel].params[0])
        except Exception as e:  # a peer without this function or argument
            print(f"{lib} {label}: {type(e).__name__}: {e}", file=sys.stderr)
            impl = None
        if impl is None:
            continue
        for n in sizes:
            for data, gen in DATA.items():
                rng = np.random.default_rng(n)
                x = gen(rng, n).astype(np.float32)
                g = _page_aligned(rng.uniform(-2, 2, n).astype(np.float32))
                if direction == "from_output":  # the output y = f(x) instead of x
                    x = getattr(fastact, act.name)(x, **dict(act.params))
                x = _page_aligned(x)
                inplace = n >= 1 << 24 and lib.startswith("fastact")
                out = (g if backward else x) if inplace else _page_aligned(np.empty(n, np.float32))
                args = [g, x] if backward else [x]
                # in place, every round starts from the same data (a kernel applied to its own
                # output drifts into subnormals, which no user's data does)
                saved = [a.copy() for a in args] if inplace else None
                reset = (
                    (lambda: [np.copyto(a, s) for a, s in zip(args, saved)])
                    if inplace
                    else _no_reset
                )
                try:
                    seconds = _time(impl, args, out, rounds, target_s, reset)
                except Exception as e:
                    print(f"{lib} {label}: {type(e).__name__}: {e}", file=sys.stderr)
                    break
                results.append(
                    {
                        "lib": lib,
                        "case": label,
                        "n": n,
                        "data": data,
                        "threads": threads,
                        "inplace": inplace,
                        "seconds": seconds,
                    }
                )
    json.dump(results, sys.stdout)


def _no_reset():
    pass


def _time(impl, args, out, rounds, target_s, reset):
    for _ in range(3):
        reset()
        impl(args, out)
    reset()
    t0 = time.perf_counter()
    impl(args, out)
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, min(20000, int(target_s / once)))
    if reset is not _no_reset:
        number = 1  # one in-place call per round, each on the original data
    samples = []
    for _ in range(rounds):
        reset()
        t0 = time.perf_counter()
        for _ in range(number):
            impl(args, out)
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


# ---- the parent: one process per library and thread count ----------------------------------------


def run_all(args):
    libs = [lib for lib in LIBS if lib in args.libs]
    runs = []
    for threads in args.threads:
        for lib in libs:
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                lib,
                "--threads",
                str(threads),
                "--sizes",
                ",".join(map(str, args.sizes)),
                "--rounds",
                str(args.rounds),
                "--target",
                str(args.target),
            ]
            if args.k:
                cmd += ["-k", ",".join(args.k)]
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"  {lib}, {threads} thread(s): failed\n{r.stderr[-2000:]}", file=sys.stderr)
                continue
            got = json.loads(r.stdout or "[]")
            runs += got
            print(
                f"  {lib}, {threads} thread(s): {len(got)} timings in {time.time() - t0:.0f} s",
                file=sys.stderr,
            )
    return runs


def table(runs):
    """Markdown: per thread count and data set, Gelem/s per library and fastact / fastest peer."""
    by = {}
    for r in runs:
        by[(r["threads"], r["data"], r["case"], r["n"], r["lib"])] = r["n"] / r["seconds"] / 1e9
    lines = []
    keys = sorted({(r["threads"], r["data"]) for r in runs})
    ncases = sorted({(r["case"], r["n"]) for r in runs}, key=lambda c: (_order(c[0]), c[1]))
    peers = [lib for lib in LIBS if not lib.startswith("fastact")]
    for threads, data in keys:
        lines += [
            f"\n### {threads} thread(s), {data} data, float32, Gelem/s\n",
            "| function | n | fastact (fast) | fastact (accurate) | "
            + " | ".join(peers)
            + " | fast / fastest peer | fast / torch | fast / JAX | fast / onnxruntime |",
            "|---|---|" + "---|" * (2 + len(peers) + 4),
        ]
        for case, n in ncases:
            v = {lib: by.get((threads, data, case, n, lib)) for lib in LIBS}
            if v["fastact"] is None:
                continue
            best = max((v[p] for p in peers if v[p]), default=None)

            def cell(x):
                return "—" if x is None else f"{x:.2f}"

            def ratio(p):
                return "—" if not p else f"{v['fastact'] / p:.2f}x"

            lines.append(
                f"| {case} | {n:,} | "
                + " | ".join(cell(v[lib]) for lib in LIBS)
                + f" | {ratio(best)} | {ratio(v['torch'])} | {ratio(v['jax'])} | "
                f"{ratio(v['onnxruntime'])} |"
            )
    return "\n".join(lines) + "\n"


def summary(runs):
    """One row per case: fastact's fast level in Gelem/s and its ratio to the fastest peer (normal
    data), per thread count and size; then its worst ratio to each peer over both data sets."""
    by = {}
    for r in runs:
        by[(r["threads"], r["data"], r["case"], r["n"], r["lib"])] = r["n"] / r["seconds"] / 1e9
    peers = [lib for lib in LIBS if not lib.startswith("fastact")]
    threads = sorted({r["threads"] for r in runs})
    sizes = sorted({r["n"] for r in runs})
    head = [f"{t} thr, {n:,}" for t in threads for n in sizes]
    lines = [
        "| function | " + " | ".join(head) + " | worst vs torch / JAX / onnxruntime |",
        "|---|" + "---|" * (len(head) + 1),
    ]
    for case in sorted({r["case"] for r in runs}, key=_order):
        cells = []
        for t in threads:
            for n in sizes:
                fa = by.get((t, "normal", case, n, "fastact"))
                best = max(((by.get((t, "normal", case, n, p)) or 0, p) for p in peers))
                cells.append(
                    "—"
                    if fa is None
                    else f"{fa:.2f}"
                    if not best[0]
                    else f"{fa:.2f} ({fa / best[0]:.2f}x {best[1]})"
                )
        worst = []
        for p in peers:
            ratios = [
                v / by[(t, d, c, n, p)]
                for (t, d, c, n, lib), v in by.items()
                if lib == "fastact" and c == case and (t, d, c, n, p) in by
            ]
            worst.append(f"{min(ratios):.2f}x" if ratios else "—")
        lines.append(f"| {case} | " + " | ".join(cells) + " | " + " / ".join(worst) + " |")
    return "\n".join(lines) + "\n"


def below_target(runs):
    """Markdown: every cell of issue 9's bar where fastact's fast level is below it: under 1.0x
    torch or JAX, or under 0.6x onnxruntime, at every size, thread count and data set (and
    under 1.0x the fastest peer, the issue's stricter target, in its own column)."""
    by = {}
    for r in runs:
        by[(r["threads"], r["data"], r["case"], r["n"], r["lib"])] = r["n"] / r["seconds"] / 1e9
    bars = {"torch": 1.0, "jax": 1.0, "onnxruntime": 0.6}
    lines = [
        "| function | threads | n | data | below the bar | fastest peer |",
        "|---|---|---|---|---|---|",
    ]
    cells = sorted(
        {k[:4] for k in by if k[4] == "fastact"}, key=lambda k: (_order(k[2]), k[0], k[3], k[1])
    )
    for t, d, c, n in cells:
        fa = by[(t, d, c, n, "fastact")]
        low = [
            f"{fa / by[(t, d, c, n, p)]:.2f}x {p}"
            for p, bar in bars.items()
            if (t, d, c, n, p) in by and fa / by[(t, d, c, n, p)] < bar
        ]
        best = max((by.get((t, d, c, n, p)) or 0, p) for p in bars)
        stricter = best[0] and fa / best[0] < 1.0
        if low or stricter:
            lines.append(
                f"| {c} | {t} | {n:,} | {d} | {', '.join(low) or '—'} | "
                f"{fa / best[0]:.2f}x {best[1]} |"
            )
    return "\n".join(lines) + "\n"


def _order(case):
    names = [c[0] for c in cases()]
    return names.index(case) if case in names else len(names)


def _cpu():
    """The CPU's model name with its family and model numbers (family 25 is AMD Zen 3/4, 26 Zen 5),
    from /proc/cpuinfo where there is one."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return "cpu unknown"
    return (
        f"{fields.get('model name', 'cpu')} (family {fields.get('cpu family', '?')}, "
        f"model {fields.get('model', '?')})"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="65,536 and 1,048,576, one thread")
    ap.add_argument(
        "--sizes",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[1000, 65536, 1 << 20, 1 << 24],
    )
    ap.add_argument("--threads", type=lambda s: [int(v) for v in s.split(",")], default=None)
    ap.add_argument("--libs", type=lambda s: s.split(","), default=LIBS)
    ap.add_argument(
        "-k",
        type=lambda s: s.split(","),
        default=None,
        help="kernels or cases, e.g. sigmoid,gelu_backward",
    )
    ap.add_argument(
        "--avx2",
        action="store_true",
        help="hold every library to AVX2 on an AVX-512 machine: "
        + AVX2_TEXT
        + " (onnxruntime has no such switch: MLAS picks its kernels by CPUID and keeps AVX-512)",
    )
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--target", type=float, default=0.02, help="seconds per round")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument(
        "--out", default=None, help="results file stem (default: a new one in bench/results)"
    )
    ap.add_argument(
        "--table",
        default=None,
        metavar="JSON",
        help="print the tables of an earlier run's JSON and exit",
    )
    ap.add_argument(
        "--peers-from",
        default=None,
        metavar="JSON",
        help="take the peers' timings from an earlier run's JSON (the same machine and session) "
        "and time fastact alone: e.g. under FASTACT_ISA=avx2, against the peers of the AVX-512 "
        "run, whose code does not depend on FASTACT_ISA",
    )
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.threads[0], args.sizes, args.k, args.rounds, args.target)
        return
    if args.table:
        with open(args.table) as f:
            runs = json.load(f)["runs"]
        print(summary(runs) + "\n### Below issue 9's bar (fast level)\n\n" + below_target(runs))
        return
    if args.avx2:  # the workers inherit it; fastact reads FASTACT_ISA at import, below
        os.environ.update(AVX2_ENV)
    cores = len(os.sched_getaffinity(0))
    if args.quick:
        args.sizes, args.threads = [65536, 1 << 20], args.threads or [1]
    args.threads = args.threads or sorted({1, cores})
    if args.peers_from:  # the peers come from the file: time fastact's levels only
        args.libs = [lib for lib in args.libs if lib.startswith("fastact")]
    import fastact

    print(f"fastact {fastact.__version__}, ISA {fastact.isa()}, {cores} cores", file=sys.stderr)
    runs = run_all(args)
    if args.peers_from:
        with open(args.peers_from) as f:
            runs += [r for r in json.load(f)["runs"] if not r["lib"].startswith("fastact")]
    facts = {
        "host": socket.gethostname(),
        "cpu": _cpu(),
        "isa": fastact.isa(),
        "cores": cores,
        "date": datetime.date.today().isoformat(),
        "fastact_isa_env": os.environ.get("FASTACT_ISA", ""),
        "peers_avx2": args.avx2,
        "peers_from": args.peers_from and os.path.basename(args.peers_from),
    }
    stem = args.out or os.path.join(
        RESULTS,
        f"peers-{facts['host']}-{facts['date']}"
        + (f"-{facts['fastact_isa_env']}" if facts["fastact_isa_env"] else "")
        + ("-all" if args.avx2 else "")
        + ("-quick" if args.quick else ""),
    )
    if not args.out:  # never over an earlier run's files: the first free -2, -3, ...
        base, k = stem, 1
        while os.path.exists(stem + ".json") or os.path.exists(stem + ".md"):
            k += 1
            stem = f"{base}-{k}"
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump({"facts": facts, "runs": runs}, f, indent=1)
    text = (
        f"fastact {fastact.__version__}, {facts['cpu']}, ISA {facts['isa']}, {cores} cores, "
        f"{facts['date']}"
        + (f"; peers' timings from {facts['peers_from']}" if args.peers_from else "")
        + (
            "; every library held to AVX2 (" + AVX2_TEXT + "; onnxruntime keeps AVX-512)"
            if args.avx2
            else ""
        )
        + "\n\n### Summary: fast level, Gelem/s (ratio to the fastest peer, normal data)\n\n"
        + summary(runs)
        + "\n### Below issue 9's bar (fast level): under 1.0x torch or JAX, 0.6x onnxruntime, "
        "or the fastest peer\n\n" + below_target(runs) + table(runs)
    )
    with open(stem + ".md", "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
