# The C core is compiled at install time (cffi API mode); the builders live in irtools/_build.py.
import runpy

from setuptools import setup

setup(cffi_modules=runpy.run_path("irtools/_build.py")["CFFI_MODULES"])
