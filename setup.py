"""Builds fastact._kernels. Metadata lives in pyproject.toml."""
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
    depends=["fastact/_kernels.h", "fastact/_math.h", "fastact/_f32_exp.h", "fastact/_f32_tanh.h",
             "fastact/_f32_gelu.h",
             "fastact/_loops.h", "fastact/_ufunc_loops.h"],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=CFLAGS,
)

def _instruction_sets():
    """What _kernels.h will compile (its FA_X86_DISPATCH test, as far as setup.py can see it):
    three levels on x86-64 with gcc, the baseline alone elsewhere (aarch64, clang) or with
    -DFASTACT_NO_X86_DISPATCH in CFLAGS (the portable build that a non-x86 machine gets)."""
    cflags, cc = os.environ.get("CFLAGS", ""), os.environ.get("CC", "")
    if (platform.machine().lower() in ("x86_64", "amd64") and "clang" not in cc
            and "FASTACT_NO_X86_DISPATCH" not in cflags):
        return "baseline, avx2 and avx512 loops (about 20 s to a minute)"
    return "baseline loops only (portable build, no x86 dispatch)"


class build_ext_with_progress(build_ext):
    """Says which compile step runs, and how long each took, so that a build does not look like a
    hang (pip shows this output with -v)."""

    def build_extension(self, ext):
        start = time.perf_counter()
        print(f"fastact: [2/3] compiling {ext.name}: {_instruction_sets()}...", flush=True)
        super().build_extension(ext)
        print(f"fastact: [3/3] compiled and linked {ext.name} in "
              f"{time.perf_counter() - start:.0f} s", flush=True)


print("fastact: [1/3] generating C from fastact/_kernels.pyx (Cython)...", flush=True)
setup(ext_modules=cythonize([ext], compiler_directives={"language_level": "3"}),
      cmdclass={"build_ext": build_ext_with_progress})
