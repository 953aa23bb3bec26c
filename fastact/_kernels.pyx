# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Serial C kernels: the fast path for plain contiguous arrays, and the NumPy ufunc twins.

The formulas and loops live in _kernels.h (with _math.h for float64, _f32_*.h for float32,
_loops.h, _ufunc_loops.h); this module
selects the instruction set, registers one ufunc per kernel and direction, and gives the public
functions a call path that skips the ufunc machinery when it can.
"""
import os
from collections import namedtuple

import numpy as np

cimport numpy as cnp
from cpython.mem cimport PyMem_RawMalloc
from libc.stdlib cimport calloc, free, malloc
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.float cimport FLT_MAX
from libc.math cimport INFINITY, NAN

cnp.import_array()
cnp.import_ufunc()

cdef extern from "<fenv.h>" nogil:
    ctypedef struct fexcept_t:
        pass
    int FE_ALL_EXCEPT
    int fegetexceptflag(fexcept_t *flagp, int excepts)
    int fesetexceptflag(const fexcept_t *flagp, int excepts)

cdef extern from "_kernels.h" nogil:
    enum:
        FA_NISA
        FA_NLEVELS
    ctypedef void (*fa_fwd_f_t)(cnp.npy_intp, const float *, float *, float, float)
    ctypedef void (*fa_fwd_d_t)(cnp.npy_intp, const double *, double *, double, double)
    ctypedef void (*fa_bwd_f_t)(cnp.npy_intp, const float *, const float *, float *, float, float)
    ctypedef void (*fa_bwd_d_t)(cnp.npy_intp, const double *, const double *, double *, double,
                                double)
    ctypedef void (*fa_fwd_f_arr_t)(cnp.npy_intp, const float *, float *, const float *,
                                    const float *)
    ctypedef void (*fa_fwd_d_arr_t)(cnp.npy_intp, const double *, double *, const double *,
                                    const double *)
    ctypedef void (*fa_bwd_f_arr_t)(cnp.npy_intp, const float *, const float *, float *,
                                    const float *, const float *)
    ctypedef void (*fa_bwd_d_arr_t)(cnp.npy_intp, const double *, const double *, double *,
                                    const double *, const double *)
    # the loops by level and instruction set, which the per-channel path (PReLU) calls per block
    ctypedef struct fa_kernel:
        const char *name
        int nparams
        int keeps_int
        int has_backward_from_output
        fa_fwd_f_t fwd_f[FA_NLEVELS][FA_NISA]
        fa_fwd_d_t fwd_d[FA_NISA]
        fa_bwd_f_t bwd_f[FA_NLEVELS][FA_NISA]
        fa_bwd_d_t bwd_d[FA_NISA]
        fa_fwd_f_arr_t fwd_f_arr[FA_NLEVELS][FA_NISA]
        fa_fwd_d_arr_t fwd_d_arr[FA_NISA]
        fa_bwd_f_arr_t bwd_f_arr[FA_NLEVELS][FA_NISA]
        fa_bwd_d_arr_t bwd_d_arr[FA_NISA]
        fa_bwd_f_t bwo_f[FA_NLEVELS][FA_NISA]
        fa_bwd_d_t bwo_d[FA_NISA]
        fa_bwd_f_arr_t bwo_f_arr[FA_NLEVELS][FA_NISA]
        fa_bwd_d_arr_t bwo_d_arr[FA_NISA]
    ctypedef int fa_fp_status   # unsigned int (MXCSR) on x86, fexcept_t elsewhere
    fa_fp_status fa_fp_save()
    void fa_fp_restore(fa_fp_status saved)
    fa_kernel FA_KERNELS[]
    int FA_NKERNELS
    int FA_ISA_BUILT
    const char *FA_ISA_NAMES[]
    int fa_isa
    int fa_best_isa()
    const char *FA_LEVEL_NAMES[]
    int fa_level()
    int fa_get_thread_level()
    void fa_set_thread_level(int level)
    int fa_get_process_level()
    void fa_set_process_level(int level)
    void fa_forward_f(const fa_kernel *K, int level, cnp.npy_intp n, const float *x, float *y,
                      float p0, float p1)
    void fa_forward_d(const fa_kernel *K, int level, cnp.npy_intp n, const double *x, double *y,
                      double p0, double p1)
    void fa_backward_f(const fa_kernel *K, int level, int from_output, cnp.npy_intp n,
                       const float *g, const float *x, float *y, float p0, float p1)
    void fa_backward_d(const fa_kernel *K, int level, int from_output, cnp.npy_intp n,
                       const double *g, const double *x, double *y, double p0, double p1)
    double fa_negsum_f(cnp.npy_intp n, const float *g, const float *x, int per_element,
                       double w)
    double fa_negsum_d(cnp.npy_intp n, const double *g, const double *x, int per_element,
                       double w)
    void fa_negsums_f(cnp.npy_intp outer, cnp.npy_intp channels, cnp.npy_intp inner,
                      cnp.npy_intp c0, cnp.npy_intp c1, const float *g, const float *x,
                      const double *w, int per_element, double *sums)
    void fa_negsums_d(cnp.npy_intp outer, cnp.npy_intp channels, cnp.npy_intp inner,
                      cnp.npy_intp c0, cnp.npy_intp c1, const double *g, const double *x,
                      const double *w, int per_element, double *sums)
    enum:
        FA_GW_BLOCK
    cnp.PyUFuncGenericFunction FA_INT_RELU_LOOPS[]
    const char FA_INT_RELU_TYPES[]
    int FA_N_INT_RELU
    cnp.PyUFuncGenericFunction FA_FWD_LOOPS[]
    cnp.PyUFuncGenericFunction FA_BWD_LOOPS[]
    cnp.PyUFuncGenericFunction FA_BWO_LOOPS[]
    const char FA_FLOAT_TYPES[]
    const char FA_PARAM_TYPES[]
    void fa_run_fwd_f(int k, int level, cnp.npy_intp n, const float *x, float *y, float p0,
                      float p1)
    void fa_run_fwd_d(int k, int level, cnp.npy_intp n, const double *x, double *y, double p0,
                      double p1)
    void fa_run_bwd_f(int k, int level, int from_output, cnp.npy_intp n, const float *g,
                      const float *x, float *y, float p0, float p1)
    void fa_run_bwd_d(int k, int level, int from_output, cnp.npy_intp n, const double *g,
                      const double *x, double *y, double p0, double p1)
    int fa_pool_run(int threads, int k, int level, int backward, int from_output, int is_double,
                    cnp.npy_intp n, const void *g, const void *x, void *y, double p0, double p1)
    enum:
        FA_POOL_CHUNK_MIN
        FA_POOL_ALIGN
    ctypedef void (*fa_pool_fn)(const void *job, cnp.npy_intp i0, cnp.npy_intp m) noexcept nogil
    int fa_pool_run_fn(int threads, fa_pool_fn fn, const void *job, cnp.npy_intp n,
                       cnp.npy_intp chunk_min, cnp.npy_intp align)
    int fa_threads()
    long fa_pool_jobs()
    int fa_pool_workers()
    int fa_pool_last_threads()
    int fa_threads_process
    int fa_threads_cap
    int fa_threads_thread

# Below this many elements a call keeps the GIL: releasing and re-taking it costs about as much
# as the kernel itself (NumPy's own ufuncs use a threshold of 500 for the same reason).
cdef enum:
    GIL_RELEASE_MIN = 500
    MAX_KERNELS = 64     # size of the per-kernel threshold table below


# ---- instruction set -----------------------------------------------------------------------------

def _select_isa():
    """Use the widest instruction set the CPU has, or the lower one FASTACT_ISA asks for."""
    global fa_isa
    cdef int best = fa_best_isa()
    names = [FA_ISA_NAMES[i].decode() for i in range(FA_NISA)]
    wanted = os.environ.get("FASTACT_ISA", "").strip().lower()
    if not wanted:
        fa_isa = best
    elif wanted not in names:
        raise ValueError(f"fastact: FASTACT_ISA={wanted!r} is not one of {', '.join(names)}")
    elif names.index(wanted) >= FA_ISA_BUILT:
        raise ValueError(f"fastact: FASTACT_ISA={wanted!r} is not compiled in this build, which "
                         f"has {', '.join(built_isas())} only (no x86 dispatch)")
    elif names.index(wanted) > best:
        raise ValueError(f"fastact: FASTACT_ISA={wanted!r} asks for more than this CPU has "
                         f"(best: {names[best]})")
    else:
        fa_isa = names.index(wanted)


def isa():
    """Name of the instruction set the kernels run with: 'avx512', 'avx2' or 'baseline'."""
    return FA_ISA_NAMES[fa_isa].decode()


def built_isas():
    """The instruction-set levels this build compiled: all three on x86-64 with gcc, ('baseline',)
    elsewhere (aarch64, or a build with -DFASTACT_NO_X86_DISPATCH)."""
    return tuple(FA_ISA_NAMES[i].decode() for i in range(FA_ISA_BUILT))


_select_isa()

# ---- precision level -----------------------------------------------------------------------------

LEVELS = tuple(FA_LEVEL_NAMES[i].decode() for i in range(FA_NLEVELS))
"""Precision level names by index: ('fast', 'accurate')."""


def get_level():
    """Index of the precision level in force for calls from this thread."""
    return fa_level()


def get_thread_level():
    """This thread's own level, or -1 where it follows the process's."""
    return fa_get_thread_level()


def set_thread_level(int level):
    """Set this thread's level (-1: follow the process's); returns the one it replaces."""
    cdef int before = fa_get_thread_level()
    if not -1 <= level < FA_NLEVELS:
        raise ValueError(f"fastact: precision level {level} out of range")
    fa_set_thread_level(level)
    return before


def get_process_level():
    return fa_get_process_level()


def set_process_level(int level):
    if not 0 <= level < FA_NLEVELS:
        raise ValueError(f"fastact: precision level {level} out of range")
    fa_set_process_level(level)

# ---- the kernel table, as Python sees it ---------------------------------------------------------


Kernel = namedtuple("Kernel", ["name", "nparams", "keeps_int", "has_backward_from_output"])
Kernel.__doc__ = """One row of FASTACT_KERNELS (_kernels.h): the kernel's name, its number of scalar
parameters (p0, p1), whether its forward takes integer and bool inputs in their own dtype (relu),
and whether a backward that starts from the output y exists (SAME or OWN in the table)."""


KERNELS = tuple(Kernel(FA_KERNELS[k].name.decode(), FA_KERNELS[k].nparams,
                       bool(FA_KERNELS[k].keeps_int), bool(FA_KERNELS[k].has_backward_from_output))
                for k in range(FA_NKERNELS))
"""The C kernels, by index."""


# ---- ufunc twins ---------------------------------------------------------------------------------

cdef object _make_ufunc(int k, int direction, str name, str doc):
    """One ufunc: direction 0 (x, params...) -> y; 1 (grad_output, x, params...) -> grad_input;
    2 (grad_output, y, params...) -> grad_input, from the output y."""
    cdef fa_kernel *K = &FA_KERNELS[k]
    cdef bint backward = direction > 0
    cdef int nin = (2 if backward else 1) + K.nparams
    cdef int nint = FA_N_INT_RELU if (K.keeps_int and not backward) else 0
    cdef int ntypes = nint + 3, i, j
    cdef cnp.PyUFuncGenericFunction *float_loops = &FA_FWD_LOOPS[0]
    if direction == 1:
        float_loops = &FA_BWD_LOOPS[0]
    elif direction == 2:
        float_loops = &FA_BWO_LOOPS[0]
    # NumPy keeps these pointers for the ufunc's lifetime, which is the process's.
    cdef cnp.PyUFuncGenericFunction *funcs = <cnp.PyUFuncGenericFunction *>PyMem_RawMalloc(
        ntypes * sizeof(cnp.PyUFuncGenericFunction))
    cdef void **data = <void **>PyMem_RawMalloc(ntypes * sizeof(void *))
    cdef char *types = <char *>PyMem_RawMalloc(ntypes * (nin + 1))
    cdef bytes bname = name.encode(), bdoc = doc.encode()
    cdef char *cname = <char *>PyMem_RawMalloc(len(bname) + 1)
    cdef char *cdoc = <char *>PyMem_RawMalloc(len(bdoc) + 1)
    if not (funcs and data and types and cname and cdoc):
        raise MemoryError()
    memcpy(cname, <char *>bname, len(bname) + 1)   # bytes objects end in a NUL
    memcpy(cdoc, <char *>bdoc, len(bdoc) + 1)
    for i in range(ntypes):
        data[i] = K
        if i < nint:
            funcs[i] = FA_INT_RELU_LOOPS[i]
            for j in range(nin + 1):
                types[i * (nin + 1) + j] = FA_INT_RELU_TYPES[i]
        else:
            funcs[i] = float_loops[i - nint]
            for j in range(nin + 1):
                types[i * (nin + 1) + j] = FA_FLOAT_TYPES[i - nint]
            for j in range(nin - K.nparams, nin):     # the parameters, in the compute type
                types[i * (nin + 1) + j] = FA_PARAM_TYPES[i - nint]
    return cnp.PyUFunc_FromFuncAndData(funcs, data, types, ntypes, nin, 1, cnp.PyUFunc_None,
                                       cname, cdoc, 0)


def make_ufuncs(docs):
    """{name: ufunc} for every kernel and direction; docs maps those names to docstrings."""
    out = {}
    for k, kernel in enumerate(KERNELS):
        name = kernel.name
        directions = [(0, name), (1, name + "_backward")]
        if kernel.has_backward_from_output:
            directions.append((2, name + "_backward_from_output"))
        for direction, uname in directions:
            out[uname] = _make_ufunc(k, direction, uname, docs.get(uname, ""))
    return out


def entry_points():
    """Addresses of the C entry points the parallel path calls on contiguous blocks:
    fwd_f/fwd_d(k, level, n, x, y, p0, p1) and bwd_f/bwd_d(k, level, from_output, n, g, x, y, p0,
    p1)."""
    return {"fwd_f": <size_t>&fa_run_fwd_f, "fwd_d": <size_t>&fa_run_fwd_d,
            "bwd_f": <size_t>&fa_run_bwd_f, "bwd_d": <size_t>&fa_run_bwd_d}


def keeping_fp_flags(f, *args):
    """f(*args), leaving the caller's floating-point status flags as they were: NumPy clears them
    around every ufunc call, and the slow path makes several."""
    cdef fexcept_t saved
    fegetexceptflag(&saved, FE_ALL_EXCEPT)
    try:
        return f(*args)
    finally:
        fesetexceptflag(&saved, FE_ALL_EXCEPT)


# ---- threads -------------------------------------------------------------------------------------

def get_threads():
    """The thread count in force for calls from this thread (capped, see set_threads_cap)."""
    return fa_threads()


def set_process_threads(int n):
    global fa_threads_process
    fa_threads_process = n


def set_thread_threads(int n):
    """Set this thread's own count (0: none); returns the one it had."""
    global fa_threads_thread
    before = fa_threads_thread
    fa_threads_thread = n
    return before


