/* gbdt: LightGBM forests flattened into arrays and evaluated a block of rows at a time.
 *
 * LightGBM predicts one row at a time, walking each tree to its leaf; a walk is a chain of dependent
 * loads and hard-to-predict branches, so one row keeps the core mostly waiting.  Here a block of rows
 * walks the same tree in lockstep, a fixed number of steps (the tree's depth) with a select instead
 * of a branch: leaves are nodes that lead to themselves.  The core overlaps the rows' independent
 * chains and the tree stays in cache.  The decision rule (Tree::NumericalDecision) and the order of
 * the sums are LightGBM's, so results are bit-identical; costmodel/gbdt.py checks each forest it
 * builds against its booster.
 *
 * Layout, all trees concatenated: tree t owns nodes tree_node[t] .. tree_node[t+1]-1, split nodes
 * first, then one node per leaf; `left`/`right` are node numbers within the tree; a leaf node has
 * threshold +inf, leads to itself both ways and `leaf` (its value's index in leaf_value, absolute)
 * set; split nodes have leaf = -1.  decision_type is LightGBM's byte (bit 1 default-left, bits 2-3
 * missing type).  Numerical splits only: the Python side keeps LightGBM for categorical or linear trees.
 */
#ifndef GBDT_H
#define GBDT_H
#include <stdint.h>

/* CFFI-BEGIN */
int gbdt_abi_version(void);
/* out[r] = sum over trees (in order) of the leaf value row r reaches; X is row-major float64. */
void gbdt_predict(int ntrees, const int32_t *tree_node, const int32_t *tree_depth,
                  const int32_t *feature, const double *threshold, const int32_t *left,
                  const int32_t *right, const uint8_t *decision_type, const int32_t *leaf,
                  const double *leaf_value, const double *X, int64_t nrows, int64_t ncols,
                  double *out);
/* CFFI-END */
#endif
