"""irtools fuzz: coverage-guided joint IR + pass-list fuzzing of TVM's TIR (Tzer-style).

Layout: ``tvm/`` (seeds, pass catalogue, case execution), ``mutate/`` (IR and pass-list
mutators), ``coverage/`` (int3 tracer and semantic signal), ``worker.py`` (fork servers),
``oracles.py``, ``findings.py``, ``reduce.py``, ``report.py``, ``engine.py``, ``cli.py``.
Nothing here imports TVM at module level except the modules under ``tvm/`` that need it.
"""
