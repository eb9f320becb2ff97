#include "gbdt.h"

#include <math.h>
#include <string.h>

#define BLOCK 32                          /* rows walked together: independent chains to overlap */
#define ZERO_THRESHOLD ((double)1e-35f)   /* LightGBM's kZeroThreshold, a float */

enum { MISSING_NONE = 0, MISSING_ZERO = 1, MISSING_NAN = 2 };

int gbdt_abi_version(void) { return 2; }

/* LightGBM's Tree::NumericalDecision: the node a value goes to. */
static inline int32_t decide(double v, double thr, uint8_t dt, int32_t l, int32_t r) {
    int missing = (dt >> 2) & 3;
    if (missing == MISSING_NONE) {        /* every split of our models: a select, no branch */
        v = isnan(v) ? 0.0 : v;
        return v <= thr ? l : r;
    }
    if (isnan(v) && missing != MISSING_NAN)
        v = 0.0;
    if ((missing == MISSING_ZERO && v >= -ZERO_THRESHOLD && v <= ZERO_THRESHOLD)
        || (missing == MISSING_NAN && isnan(v)))
        return (dt & 2) ? l : r;
    return v <= thr ? l : r;
}

static void predict_block(int ntrees, const int32_t *tree_node, const int32_t *tree_depth,
                          const int32_t *feature, const double *threshold, const int32_t *left,
                          const int32_t *right, const uint8_t *dtype, const int32_t *leaf,
                          const double *leaf_value, const double *X, int n, int64_t ncols,
                          double *out) {
    double acc[BLOCK];
    int32_t cur[BLOCK];
    for (int r = 0; r < n; r++)
        acc[r] = 0.0;
    for (int t = 0; t < ntrees; t++) {
        int32_t base = tree_node[t];
        const int32_t *f = feature + base, *lc = left + base, *rc = right + base;
        const double *th = threshold + base;
        const uint8_t *dt = dtype + base;
        for (int r = 0; r < n; r++)
            cur[r] = 0;
        for (int step = tree_depth[t]; step > 0; step--)
            for (int r = 0; r < n; r++) {
                int32_t c = cur[r];
                cur[r] = decide(X[r * ncols + f[c]], th[c], dt[c], lc[c], rc[c]);
            }
        for (int r = 0; r < n; r++)
            acc[r] += leaf_value[leaf[base + cur[r]]];
    }
    memcpy(out, acc, (size_t)n * sizeof(double));
}

void gbdt_predict(int ntrees, const int32_t *tree_node, const int32_t *tree_depth,
                  const int32_t *feature, const double *threshold, const int32_t *left,
                  const int32_t *right, const uint8_t *decision_type, const int32_t *leaf,
                  const double *leaf_value, const double *X, int64_t nrows, int64_t ncols,
                  double *out) {
    for (int64_t r0 = 0; r0 < nrows; r0 += BLOCK) {
        int n = (int)(nrows - r0 < BLOCK ? nrows - r0 : BLOCK);
        predict_block(ntrees, tree_node, tree_depth, feature, threshold, left, right, decision_type,
                      leaf, leaf_value, X + r0 * ncols, n, ncols, out + r0);
    }
}
