/* The worker pool of the parallel path at medium sizes (from a few ten thousand elements up to
 * where Numba's path takes over, see fastact/_parallel.py).
 *
 * Why a pool of our own: a call through Numba's prange costs 5-10 us before the first element
 * (entering the jitted function from Python, unboxing, waking TBB's sleeping workers), and a
 * float32 kernel on 65,536 elements takes 4-15 us, so two threads through Numba lost every cell
 * from 65,536 to 1,048,576 to torch, whose OpenMP workers spin between calls. Here the caller
 * publishes a job from C with the GIL released (about 1 us), workers still spinning from the
 * previous call start at once, and the caller takes chunks too: a worker that is asleep or has
 * no core to run on costs a late start of its chunks, not a wait.
 *
 * - Any split gives the same bits: each chunk runs the serial path's C loop on whole elements
 *   (a job of fa_pool_run_fn: the caller's function, which the serial path runs on the whole
 *   range), and the workers run with the caller's floating-point control (rounding,
 *   flush-to-zero).
 * - One job at a time: a call that finds the pool busy (another Python thread is using it)
 *   returns 0 and its caller runs serially, as the Numba path does.
 * - Only `threads - 1` workers take part in a job (the thread count is per call).
 * - After its last chunk a worker polls for FA_POOL_SPIN_NS, then sleeps on a condition
 *   variable: a loop of calls finds it awake, an idle process has its cores back within 0.1 ms
 *   (libgomp, torch's OpenMP, spins for about as long by default). It polls with sched_yield(),
 *   not a pause loop, so that it gives its core to any other runnable thread: on a machine with
 *   more runnable threads than cores, a worker that had spun on its core was then descheduled
 *   in the middle of a chunk while the caller waited for it (sigmoid, 2 cores and one busy
 *   process: 0.41-0.72x serial at 65,536-1M elements); polling politely, it takes no chunk until
 *   the scheduler gives it time, and the call runs at serial speed (0.98-1.02x), while on an idle
 *   machine it is as fast as spinning (1.8x serial; bench/pool_contention.py).
 * - fork(): the child has none of the parent's threads; pthread_atfork resets the pool there,
 *   and its first parallel call starts new workers.
 * - Workers block every signal (CPython runs signal handlers on the main thread) and never touch
 *   Python objects. */
#ifndef FASTACT_POOL_H
#define FASTACT_POOL_H

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define FA_POOL_MAX_WORKERS 255   /* fits the ticket's 8-bit field */
#define FA_POOL_ALIGN 1024        /* chunk bounds fall on whole cache lines and vectors */
#define FA_POOL_CHUNK_MIN 8192    /* elements: below this a chunk costs more to hand out than run */
#define FA_POOL_CHUNKS_PER_THREAD 4 /* a late worker leaves its chunks to the others */
#define FA_POOL_SPIN_NS 100000L

/* A job of the caller's own: fn(ctx, i0, m) for each chunk [i0, i0 + m) of [0, n), with the
 * split chosen by the caller (fa_pool_run_fn); PReLU's per-channel path (_kernels.pyx) runs its
 * loops so, the same C for a chunk as for [0, n) serially. fn runs without the GIL and touches
 * no Python object. */
typedef void (*fa_pool_fn)(const void *ctx, npy_intp i0, npy_intp m);

/* A job: one kernel call, or fn's, split into nchunks chunks of `chunk` elements. */
typedef struct {
    int k, level, from_output, is_double, backward;
    const char *g, *x;
    char *y;
    double p0, p1;
    fa_pool_fn fn;                /* NULL: kernel k */
    const void *ctx;
    npy_intp n, chunk;
#if FA_X86_DISPATCH
    unsigned int csr;             /* the caller's MXCSR, status flags cleared */
#else
    fenv_t env;
#endif
} fa_job;

