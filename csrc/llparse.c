#include "llparse.h"
__attribute__((visibility("default"))) int llparse_abi_version(void) { return 1; }
