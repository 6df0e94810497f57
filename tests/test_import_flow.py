"""The one-way flow of model/ (README "Development"): no module imports a package later in
``ORDER``, at the top of the file, inside a function (a lazy import is still an arrow) or
under ``TYPE_CHECKING``, except the arrows of ``ALLOWED``, each with its reason. The list
can only shrink: an entry no module still needs fails. No import cycle spans two packages
either (an allowed arrow back may not come with one forward that closes a loop).

Where a new module goes: in the lowest package whose modules it needs nothing above; a new
package or top-level module gets its place in ``ORDER``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import model
from tests.conftest import ROOT

MODEL = Path(model.__file__).parent

# The packages of model/ (and its top-level modules) in the order data flows: each may import
# only its own layer and those before it. results reads a Solution (lp/solution.py) and needs
# nothing of solving; solving's pipeline and resolver return Results, so solving follows them.
ORDER: tuple[tuple[str, ...], ...] = (
    ("errors", "lazy"),  # leaves: the project's exception, imports on first use
    ("files",),  # the safe writers of files and folders (imports only errors)
    ("data",),
    ("parameters",),
    ("lp",),
    ("families",),
    ("results",),
    ("solving",),
    ("studies",),
    ("report",),
    ("cli",),
    # the facade: model/__init__.py (names imported on first use) and the old paths the README,
    # docs or examples showed, each an alias of its moved module
    ("__init__", "backtest", "designs", "fastpath", "formulation", "margin"),
)

# (importing module, package it imports from later in ORDER): why the arrow stays
ALLOWED: dict[tuple[str, str], str] = {
    ("model.lp.formulation", "families"):
        "formulation assembles stage 1 from the families' declarations, while every family "
        "writes its rows with lp.blocks: lp's blocks sit below the families and its formulation "
        "above them (moving it out of lp would change model.lp.formulation and model.formulation, "
        "which the README, docs and scripts use)",
    ("model.parameters.derive", "families"): "moved by the inputs branch",
}


# import cycles across packages that are there today (modules, sorted): why
KNOWN_CYCLES: dict[tuple[str, ...], str] = {
    ("model.families.base", "model.families.deployment_limits", "model.parameters.derive"):
        "moved by the inputs branch (parameters.derive's import of families.deployment_limits)",
}


def _package(name: str) -> str:
    """The package (or top-level module) of ``model.X...``; ``model`` itself is ``__init__``."""
    return name.split(".")[1] if "." in name else "__init__"


def _layer(name: str) -> int:
    """The position in ORDER of a module ``model.X...``."""
    for position, layer in enumerate(ORDER):
        if _package(name) in layer:
            return position
    raise AssertionError(f"{name} is in no layer of ORDER: give its package a place in the flow")


def module_name(path: Path, root: Path = MODEL) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(name: str, source: str, is_package: bool = False) -> list[tuple[str, int]]:
    """Every module of model/ that ``source`` (the module ``name``) imports, with its line: any
    ``import``/``from`` statement wherever it is, and ``importlib.import_module("model...")``.
    ``from .pkg import name`` counts as ``model...pkg.name``, a module or a name in one."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, node.lineno))
    return [(target, line) for target, line in found if target == "model" or target.startswith("model.")]


Graph = dict[str, tuple[str, list[tuple[str, int]]]]


def import_graph(root: Path = MODEL) -> Graph:
    """{module: (its file, [(imported module of model/, line), ...])} over every file under ``root``."""
    graph = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        graph[name] = (path.relative_to(root.parent).as_posix(),
                       imports(name, path.read_text(encoding="utf-8"), path.name == "__init__.py"))
    return graph


def _resolve(target: str, graph: Graph) -> str | None:
    """The module of ``graph`` that importing ``target`` runs: itself, or for a name in a
    module (``model.results.tables.Results``, ``model.solve``) the module that holds it."""
    while target and target not in graph:
        target = target.rpartition(".")[0]
    return target or None


def arrows_back(graph: Graph) -> dict[tuple[str, str], list[str]]:
    """{(module, package it imports later in ORDER): ["file:line imports target", ...]}."""
    found: dict[tuple[str, str], list[str]] = {}
    for importer, (path, targets) in graph.items():
        for target, line in targets:
            module = _resolve(target, graph)
            if module is not None and _layer(module) > _layer(importer):
                found.setdefault((importer, _package(module)), []).append(f"{path}:{line} imports {target}")
    return found


def test_no_module_imports_a_package_later_in_the_flow():
    back = {key: where for key, where in arrows_back(import_graph()).items() if key not in ALLOWED}
    assert not back, ("imports against the flow (README 'Development'); move the code down the flow, or add "
                      "the arrow to ALLOWED with a reason:\n" + "\n".join(w for where in back.values() for w in where))


