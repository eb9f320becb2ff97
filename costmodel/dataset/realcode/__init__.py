"""Real-world LLVM IR from Debian source packages, ComPile-style: built with a compiler wrapper that
side-compiles each translation unit with clang-22, labelled per function, on Ray, into Parquet.

``python -m irtoolkit.costmodel.dataset.realcode build --out DIR`` builds (or resumes) the corpus of the shipped
package list; ``... stats DIR`` gives its statistics.  See ``corpus`` for the folder layout and
``debian`` for how one package is built.
"""
