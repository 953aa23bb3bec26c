"""Builds fastact._kernels. Metadata lives in pyproject.toml."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

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

setup(ext_modules=cythonize([ext], compiler_directives={"language_level": "3"}))
