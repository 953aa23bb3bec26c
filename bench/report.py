"""Benchmark report: fastact against np.maximum, NumPy/SciPy formulas, PyTorch, JAX, onnxruntime
and the copy limit (JAX and onnxruntime when installed: pip install -e ".[peers]").

    python bench/report.py --quick     # float32, 3 sizes, under a minute
    python bench/report.py             # float32 and float64, 1e3 .. 1.6e7 elements
    python bench/report.py --large     # adds 2**27 elements

For every function (forward and backward), dtype, size and mode (in place, or into a separate
`out`), the implementations are timed in interleaved rounds (A B C A B C ...) after a warm-up, and
the median round is kept. Every peer runs on the same number of threads as fastact. The report
prints machine facts, a table of Gelem/s with fastact's speedup over each peer, and the bytes each
`out=` call allocates (tracemalloc); it writes bench/results/<machine>-<date>.json, then the same
tables as .md and bench/results/<machine>-<date>.png from that JSON (float32, in place:
throughput against size, one panel per function, the copy line as the roofline).
"""

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import sys
import time
import tracemalloc

import numpy as np

# All libraries share this process: torch's OpenMP threads must not spin after a call and take the
# next library's cores (onnxruntime's are told the same in bench/peers.py). bench/vs_peers.py
# runs each library in a process of its own.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from peers import CASES, load_jax, load_onnxruntime, load_torch  # noqa: E402  (bench/, the script's directory)

import fastact  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def threads():
    return fastact.get_num_threads() if hasattr(fastact, "get_num_threads") else 1


def machine_facts(torch):
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "fastact": fastact.__version__,
    }
    for mod in ("scipy", "numba", "jax", "onnxruntime"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    versions["torch"] = torch.__version__ if torch is not None else None
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "isa": fastact.isa(),
        "threads": threads(),
        "versions": versions,
    }


def _work_arrays(case, n, dtype, inplace):
    """(originals, working inputs, out): in place, out is x (forward) or grad_output (backward)."""
    orig = case.inputs(n, dtype)
    work = [a.copy() for a in orig]
    out = work[0] if inplace else np.empty(n, dtype)
    return orig, work, out


def time_case(case, n, dtype, inplace, impls, rounds, target_s):
    """Median seconds per call of each implementation, timed in interleaved rounds."""
    orig, work, out = _work_arrays(case, n, dtype, inplace)
    for impl in impls.values():  # warm-up: caches, lazy initialisation, page faults
        impl(work, out)
    t0 = time.perf_counter()
    impls["fastact"](work, out)
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, min(10000, int(target_s / once)))
    samples = {label: [] for label in impls}
    for _ in range(rounds):
        for label, impl in impls.items():
            for w, o in zip(work, orig):  # in place, each round starts from the same data
                np.copyto(w, o)
            t0 = time.perf_counter()
            for _ in range(number):
                impl(work, out)
            samples[label].append((time.perf_counter() - t0) / number)
    return {label: statistics.median(s) for label, s in samples.items()}


