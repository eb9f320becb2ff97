// A row-sum reduction with scf.for iter_args, a conditional, and an unregistered op kept generic.
module attributes {demo.origin = "irtools"} {
  func.func @row_sums(%m: memref<?x?xf32>, %out: memref<?xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %zero = arith.constant 0.0 : f32
    %rows = memref.dim %m, %c0 : memref<?x?xf32>
    %cols = memref.dim %m, %c1 : memref<?x?xf32>
    scf.for %i = %c0 to %rows step %c1 {
      %sum = scf.for %j = %c0 to %cols step %c1 iter_args(%acc = %zero) -> (f32) {
        %v = memref.load %m[%i, %j] : memref<?x?xf32>
        %pos = arith.cmpf ogt, %v, %zero : f32
        %add = scf.if %pos -> (f32) {
          %s = arith.addf %acc, %v : f32
          scf.yield %s : f32
        } else {
          scf.yield %acc : f32
        }
        scf.yield %add : f32
      }
      memref.store %sum, %out[%i] : memref<?xf32>
    }
    "demo.marker"() {note = "unregistered ops parse too"} : () -> ()
    return
  }
}
