/* Sorting algorithms over ints and records: recursion, swaps, function pointers. */
#include <stdlib.h>
#include <string.h>

typedef struct { int key; double weight; char tag[8]; } record_t;

static void swap_int(int *a, int *b) { int t = *a; *a = *b; *b = t; }

void insertion_sort(int *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    int x = v[i];
    size_t j = i;
    while (j > 0 && v[j - 1] > x) { v[j] = v[j - 1]; j--; }
    v[j] = x;
  }
}

static size_t partition(int *v, size_t lo, size_t hi) {
  int pivot = v[(lo + hi) / 2];
  size_t i = lo, j = hi;
  for (;;) {
    while (v[i] < pivot) i++;
    while (v[j] > pivot) j--;
    if (i >= j) return j;
    swap_int(&v[i++], &v[j--]);
  }
}

void quick_sort(int *v, size_t lo, size_t hi) {
  if (hi <= lo) return;
  if (hi - lo < 16) { insertion_sort(v + lo, hi - lo + 1); return; }
  size_t p = partition(v, lo, hi);
  quick_sort(v, lo, p);
  quick_sort(v, p + 1, hi);
}

static void sift_down(int *v, size_t start, size_t end) {
  size_t root = start;
  while (2 * root + 1 <= end) {
    size_t child = 2 * root + 1, sw = root;
    if (v[sw] < v[child]) sw = child;
    if (child + 1 <= end && v[sw] < v[child + 1]) sw = child + 1;
    if (sw == root) return;
    swap_int(&v[root], &v[sw]);
    root = sw;
  }
}

void heap_sort(int *v, size_t n) {
  if (n < 2) return;
  for (size_t s = (n - 2) / 2 + 1; s-- > 0;) sift_down(v, s, n - 1);
  for (size_t end = n - 1; end > 0; end--) { swap_int(&v[0], &v[end]); sift_down(v, 0, end - 1); }
}

void merge_sort(int *v, int *tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  merge_sort(v, tmp, h);
  merge_sort(v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static int by_key(const void *a, const void *b) {
  const record_t *x = a, *y = b;
  return (x->key > y->key) - (x->key < y->key);
}

static int by_weight_desc(const void *a, const void *b) {
  const record_t *x = a, *y = b;
  return (x->weight < y->weight) - (x->weight > y->weight);
}

void sort_records(record_t *r, size_t n, int descending_weight) {
  qsort(r, n, sizeof *r, descending_weight ? by_weight_desc : by_key);
}

int is_sorted(const int *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (v[i - 1] > v[i]) return 0;
  return 1;
}