def set_threads_cap(int n):
    """The most threads any call uses: the size of Numba's pool, which the large-array path is
    bound to."""
    global fa_threads_cap
    fa_threads_cap = n


# ---- the fast path -------------------------------------------------------------------------------

# Called with the same arguments (the level resolved to its index) when the fast path does not
# apply, and with (k, the value) when `precision` is not a plain str naming a level (it returns
# the level of a str subclass such as numpy.str_, else raises); set by
# fastact._ufunc_path.
cdef object _slow_forward = None
cdef object _slow_backward = None
cdef object _bad_precision = None
# Parameter checks, set by fastact._ufunc_path: called as (k, backward, is_float32, v0, v1) for the
# kernels with a domain (hardtanh's min_val <= max_val, celu's alpha != 0) and for a float32 call
# whose parameter overflows float32; raises the named ValueError, or returns.
cdef object _check_values = None
cdef bint _has_domain[MAX_KERNELS]
# The parallel paths, for contiguous arrays when more than one thread is in force: from
# _parallel_min[k][is_double] elements the worker pool (_pool.h), from _numba_min[k][is_double]
# Numba's, called as (k, level, is_double, n, x, y, p0, p1, threads) or (k, level, from_output,
# is_double, n, g, x, y, p0, p1, threads) with addresses; each returns True when it ran the kernel
# on several threads, False to run it here.
cdef object _parallel_forward = None
cdef object _parallel_backward = None
cdef cnp.npy_intp _parallel_min[MAX_KERNELS][2]
cdef cnp.npy_intp _numba_min[MAX_KERNELS][2]

if FA_NKERNELS > MAX_KERNELS:
    raise ImportError("fastact: more kernels than MAX_KERNELS in _kernels.pyx")


def set_slow_paths(forward, backward, bad_precision, check_values, domains):
    """domains: the kernel indices whose parameters _check_values must see on every call."""
    global _slow_forward, _slow_backward, _bad_precision, _check_values
    _slow_forward, _slow_backward, _bad_precision = forward, backward, bad_precision
    _check_values = check_values
    for k in range(MAX_KERNELS):
        _has_domain[k] = k in domains