def test_every_allowed_arrow_is_still_there():
    """An entry of ALLOWED that no module needs any more is removed (the list only shrinks)."""
    assert sorted(set(ALLOWED) - set(arrows_back(import_graph()))) == []
    assert all(reason.strip() for reason in ALLOWED.values())


def _cycles_across_packages(graph: Graph) -> list[list[str]]:
    """The strongly connected components of the import graph whose modules lie in more than
    one package (Tarjan's algorithm, iterative). An import of a package's name resolves to
    its __init__, or to the submodule of that name where there is one."""
    edges = {m: sorted({r for t, _ in graph[m][1] if (r := _resolve(t, graph)) is not None and r != m})
             for m in graph}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len({_package(m) for m in component}) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycle_spans_two_packages():
    cycles = [tuple(cycle) for cycle in _cycles_across_packages(import_graph())]
    assert [cycle for cycle in cycles if cycle not in KNOWN_CYCLES] == []
    assert sorted(set(KNOWN_CYCLES) - set(cycles)) == []  # a cycle gone is removed from the list


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "model" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "model"


def test_lazy_and_type_checking_imports_are_arrows_too(tmp_path):
    """An import inside a function, under TYPE_CHECKING or by importlib.import_module goes
    against the flow as much as one at the top of the file; each is named at its line."""
    root = _tree(tmp_path, {
        "__init__.py": "", "cli.py": "", "data/__init__.py": "", "results/__init__.py": "", "report/__init__.py": "",
        "report/plots.py": "",
        "data/workbook.py": ("from typing import TYPE_CHECKING\nimport numpy\nfrom . import schema\n"
                             "if TYPE_CHECKING:\n    from ..results.tables import Results\n"
                             "def export():\n    from ..report import plots\n"),
        "data/schema.py": "import importlib\nimportlib.import_module('model.cli')\n",
        "results/tables.py": "from ..data.schema import REQUIRED\n",
    })
    assert arrows_back(import_graph(root)) == {
        ("model.data.workbook", "results"): ["model/data/workbook.py:5 imports model.results.tables.Results"],
        ("model.data.workbook", "report"): ["model/data/workbook.py:7 imports model.report.plots"],
        ("model.data.schema", "cli"): ["model/data/schema.py:2 imports model.cli"],
    }


def test_a_cycle_between_two_packages_is_found_and_one_inside_a_package_is_not(tmp_path):
    """results.tables -> solving.pipeline -> results.tables is a loop across packages (an
    arrow allowed back would hide it from the order test), named with every module in it
    (notebook too, through tables); notebook <-> tables alone, within results, is no such loop."""
    root = _tree(tmp_path, {
        "__init__.py": "", "results/__init__.py": "", "solving/__init__.py": "",
        "results/tables.py": "def solve():\n    from ..solving.pipeline import solve\nfrom . import notebook\n",
        "results/notebook.py": "def show():\n    from .tables import Results\n",
        "solving/pipeline.py": "from ..results.tables import Results\n",
    })
    assert _cycles_across_packages(import_graph(root)) == [
        ["model.results.notebook", "model.results.tables", "model.solving.pipeline"]]
    without_the_loop = _tree(tmp_path, {"results/tables.py": "from . import notebook\n"})
    assert _cycles_across_packages(import_graph(without_the_loop)) == []


def test_a_name_of_the_facade_is_an_arrow_to_the_top(tmp_path):
    """``from .. import solve`` in a package imports model/__init__.py, the top of the flow."""
    root = _tree(tmp_path, {"__init__.py": "", "results/__init__.py": "",
                            "results/tables.py": "from .. import solve\nfrom ..errors import EtscapError\n",
                            "errors.py": ""})
    assert arrows_back(import_graph(root)) == {
        ("model.results.tables", "__init__"): ["model/results/tables.py:1 imports model.solve"]}


def test_every_module_has_a_place_in_the_flow(tmp_path):
    root = _tree(tmp_path, {"__init__.py": "", "helpers.py": "import model.data\n"})
    with pytest.raises(AssertionError, match="model.helpers is in no layer of ORDER"):
        arrows_back(import_graph(root))


def test_the_readme_states_the_order():
    """README "Development" gives the packages in ORDER's order, as `data/` -> `parameters/` -> ..."""
    packages = [name for layer in ORDER for name in layer if (MODEL / name).is_dir()]
    stated = " -> ".join(f"`{name}/`" for name in packages)
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert stated in readme