def allocated_bytes(case, dtype, inplace, impls, n=65536):
    """Bytes allocated by one call with out= given, for each implementation (tracemalloc peak)."""
    _, work, out = _work_arrays(case, n, dtype, inplace)
    result = {}
    tracemalloc.start()
    try:
        for label, impl in impls.items():
            impl(work, out)
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            impl(work, out)
            result[label] = max(0, tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    return result


def run(args):
    torch = None if args.no_torch else load_torch(threads())
    jax = None if args.no_jax else load_jax()
    ort = None if args.no_onnxruntime else load_onnxruntime()
    sizes = [1000, 65536, 1_000_000] if args.quick else [1000, 65536, 1_000_000, 16_000_000]
    if args.large:
        sizes.append(1 << 27)
    sizes = args.sizes or sizes
    dtypes = args.dtypes or (["float32"] if args.quick else ["float32", "float64"])
    rounds = 5 if args.quick else 7
    target = 0.002 if args.quick else 0.01
    cases = [c for c in CASES if not args.only or c.name in args.only]
    plan = [(c, d, n, m) for c in cases for d in dtypes for n in sizes for m in ("in place", "out")]
    facts = machine_facts(torch)
    print(
        f"machine: {facts['cpu']}, {facts['cores']} cores, fastact ISA {facts['isa']}, "
        f"{facts['threads']} thread(s) for every implementation"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items() if v))
    records = []
    start = time.perf_counter()
    for i, (case, dtype, n, mode) in enumerate(plan):
        sys.stderr.write(
            f"\r[{i + 1}/{len(plan)}] {case.name} {dtype} n={n} {mode} "
            f"({time.perf_counter() - start:.0f} s)".ljust(78)
        )
        sys.stderr.flush()
        impls = case.implementations(
            torch, inplace=mode == "in place", jax=jax, ort=ort, threads=threads(), dtype=dtype
        )
        medians = time_case(case, n, dtype, mode == "in place", impls, rounds, target)
        alloc = allocated_bytes(case, dtype, mode == "in place", impls) if n == 65536 else {}
        for label, t in medians.items():
            records.append(
                {
                    "function": case.name,
                    "dtype": dtype,
                    "n": n,
                    "mode": mode,
                    "impl": label,
                    "median_s": t,
                    "gelem_s": n / t / 1e9,
                    "alloc_bytes_65536": alloc.get(label),
                }
            )
    sys.stderr.write("\r" + " " * 78 + "\r")
    return {
        "machine": facts,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/report.py"] + sys.argv[1:]),
        "rounds": rounds,
        "statistic": "median",
        "records": records,
    }


def table(report):
    """Markdown table: Gelem/s per implementation, fastact's speedup over each peer."""
    recs = report["records"]
    impls = list(dict.fromkeys(r["impl"] for r in recs))
    peers = [p for p in impls if p != "fastact"]
    lines = [
        "| function | dtype | n | mode | "
        + " | ".join(f"{p} Gelem/s" for p in impls)
        + " | "
        + " | ".join(f"vs {p}" for p in peers)
        + " |",
        "|---" * (4 + len(impls) + len(peers)) + "|",
    ]
    keys = list(dict.fromkeys((r["function"], r["dtype"], r["n"], r["mode"]) for r in recs))
    for key in keys:
        row = {r["impl"]: r for r in recs if (r["function"], r["dtype"], r["n"], r["mode"]) == key}
        fa = row["fastact"]["median_s"]
        cells = [f"{row[p]['gelem_s']:.3g}" if p in row else "" for p in impls]
        ratios = [f"{row[p]['median_s'] / fa:.2f}x" if p in row else "" for p in peers]
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]:,} | {key[3]} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(ratios)
            + " |"
        )
    return "\n".join(lines)


def summary(report, dtype="float32", mode="in place"):
    """One row per function: fastact's Gelem/s per size, and its speedup over torch and over the
    NumPy/SciPy formula (np.maximum for relu) in brackets."""
    recs = [r for r in report["records"] if r["dtype"] == dtype and r["mode"] == mode]
    sizes = sorted({r["n"] for r in recs})
    cell = {(r["function"], r["n"], r["impl"]): r["median_s"] for r in recs}
    lines = [
        f"| {dtype}, {mode} | " + " | ".join(f"n = {n:,}" for n in sizes) + " |",
        "|---" * (1 + len(sizes)) + "|",
    ]
    for fn in dict.fromkeys(r["function"] for r in recs):
        cells = []
        for n in sizes:
            fa = cell[(fn, n, "fastact")]
            peers = [
                (name, cell.get((fn, n, impl)))
                for name, impl in (
                    ("torch", "torch"),
                    ("numpy", "numpy.maximum" if fn == "relu" else "numpy formula"),
                )
            ]
            ratios = ", ".join(f"{name} {t / fa:.2f}x" for name, t in peers if t)
            cells.append(f"{n / fa / 1e9:.2f} ({ratios})")
        lines.append(f"| {fn} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def allocations(report):
    """Bytes allocated per out= call at 65,536 elements."""
    recs = [r for r in report["records"] if r["alloc_bytes_65536"] is not None]
    impls = list(dict.fromkeys(r["impl"] for r in recs))
    lines = [
        "| function | dtype | mode | " + " | ".join(impls) + " |",
        "|---" * (3 + len(impls)) + "|",
    ]
    keys = list(dict.fromkeys((r["function"], r["dtype"], r["mode"]) for r in recs))
    for key in keys:
        row = {
            r["impl"]: r["alloc_bytes_65536"]
            for r in recs
            if (r["function"], r["dtype"], r["mode"]) == key
        }
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | "
            + " | ".join(f"{row.get(i, '')}" for i in impls)
            + " |"
        )
    return "\n".join(lines)


