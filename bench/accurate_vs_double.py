"""The float32 accurate level against the old float32 path (float64 formulas, rounded once) and
the fast level, one core, every MATH kernel and direction (issue 9: accurate >= 2x the old path).

Compiles bench/accurate_vs_double.c (which includes fastact/_kernels.h, so the accurate and fast
loops are the library's own) with setup.py's flags into a temporary shared object, loads it with
ctypes and times each loop in C: Gelem/s, median of --repeats, the three variants interleaved in
each repeat, after a warm-up. Instruction sets avx512 and avx2 are the library's loops for
FASTACT_ISA=avx512 / avx2. Run it pinned, under the machine's lock:

    flock /tmp/bench.lock taskset -c 1 python bench/accurate_vs_double.py --out bench/results/NAME

which writes NAME.json and NAME.md.
"""

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CFLAGS = ["-O3", "-fno-trapping-math", "-ffp-contract=off", "-fno-math-errno", "-std=gnu11"]
# default parameters (fastact/_table.py): elu/celu alpha = 1, softplus beta = 1, threshold = 20
PARAMS = {"elu": (1.0, 0.0), "celu": (1.0, 0.0), "softplus": (1.0, 20.0)}
VARIANTS = ("old", "accurate", "fast")
DIRS = ("fwd", "bwd", "bwo")
ISAS = ("avx2", "avx512")


