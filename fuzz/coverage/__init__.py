"""Coverage for a stripped TVM: int3 breakpoints at function starts plus a semantic signal."""
