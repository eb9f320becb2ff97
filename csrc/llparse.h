#ifndef LLPARSE_H
#define LLPARSE_H
/* CFFI-BEGIN */
int llparse_abi_version(void);
/* CFFI-END */
#endif
