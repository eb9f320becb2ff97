/* counters: perf_event_open hardware counters and valgrind client requests (see counters.h). */
#define _GNU_SOURCE
#include "counters.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

/* Debian ships valgrind.h/callgrind.h in the `valgrind` package itself.  Without them the client
 * requests compile to nothing and counters_have_valgrind_headers() says so. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define HAVE_VALGRIND 0
#endif

#define ABI_VERSION 3

int counters_abi_version(void) { return ABI_VERSION; }

IRT_LAST_ERROR(counters)

/* a failed system call: the kernel's errno read as what it means for counting */
static int sys_fail(const char *what, int e) {
    int code = e == ENOENT || e == EOPNOTSUPP || e == ENODEV ? IRT_ENOHARDWARE
             : e == EACCES || e == EPERM ? IRT_EPERM : IRT_ESYS;
    return fail(code, e, "%s: %s", what, strerror(e));
}

static long perf_open(struct perf_event_attr *attr, int pid, int group_fd) {
    return syscall(SYS_perf_event_open, attr, pid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

static void event_of(int kind, int idx, __u32 *type, __u64 *config) {
    static const uint64_t hw[3] = {PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_BRANCH_MISSES};
    static const uint64_t sw[3] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS, PERF_COUNT_SW_CONTEXT_SWITCHES};
    *type = kind == COUNTERS_KIND_HARDWARE ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE;
    *config = kind == COUNTERS_KIND_HARDWARE ? hw[idx] : sw[idx];
}

static void init_group(struct counters_group *g, int kind, int grouped) {
    for (int i = 0; i < 3; i++) g->fds[i] = -1;
    g->kind = kind;
    g->grouped = grouped;
}

void counters_close(struct counters_group *g) {
    if (!g) return;
    for (int i = 0; i < 3; i++) {
        if (g->fds[i] >= 0) close(g->fds[i]);
        g->fds[i] = -1;
    }
}

static int open_impl(struct counters_group *g, int kind, int pid, int grouped) {
    ok();
    if (!g || (kind != COUNTERS_KIND_HARDWARE && kind != COUNTERS_KIND_SOFTWARE) || pid < 0)
        return fail(IRT_EARG, 0, "no group, or an unknown counter kind %d", kind);
    init_group(g, kind, grouped);
    for (int i = 0; i < 3; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        event_of(kind, i, &attr.type, &attr.config);
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        int group_fd = -1;
        if (grouped) {
            attr.read_format |= PERF_FORMAT_GROUP;
            /* members follow the leader: only the leader is disabled and switched */
            attr.disabled = i == 0;
            group_fd = i == 0 ? -1 : g->fds[0];
        } else {
            /* a group cannot be inherited (EINVAL on most kernels): three counters, each
             * enabled when the child execs, summing over its descendants */
            attr.disabled = 1;
            attr.enable_on_exec = 1;
            attr.inherit = 1;
        }
        long fd = perf_open(&attr, pid, group_fd);
        if (fd < 0) {
            int e = errno;
            if (i == 0)    /* the primary counter is the point: without it nothing works */
                return sys_fail("perf_event_open", e);
            continue;      /* secondary counters are optional (many VMs expose only a few) */
        }
        g->fds[i] = (int)fd;
    }
    return IRT_OK;
}

int counters_open(struct counters_group *g, int kind) { return open_impl(g, kind, 0, 1); }

int counters_open_process(struct counters_group *g, int kind, int pid) {
    if (pid <= 0) return fail(IRT_EARG, 0, "process id %d", pid);
    return open_impl(g, kind, pid, 0);
}

int counters_probe(int kind) {
    struct counters_group g;
    int rc = counters_open(&g, kind);
    if (rc == IRT_OK) counters_close(&g);
    return rc;
}

static int is_open(const struct counters_group *g) { return g && g->fds[0] >= 0; }

static int ctl(struct counters_group *g, unsigned long req) {
    if (!is_open(g)) return fail(IRT_ESTATE, 0, "the counter group is not open");
    for (int i = 0; i < 3; i++) {
        if (g->fds[i] < 0) continue;
        if (ioctl(g->fds[i], req, g->grouped ? PERF_IOC_FLAG_GROUP : 0) != 0) return sys_fail("perf ioctl", errno);
        if (g->grouped) break;  /* one ioctl on the leader switches the whole group */
    }
    return IRT_OK;
}

int counters_start(struct counters_group *g) {
    ok();
    int rc = ctl(g, PERF_EVENT_IOC_RESET);
    return rc != IRT_OK ? rc : ctl(g, PERF_EVENT_IOC_ENABLE);
}

int counters_stop(struct counters_group *g) {
    ok();
    return ctl(g, PERF_EVENT_IOC_DISABLE);
}

static int read_all(int fd, void *buf, size_t size) {
    ssize_t n = read(fd, buf, size);
    if (n < 0) return sys_fail("read of a perf counter", errno);
    if ((size_t)n < sizeof(uint64_t) * 3)  /* shorter than the smallest layout we asked for */
        return fail(IRT_ESYS, EIO, "short read of a perf counter (%zd bytes)", n);
    return IRT_OK;
}

int counters_read(struct counters_group *g, struct counters_reading *out) {
    ok();
    if (!out) return fail(IRT_EARG, 0, "no reading to fill");
    memset(out, 0, sizeof *out);
    if (!is_open(g)) return fail(IRT_ESTATE, 0, "the counter group is not open");
    if (g->grouped) {
        /* PERF_FORMAT_GROUP layout: nr, time_enabled, time_running, value[nr] (in opening order) */
        uint64_t buf[3 + 3];
        memset(buf, 0, sizeof buf);
        int rc = read_all(g->fds[0], buf, sizeof buf);
        if (rc != IRT_OK) return rc;
        uint64_t nr = buf[0] > 3 ? 3 : buf[0];
        out->time_enabled = buf[1];
        out->time_running = buf[2];
        uint64_t k = 0;
        for (int i = 0; i < 3; i++) {
            if (g->fds[i] < 0) continue;
            out->present[i] = 1;
            out->values[i] = k < nr ? buf[3 + k] : 0;
            k++;
        }
        return IRT_OK;
    }
    for (int i = 0; i < 3; i++) {
        if (g->fds[i] < 0) continue;
        uint64_t buf[3] = {0, 0, 0};  /* value, time_enabled, time_running */
        int rc = read_all(g->fds[i], buf, sizeof buf);
        if (rc != IRT_OK) return rc;
        out->present[i] = 1;
        out->values[i] = buf[0];
        if (i == 0) {
            out->time_enabled = buf[1];
            out->time_running = buf[2];
        }
    }
    return IRT_OK;
}

/* ---- valgrind client requests ---- */

int counters_have_valgrind_headers(void) { return HAVE_VALGRIND; }

int counters_running_on_valgrind(void) {
#if HAVE_VALGRIND
    return (int)RUNNING_ON_VALGRIND;
#else
    return 0;
#endif
}

void counters_cg_start_instrumentation(void) {
#if HAVE_VALGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
}

void counters_cg_stop_instrumentation(void) {
#if HAVE_VALGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

void counters_cg_toggle_collect(void) {
#if HAVE_VALGRIND
    CALLGRIND_TOGGLE_COLLECT;
#endif
}

void counters_cg_zero_stats(void) {
#if HAVE_VALGRIND
    CALLGRIND_ZERO_STATS;
#endif
}

void counters_cg_dump_stats(const char *label) {
#if HAVE_VALGRIND
    if (label) CALLGRIND_DUMP_STATS_AT(label);
    else CALLGRIND_DUMP_STATS;
#else
    (void)label;
#endif
}

/* Regions toggle collection rather than instrumentation: switching instrumentation flushes
 * valgrind's translations (tens of ms per region), toggling does not.  The measuring process runs
 * with --collect-atstart=no and switches instrumentation on once, after the warm-up. */
void counters_cg_region_begin(void) {
#if HAVE_VALGRIND
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
#endif
}

void counters_cg_region_end(const char *label) {
#if HAVE_VALGRIND
    CALLGRIND_TOGGLE_COLLECT;
    counters_cg_dump_stats(label);
#else
    (void)label;
#endif
}

/* ---- a native call inside the region ---- */

typedef int64_t (*fi0)(void);
typedef int64_t (*fi1)(int64_t);
typedef int64_t (*fi2)(int64_t, int64_t);
typedef int64_t (*fi3)(int64_t, int64_t, int64_t);
typedef int64_t (*fi4)(int64_t, int64_t, int64_t, int64_t);
typedef int64_t (*fi5)(int64_t, int64_t, int64_t, int64_t, int64_t);
typedef int64_t (*fi6)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
typedef double (*gi0)(void);
typedef double (*gi1)(int64_t);
typedef double (*gi2)(int64_t, int64_t);
typedef double (*gi3)(int64_t, int64_t, int64_t);
typedef double (*gi4)(int64_t, int64_t, int64_t, int64_t);
typedef double (*gi5)(int64_t, int64_t, int64_t, int64_t, int64_t);
typedef double (*gi6)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
typedef int64_t (*fd1)(double);
typedef int64_t (*fd2)(double, double);
typedef int64_t (*fd3)(double, double, double);
typedef int64_t (*fd4)(double, double, double, double);
typedef double (*gd1)(double);
typedef double (*gd2)(double, double);
typedef double (*gd3)(double, double, double);
typedef double (*gd4)(double, double, double, double);

/* The calibration region calls a do-nothing function of the same signature through the same
 * dispatch, so that the subtracted overhead includes the dispatch and leaves only the target's
 * own instructions (less the two of an empty function: xor + ret). */
static int64_t ni0(void) { return 0; }
static int64_t ni1(int64_t a) { (void)a; return 0; }
static int64_t ni2(int64_t a, int64_t b) { (void)a; (void)b; return 0; }
static int64_t ni3(int64_t a, int64_t b, int64_t c) { (void)a; (void)b; (void)c; return 0; }
static int64_t ni4(int64_t a, int64_t b, int64_t c, int64_t d) { (void)a; (void)b; (void)c; (void)d; return 0; }
static int64_t ni5(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
    (void)a; (void)b; (void)c; (void)d; (void)e; return 0;
}
static int64_t ni6(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f) {
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; return 0;
}
static double ngi0(void) { return 0.0; }
static double ngi1(int64_t a) { (void)a; return 0.0; }
static double ngi2(int64_t a, int64_t b) { (void)a; (void)b; return 0.0; }
static double ngi3(int64_t a, int64_t b, int64_t c) { (void)a; (void)b; (void)c; return 0.0; }
static double ngi4(int64_t a, int64_t b, int64_t c, int64_t d) { (void)a; (void)b; (void)c; (void)d; return 0.0; }
static double ngi5(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
    (void)a; (void)b; (void)c; (void)d; (void)e; return 0.0;
}
static double ngi6(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f) {
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; return 0.0;
}
static int64_t nfd1(double a) { (void)a; return 0; }
static int64_t nfd2(double a, double b) { (void)a; (void)b; return 0; }
static int64_t nfd3(double a, double b, double c) { (void)a; (void)b; (void)c; return 0; }
static int64_t nfd4(double a, double b, double c, double d) { (void)a; (void)b; (void)c; (void)d; return 0; }
static double ngd1(double a) { (void)a; return 0.0; }
static double ngd2(double a, double b) { (void)a; (void)b; return 0.0; }
static double ngd3(double a, double b, double c) { (void)a; (void)b; (void)c; return 0.0; }
static double ngd4(double a, double b, double c, double d) { (void)a; (void)b; (void)c; (void)d; return 0.0; }

static void *noop_for(int ni, int nd, int ret) {
    static void *const int_ret[7] = {(void *)ni0, (void *)ni1, (void *)ni2, (void *)ni3, (void *)ni4, (void *)ni5,
                                     (void *)ni6};
    static void *const dbl_ret[7] = {(void *)ngi0, (void *)ngi1, (void *)ngi2, (void *)ngi3, (void *)ngi4,
                                     (void *)ngi5, (void *)ngi6};
    static void *const d_int_ret[5] = {(void *)ni0, (void *)nfd1, (void *)nfd2, (void *)nfd3, (void *)nfd4};
    static void *const d_dbl_ret[5] = {(void *)ngi0, (void *)ngd1, (void *)ngd2, (void *)ngd3, (void *)ngd4};
    if (nd == 0) return ret == 2 ? dbl_ret[ni] : int_ret[ni];
    return ret == 2 ? d_dbl_ret[nd] : d_int_ret[nd];
}

/* noinline: the call sits between the region switches exactly as compiled here, whatever the
 * signature, so the calibrated empty region (fn == NULL: a no-op of the same signature) costs
 * what the switches and the dispatch cost around a real call. */
__attribute__((noinline)) static void invoke(void *fn, const int64_t *a, int ni, const double *d, int nd, int ret,
                                             int64_t *iret, double *dret) {
    int64_t r = 0;
    double x = 0.0;
    if (nd == 0) {
        if (ret == 2) {
            switch (ni) {
            case 0: x = ((gi0)fn)(); break;
            case 1: x = ((gi1)fn)(a[0]); break;
            case 2: x = ((gi2)fn)(a[0], a[1]); break;
            case 3: x = ((gi3)fn)(a[0], a[1], a[2]); break;
            case 4: x = ((gi4)fn)(a[0], a[1], a[2], a[3]); break;
            case 5: x = ((gi5)fn)(a[0], a[1], a[2], a[3], a[4]); break;
            default: x = ((gi6)fn)(a[0], a[1], a[2], a[3], a[4], a[5]); break;
            }
        } else {
            /* a void function called as returning int64: rax is simply ignored */
            switch (ni) {
            case 0: r = ((fi0)fn)(); break;
            case 1: r = ((fi1)fn)(a[0]); break;
            case 2: r = ((fi2)fn)(a[0], a[1]); break;
            case 3: r = ((fi3)fn)(a[0], a[1], a[2]); break;
            case 4: r = ((fi4)fn)(a[0], a[1], a[2], a[3]); break;
            case 5: r = ((fi5)fn)(a[0], a[1], a[2], a[3], a[4]); break;
            default: r = ((fi6)fn)(a[0], a[1], a[2], a[3], a[4], a[5]); break;
            }
        }
    } else if (ret == 2) {
        switch (nd) {
        case 1: x = ((gd1)fn)(d[0]); break;
        case 2: x = ((gd2)fn)(d[0], d[1]); break;
        case 3: x = ((gd3)fn)(d[0], d[1], d[2]); break;
        default: x = ((gd4)fn)(d[0], d[1], d[2], d[3]); break;
        }
    } else {
        switch (nd) {
        case 1: r = ((fd1)fn)(d[0]); break;
        case 2: r = ((fd2)fn)(d[0], d[1]); break;
        case 3: r = ((fd3)fn)(d[0], d[1], d[2]); break;
        default: r = ((fd4)fn)(d[0], d[1], d[2], d[3]); break;
        }
    }
    if (iret) *iret = ret == 1 ? r : 0;
    if (dret) *dret = ret == 2 ? x : 0.0;
}

int counters_call(void *fn, int backend, struct counters_group *g, const int64_t *iargs, int ni,
                  const double *dargs, int nd, int ret, int64_t *iret, double *dret) {
    ok();
    if (ni < 0 || ni > 6 || nd < 0 || nd > 4 || (ni && nd) || ret < 0 || ret > 2 ||
        (ni && !iargs) || (nd && !dargs) || (backend != 0 && backend != 1))
        return fail(IRT_EARG, 0, "a signature of %d integer and %d double arguments (return kind %d, "
                    "backend %d) that counters_call cannot make", ni, nd, ret, backend);
    if (!fn) fn = noop_for(ni, nd, ret);  /* the calibration region */
    if (backend == 1) {
        if (!is_open(g)) return fail(IRT_ESTATE, 0, "the counter group is not open");
        int rc = counters_start(g);
        if (rc != IRT_OK) return rc;
        invoke(fn, iargs, ni, dargs, nd, ret, iret, dret);
        return counters_stop(g);
    }
#if HAVE_VALGRIND
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    invoke(fn, iargs, ni, dargs, nd, ret, iret, dret);
    CALLGRIND_TOGGLE_COLLECT;
    return IRT_OK;
#else
    invoke(fn, iargs, ni, dargs, nd, ret, iret, dret);
    return fail(IRT_EUNAVAILABLE, 0, "built without valgrind's headers (valgrind/valgrind.h, callgrind.h)");
#endif
}
