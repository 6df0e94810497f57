"""Modules imported on first use, so that ``--help``, reading results and plotting do not
pay for Pyomo or HiGHS (together about half a second) when they never touch them."""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any, Callable


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` and imports it on the first attribute access."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> Any:
    """The module ``name`` if it is imported already, else a stand-in that imports it when used."""
    return sys.modules.get(name) or LazyModule(name)


def is_pyomo_model(value: Any) -> bool:
    """Whether ``value`` is a Pyomo ConcreteModel, without importing Pyomo (if Pyomo was never
    imported, no Pyomo model can exist)."""
    environ = sys.modules.get("pyomo.environ")
    return environ is not None and isinstance(value, environ.ConcreteModel)


def forwarded_names(package: str, path: str, module: str) -> Callable[[str], Any]:
    """A package's module ``__getattr__`` that reads a name from its submodule ``module`` on
    first use, so ``from model.<package> import NAME`` keeps working after the module moved
    into the package, and importing the package stays light. A name that is a submodule (a
    file or folder beside ``path``) is never forwarded: importing it finds the submodule."""
    here = os.path.dirname(path)

    def __getattr__(name: str) -> Any:
        if name.startswith("__") or os.path.exists(os.path.join(here, name + ".py")) or \
                os.path.isdir(os.path.join(here, name)):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")  # a submodule: imported
        return getattr(importlib.import_module(f".{module}", package), name)

    return __getattr__