/* The ticket says everything a worker needs to decide whether to take a chunk, in one atomic
 * word: bits 63-32 the job's number, 31-24 how many workers may take part, 23-12 the number of
 * chunks, 11-0 the next chunk to hand out. A worker takes chunk i by a compare-and-swap from
 * (job, i) to (job, i+1); the job cannot end while that chunk is out, so the job's fields, written
 * before the ticket was published, stay valid until the worker has finished it. */
#define FA_TICKET(gen, wanted, nchunks) \
    (((uint64_t)(gen) << 32) | ((uint64_t)(wanted) << 24) | ((uint64_t)(nchunks) << 12))
#define FA_TICKET_GEN(t) ((uint32_t)((t) >> 32))
#define FA_TICKET_WANTED(t) ((int)(((t) >> 24) & 0xff))
#define FA_TICKET_NCHUNKS(t) ((int)(((t) >> 12) & 0xfff))
#define FA_TICKET_NEXT(t) ((int)((t) & 0xfff))

static struct fa_pool_state {
    _Atomic uint64_t ticket;
    _Atomic int done;             /* chunks of the current job finished */
    atomic_flag busy;             /* a caller is running a job */
    _Atomic int sleepers;         /* workers waiting on `wake` */
    int nworkers;                 /* started; written by the caller holding `busy` */
    long jobs;                    /* jobs run (tests count them); likewise */
    fa_job job;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int atfork_set;
} fa_pool = {0, 0, ATOMIC_FLAG_INIT, 0, 0, 0, {0}, PTHREAD_MUTEX_INITIALIZER,
             PTHREAD_COND_INITIALIZER, 0};

FA_INLINE void fa_pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t fa_pool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fa_pool_run_chunk(const fa_job *j, int i)
{
    npy_intp i0 = (npy_intp)i * j->chunk, m = j->n - i0 < j->chunk ? j->n - i0 : j->chunk;
    if (j->fn) {
        j->fn(j->ctx, i0, m);
        return;
    }
    size_t off = (size_t)i0 * (j->is_double ? sizeof(double) : sizeof(float));
    if (j->backward) {
        if (j->is_double)
            fa_run_bwd_d(j->k, j->level, j->from_output, m, (const double *)(j->g + off),
                         (const double *)(j->x + off), (double *)(j->y + off), j->p0, j->p1);
        else
            fa_run_bwd_f(j->k, j->level, j->from_output, m, (const float *)(j->g + off),
                         (const float *)(j->x + off), (float *)(j->y + off), (float)j->p0,
                         (float)j->p1);
    } else if (j->is_double) {
        fa_run_fwd_d(j->k, j->level, m, (const double *)(j->x + off), (double *)(j->y + off), j->p0,
                     j->p1);
    } else {
        fa_run_fwd_f(j->k, j->level, m, (const float *)(j->x + off), (float *)(j->y + off),
                     (float)j->p0, (float)j->p1);
    }
}

/* Take and run chunks of job `gen` until none is left; worker `id` (-1: the caller). Returns
 * the number of chunks this thread ran. */
static int fa_pool_take_chunks(uint32_t gen, int id)
{
    int ran = 0;
    uint64_t t = atomic_load_explicit(&fa_pool.ticket, memory_order_acquire);
    for (;;) {
        if (FA_TICKET_GEN(t) != gen || FA_TICKET_NEXT(t) >= FA_TICKET_NCHUNKS(t) ||
            id >= FA_TICKET_WANTED(t))
            return ran;
        if (!atomic_compare_exchange_weak_explicit(&fa_pool.ticket, &t, t + 1,
                                                   memory_order_acq_rel, memory_order_acquire))
            continue; /* t now holds the ticket's current value */
        const fa_job *j = &fa_pool.job;
        if (id >= 0 && ran == 0) {
#if FA_X86_DISPATCH
            _mm_setcsr(j->csr);
#else
            fesetenv(&j->env);
#endif
        }
        fa_pool_run_chunk(j, FA_TICKET_NEXT(t));
        ran++;
        atomic_fetch_add_explicit(&fa_pool.done, 1, memory_order_release);
        t = atomic_load_explicit(&fa_pool.ticket, memory_order_acquire);
    }
}

