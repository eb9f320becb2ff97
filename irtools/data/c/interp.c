/* A tiny stack-machine interpreter: a switch-heavy dispatch loop, varargs, globals. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum op { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_DUP, OP_SWAP, OP_JZ, OP_JMP, OP_PRINT, OP_HALT };

typedef struct { uint8_t op; int32_t arg; } insn_t;

static int64_t stack[256];
static int trace_enabled;
long executed_insns;

static void trace(const char *fmt, ...) {
  if (!trace_enabled) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

void set_trace(int on) { trace_enabled = on; }

int64_t run(const insn_t *code, size_t len) {
  int sp = 0;
  size_t pc = 0;
  while (pc < len) {
    const insn_t *i = &code[pc++];
    executed_insns++;
    trace("pc=%zu op=%d sp=%d\n", pc - 1, i->op, sp);
    switch (i->op) {
    case OP_PUSH: if (sp >= 256) return INT64_MIN; stack[sp++] = i->arg; break;
    case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
    case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
    case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
    case OP_DIV:
      sp--;
      if (stack[sp] == 0) return INT64_MIN;
      stack[sp - 1] /= stack[sp];
      break;
    case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
    case OP_SWAP: { int64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
    case OP_JZ: if (stack[--sp] == 0) pc = (size_t)i->arg; break;
    case OP_JMP: pc = (size_t)i->arg; break;
    case OP_PRINT: printf("%lld\n", (long long)stack[sp - 1]); break;
    case OP_HALT: return sp ? stack[sp - 1] : 0;
    default: return INT64_MIN;
    }
  }
  return sp ? stack[sp - 1] : 0;
}

/* factorial(n) as bytecode: acc=1; while (n) { acc *= n; n -= 1; } */
int64_t factorial_bytecode(int32_t n) {
  insn_t prog[] = {
      {OP_PUSH, 1}, {OP_PUSH, n},
      {OP_DUP, 0}, {OP_JZ, 11},
      {OP_DUP, 0}, {OP_PUSH, 0}, {OP_SWAP, 0}, {OP_SUB, 0}, {OP_PUSH, 0}, {OP_SUB, 0},
      {OP_JMP, 12}, {OP_HALT, 0},
      {OP_SWAP, 0}, {OP_PUSH, 0}, {OP_ADD, 0}, {OP_HALT, 0},
  };
  return run(prog, sizeof prog / sizeof *prog);
}
