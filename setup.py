# The C core is compiled at install time (cffi API mode); the builders live in irtools/_build.py.
#
# Import names: the library is `irtools` (folder irtools/); the applications are imported as
# `irtoolkit.fuzz` and `irtoolkit.costmodel` while their sources stay in the top-level folders fuzz/ and
# costmodel/.  package_dir maps each import name onto its folder; `irtoolkit` itself is a namespace
# package (PEP 420: no folder, no __init__.py), so nothing but the two apps lives in it.  The package list
# is made here because setuptools' `packages.find` in pyproject.toml cannot give a folder another name.
import runpy

from setuptools import find_namespace_packages, setup

APPS = {"irtoolkit.fuzz": "fuzz", "irtoolkit.costmodel": "costmodel"}   # import name: folder


def packages() -> list[str]:
    found = find_namespace_packages(include=["irtools", "irtools.*"])
    for name, folder in APPS.items():
        found += [name + p[len(folder):] for p in find_namespace_packages(include=[folder, f"{folder}.*"])]
    return [p for p in found if "__pycache__" not in p.split(".")]


setup(cffi_modules=runpy.run_path("irtools/_build.py")["CFFI_MODULES"], packages=packages(), package_dir=APPS)