static void *fa_pool_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint32_t seen = FA_TICKET_GEN(atomic_load(&fa_pool.ticket));
    for (;;) {
        /* wait for a new job: spin a while, then sleep */
        int64_t start = fa_pool_now_ns();
        uint64_t t;
        for (int polls = 1;; polls++) {
            t = atomic_load_explicit(&fa_pool.ticket, memory_order_acquire);
            if (FA_TICKET_GEN(t) != seen) break;
            sched_yield();
            if (polls % 16 == 0 && fa_pool_now_ns() - start > FA_POOL_SPIN_NS) {
                pthread_mutex_lock(&fa_pool.lock);
                atomic_fetch_add(&fa_pool.sleepers, 1); /* seq_cst: see fa_pool_run */
                while (FA_TICKET_GEN(t = atomic_load(&fa_pool.ticket)) == seen)
                    pthread_cond_wait(&fa_pool.wake, &fa_pool.lock);
                atomic_fetch_sub(&fa_pool.sleepers, 1);
                pthread_mutex_unlock(&fa_pool.lock);
                break;
            }
        }
        seen = FA_TICKET_GEN(t);
        fa_pool_take_chunks(seen, id);
    }
    return NULL;
}

static void fa_pool_atfork_prepare(void) { pthread_mutex_lock(&fa_pool.lock); }
static void fa_pool_atfork_parent(void) { pthread_mutex_unlock(&fa_pool.lock); }
static void fa_pool_atfork_child(void)
{
    /* the workers did not come along; a job in flight in the parent is not ours to finish */
    fa_pool.nworkers = 0;
    atomic_store(&fa_pool.sleepers, 0);
    atomic_flag_clear(&fa_pool.busy);
    pthread_mutex_unlock(&fa_pool.lock); /* this thread took it in prepare */
    pthread_cond_init(&fa_pool.wake, NULL); /* its waiters were the parent's workers */
}

/* Start workers until there are `want`; returns how many there are. */
static int fa_pool_grow(int want)
{
    if (!fa_pool.atfork_set) {
        if (pthread_atfork(fa_pool_atfork_prepare, fa_pool_atfork_parent, fa_pool_atfork_child))
            return 0;
        fa_pool.atfork_set = 1;
    }
    if (want > FA_POOL_MAX_WORKERS) want = FA_POOL_MAX_WORKERS;
    if (fa_pool.nworkers >= want) return fa_pool.nworkers;
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 18);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits the mask */
    while (fa_pool.nworkers < want) {
        pthread_t tid;
        if (pthread_create(&tid, &attr, fa_pool_worker, (void *)(intptr_t)fa_pool.nworkers))
            break; /* run with the workers there are */
        fa_pool.nworkers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return fa_pool.nworkers;
}

/* Run job `spec` (all but n, chunk and the floating-point control set) on n elements or units
 * on `threads` threads (the caller among them), in chunks of at least chunk_min on multiples of
 * `align`. Returns 0, having run nothing, when the pool is busy, no worker could be started or
 * n is too small to split; the caller then runs the job serially. Call without the GIL. */