# The last parameter values that passed a kernel's domain check, per kernel and compute type:
# parameters rarely change between calls, so the check (in Python, from the table) runs once per
# new value instead of costing a microsecond on every call. Read and written with the GIL held.
cdef double _passed[MAX_KERNELS][2][2]
cdef bint _passed_set[MAX_KERNELS][2]


cdef inline int _check_domain(int k, bint backward, bint is_float, double v0, double v1) except -1:
    if _passed_set[k][is_float] and _passed[k][is_float][0] == v0 and _passed[k][is_float][1] == v1:
        return 0
    _check_values(k, backward, is_float, v0, v1)
    _passed[k][is_float][0] = v0
    _passed[k][is_float][1] = v1
    _passed_set[k][is_float] = True
    return 0


cdef inline bint _overflows_f(double v) noexcept:
    """A finite double parameter beyond float32's largest, which float32 rounds to infinity.
    Compared as the magnitude's bits (NaN's lie above infinity's): a float comparison with a
    NaN parameter raised invalid in the caller's flags."""
    cdef uint64_t bits, flt_max_bits, inf_bits
    cdef double flt_max = FLT_MAX, inf = INFINITY
    memcpy(&bits, &v, sizeof(v))
    memcpy(&flt_max_bits, &flt_max, sizeof(v))
    memcpy(&inf_bits, &inf, sizeof(v))
    bits &= ~(<uint64_t>1 << 63)
    return flt_max_bits < bits < inf_bits


def set_parallel_paths(forward, backward, thresholds, numba_thresholds):
    """thresholds: {(kernel index, is_double): minimum elements for the parallel path};
    numba_thresholds: the same for Numba's path (missing: never)."""
    global _parallel_forward, _parallel_backward
    cdef int k, d
    for k in range(MAX_KERNELS):
        for d in range(2):
            _parallel_min[k][d] = thresholds.get((k, d), PY_SSIZE_T_MAX)
            _numba_min[k][d] = numba_thresholds.get((k, d), PY_SSIZE_T_MAX)
    _parallel_forward, _parallel_backward = forward, backward


set_parallel_paths(None, None, {}, {})


cdef bint _ran_parallel(int k, int level, bint backward, bint from_output, bint is_double,
                        cnp.npy_intp n, void *g, void *x, void *y, double v0,
                        double v1) except -1:
    """Ran kernel k on several threads (True), or left it to the caller (False)."""
    cdef int threads, ran
    if n < _parallel_min[k][is_double]:
        return False
    threads = fa_threads()
    if threads < 2:
        return False
    if n >= _numba_min[k][is_double]:
        if backward:
            return _parallel_backward(k, level, from_output, is_double, n, <size_t>g, <size_t>x,
                                      <size_t>y, v0, v1, threads)
        return _parallel_forward(k, level, is_double, n, <size_t>x, <size_t>y, v0, v1, threads)
    with nogil:
        ran = fa_pool_run(threads, k, level, backward, from_output, is_double, n, g, x, y, v0, v1)
    return ran != 0


def pool_stats():
    """(jobs the worker pool ran, workers it has started, threads allowed on the last job: the
    caller and the workers that may take chunks) in this process."""
    return fa_pool_jobs(), fa_pool_workers(), fa_pool_last_threads()


def pool_run(int k, int level, bint backward, bint from_output, bint is_double, cnp.npy_intp n,
             size_t g, size_t x, size_t y, double v0, double v1, int threads):
    """The worker pool alone (for fastact.tune): kernel k on n contiguous elements at these
    addresses on `threads` threads; False when it ran nothing (pool busy or n too small)."""
    cdef int ran
    with nogil:
        ran = fa_pool_run(threads, k, level, backward, from_output, is_double, n, <void *>g,
                          <void *>x, <void *>y, v0, v1)
    return ran != 0


cdef inline int _layout(cnp.ndarray a) noexcept:
    """1: C-contiguous, 2: Fortran-contiguous only, 0: neither, unaligned or byte-swapped (the C
    loops read native-order values; the ufunc path converts the others)."""
    if not (cnp.PyArray_ISALIGNED(a) and cnp.PyArray_ISNOTSWAPPED(a)):
        return 0
    if cnp.PyArray_IS_C_CONTIGUOUS(a):
        return 1
    if cnp.PyArray_IS_F_CONTIGUOUS(a):
        return 2
    return 0


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int i, nd = cnp.PyArray_NDIM(a)
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef inline bint _apart_or_same(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Both arrays have one shape and layout: their memory is the same or disjoint."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef cnp.npy_intp nbytes = cnp.PyArray_NBYTES(a)
    return pa == pb or pa + nbytes <= pb or pb + nbytes <= pa


cdef inline object _fast_out(cnp.ndarray like, int layout, object out):
    """The array to write: `out` if it fits the fast path exactly, a new one if out is None, else
    None (the slow path then checks `out` and says what is wrong)."""
    cdef cnp.ndarray o
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like),
                                 cnp.PyArray_TYPE(like), layout == 2)
    if type(out) is not cnp.ndarray:
        return None
    o = <cnp.ndarray>out
    if (cnp.PyArray_TYPE(o) != cnp.PyArray_TYPE(like) or _layout(o) != layout
            or not cnp.PyArray_ISWRITEABLE(o) or not _same_shape(o, like)):
        return None
    return o


cdef inline void _run_forward(const fa_kernel *K, int level, int t, cnp.npy_intp n, void *x,
                              void *y, double v0, double v1) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        fa_forward_f(K, level, n, <float *>x, <float *>y, <float>v0, <float>v1)
    else:
        fa_forward_d(K, level, n, <double *>x, <double *>y, v0, v1)


cdef inline void _run_backward(const fa_kernel *K, int level, int from_output, int t,
                               cnp.npy_intp n, void *g, void *x, void *y, double v0,
                               double v1) noexcept nogil:
    if t == cnp.NPY_FLOAT:
        fa_backward_f(K, level, from_output, n, <float *>g, <float *>x, <float *>y, <float>v0,
                      <float>v1)
    else:
        fa_backward_d(K, level, from_output, n, <double *>g, <double *>x, <double *>y, v0, v1)


cdef inline int _lane_level(object precision) noexcept:
    """The level `precision` names, None or a plain str naming a level, else -1."""
    if precision is None:
        return fa_level()
    if type(precision) is str:
        if precision == "fast":
            return 0
        if precision == "accurate":
            return 1
    return -1


cdef inline int _level_of(int k, object precision) except -2:
    """The level a call of kernel k asked for: None is the one in force, else a level's name."""
    cdef int level = _lane_level(precision)
    if level >= 0:
        return level
    return _bad_precision(k, precision)     # a str subclass's level, else a named ValueError


def forward(int k, x, out, p0, p1, precision=None):
    """Forward kernel k on x with scalar parameters p0, p1 (fast path, else the slow path), at
    the precision level named by `precision` (None: the one in force)."""
    cdef cnp.ndarray a, o
    cdef int t, layout
    cdef double v0, v1
    cdef int level = _level_of(k, precision)
    if type(x) is cnp.ndarray:
        a = <cnp.ndarray>x
        t = cnp.PyArray_TYPE(a)
        layout = _layout(a)
        if (t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) and layout and cnp.PyArray_NDIM(a):
            try:
                v0, v1 = p0, p1
            except (TypeError, OverflowError):   # the slow path says what is wrong
                return _slow_forward(k, x, out, p0, p1, level)
            if t == cnp.NPY_FLOAT and (_overflows_f(v0) or _overflows_f(v1)):
                _check_values(k, False, True, v0, v1)
            if _has_domain[k]:
                _check_domain(k, False, t == cnp.NPY_FLOAT, v0, v1)
            o = _fast_out(a, layout, out)
            if o is not None and _apart_or_same(a, o):
                return _forward_into(k, level, t, a, o, v0, v1)
    return _slow_forward(k, x, out, p0, p1, level)


cdef object _forward_into(int k, int level, int t, cnp.ndarray a, cnp.ndarray o, double v0,
                          double v1):
    """forward's fast path once its checks have passed: kernel k from a into o, returns o."""
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(a)
    cdef fa_kernel *K = &FA_KERNELS[k]
    if _ran_parallel(k, level, False, False, t == cnp.NPY_DOUBLE, n, NULL, cnp.PyArray_DATA(a),
                     cnp.PyArray_DATA(o), v0, v1):
        return o
    if n < GIL_RELEASE_MIN:
        _run_forward(K, level, t, n, cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1)
    else:
        with nogil:
            _run_forward(K, level, t, n, cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1)
    return o


