/* Dense linear algebra kernels: loops that vectorise, reductions, a stencil, LU. */
#include <math.h>
#include <stddef.h>

void matmul(size_t n, size_t m, size_t k, const float *restrict a, const float *restrict b,
            float *restrict c) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) {
      float acc = 0.0f;
      for (size_t p = 0; p < k; p++) acc += a[i * k + p] * b[p * m + j];
      c[i * m + j] = acc;
    }
}

void matmul_tiled(size_t n, const double *restrict a, const double *restrict b, double *restrict c) {
  enum { T = 32 };
  for (size_t ii = 0; ii < n; ii += T)
    for (size_t kk = 0; kk < n; kk += T)
      for (size_t jj = 0; jj < n; jj += T)
        for (size_t i = ii; i < ii + T && i < n; i++)
          for (size_t kx = kk; kx < kk + T && kx < n; kx++) {
            double aik = a[i * n + kx];
            for (size_t j = jj; j < jj + T && j < n; j++) c[i * n + j] += aik * b[kx * n + j];
          }
}

double dot(size_t n, const double *x, const double *y) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

void saxpy(size_t n, float alpha, const float *restrict x, float *restrict y) {
  for (size_t i = 0; i < n; i++) y[i] = alpha * x[i] + y[i];
}

double norm2(size_t n, const double *x) { return sqrt(dot(n, x, x)); }

void jacobi2d(size_t n, const double *restrict in, double *restrict out) {
  for (size_t i = 1; i + 1 < n; i++)
    for (size_t j = 1; j + 1 < n; j++)
      out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j] +
                              in[i * n + j - 1] + in[i * n + j + 1]);
}

/* In-place LU decomposition with partial pivoting; returns 0 on a singular matrix. */
int lu_decompose(size_t n, double *a, int *perm) {
  for (size_t i = 0; i < n; i++) perm[i] = (int)i;
  for (size_t k = 0; k < n; k++) {
    size_t piv = k;
    double best = fabs(a[k * n + k]);
    for (size_t i = k + 1; i < n; i++)
      if (fabs(a[i * n + k]) > best) { best = fabs(a[i * n + k]); piv = i; }
    if (best == 0.0) return 0;
    if (piv != k) {
      for (size_t j = 0; j < n; j++) {
        double t = a[k * n + j]; a[k * n + j] = a[piv * n + j]; a[piv * n + j] = t;
      }
      int t = perm[k]; perm[k] = perm[piv]; perm[piv] = t;
    }
    for (size_t i = k + 1; i < n; i++) {
      double f = a[i * n + k] /= a[k * n + k];
      for (size_t j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return 1;
}

float softmax_inplace(size_t n, float *x) {
  float mx = x[0];
  for (size_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
  for (size_t i = 0; i < n; i++) x[i] /= sum;
  return sum;
}
