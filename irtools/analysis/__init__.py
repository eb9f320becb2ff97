"""Analyses over the LLVM IR object model: CFG, dominators, loops, def-use, call graph, features.

Import the submodules directly (``from irtools.analysis.loops import LoopInfo``); this
package imports nothing heavy so that ``irtools`` stays cheap to load.
"""