static int fa_pool_start(int threads, npy_intp n, npy_intp chunk_min, npy_intp align,
                         const fa_job *spec)
{
    if (threads > FA_POOL_MAX_WORKERS + 1) threads = FA_POOL_MAX_WORKERS + 1; /* <= 1,024 chunks */
    if (chunk_min < 1) chunk_min = 1;
    npy_intp nchunks = FA_POOL_CHUNKS_PER_THREAD * (npy_intp)threads;
    if (n / chunk_min < nchunks) nchunks = n / chunk_min;
    if (threads < 2 || nchunks < 2) return 0;
    if (atomic_flag_test_and_set_explicit(&fa_pool.busy, memory_order_acquire)) return 0;
    int wanted = fa_pool_grow(threads - 1); /* the workers there are, which may be more */
    if (wanted > threads - 1) wanted = threads - 1;
    if (wanted == 0) {
        atomic_flag_clear_explicit(&fa_pool.busy, memory_order_release);
        return 0;
    }
    npy_intp chunk = ((n + nchunks - 1) / nchunks + align - 1) / align * align;
    nchunks = (n + chunk - 1) / chunk;
    fa_job *j = &fa_pool.job;
    *j = *spec;
    j->n = n, j->chunk = chunk;
#if FA_X86_DISPATCH
    j->csr = _mm_getcsr() & ~0x3fu;
#else
    fegetenv(&j->env);
#endif
    atomic_store_explicit(&fa_pool.done, 0, memory_order_relaxed);
    uint32_t gen = FA_TICKET_GEN(atomic_load_explicit(&fa_pool.ticket, memory_order_relaxed)) + 1;
    /* seq_cst store, then seq_cst load of sleepers: a worker that is about to sleep either sees
     * this job on its re-check (it counted itself a sleeper first) or is counted here */
    atomic_store(&fa_pool.ticket, FA_TICKET(gen, wanted, nchunks));
    if (atomic_load(&fa_pool.sleepers) > 0) {
        pthread_mutex_lock(&fa_pool.lock);
        pthread_cond_broadcast(&fa_pool.wake);
        pthread_mutex_unlock(&fa_pool.lock);
    }
    fa_pool_take_chunks(gen, -1);
    /* the chunks still out are running; yield soon, in case one's thread waits for this core */
    for (int spins = 1; atomic_load_explicit(&fa_pool.done, memory_order_acquire) < nchunks; spins++)
        if (spins < 64) fa_pool_pause(); else sched_yield();
    fa_pool.jobs++;
    atomic_flag_clear_explicit(&fa_pool.busy, memory_order_release);
    return 1;
}

/* Run kernel k on n contiguous elements on `threads` threads; fa_pool_start says when it
 * returns 0 (then the caller runs the kernel serially). Call without the GIL. */
static int fa_pool_run(int threads, int k, int level, int backward, int from_output, int is_double,
                       npy_intp n, const void *g, const void *x, void *y, double p0, double p1)
{
    fa_job spec = {0};
    spec.k = k, spec.level = level, spec.backward = backward, spec.from_output = from_output;
    spec.is_double = is_double, spec.p0 = p0, spec.p1 = p1;
    spec.g = (const char *)g, spec.x = (const char *)x, spec.y = (char *)y;
    return fa_pool_start(threads, n, FA_POOL_CHUNK_MIN, FA_POOL_ALIGN, &spec);
}

/* fn(ctx, i0, m) over the chunks of [0, n) on `threads` threads, chunks of at least chunk_min
 * on multiples of align; 0 as fa_pool_start says (then the caller runs fn(ctx, 0, n)). */
static int fa_pool_run_fn(int threads, fa_pool_fn fn, const void *ctx, npy_intp n,
                          npy_intp chunk_min, npy_intp align)
{
    fa_job spec = {0};
    spec.fn = fn, spec.ctx = ctx;
    return fa_pool_start(threads, n, chunk_min, align, &spec);
}

static long fa_pool_jobs(void) { return fa_pool.jobs; }
static int fa_pool_workers(void) { return fa_pool.nworkers; }
/* threads allowed on the last job, the caller included: its ticket says so */
static int fa_pool_last_threads(void) { return 1 + FA_TICKET_WANTED(atomic_load(&fa_pool.ticket)); }

/* The number of threads in force: this thread's (fastact.num_threads(), 0 when unset), else the
 * process's (fastact.set_num_threads(), FASTACT_NUM_THREADS, the cores), capped at fa_threads_cap
 * (Numba's pool size, which the large-array path is limited to). */
static int fa_threads_process = 1, fa_threads_cap = 1;
static _Thread_local int fa_threads_thread = 0;
FA_INLINE int fa_threads(void)
{
    int t = fa_threads_thread > 0 ? fa_threads_thread : fa_threads_process;
    return t < fa_threads_cap ? t : fa_threads_cap;
}

#endif
