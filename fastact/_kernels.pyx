# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Serial C kernels: the fast path for plain contiguous arrays, and the NumPy ufunc twins.

The formulas and loops live in _kernels.h (with _math.h for float64, _f32_*.h for float32,
_loops.h, _ufunc_loops.h); this module
selects the instruction set, registers one ufunc per kernel and direction, and gives the public
functions a call path that skips the ufunc machinery when it can.
"""
import os
from collections import namedtuple

cimport numpy as cnp
from cpython.mem cimport PyMem_RawMalloc
from libc.string cimport memcpy
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.float cimport FLT_MAX
from libc.math cimport fabs, INFINITY

cnp.import_array()
cnp.import_ufunc()

cdef extern from "<fenv.h>" nogil:
    ctypedef struct fexcept_t:
        pass
    int FE_ALL_EXCEPT
    int fegetexceptflag(fexcept_t *flagp, int excepts)
    int fesetexceptflag(const fexcept_t *flagp, int excepts)

cdef extern from "_kernels.h" nogil:
    ctypedef struct fa_kernel:
        const char *name
        int nparams
        int keeps_int
        int has_backward_from_output
    fa_kernel FA_KERNELS[]
    int FA_NKERNELS
    int FA_NISA
    int FA_ISA_BUILT
    const char *FA_ISA_NAMES[]
    int fa_isa
    int fa_best_isa()
    int FA_NLEVELS
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
    """A finite double parameter that float32 rounds to infinity."""
    return fabs(v) > FLT_MAX and fabs(v) != INFINITY


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


cdef inline int _level_of(int k, object precision) except -2:
    """The level a call of kernel k asked for: None is the one in force, else a level's name."""
    if precision is None:
        return fa_level()
    if type(precision) is str:
        if precision == "fast":
            return 0
        if precision == "accurate":
            return 1
    return _bad_precision(k, precision)     # a str subclass's level, else a named ValueError


def forward(int k, x, out, p0, p1, precision=None):
    """Forward kernel k on x with scalar parameters p0, p1 (fast path, else the slow path), at
    the precision level named by `precision` (None: the one in force)."""
    cdef cnp.ndarray a, o
    cdef int t, layout
    cdef double v0, v1
    cdef cnp.npy_intp n
    cdef fa_kernel *K = &FA_KERNELS[k]
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
                n = cnp.PyArray_SIZE(a)
                if _ran_parallel(k, level, False, False, t == cnp.NPY_DOUBLE, n, NULL,
                                 cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1):
                    return o
                if n < GIL_RELEASE_MIN:
                    _run_forward(K, level, t, n, cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1)
                else:
                    with nogil:
                        _run_forward(K, level, t, n, cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0,
                                     v1)
                return o
    return _slow_forward(k, x, out, p0, p1, level)


def backward(int k, grad_output, x, out, p0, p1, bint from_output=False, precision=None):
    """Backward kernel k: grad_output * f'(x), fast path when both are alike and contiguous.
    With from_output, x is the forward's output y and the kernel's from-output formula runs."""
    cdef cnp.ndarray g, a, o
    cdef int t, layout
    cdef double v0, v1
    cdef cnp.npy_intp n
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
                n = cnp.PyArray_SIZE(a)
                if _ran_parallel(k, level, True, from_output, t == cnp.NPY_DOUBLE, n,
                                 cnp.PyArray_DATA(g), cnp.PyArray_DATA(a), cnp.PyArray_DATA(o),
                                 v0, v1):
                    return o
                if n < GIL_RELEASE_MIN:
                    _run_backward(K, level, from_output, t, n, cnp.PyArray_DATA(g),
                                  cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1)
                else:
                    with nogil:
                        _run_backward(K, level, from_output, t, n, cnp.PyArray_DATA(g),
                                      cnp.PyArray_DATA(a), cnp.PyArray_DATA(o), v0, v1)
                return o
    return _slow_backward(k, grad_output, x, out, p0, p1, from_output, level)