def plot(report, path):
    """Throughput against size for float32 in place, one panel per function, copy as roofline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [r for r in report["records"] if r["dtype"] == "float32" and r["mode"] == "in place"]
    functions = list(dict.fromkeys(r["function"] for r in recs))
    cols = 4
    rows = (len(functions) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    impls = list(dict.fromkeys(r["impl"] for r in recs))
    colors = {impl: f"C{i}" for i, impl in enumerate(impls)}
    for ax, fn in zip(axes.flat, functions):
        for impl in impls:
            pts = sorted(
                (r["n"], r["gelem_s"]) for r in recs if r["function"] == fn and r["impl"] == impl
            )
            if pts:
                style = (
                    dict(ls="--", color="gray")
                    if impl == "copy"
                    else dict(marker="o", color=colors[impl])
                )
                ax.plot(*zip(*pts), label=impl, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(fn, fontsize=10)
        ax.set_xlabel("elements")
        ax.set_ylabel("Gelem/s")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(functions) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    m = report["machine"]
    fig.suptitle(
        f"float32, in place, {m['threads']} thread(s): {m['cpu']} ({m['isa']})", fontsize=11
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="float32, 3 sizes, under a minute")
    ap.add_argument("--large", action="store_true", help="add 2**27 elements")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--no-jax", action="store_true", help="leave JAX out")
    ap.add_argument("--no-onnxruntime", action="store_true", help="leave onnxruntime out")
    ap.add_argument("--only", nargs="*", help="function names, e.g. relu gelu_backward")
    ap.add_argument("--sizes", nargs="*", type=int, help="element counts instead of the defaults")
    ap.add_argument("--dtypes", nargs="*", choices=["float32", "float64"])
    ap.add_argument("--tag", default="", help="added to the result file names")
    ap.add_argument("--from-json", help="redraw the table and plot from an earlier JSON")
    args = ap.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            report = json.load(f)
        base = os.path.splitext(args.from_json)[0]
    else:
        report = run(args)
        os.makedirs(RESULTS, exist_ok=True)
        stamp = (
            datetime.date.today().isoformat()
            + ("-quick" if args.quick else "")
            + (f"-{args.tag}" if args.tag else "")
        )
        base = os.path.join(RESULTS, f"{report['machine']['host']}-{stamp}")
        with open(base + ".json", "w") as f:
            json.dump(report, f, indent=1)
    m = report["machine"]
    text = (
        f"`{report['command']}` on {m['cpu']} ({m['cores']} cores, ISA {m['isa']}, "
        f"{m['threads']} thread(s) for every implementation), {report['date']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
        + ".\n\n"
        f"Gelem/s (median of {report['rounds']} interleaved rounds); 'vs X' is X's time over "
        f"fastact's (above 1: fastact is faster).\n\n"
        + summary(report)
        + "\n\n"
        + table(report)
        + "\n\nBytes allocated by one out= call, 65,536 elements (tracemalloc):\n\n"
        + allocations(report)
        + "\n"
    )
    print("\n" + text)
    with open(base + ".md", "w") as f:
        f.write(text)
    try:
        plot(report, base + ".png")
        print(f"\nwrote {base}.json and {base}.png")
    except ImportError:
        print(f"\nwrote {base}.json (install matplotlib, the 'bench' extra, for the plot)")


if __name__ == "__main__":
    main()