def backward(int k, grad_output, x, out, p0, p1, bint from_output=False, precision=None):
    """Backward kernel k: grad_output * f'(x), fast path when both are alike and contiguous.
    With from_output, x is the forward's output y and the kernel's from-output formula runs."""
    cdef cnp.ndarray g, a, o
    cdef int t, layout
    cdef double v0, v1
    cdef fa_kernel *K = &FA_KERNELS[k]
    cdef int level = _level_of(k, precision)
    if from_output and not K.has_backward_from_output:    # its bwo loops are NULL
        raise ValueError(f"fastact: kernel {K.name.decode()} has no backward from the output")
    if type(x) is cnp.ndarray and type(grad_output) is cnp.ndarray:
        a = <cnp.ndarray>x
        g = <cnp.ndarray>grad_output
        t = cnp.PyArray_TYPE(a)
        layout = _layout(a)
        if ((t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) and layout and cnp.PyArray_NDIM(a)
                and cnp.PyArray_TYPE(g) == t and _layout(g) == layout and _same_shape(g, a)):
            try:
                v0, v1 = p0, p1
            except (TypeError, OverflowError):   # the slow path says what is wrong
                return _slow_backward(k, grad_output, x, out, p0, p1, from_output, level)
            if t == cnp.NPY_FLOAT and (_overflows_f(v0) or _overflows_f(v1)):
                _check_values(k, True, True, v0, v1)
            if _has_domain[k]:
                _check_domain(k, True, t == cnp.NPY_FLOAT, v0, v1)
            o = _fast_out(a, layout, out)
            if o is not None and _apart_or_same(a, o) and _apart_or_same(g, o):
                return _backward_into(k, level, from_output, t, g, a, o, v0, v1)
    return _slow_backward(k, grad_output, x, out, p0, p1, from_output, level)


cdef object _backward_into(int k, int level, bint from_output, int t, cnp.ndarray g,
                           cnp.ndarray a, cnp.ndarray o, double v0, double v1):
    """backward's fast path once its checks have passed: into o, returns o."""
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(a)
    cdef fa_kernel *K = &FA_KERNELS[k]
    if _ran_parallel(k, level, True, from_output, t == cnp.NPY_DOUBLE, n, cnp.PyArray_DATA(g),
                     cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1):
        return o
    if n < GIL_RELEASE_MIN:
        _run_backward(K, level, from_output, t, n, cnp.PyArray_DATA(g), cnp.PyArray_DATA(a),
                      cnp.PyArray_DATA(o), v0, v1)
    else:
        with nogil:
            _run_backward(K, level, from_output, t, n, cnp.PyArray_DATA(g), cnp.PyArray_DATA(a),
                          cnp.PyArray_DATA(o), v0, v1)
    return o


# ---- PReLU: a one-parameter kernel with the parameter per channel --------------------------------

ctypedef fused real:
    float
    double

# Channels shorter than WIDE_BELOW elements run through the loops that take the parameter as an
# array beside x, with the weight repeated once per element over at least WIDE_SPAN elements
# (whole rows of C channels), one call per WIDE_SPAN elements or more; longer channels run one
# call of the scalar-parameter loop each, as do channels of WIDE_ALONE or more elements in a
# single row (x of shape (1, C, L)), where filling the repeated weight costs what it saves.
# Measured on one Zen 5 core, 65,536 float32 in (N, 8, L): repeated weight 3.3-4.7 us for L =
# 8..64, 3.0 at 128, 2.9 at 256; per channel 21, 11.7, 12.5, 8.8 us for L = 8, 16, 32, 64, 4.0
# at 128, 2.6 at 256 (about 5 ns a call); 4,096 in (1, 64, 64): 0.55 us against 0.51 per channel.
# From WIDE_BIG_FROM elements on, WIDE_BIG_SPAN: filling the longer repeated weight costs less
# than the calls it saves (session 7, the same core: (4096, 64, 4) float32 279 -> 100 us,
# (1024, 64) 4.6 -> 3.4 us; (100, 10) 0.44 -> 0.55 us with the longer span, so not below).
cdef enum:
    WIDE_BELOW = 128
    WIDE_ALONE = 16
    WIDE_SPAN = 256
    WIDE_BIG_FROM = 16384
    WIDE_BIG_SPAN = 1024
    WIDE_LOCAL = 1024   # doubles on the stack for the repeated weight (malloc beyond)


cdef inline cnp.npy_intp _span(cnp.ndarray a, int first, int last) noexcept:
    """The product of a's dimensions first..last-1."""
    cdef cnp.npy_intp n = 1
    cdef int i
    for i in range(first, last):
        n *= cnp.PyArray_DIMS(a)[i]
    return n


# The per-channel path's work as a job for the worker pool (_pool.h): _channels_part runs the
# forward or grad_input on a range of x's elements (flattened), _grad_weight_part grad_weight on a
# range of channels. The serial path runs the same functions on the whole range, so any split
# gives the same bits: the elementwise loops give each element the same bits wherever a call
# starts or ends (leaky_relu's product is one rounding, vector lane or scalar tail alike), and
# each channel's sum runs in one thread, in the serial order.
ctypedef struct _ChannelJob:
    const fa_kernel *K
    int level
    bint backward, from_output, is_double
    cnp.npy_intp outer, channels, inner
    const void *g
    const void *x
    void *y
    const void *w
    const void *wide    # w[c] repeated, `rows` rows (see _wide_weight), or NULL (rows 0)
    cnp.npy_intp rows
    const double *w64   # the weight in float64, for grad_weight
    double *total       # grad_weight's sums
    double *blocks      # the sum of each channel block, where one pass makes both (_fused_part)
    bint divide_once    # grad_weight from a float32 output: sum g * y, divide by w[c] once
    cnp.npy_intp block_rows, stride     # _row_blocks_part: rows per block, doubles per block
    cnp.npy_intp pieces     # _fused_span: pieces of a channel block (of FA_GW_BLOCK elements)
    double *scratch     # WIDE_LOCAL doubles for small calls' block sums (the unused stack
    # buffer of the repeated weight, which j.rows 0 leaves free)


cdef void _channels_span(const _ChannelJob *j, cnp.npy_intp i0, cnp.npy_intp m, const real *g,
                         const real *x, real *y, const real *w, const real *wide) noexcept nogil:
    """The per-channel forward (backward where j.backward) on elements [i0, i0 + m) of x viewed
    as (outer, channels, inner), C order, flattened. With the repeated weight (j.rows > 0), calls
    of the array loop on up to j.rows rows each, the first from wherever i0 falls in a row; else
    one call of the scalar-parameter loop per channel block (the parts of the first and last
    blocks in range). The second parameter, unused by a one-parameter kernel, is 0 (the array
    loop reads `wide`). On [0, n) these are the calls of the serial path before the pool ran it
    (session 8), one per j.rows rows or per channel block."""
    cdef cnp.npy_intp at = i0, end = i0 + m, row = j.channels * j.inner, n, s, c, off
    if m <= 0:
        return
    if j.rows > 0:
        off = i0 % row if i0 else 0     # where i0 falls in the repeated weight; then 0
        while at < end:
            n = min(end - at, j.rows * row - off)
            if real is float and j.backward:
                j.K.bwd_f_arr[j.level][fa_isa](n, g + at, x + at, y + at, wide + off, wide + off)
            elif real is float:
                j.K.fwd_f_arr[j.level][fa_isa](n, x + at, y + at, wide + off, wide + off)
            elif j.backward:
                j.K.bwd_d_arr[fa_isa](n, g + at, x + at, y + at, wide + off, wide + off)
            else:
                j.K.fwd_d_arr[fa_isa](n, x + at, y + at, wide + off, wide + off)
            at += n
            off = 0
        return
    s = c = 0               # the channel block at i0, and its channel
    if i0:
        s = i0 // j.inner
        c = s % j.channels
    while at < end:
        n = min(end, (s + 1) * j.inner) - at
        if real is float and j.backward:
            j.K.bwd_f[j.level][fa_isa](n, g + at, x + at, y + at, w[c], 0)
        elif real is float:
            j.K.fwd_f[j.level][fa_isa](n, x + at, y + at, w[c], 0)
        elif j.backward:
            j.K.bwd_d[fa_isa](n, g + at, x + at, y + at, w[c], 0)
        else:
            j.K.fwd_d[fa_isa](n, x + at, y + at, w[c], 0)
        at += n
        s += 1
        c += 1
        if c == j.channels:
            c = 0


cdef void _channels_part(const void *job, cnp.npy_intp i0, cnp.npy_intp m) noexcept nogil:
    """_channels_span in x's dtype (a fa_pool_fn). PReLU runs the backward on the output y too:
    y and x have the same sign when every weight is positive, as the general path does."""
    cdef const _ChannelJob *j = <const _ChannelJob *>job
    if j.is_double:
        _channels_span(j, i0, m, <const double *>j.g, <const double *>j.x, <double *>j.y,
                       <const double *>j.w, <const double *>j.wide)
    else:
        _channels_span(j, i0, m, <const float *>j.g, <const float *>j.x, <float *>j.y,
                       <const float *>j.w, <const float *>j.wide)


