"""Builds fastact._kernels. Metadata lives in pyproject.toml."""

import glob
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


class build_ext_with_progress(build_ext):
    """Says which compile step runs, and how long each took: the C file holds the loops for three
    instruction sets and takes about a minute to compile, which should not look like a hang
    (pip shows this output with -v)."""

    def build_extension(self, ext):
        start = time.perf_counter()
        print(
            f"fastact: [2/3] compiling {ext.name} for three instruction sets (about a minute)...",
            flush=True,
        )
        super().build_extension(ext)
        print(
            f"fastact: [3/3] compiled and linked {ext.name} in {time.perf_counter() - start:.0f} s",
            flush=True,
        )


print("fastact: [1/3] generating C from fastact/_kernels.pyx (Cython)...", flush=True)
setup(
    ext_modules=cythonize([ext], compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": build_ext_with_progress},
)
