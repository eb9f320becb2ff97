"""Module summary counts for ``irtools stats``."""

from __future__ import annotations

from collections import Counter

from .module import Module


def summarize(module: Module) -> dict:
    """Counts of a module: functions (defined), declarations, globals, blocks, instructions, opcodes, bytes,
    and ``function_sizes``: the instruction count of each defined function, in module order (what the
    size distribution of ``irtools stats`` is made of)."""
    funcs = module.functions
    defined = [f for f in funcs if not f.is_declaration]
    sizes = [sum(len(b.instructions) for b in f.blocks) for f in defined]
    IT = module._t["insts"]
    names = module._opcode_names()
    opcodes = Counter(names[o] for o in IT.op) if IT.n else Counter()
    return {
        "functions": len(defined),
        "declarations": len(funcs) - len(defined),
        "globals": len(module.globals),
        "aliases": len(module.aliases),
        "ifuncs": len(module.ifuncs),
        "blocks": sum(len(f.blocks) for f in defined),
        "instructions": sum(sizes),
        "function_sizes": sizes,
        "opcodes": dict(sorted(opcodes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "named_types": len(module.named_types),
        "bytes": module.size,
    }