cdef inline double _negative_part(real g, double x) noexcept nogil:
    """g * x where x <= 0 or NaN, else +0, in float64, as fa_negpart_* (_loops.h) forms it: the
    product's bits masked (a select would be a branch, which random signs mispredict)."""
    cdef double p = <double>g * x
    cdef uint64_t bits
    memcpy(&bits, &p, sizeof(p))
    bits &= <uint64_t>(x > 0) - 1     # all ones where x <= 0 or NaN, else 0
    memcpy(&p, &bits, sizeof(p))
    return p


cdef inline double _block_total(bint from_output, cnp.npy_intp n, const real *g, const real *x,
                                double w) noexcept nogil:
    """One channel block's grad_weight term: the sum of g * x over its x <= 0 and NaN x (x = y / w
    from the output y where from_output), in C on the instruction set in use, the same bits on
    every one (fa_negsum_*, _loops.h: 16 accumulators added pairwise, 4 for blocks shorter than
    16). It replaced a sum on four accumulators compiled here, in SSE2 (0.30 ns an element for
    float32, 0.59 for float64, on one Zen 5 core, where the C sum reads memory as fast as it comes:
    0.18 and 0.45 at 4M elements)."""
    if real is float:
        return fa_negsum_f(n, g, x, from_output, w)
    else:
        return fa_negsum_d(n, g, x, from_output, w)


cdef inline bint _finite(const double *w, cnp.npy_intp n) noexcept nogil:
    """The n values at w, all > 0, are finite."""
    cdef cnp.npy_intp i
    for i in range(n):
        if w[i] == INFINITY:
            return False
    return True


cdef enum:
    GW_LOCAL = 256      # channels' sums on the stack (malloc beyond)
    GW_PAD = 8          # doubles either side of a malloc'd buffer: a cache line of its own


cdef void _channels_grad_weight(bint from_output, cnp.npy_intp outer, cnp.npy_intp channels,
                                cnp.npy_intp inner, cnp.npy_intp c0, cnp.npy_intp c1,
                                const real *g, const real *x, const double *w,
                                double *sums) noexcept nogil:
    """sums[c - c0] (zeros on entry) for the channels c0 <= c < c1 = sum of g * x over the
    x <= 0 and NaN x of channel c, in float64 (x = y / w[c] from the output y, every w[c] > 0).
    Each (outer, channel) block is summed as _block_total sums one, then added to its channel's
    sum in the order of outer (one element each for (N, C): the channels' sums side by side):
    the order differs from NumPy's blocks in the general path, so the sums may differ in the
    last bits, but not with c0, c1 (the pool may split the channels). A block longer than
    FA_GW_BLOCK is summed in pieces of FA_GW_BLOCK elements from its start, added in order, so
    that the backward's one pass (_fused) can share them out among threads and add them in the
    same order: one slope's (1, 1, n) is a single block. All of it in C (fa_negsums_*,
    _loops.h), on the instruction set in use. The zeros for x > 0 change no sum (they start at
    +0, which no addition turns into -0)."""
    cdef cnp.npy_intp o, c, at
    if from_output and real is float and _finite(w, channels):
        # float32 g and y: g * y is exact in float64, so summing it over the y <= 0 (the x <= 0,
        # w[c] being > 0) and dividing once by w[c] is the same sum with one rounding fewer per
        # term, and without a division per element (68 -> 20 us for 65,536 elements); the
        # result may differ from the general path's in the last bits, within the bound tests
        # hold it to. float64 keeps the division per element: g * y may overflow where
        # g * (y / w) does not. Every channel's weight decides, whatever c0, c1.
        _channels_grad_weight(False, outer, channels, inner, c0, c1, g, x, w, sums)
        for c in range(c0, c1):
            sums[c - c0] = sums[c - c0] / w[c]
        return
    if inner == 1 and c1 - c0 < 16:
        # (N, C) with few channels: the same additions as fa_negsums_* makes, here, where the
        # C call's vector code cost small calls 0.03-0.08 us ((4, 4), (100, 10) float32)
        for o in range(outer):
            at = o * channels
            if from_output:
                for c in range(c0, c1):
                    sums[c - c0] += _negative_part(g[at + c], x[at + c] / w[c])
            else:
                for c in range(c0, c1):
                    sums[c - c0] += _negative_part(g[at + c], <double>x[at + c])
        return
    if real is float:
        fa_negsums_f(outer, channels, inner, c0, c1, g, x, w, from_output, sums)
    else:
        fa_negsums_d(outer, channels, inner, c0, c1, g, x, w, from_output, sums)


cdef inline void _grad_weight_into(const _ChannelJob *j, cnp.npy_intp c0, cnp.npy_intp m,
                                   double *sums) noexcept nogil:
    """_channels_grad_weight for the channels [c0, c0 + m), in x's dtype."""
    if j.is_double:
        _channels_grad_weight(j.from_output, j.outer, j.channels, j.inner, c0, c0 + m,
                              <const double *>j.g, <const double *>j.x, j.w64, sums)
    else:
        _channels_grad_weight(j.from_output, j.outer, j.channels, j.inner, c0, c0 + m,
                              <const float *>j.g, <const float *>j.x, j.w64, sums)


cdef void _grad_weight_part(const void *job, cnp.npy_intp c0, cnp.npy_intp m) noexcept nogil:
    """_grad_weight_into j.total (zeros on entry) as a chunk of the pool's (a fa_pool_fn): the
    sums grow in this thread's own buffer, then are copied to j.total (the same bits: +0 plus
    the sum), since chunks of channels side by side in j.total would share its cache lines,
    written at every row of (N, C)."""
    cdef const _ChannelJob *j = <const _ChannelJob *>job
    cdef double local[GW_LOCAL]
    cdef double *block = NULL
    cdef double *sums = &local[0]
    cdef cnp.npy_intp c
    if m > GW_LOCAL:
        block = <double *>calloc(m + 2 * GW_PAD, sizeof(double))
        if block == NULL:   # sum in place
            sums = j.total + c0
        else:
            sums = block + GW_PAD
    else:
        for c in range(m):
            local[c] = 0.0
    _grad_weight_into(j, c0, m, sums)
    if sums != j.total + c0:
        memcpy(j.total + c0, sums, m * sizeof(double))
    free(block)


