/* irt_status: the one error convention of the C components (issue #15, part 5).
 *
 * A call that can fail returns an int (or, where it also counts, a long): >= 0 is success, a negative
 * value is one of the IRT_* codes below.  After such a return, the component's
 * <component>_last_error() (a message) and <component>_last_errno() (the errno that caused it, 0 if
 * none) say why, for the calling thread; IRT_LAST_ERROR() defines both and the static fail() that
 * sets them.  irtools/_native.py mirrors the codes once (Status) and checks at
 * load that they did not drift.
 *
 * A parser is the other half: it always returns a handle (NULL only when memory runs out), and a
 * parse error, with its place, is part of that result (llp_error, mlp_error, llf_error), not a
 * failed call.
 */
#ifndef IRT_STATUS_H
#define IRT_STATUS_H

/* CFFI-BEGIN */
enum irt_status {
    IRT_OK = 0,
    IRT_ENOMEM = -1,        /* out of memory */
    IRT_EARG = -2,          /* a bad argument from the caller (NULL, unknown kind, too many arguments) */
    IRT_ESTATE = -3,        /* called in the wrong order (not open, armed twice, ...) */
    IRT_EIO = -4,           /* a file could not be opened, read or mapped */
    IRT_EFORMAT = -5,       /* the input is not in the format expected (not an ELF64 x86-64 file...) */
    IRT_ESYS = -6,          /* any other failed system call (errno says which) */
    IRT_ENOTFOUND = -7,     /* nothing matches what was asked for */
    IRT_ENOHARDWARE = -8,   /* ENOENT/EOPNOTSUPP/ENODEV: this CPU (or VM) exposes no such counter */
    IRT_EPERM = -9,         /* EACCES/EPERM: kernel.perf_event_paranoid, seccomp, containers */
    IRT_EUNAVAILABLE = -10  /* this build lacks what it needs (valgrind's headers) */
};
/* CFFI-END */

#ifndef IRT_STATUS_NO_HELPERS
#include <stdarg.h>
#include <stdio.h>

/* <prefix>_last_error(), <prefix>_last_errno() and a static fail(code, errno, fmt, ...) returning code;
 * ok() clears both and returns IRT_OK */
#define IRT_LAST_ERROR(prefix)                                                              \
    static __thread char irt_msg_[256];                                                     \
    static __thread int irt_errno_;                                                         \
    __attribute__((visibility("default"))) const char *prefix##_last_error(void) { return irt_msg_; } \
    __attribute__((visibility("default"))) int prefix##_last_errno(void) { return irt_errno_; } \
    __attribute__((format(printf, 3, 4), unused)) static int fail(int code, int err, const char *fmt, ...) { \
        va_list ap;                                                                         \
        va_start(ap, fmt);                                                                  \
        vsnprintf(irt_msg_, sizeof irt_msg_, fmt, ap);                                      \
        va_end(ap);                                                                         \
        irt_errno_ = err;                                                                   \
        return code;                                                                        \
    }                                                                                       \
    __attribute__((unused)) static int ok(void) {                                           \
        irt_msg_[0] = 0;                                                                    \
        irt_errno_ = 0;                                                                     \
        return IRT_OK;                                                                      \
    }
#endif
#endif
