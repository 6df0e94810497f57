"""The package layout (README "Development"): subpackages follow the flow, no name under
model/ resolves to anything but its module, and the old paths users were shown still work.

Written by the relayout script (issue 12 item 4)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import model
from tests.conftest import ROOT

NEW_PACKAGES = ['data', 'parameters', 'lp', 'solving', 'results', 'studies', 'report']
PACKAGES = NEW_PACKAGES + ["families"]
TOP_LEVEL_MODULES = ['cli', 'errors', 'files', 'lazy']
# old module paths the README, docs or examples showed, kept as aliases of the moved module
OLD_PATHS = {'model.backtest': 'model.studies.backtest', 'model.designs': 'model.studies.designs', 'model.fastpath': 'model.data.fastpath', 'model.formulation': 'model.lp.formulation', 'model.margin': 'model.studies.margin'}
# old modules that became packages of the same name: their names are read from this module
FORWARDED = {'model.report': 'model.report.plots', 'model.studies': 'model.studies.study'}


def _children(package) -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__))


def _every_package_and_child() -> list[tuple[str, str]]:
    pairs = [("model", child) for child in _children(model)]
    for name in PACKAGES:
        package = importlib.import_module(f"model.{name}")
        pairs += [(f"model.{name}", child) for child in _children(package)]
    return pairs


def test_model_holds_the_packages_of_the_flow_and_few_modules():
    children = set(_children(model))
    assert set(PACKAGES) <= children
    assert sorted(children - set(PACKAGES)) == sorted(set(TOP_LEVEL_MODULES) | {
        old.split(".")[1] for old in OLD_PATHS})


def test_no_module_or_package_is_named_as_a_public_attribute_of_model():
    """``import model.solve`` gave the function ``solve``: no child of model may share a
    public name (``model.solve``, ``model.compare`` are functions)."""
    assert sorted(set(_children(model)) & set(model.__all__)) == []


@pytest.mark.parametrize(("package", "child"), _every_package_and_child())
def test_a_module_name_resolves_to_that_module(package, child, monkeypatch):
    """Before the submodule is bound on its package, looking the name up on the package
    (``from model.studies import designs``) finds nothing else: no function or forwarded name."""
    parent = importlib.import_module(package)
    module = importlib.import_module(f"{package}.{child}")
    assert f"{package}.{child}" in sys.modules
    monkeypatch.delattr(parent, child, raising=False)
    found = getattr(parent, child, None)
    assert found is None or found is module, (package, child, found)


@pytest.mark.parametrize(("old", "new"), sorted({**OLD_PATHS, **FORWARDED}.items()))
def test_old_paths_users_were_shown_still_work(old, new):
    moved = importlib.import_module(new)
    if old in OLD_PATHS:
        assert importlib.import_module(old) is moved  # the same module, not a copy
    else:
        package = importlib.import_module(old)
        public = [name for name in vars(moved) if not name.startswith("_")]
        assert public and all(getattr(package, name) is getattr(moved, name) for name in public)


def test_the_packages_import_nothing_heavy():
    code = ("import sys\n" + "".join(f"import model.{name}\n" for name in NEW_PACKAGES)
            + "print(sorted(m for m in ('pyomo', 'highspy', 'pandas', 'numpy', 'dask', 'matplotlib') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"  # the packages' __init__ files import no module of theirs


def test_a_package_forwards_names_but_never_a_submodule_s():
    """``model.report`` reads ``plot_mac_curves`` from ``plots`` on first use, but a name that is
    one of its submodules (``plots``) or a dunder is not forwarded: importing it finds the
    submodule (lazy.forwarded_names)."""
    import model.report
    from model.report import plots

    assert model.report.__getattr__("plot_mac_curves") is plots.plot_mac_curves
    for name in ("plots", "__wrapped__"):
        with pytest.raises(AttributeError, match=f"module 'model.report' has no attribute '{name}'"):
            model.report.__getattr__(name)