cdef inline bint _apart(cnp.ndarray a, cnp.ndarray b) noexcept:
    """The bytes of contiguous arrays a and b do not overlap."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    return pa + cnp.PyArray_NBYTES(a) <= pb or pb + cnp.PyArray_NBYTES(b) <= pa


cdef inline bint _fits_channels(cnp.ndarray a, int t) noexcept:
    return cnp.PyArray_TYPE(a) == t and _layout(a) == 1


cdef object _channel_operands(cnp.ndarray x, object weight, int axis, int *t,
                              cnp.npy_intp *dims):
    """The weight as an array for the per-channel path, with x's dtype in t and its (outer,
    channels, inner) in dims, or None where that path does not take x and weight as they are."""
    cdef cnp.ndarray w
    t[0] = cnp.PyArray_TYPE(x)
    if type(weight) is not cnp.ndarray or not (t[0] == cnp.NPY_FLOAT or t[0] == cnp.NPY_DOUBLE):
        return None
    w = <cnp.ndarray>weight
    if not (_fits_channels(x, t[0]) and _fits_channels(w, t[0])
            and 0 <= axis < cnp.PyArray_NDIM(x)):
        return None
    dims[0] = _span(x, 0, axis)
    dims[1] = cnp.PyArray_DIMS(x)[axis]
    dims[2] = _span(x, axis + 1, cnp.PyArray_NDIM(x))
    if cnp.PyArray_SIZE(w) != dims[1]:
        return None
    return w


cdef void *_wide_weight(const void *w, int t, const cnp.npy_intp *dims, cnp.npy_intp *rows,
                        double *local) noexcept:
    """For channels shorter than WIDE_BELOW (WIDE_ALONE in a single row): w[c] repeated inner
    times per channel, for the `rows` rows that make WIDE_SPAN elements (WIDE_BIG_SPAN from
    WIDE_BIG_FROM elements of x on; no more rows than x has), in `local` (WIDE_LOCAL doubles)
    where it fits, else malloc'd, or w itself where that is one row of one-element channels;
    else NULL and rows 0 (per-channel calls)."""
    cdef cnp.npy_intp c, i, size = 4 if t == cnp.NPY_FLOAT else 8
    cdef cnp.npy_intp row = dims[1] * dims[2]
    cdef cnp.npy_intp span = WIDE_BIG_SPAN if dims[0] * row >= WIDE_BIG_FROM else WIDE_SPAN
    cdef char *wide
    rows[0] = 0
    if dims[2] >= WIDE_BELOW or row == 0 or (dims[0] == 1 and dims[2] >= WIDE_ALONE):
        return NULL
    rows[0] = max(1, min(dims[0], (span + row - 1) // row))
    if rows[0] == 1 and dims[2] == 1:
        return <void *>w
    if rows[0] * row * size <= <cnp.npy_intp>(WIDE_LOCAL * sizeof(double)):
        wide = <char *>local
    else:
        wide = <char *>malloc(rows[0] * row * size)
    if wide == NULL:
        rows[0] = 0
        return NULL
    for c in range(dims[1]):
        for i in range(dims[2]):
            if t == cnp.NPY_FLOAT:
                (<float *>wide)[c * dims[2] + i] = (<const float *>w)[c]
            else:
                (<double *>wide)[c * dims[2] + i] = (<const double *>w)[c]
    for i in range(1, rows[0]):
        memcpy(wide + i * row * size, wide, row * size)
    return wide


# grad_weight's chunks on the pool are whole channels, of rows' parts from GW_LINE bytes on, in
# multiples of that (where a row starts on a cache line, so do the chunks' parts: no two threads
# read a line of (N, C) columns)
cdef enum:
    GW_LINE = 64
# The backward's grad_weight sum costs about 6x its elementwise loop (119 against 20 us for
# 262,144 float32 in (64, 64, 64), one Zen 5 core), so the pool pays from a smaller size than
# leaky_relu's threshold: on two threads, 1.4-1.8x serial at 32,768 elements in (8, 64, 64) and
# (512, 64), float32 and float64 alike; 1.0-1.7x at 16,384 (session 8, the same machine).
cdef enum:
    BACKWARD_POOL_MIN = 32768


cdef void _fused_span(const _ChannelJob *j, cnp.npy_intp s0, cnp.npy_intp m, const real *g,
                      const real *x, real *y, const real *w) noexcept nogil:
    """For each piece s0 <= s < s0 + m (piece s % pieces of channel block b = s // pieces,
    channel b % channels of outer index b // channels; pieces of FA_GW_BLOCK elements from the
    block's start): its grad_weight term sum into j.blocks[s], summed as _channels_grad_weight
    sums a piece, then its grad_input, while the piece is in the cache (one pass over g and x
    instead of two; out may be x or g: each piece is read before it is written)."""
    cdef cnp.npy_intp s, b, at, c, n
    cdef bint per_element = j.from_output and not j.divide_once
    for s in range(s0, s0 + m):
        b = s // j.pieces
        c = b % j.channels
        at = b * j.inner + (s - b * j.pieces) * FA_GW_BLOCK
        n = min(FA_GW_BLOCK, (b + 1) * j.inner - at)
        j.blocks[s] = _block_total(per_element, n, g + at, x + at, j.w64[c])
        _channels_span(j, at, n, g, x, y, w, NULL)     # j.rows is 0 here


cdef void _fused_part(const void *job, cnp.npy_intp s0, cnp.npy_intp m) noexcept nogil:
    """_fused_span in x's dtype (a fa_pool_fn)."""
    cdef const _ChannelJob *j = <const _ChannelJob *>job
    if j.is_double:
        _fused_span(j, s0, m, <const double *>j.g, <const double *>j.x, <double *>j.y,
                    <const double *>j.w)
    else:
        _fused_span(j, s0, m, <const float *>j.g, <const float *>j.x, <float *>j.y,
                    <const float *>j.w)


cdef void _row_blocks_part(const void *job, cnp.npy_intp b0, cnp.npy_intp m) noexcept nogil:
    """For each row block b0 <= b < b0 + m (j.block_rows rows of x from row b * j.block_rows):
    its grad_weight per channel into j.blocks + b * j.stride (zeros on entry), summed as
    _channels_grad_weight sums rows, then its grad_input, while the block is in the cache (a
    fa_pool_fn)."""
    cdef const _ChannelJob *j = <const _ChannelJob *>job
    cdef cnp.npy_intp b, rows, at, row = j.channels * j.inner
    cdef bint per_element = j.from_output and not j.divide_once
    for b in range(b0, b0 + m):
        rows = min(j.block_rows, j.outer - b * j.block_rows)
        at = b * j.block_rows * row
        if j.is_double:
            _channels_grad_weight(per_element, rows, j.channels, j.inner, 0, j.channels,
                                  <const double *>j.g + at, <const double *>j.x + at, j.w64,
                                  j.blocks + b * j.stride)
        else:
            _channels_grad_weight(per_element, rows, j.channels, j.inner, 0, j.channels,
                                  <const float *>j.g + at, <const float *>j.x + at, j.w64,
                                  j.blocks + b * j.stride)
        _channels_part(job, at, rows * row)


cdef bint _fused(_ChannelJob *j, int threads) noexcept nogil:
    """grad_weight and grad_input in one pass over g and x: where channels are long (one loop
    call per channel block, j.rows 0), by channel blocks in pieces of FA_GW_BLOCK elements (one
    slope's x is one block), each piece's sum then added to its channel's in the order of outer
    and of the pieces, as _channels_grad_weight adds them (the same bits as summing in place);
    else by blocks of whole rows (FA_GW_BLOCK elements or more, 64 elements of
    each channel or more), each block's sums (in _channels_grad_weight's order) then added per
    channel in the order of the blocks: the blocks depend on x's shape alone, so the bits do not
    depend on the threads (they differ from one sum over every row in the last bits, within the
    bound tests hold grad_weight to), and one block sums in place, as before. False, having
    done nothing, where it does not apply (no grad_input) or its buffer cannot be had."""
    cdef cnp.npy_intp c, b, piece, nblocks, n = j.outer * j.channels * j.inner
    cdef cnp.npy_intp row = j.channels * j.inner
    cdef void *buffer = NULL
    cdef fa_pool_fn part = _fused_part
    cdef cnp.npy_intp least
    if j.y == NULL or n == 0:
        return False
    j.divide_once = j.from_output and not j.is_double and _finite(j.w64, j.channels)
    if j.rows == 0:
        j.pieces = (j.inner + FA_GW_BLOCK - 1) // FA_GW_BLOCK
        nblocks = j.outer * j.channels * j.pieces
        piece = min(j.inner, FA_GW_BLOCK)
        least = (FA_POOL_CHUNK_MIN + piece - 1) // piece
        if nblocks <= WIDE_LOCAL:
            j.blocks = j.scratch
        else:
            buffer = malloc(nblocks * sizeof(double))
            j.blocks = <double *>buffer
    else:
        part = _row_blocks_part
        # rows per block: FA_GW_BLOCK elements, and 64 rows' worth of a channel's elements at
        # least, so the blocks' sums take no more than 1/64 of x's elements
        j.block_rows = max((FA_GW_BLOCK + row - 1) // row, (64 + j.inner - 1) // j.inner)
        nblocks = (j.outer + j.block_rows - 1) // j.block_rows
        least = 1
        if nblocks == 1:
            j.blocks, j.stride = j.total, 0
        else:
            j.stride = (j.channels + 7) // 8 * 8     # each block's sums on their own lines
            buffer = calloc(nblocks * j.stride + 8, sizeof(double))
            j.blocks = <double *>((<size_t>buffer + 63) // 64 * 64)
    if j.blocks == NULL:
        return False
    if threads < 2 or not fa_pool_run_fn(threads, part, j, nblocks, least, 1):
        part(j, 0, nblocks)
    if j.rows == 0:     # in the order of outer, then of the pieces, as _channels_grad_weight
        for b in range(nblocks):
            j.total[b // j.pieces % j.channels] += j.blocks[b]
    elif nblocks > 1:
        for b in range(nblocks):
            for c in range(j.channels):
                j.total[c] += j.blocks[b * j.stride + c]
    if j.divide_once:
        for c in range(j.channels):
            j.total[c] = j.total[c] / j.w64[c]
    free(buffer)
    j.blocks = NULL
    return True


cdef void _channels(_ChannelJob *j, int threads) noexcept nogil:
    """The per-channel forward, or grad_weight into j.total then the backward (j.y NULL:
    grad_weight only), on `threads` threads through the pool where it takes the job, else (one
    thread, too few elements, the pool busy) serially, with the same bits; keeping the caller's
    floating-point flags (the kernels may raise flags that mean nothing, _kernels.h; a worker's
    flags are its own)."""
    cdef fa_fp_status saved = fa_fp_save()
    cdef cnp.npy_intp n = j.outer * j.channels * j.inner, per = j.outer * j.inner
    cdef cnp.npy_intp least = 1, line = 1, c
    if n == 0:
        threads = 1
    # one pass for the backward; the two below for one block of rows (the same bits: 35 ns
    # less a call at 16 elements) and where _fused's buffer cannot be had
    if not (j.backward and (j.rows == 0 or n > FA_GW_BLOCK) and _fused(j, threads)):
        if j.backward:
            # grad_weight first: out may be x or grad_output, which grad_input overwrites
            if threads >= 2:
                line = max(1, GW_LINE // (j.inner * (8 if j.is_double else 4)))
                least = max((FA_POOL_CHUNK_MIN + per - 1) // per, line)
            if threads < 2 or not fa_pool_run_fn(threads, _grad_weight_part, j, j.channels,
                                                 least, line):
                _grad_weight_into(j, 0, j.channels, j.total)
        if j.y != NULL and (threads < 2 or not fa_pool_run_fn(threads, _channels_part, j, n,
                                                              FA_POOL_CHUNK_MIN, FA_POOL_ALIGN)):
            _channels_part(j, 0, n)
    if j.backward:
        # a NaN sum as the one quiet NaN: which NaN an addition of two gives depends on the
        # operands' order, which the compiler's vector and scalar code (split by the arrays'
        # alignment) choose differently; whether it is NaN does not
        for c in range(j.channels):
            if j.total[c] != j.total[c]:
                j.total[c] = NAN
    fa_fp_restore(saved)


cdef object _run_channels(int k, int level, bint backward, bint from_output, int t,
                          const cnp.npy_intp *dims, cnp.ndarray g, cnp.ndarray x, cnp.ndarray y,
                          cnp.ndarray w, cnp.ndarray total, double slope=0):
    """_channels on these arrays (g and total None for the forward; w None: the scalar weight
    `slope` of one channel, dims (1, 1, n), y None for grad_weight alone), the GIL released from
    GIL_RELEASE_MIN elements on, on the threads in force from kernel k's pool threshold on
    (leaky_relu's: the same loops), the backward from an eighth of it, no lower than
    BACKWARD_POOL_MIN."""
    cdef _ChannelJob j
    cdef double *w64 = &slope
    cdef float slope32 = <float>slope      # the loops' parameter in float32
    cdef cnp.npy_intp c, least, n = cnp.PyArray_SIZE(x)
    cdef int threads = 1
    cdef double local[WIDE_LOCAL]    # the repeated weight of small calls (malloc costs 30 ns)
    cdef double local64[WIDE_SPAN]
    j.K = &FA_KERNELS[k]
    j.level, j.backward, j.from_output = level, backward, from_output
    j.is_double = t == cnp.NPY_DOUBLE
    j.outer, j.channels, j.inner = dims[0], dims[1], dims[2]
    j.g = NULL if g is None else cnp.PyArray_DATA(g)
    j.x = cnp.PyArray_DATA(x)
    j.y = NULL if y is None else cnp.PyArray_DATA(y)
    if w is not None:
        j.w = cnp.PyArray_DATA(w)
    else:
        j.w = <void *>&slope if j.is_double else <void *>&slope32
    j.total = NULL if total is None else <double *>cnp.PyArray_DATA(total)
    j.wide, j.rows, j.blocks, j.scratch = NULL, 0, NULL, &local[0]
    if backward and w is not None:
        if dims[1] <= WIDE_SPAN:
            w64 = &local64[0]
        else:
            w64 = <double *>malloc(dims[1] * sizeof(double))
        if w64 == NULL:
            raise MemoryError()
        for c in range(dims[1]):
            w64[c] = (<float *>j.w)[c] if t == cnp.NPY_FLOAT else (<double *>j.w)[c]
    j.w64 = w64
    if w is not None:
        j.wide = _wide_weight(j.w, t, dims, &j.rows, &local[0])
    least = _parallel_min[k][j.is_double]
    if backward:
        least = max(BACKWARD_POOL_MIN, least // 8)
    if n >= least:
        threads = fa_threads()
    if n < GIL_RELEASE_MIN:
        _channels(&j, threads)
    else:
        with nogil:
            _channels(&j, threads)
    if j.wide != j.w and j.wide != <void *>&local[0]:
        free(<void *>j.wide)
    if w64 != &slope and w64 != &local64[0]:
        free(w64)


def prelu_forward(int k, x, out, weight, int axis, int level):
    """Kernel k (one parameter) on x with the parameter weight[c] along axis c, x viewed as
    (outer, channels, inner) in C order (short channels by rows, see _wide_weight), or None where
    this path does not apply: x and weight (1-D, one element per channel) C-contiguous float32 or
    float64 of one dtype, `out` None or fitting exactly. At every size (the ufunc path it spares
    runs on one thread, and 25x slower: 471 against 19 us for 262,144 float32 on one Zen 5
    core); on the worker pool from leaky_relu's threshold on (_run_channels)."""
    cdef cnp.ndarray a, w
    cdef int t
    cdef cnp.npy_intp dims[3]
    if type(x) is not cnp.ndarray:
        return None
    a = <cnp.ndarray>x
    w = _channel_operands(a, weight, axis, &t, dims)
    if w is None:
        return None
    return _forward_channels(k, level, t, dims, a, w, out)


cdef object _forward_channels(int k, int level, int t, const cnp.npy_intp *dims, cnp.ndarray a,
                              cnp.ndarray w, object out):
    """The per-channel forward of a (its t and dims from _channel_operands) into out (None: a
    new array), or None where out does not fit exactly or overlaps x or the weight (prelu_call
    reads the caller's weight in place). prelu_forward and prelu_call end here."""
    cdef cnp.ndarray o = _fast_out(a, 1, out)
    if o is None or not (_apart_or_same(a, o) and _apart(w, o)):
        return None
    _run_channels(k, level, False, False, t, dims, None, a, o, w, None)
    return o


def prelu_backward(int k, grad_output, x, out, weight, int axis, bint from_output, int level):
    """(grad_input, grad_weight as float64 per channel) for kernel k with the parameter
    weight[c] along axis, as prelu_forward does it (x is the output y where from_output), or
    None where this path does not apply (grad_output must be like x)."""
    cdef cnp.ndarray a, g, w
    cdef int t
    cdef cnp.npy_intp dims[3]
    if type(x) is not cnp.ndarray or type(grad_output) is not cnp.ndarray:
        return None
    a = <cnp.ndarray>x
    g = <cnp.ndarray>grad_output
    w = _channel_operands(a, weight, axis, &t, dims)
    if w is None:
        return None
    return _backward_channels(k, level, from_output, t, dims, g, a, w, out)


cdef object _backward_channels(int k, int level, bint from_output, int t,
                               const cnp.npy_intp *dims, cnp.ndarray g, cnp.ndarray a,
                               cnp.ndarray w, object out):
    """(grad_input, grad_weight as float64 per channel) of the per-channel path, or None where
    g is not like a or out does not fit exactly or overlaps g, a or the weight.
    prelu_backward and prelu_backward_call end here."""
    cdef cnp.ndarray o, total
    if not _fits_channels(g, t) or not _same_shape(g, a):
        return None
    o = _fast_out(a, 1, out)
    if o is None or not (_apart_or_same(a, o) and _apart_or_same(g, o) and _apart(w, o)):
        return None
    total = cnp.PyArray_ZEROS(1, &dims[1], cnp.NPY_DOUBLE, 0)
    _run_channels(k, level, True, from_output, t, dims, g, a, o, w, total)
    return o, total


def prelu_grad_weight(grad_output, x, double slope, bint from_output):
    """prelu_backward's grad_weight for the scalar weight `slope` (a float64: x = y / slope from
    the output y, as the general path divides), summed as the per-channel path sums one channel,
    or None where grad_output and x are not C-contiguous float32 or float64 arrays alike."""
    cdef cnp.ndarray a, g, total
    cdef int t
    cdef cnp.npy_intp dims[3]
    cdef cnp.npy_intp one = 1
    if type(x) is not cnp.ndarray or type(grad_output) is not cnp.ndarray:
        return None
    a = <cnp.ndarray>x
    g = <cnp.ndarray>grad_output
    t = cnp.PyArray_TYPE(a)
    if (not (t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) or not _fits_channels(a, t)
            or not _fits_channels(g, t) or not _same_shape(g, a)):
        return None
    dims[0], dims[1], dims[2] = 1, 1, cnp.PyArray_SIZE(a)
    total = cnp.PyArray_ZEROS(1, &one, cnp.NPY_DOUBLE, 0)
    # y None: grad_weight alone, no kernel runs (k and level unused)
    _run_channels(0, 0, True, from_output, t, dims, g, a, None, None, total, slope)
    return (<double *>cnp.PyArray_DATA(total))[0]


# ---- prelu and prelu_backward's common calls, recognized and run in one call --------------------
# Each returns None unless every argument is of the plain kind whose checks cannot fail (then
# fastact._prelu runs the general path, which checks everything and names what is wrong); the
# result is the one the general path gives: the same loops, the same sums.

cdef object _lane_weight(cnp.ndarray a, object weight, object axis, int *t,
                         cnp.npy_intp *dims):
    """A 1-D weight array of x's dtype with one element per channel along axis, of at least 2
    channels, read as it is (no copy: the caller checks it is apart from the output); else None.
    Sets t and dims as _channel_operands does."""
    cdef int nd = cnp.PyArray_NDIM(a)
    if (type(weight) is not cnp.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>weight) != 1
            or cnp.PyArray_SIZE(<cnp.ndarray>weight) < 2 or nd < 2 or not -nd <= axis < nd):
        return None
    return _channel_operands(a, weight, axis % nd, t, dims)


cdef bint _all_positive(const void *p, int t, cnp.npy_intp n) noexcept:
    """The n values at p (float32 or float64, as t says) are all > 0, NaN not. Compared as bits
    (positive: sign clear, not zero, not above infinity's): a float comparison with a NaN raised
    invalid in the caller's flags, and gcc may move it across a restore of the flags."""
    cdef cnp.npy_intp i
    cdef uint32_t b32
    cdef uint64_t b64
    for i in range(n):
        if t == cnp.NPY_FLOAT:
            memcpy(&b32, <const char *>p + 4 * i, 4)
            if not 0 < b32 <= 0x7f800000u:
                return False
        else:
            memcpy(&b64, <const char *>p + 8 * i, 8)
            if not 0 < b64 <= 0x7ff0000000000000u:
                return False
    return True


cdef bint _scalar_weight(object weight, int t, double *v) noexcept:
    """Whether weight is a Python float, a NumPy scalar or a one-element array (0-d or 1-D) of
    x's dtype t, which prelu takes as one slope, its value (sets v)."""
    cdef cnp.ndarray w
    if type(weight) is float or (type(weight) is np.float32 and t == cnp.NPY_FLOAT) or (
            type(weight) is np.float64 and t == cnp.NPY_DOUBLE):
        v[0] = weight
        return True
    if type(weight) is not cnp.ndarray:
        return False
    w = <cnp.ndarray>weight
    if (cnp.PyArray_SIZE(w) != 1 or cnp.PyArray_NDIM(w) > 1 or cnp.PyArray_TYPE(w) != t
            or _layout(w) != 1):
        return False
    if t == cnp.NPY_FLOAT:
        v[0] = (<float *>cnp.PyArray_DATA(w))[0]
    elif t == cnp.NPY_DOUBLE:
        v[0] = (<double *>cnp.PyArray_DATA(w))[0]
    else:
        return False
    return True


def prelu_call(int k, x, weight, axis, out, precision):
    """prelu(x, weight, axis, out, precision) with kernel k, or None: x a float32 or float64
    array, axis an int, precision None or a level's name, out None or an array of x's shape,
    dtype and layout, and either weight one slope (a Python float, or a NumPy scalar or
    one-element array of x's dtype: forward's path) or a 1-D array of x's dtype with one element
    per channel (prelu_forward's path, without a copy of the weight)."""
    cdef cnp.ndarray a, w, o
    cdef int t, layout
    cdef int level = _lane_level(precision)
    cdef double v
    cdef cnp.npy_intp dims[3]
    if type(x) is not cnp.ndarray or type(axis) is not int or level < 0 or _has_domain[k]:
        return None
    a = <cnp.ndarray>x
    t = cnp.PyArray_TYPE(a)
    if _scalar_weight(weight, t, &v):
        layout = _layout(a)
        if (not (t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) or not layout
                or not cnp.PyArray_NDIM(a) or (t == cnp.NPY_FLOAT and _overflows_f(v))):
            return None
        o = _fast_out(a, layout, out)
        if o is None or not _apart_or_same(a, o):
            return None
        return _forward_into(k, level, t, a, o, v, 0.0)
    w = _lane_weight(a, weight, axis, &t, dims)
    if w is None:
        return None
    return _forward_channels(k, level, t, dims, a, w, out)


def prelu_backward_call(int k, grad_output, x, weight, axis, out, output, precision):
    """prelu_backward(grad_output, x, weight, axis, out, output=, precision=) with kernel k as
    (grad_input, grad_weight), or None: as prelu_call, with grad_output like x (shape, dtype,
    layout), x or output given (not both), every weight > 0 from the output, and grad_weight
    returned in the weight's dtype and shape (a 0-d array for a scalar, float64 for a Python
    float)."""
    cdef cnp.ndarray a, g, w, o, total
    cdef int t, layout
    cdef int level = _lane_level(precision)
    cdef bint from_output = output is not None
    cdef double v
    cdef cnp.npy_intp dims[3]
    if from_output:
        if x is not None:
            return None
        x = output
    if (type(x) is not cnp.ndarray or type(grad_output) is not cnp.ndarray
            or type(axis) is not int or level < 0 or _has_domain[k]):
        return None
    a = <cnp.ndarray>x
    g = <cnp.ndarray>grad_output
    t = cnp.PyArray_TYPE(a)
    if _scalar_weight(weight, t, &v):
        layout = _layout(a)
        if (not (t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) or not layout
                or not cnp.PyArray_NDIM(a) or (t == cnp.NPY_FLOAT and _overflows_f(v))
                or (from_output and not _all_positive(&v, cnp.NPY_DOUBLE, 1))
                or cnp.PyArray_TYPE(g) != t
                or _layout(g) != layout or not _same_shape(g, a)):
            return None
        o = _fast_out(a, layout, out)
        if o is None or not (_apart_or_same(a, o) and _apart_or_same(g, o)):
            return None
        # one channel of one block, in memory order: x and grad_output share one layout, so it
        # pairs them; grad_weight and grad_input in one pass, by pieces on the pool (_fused)
        dims[0], dims[1], dims[2] = 1, 1, cnp.PyArray_SIZE(a)
        total = cnp.PyArray_ZEROS(0, NULL, cnp.NPY_DOUBLE, 0)
        _run_channels(k, level, True, from_output, t, dims, g, a, o, None, total, v)
        if type(weight) is float:
            return o, total
        if type(weight) is not cnp.ndarray:     # a NumPy scalar: 0-d, in its dtype
            return o, _sums_as(total, t, 0, NULL)
        w = <cnp.ndarray>weight     # grad_weight in its dtype and shape
        return o, _sums_as(total, t, cnp.PyArray_NDIM(w), cnp.PyArray_DIMS(w))
    w = _lane_weight(a, weight, axis, &t, dims)
    if w is None or (from_output and not _all_positive(cnp.PyArray_DATA(w), t, dims[1])):
        return None
    done = _backward_channels(k, level, from_output, t, dims, g, a, w, out)
    if done is None:
        return None
    return done[0], _sums_as(done[1], t, 1, &dims[1])


cdef cnp.ndarray _sums_as(cnp.ndarray total, int t, int nd, cnp.npy_intp *shape):
    """The float64 sums in `total` as an array of type t (float32 or float64) and this shape."""
    cdef cnp.ndarray gw
    cdef cnp.npy_intp c
    cdef fa_fp_status saved
    cdef const double *sums = <double *>cnp.PyArray_DATA(total)
    if t == cnp.NPY_DOUBLE and nd == cnp.PyArray_NDIM(total):
        return total     # (C,) already
    gw = cnp.PyArray_EMPTY(nd, shape, t, 0)
    saved = fa_fp_save()    # a sum beyond float32's range rounds to inf, as the cast would
    for c in range(cnp.PyArray_SIZE(total)):
        if t == cnp.NPY_FLOAT:
            (<float *>cnp.PyArray_DATA(gw))[c] = <float>sums[c]
        else:
            (<double *>cnp.PyArray_DATA(gw))[c] = sums[c]
    fa_fp_restore(saved)
    return gw


def all_positive(a):
    """Whether every element of `a`, a float32 or float64 C-contiguous array, is > 0 (NaN is
    not), in one pass over its bits; None for any other object (np.all(a > 0) costs 1-2 us)."""
    cdef cnp.ndarray arr
    cdef int t
    if type(a) is not cnp.ndarray:
        return None
    arr = <cnp.ndarray>a
    t = cnp.PyArray_TYPE(arr)
    if not (t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE) or _layout(arr) != 1:
        return None
    return _all_positive(cnp.PyArray_DATA(arr), t, cnp.PyArray_SIZE(arr))