def build(src_root):
    out = os.path.join(tempfile.mkdtemp(prefix="fa_avd_"), "avd.so")
    cmd = [
        "gcc",
        *CFLAGS,
        "-fPIC",
        "-shared",
        "-pthread",
        "-w",
        "-DNPY_NO_DEPRECATED_API=NPY_2_0_API_VERSION",
        "-I",
        sysconfig.get_paths()["include"],
        "-I",
        np.get_include(),
        "-I",
        os.path.join(src_root, "fastact"),
        os.path.join(HERE, "accurate_vs_double.c"),
        "-o",
        out,
    ]
    subprocess.run(cmd, check=True)
    lib = ctypes.CDLL(out)
    lib.bench_name.restype = ctypes.c_char_p
    lib.bench_run.restype = ctypes.c_double
    lib.bench_run.argtypes = (
        [ctypes.c_int] * 4
        + [ctypes.c_ssize_t]
        + [ctypes.c_void_p] * 3
        + [ctypes.c_float, ctypes.c_float, ctypes.c_int]
    )
    return lib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=ROOT, help="repository whose fastact/ headers to build")
    ap.add_argument("--funcs", nargs="*", help="kernels (default: every MATH kernel)")
    ap.add_argument("--isa", nargs="*", default=list(ISAS), choices=ISAS)
    ap.add_argument("--sizes", nargs="*", type=int, default=[65536, 1 << 20])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--elems", type=float, default=4e6, help="elements per timed repeat (at least)")
    ap.add_argument("--out", help="write OUT.json and OUT.md")
    ap.add_argument("--table", metavar="JSON", help="print the tables of an earlier run and exit")
    a = ap.parse_args()
    if a.table:
        with open(a.table) as f:
            run = json.load(f)
        print(table(run["rows"], run["meta"]), end="")
        return
    lib = build(a.src)
    names = [lib.bench_name(k).decode() for k in range(lib.bench_count())]
    rng = np.random.default_rng(0)
    rows = []
    for isa in a.isa:
        ii = ISAS.index(isa)
        for n in a.sizes:
            data = {
                "normal": rng.standard_normal(n).astype(np.float32),
                "uniform10": rng.uniform(-10, 10, n).astype(np.float32),
            }
            g = rng.standard_normal(n).astype(np.float32)
            y = np.empty(n, np.float32)
            iters = max(1, int(a.elems // n))
            for k, name in enumerate(names):
                if a.funcs and name not in a.funcs:
                    continue
                p0, p1 = PARAMS.get(name, (0.0, 0.0))
                for dist, x in data.items():
                    fy = np.empty(n, np.float32)
                    lib.bench_run(k, 0, 0, ii, n, 0, x.ctypes.data, fy.ctypes.data, p0, p1, 1)
                    for d, dname in enumerate(DIRS):
                        if d == 2 and not lib.bench_has_bwo(k):
                            continue
                        xin = fy if d == 2 else x  # the backward from the output reads y = f(x)
                        args = (n, g.ctypes.data, xin.ctypes.data, y.ctypes.data, p0, p1)
                        times = {v: [] for v in VARIANTS}
                        for v in range(3):
                            lib.bench_run(k, d, v, ii, *args, iters)  # warm-up
                        for _ in range(a.repeats):
                            for v, vn in enumerate(VARIANTS):
                                times[vn].append(lib.bench_run(k, d, v, ii, *args, iters))
                        r = {"isa": isa, "n": n, "data": dist, "func": name, "dir": dname}
                        for vn in VARIANTS:
                            r[vn] = n * iters / float(np.median(times[vn])) / 1e9
                        rows.append(r)
                        print(
                            f"{isa:6} {n:8} {dist:9} {name:9} {dname} old {r['old']:6.3f} "
                            f"acc {r['accurate']:6.3f} fast {r['fast']:6.3f}  "
                            f"acc/old {r['accurate'] / r['old']:5.2f}",
                            flush=True,
                        )
    if a.out:
        meta = {
            "cpu": platform.processor() or platform.machine(),
            "cflags": CFLAGS,
            "repeats": a.repeats,
            "affinity": sorted(os.sched_getaffinity(0)),
            "python": sys.version.split()[0],
        }
        try:
            meta["cpu"] = [
                line.split(":", 1)[1].strip()
                for line in open("/proc/cpuinfo")
                if line.startswith("model name")
            ][0]
        except (OSError, IndexError):
            pass
        with open(a.out + ".json", "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
        with open(a.out + ".md", "w") as f:
            f.write(table(rows, meta))


def table(rows, meta):
    """One line per kernel, direction and instruction set: Gelem/s old / accurate / fast and the
    ratio accurate/old, per size and data."""
    cols = [(n, d) for n in sorted({r["n"] for r in rows}) for d in ("normal", "uniform10")]
    head = ["function", "dir", "ISA"] + [f"{n} {d}: old / acc / fast (acc/old)" for n, d in cols]
    out = [
        f"CPU: {meta['cpu']}; one core ({meta['affinity']}); Gelem/s, median of "
        f"{meta['repeats']}; old = float32 through the float64 formulas (rounded once); "
        f"acc/fast = the library's float32 levels; flags {' '.join(meta['cflags'])}.\n",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    key = {}
    for r in rows:
        key[(r["func"], r["dir"], r["isa"], r["n"], r["data"])] = r
    seen = []
    for r in rows:
        t = (r["func"], r["dir"], r["isa"])
        if t not in seen:
            seen.append(t)
    seen.sort(key=lambda t: (t[0], DIRS.index(t[1]), t[2]))
    out += [
        "",
        "### Summary: accurate / old, fewest and most over sizes and data (fast / old beside)",
        "",
        "| function | dir | " + " | ".join(f"{i}: acc/old | {i}: fast/old" for i in ISAS) + " |",
        "|" + "---|" * (2 + 2 * len(ISAS)),
    ]
    for f, d in dict.fromkeys((t[0], t[1]) for t in seen):
        cells = []
        for isa in ISAS:
            rs = [r for r in rows if (r["func"], r["dir"], r["isa"]) == (f, d, isa)]
            for v in ("accurate", "fast"):
                q = [r[v] / r["old"] for r in rs]
                cells.append(f"{min(q):.2f}-{max(q):.2f}x" if q else "—")
        out.append(f"| {f} | {d} | " + " | ".join(cells) + " |")
    out += ["", "### Gelem/s per cell", "", out.pop(1), out.pop(1)]
    for f, d, isa in seen:
        cells = []
        for n, dist in cols:
            r = key.get((f, d, isa, n, dist))
            cells.append(
                "—"
                if r is None
                else f"{r['old']:.2f} / {r['accurate']:.2f} / {r['fast']:.2f} "
                f"(**{r['accurate'] / r['old']:.2f}x**)"
            )
        out.append(f"| {f} | {d} | {isa} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
