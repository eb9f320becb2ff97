// A 2-D five-point stencil as an affine loop nest over memrefs.
func.func @jacobi(%in: memref<66x66xf64>, %out: memref<66x66xf64>) {
  %c = arith.constant 2.000000e-01 : f64
  affine.for %i = 1 to 65 {
    affine.for %j = 1 to 65 {
      %a = affine.load %in[%i, %j] : memref<66x66xf64>
      %n = affine.load %in[%i - 1, %j] : memref<66x66xf64>
      %s = affine.load %in[%i + 1, %j] : memref<66x66xf64>
      %w = affine.load %in[%i, %j - 1] : memref<66x66xf64>
      %e = affine.load %in[%i, %j + 1] : memref<66x66xf64>
      %t0 = arith.addf %a, %n : f64
      %t1 = arith.addf %t0, %s : f64
      %t2 = arith.addf %t1, %w : f64
      %t3 = arith.addf %t2, %e : f64
      %r = arith.mulf %t3, %c : f64
      affine.store %r, %out[%i, %j] : memref<66x66xf64>
    }
  }
  return
}
