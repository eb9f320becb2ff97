/* counters: instruction counting for irtools.measure.
 *
 * Two mechanisms, one contract:
 *   - hardware counters through perf_event_open(2): instructions (required), cycles and branch
 *     misses (where the CPU exposes them), user mode only, opened as one group so they run
 *     together, read with time_enabled/time_running to tell whether the kernel multiplexed them;
 *   - valgrind client requests (callgrind): whether we run under valgrind, start/stop
 *     instrumentation, zero and dump the statistics with a label.  Without valgrind they are
 *     no-ops, so the same code runs natively.
 *
 * Errors follow csrc/irt_status.h: a failed call returns a negative IRT_* code, and
 * counters_last_error() / counters_last_errno() say why (the kernel's errno where it gave one).
 * Nothing here aborts or prints; every opened descriptor is closed on every error path.
 */
#ifndef IRTOOLS_COUNTERS_H
#define IRTOOLS_COUNTERS_H

#include <stdint.h>

#include "irt_status.h"

/* CFFI-BEGIN */
enum counters_kind {
    COUNTERS_KIND_HARDWARE = 0,     /* instructions, cycles, branch misses */
    COUNTERS_KIND_SOFTWARE = 1      /* task-clock (ns), page faults, context switches: every Linux has them */
};

enum counters_index { COUNTERS_IDX_PRIMARY = 0, COUNTERS_IDX_SECOND = 1, COUNTERS_IDX_THIRD = 2 };

struct counters_reading {
    uint64_t values[3];       /* hardware: instructions, cycles, branch misses; software: task-clock, faults, switches */
    int present[3];           /* 1 when that counter could be opened */
    uint64_t time_enabled;    /* ns the group was enabled */
    uint64_t time_running;    /* ns it was on the PMU; < time_enabled means multiplexed (values are scaled) */
};

struct counters_group {
    int fds[3];               /* -1 when absent; fds[0] is the group leader (or the first of three for a process) */
    int kind;
    int grouped;              /* 1: one group in this process; 0: separate inherited counters for a child */
};

int counters_abi_version(void);
/* why the last failed call of this thread failed: a message, and the errno behind it (0 if none) */
const char *counters_last_error(void);
int counters_last_errno(void);

/* Open counters of `kind` on the calling thread (pid 0), disabled.  The primary counter is required. */
int counters_open(struct counters_group *g, int kind);
/* Open counters on process `pid` (a child stopped before exec): counting starts at its exec and
 * includes its descendants (inherit), so counters are separate rather than a group. */
int counters_open_process(struct counters_group *g, int kind, int pid);
int counters_start(struct counters_group *g);
int counters_stop(struct counters_group *g);
int counters_read(struct counters_group *g, struct counters_reading *out);
void counters_close(struct counters_group *g);
/* Open and close the primary counter of `kind`: tells whether counting can work here. */
int counters_probe(int kind);

/* Call a native function with the region switched on right around the call, so that almost no
 * harness code is counted.  `backend` 0 = callgrind client requests (g may be NULL), 1 = the
 * open group `g`.  Signatures: up to 6 integer/pointer arguments (nd == 0) or up to 4 double
 * arguments (ni == 0); `ret` 0 = void, 1 = integer, 2 = double.  The result is stored in *iret
 * or *dret.  fn == NULL calls a do-nothing function of the same signature (for calibrating the
 * overhead, dispatch included).  The callgrind
 * region zeroes the statistics and toggles collection around the call; the caller dumps. */
int counters_call(void *fn, int backend, struct counters_group *g, const int64_t *iargs, int ni,
                  const double *dargs, int nd, int ret, int64_t *iret, double *dret);

/* valgrind client requests; no-ops (returning 0) when not running under valgrind */
int counters_have_valgrind_headers(void);
int counters_running_on_valgrind(void);
void counters_cg_start_instrumentation(void);
void counters_cg_stop_instrumentation(void);
void counters_cg_toggle_collect(void);
void counters_cg_zero_stats(void);
void counters_cg_dump_stats(const char *label);
/* The region helpers the harness brackets a callable with: zero + toggle collection on; toggle
 * off + dump.  They assume valgrind runs with --collect-atstart=no and instrumentation is on
 * (counters_cg_start_instrumentation, called once after the warm-up). */
void counters_cg_region_begin(void);
void counters_cg_region_end(const char *label);
/* CFFI-END */

#endif
