/* llfeatures: the cost model's feature matrix of LLVM IR text, computed from llparse's tables.
 *
 * Contract with costmodel/features.py:
 *   llf_run() parses the text with llparse and fills one row of float64 per defined function, in
 *   module order, columns in llf_column_name() order (irtoolkit.costmodel.features.FEATURE_NAMES without the
 *   mlir.* ones).  A column this file cannot compute for a function (an integer past 128 bits, a
 *   constant expression nested too deep...) is NaN, and the row's `reasons` bits say why
 *   (llf_reason_name()); a row without reasons is `exact`.
 *   Like llp_parse it never aborts and never reads outside the source; parse errors come back
 *   through llf_error() (no rows then).
 */
#ifndef LLFEATURES_H
#define LLFEATURES_H
#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
typedef struct llf_result llf_result;

enum {
    LLF_ABI = 4,
    /* per function, llf_info() rows of this many int32: */
    LLF_INFO_WIDTH = 5  /* func row, name offset and length in llf_names(), exact, reasons */
};

int llfeatures_abi_version(void);
int llf_ncolumns(void);
const char *llf_column_name(int i);
/* NULL after the last bit */
const char *llf_reason_name(int bit);
/* NULL only when memory runs out */
llf_result *llf_run(const char *src, size_t len);
void llf_free(llf_result *r);
/* 1 when parsing stopped at an error (then offset, line, col and msg are set), else 0. */
int llf_error(const llf_result *r, size_t *offset, int *line, int *col, const char **msg);
/* 0 when the rows are not to be used at all (the parser's tables are not the layout this reads) */
int llf_usable(const llf_result *r);
/* defined functions (rows) */
int llf_rows(const llf_result *r);
const double *llf_matrix(const llf_result *r);
const int32_t *llf_info(const llf_result *r);
/* decoded function names, as irtools' Function.name gives them (slot numbers are "") */
const char *llf_names(const llf_result *r, size_t *len);
/* What the Python side needs first, in one call: out[0] usable (llf_usable), out[1] rows,
 * out[2] rows with a reason (NaN somewhere), out[3] bytes of llf_names_nul(). */
void llf_summary(const llf_result *r, int64_t out[4]);
/* the names of llf_names() each followed by a NUL, in row order */
const char *llf_names_nul(const llf_result *r);
/* the matrix into out (rows of `stride` >= llf_ncolumns() doubles), the columns past
 * llf_ncolumns() NaN: feature_matrix's layout without a copy in numpy */
void llf_copy_matrix(const llf_result *r, double *out, int stride);
/* CFFI-END */
#endif
