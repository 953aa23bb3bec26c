"""Builds fastact._kernels. Metadata lives in pyproject.toml."""

import glob
import os
import platform
import time

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -fno-trapping-math lets gcc vectorize the selects; -ffp-contract=off keeps a*b+c two roundings
# on every instruction set, so AVX-512, AVX2 and baseline give the same bits. Never -ffast-math.
CFLAGS = ["-O3", "-fno-trapping-math", "-ffp-contract=off", "-fno-math-errno", "-std=gnu11"]

ext = Extension(
    "fastact._kernels",
    ["fastact/_kernels.pyx"],
    include_dirs=[numpy.get_include(), "fastact"],
    depends=sorted(glob.glob("fastact/*.h")),  # every header: formulas, loops, coefficients
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=CFLAGS,
)


def _instruction_sets():
    """What _kernels.h will compile (its FA_X86_DISPATCH test, as far as setup.py can see it):
    three levels on x86-64 with gcc, the baseline alone elsewhere (aarch64, clang) or with
    -DFASTACT_NO_X86_DISPATCH in CFLAGS (the portable build that a non-x86 machine gets)."""
    cflags, cc = os.environ.get("CFLAGS", ""), os.environ.get("CC", "")
    if (
        platform.machine().lower() in ("x86_64", "amd64")
        and "clang" not in cc
        and "FASTACT_NO_X86_DISPATCH" not in cflags
    ):
        return "baseline, avx2 and avx512 loops (about 20 s to a minute)"
    return "baseline loops only (portable build, no x86 dispatch)"


class build_ext_with_progress(build_ext):
    """Runs Cython, then the C compiler, saying which step runs and how long compiling took, so
    that a build does not look like a hang (pip shows this output with -v). Cython runs here, not
    when setup.py is loaded: pip loads it three times per install (requirements, metadata, wheel),
    and only the build needs the C file."""

    def build_extension(self, ext):
        print(f"fastact: [1/3] generating C from {ext.sources[0]} (Cython)...", flush=True)
        ext.sources = cythonize([ext], compiler_directives={"language_level": "3"})[0].sources
        start = time.perf_counter()
        print(f"fastact: [2/3] compiling {ext.name}: {_instruction_sets()}...", flush=True)
        super().build_extension(ext)
        print(
            f"fastact: [3/3] compiled and linked {ext.name} in {time.perf_counter() - start:.0f} s",
            flush=True,
        )


setup(ext_modules=[ext], cmdclass={"build_ext": build_ext_with_progress})
