/* covtrace: one-shot int3 breakpoint coverage for a stripped shared library.
 *
 * Contract with fuzz/coverage/tracer.py:
 *   1. covtrace_scan() reads an ELF file from disk (never the mapped image) and lists the function
 *      starts of its .eh_frame_hdr binary search table that fall in executable PT_LOAD segments,
 *      sorted and unique, as link-time virtual addresses.  `own_end` receives the end of the
 *      highest defined FUNC symbol of .dynsym: in TVM's wheel everything below it is TVM's own
 *      code and everything above it is the LLVM linked in.
 *   2. covtrace_open_bitmap() maps one byte per site MAP_SHARED (a file, so that every fork-server
 *      worker and the campaign parent see the same bitmap; NULL gives an anonymous mapping shared
 *      with children forked later).
 *   3. covtrace_arm() replaces each executable private mapping that holds a site by a MAP_SHARED
 *      (memfd) copy of itself, so the text is shared by this process and every child it forks
 *      later (fork copies no patched page); it saves the original bytes and writes 0xCC at every
 *      site not yet set in the bitmap, then installs the SIGTRAP handler.  A hit restores the byte
 *      (for the whole process family at once), rewinds RIP and sets the site's bitmap byte; the
 *      first process to set a byte counts it in the per-fork-server counters (split TVM / LLVM by
 *      `split`, an index into the sites).  A trap at a site another process has just restored
 *      re-runs the original instruction.
 *   4. After each child, the fork server calls covtrace_sync(): it restores the original byte of
 *      every site that any process (other fork servers too, through the bitmap) has seen.
 *   5. Stage classes (optional): covtrace_open_classes() maps a second byte per site that records
 *      the OR of the classes current at its hits; the process family's current class is set by
 *      covtrace_set_class() (a shared word, so a child's stage is seen by its handler).  A seen
 *      site whose classes lack `track` stays armed through covtrace_sync(), and covtrace_rearm()
 *      arms the ones a hit has restored since, so a function the fuzzer's own machinery reached
 *      first is still counted when the compile pipeline reaches it later.  A re-armed hit is not
 *      new coverage (the bitmap byte is set already): guidance is unchanged.
 * Errors follow csrc/irt_status.h: every function returns >= 0 on success or a negative IRT_* code;
 * covtrace_last_error() says what went wrong in words, covtrace_last_errno() the errno behind it.
 * Nothing here aborts the process.
 */
#ifndef COVTRACE_H
#define COVTRACE_H
#include <stddef.h>
#include <stdint.h>

#include "irt_status.h"

/* CFFI-BEGIN */
int covtrace_abi_version(void);
const char *covtrace_last_error(void);
int covtrace_last_errno(void);
long covtrace_scan(const char *path, uint64_t *starts, size_t cap, uint64_t *own_end);
int covtrace_module_base(const char *name_substr, uint64_t *base, char *path_out, size_t path_cap);
int covtrace_open_bitmap(const char *path, size_t nsites);
int covtrace_arm(uint64_t base, const uint64_t *vaddrs, size_t n, size_t split);
long covtrace_sync(void);
int covtrace_open_classes(const char *path, uint8_t track);
void covtrace_set_class(uint8_t cls);
uint8_t *covtrace_classes(void);
long covtrace_rearm(void);
long covtrace_count_class(uint8_t mask, size_t lo, size_t hi);
int covtrace_disarm(void);
uint8_t *covtrace_bitmap(void);
size_t covtrace_nsites(void);
long covtrace_armed(void);
void covtrace_reset_counters(void);
void covtrace_counters(uint64_t *out);
long covtrace_count_seen(size_t lo, size_t hi);
/* CFFI-END */
#endif
