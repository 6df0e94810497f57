"""The documentation site (mkdocs.yml, docs/): it builds with --strict and documents the public API.

Skipped where the docs extra is not installed (pip install -e '.[docs]'); CI installs it.
"""

from __future__ import annotations

import html as html_module
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import model
from model.studies import study as studies

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers")),
    reason="the docs extra is not installed: pip install -e '.[docs]'",
)

# The public names of model plus the study functions, which live in model.studies.study.
STUDY_FUNCTIONS = ["sweep", "monte_carlo", "run_scenarios"]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # not --quiet: it hides warnings from --strict, which then passes a broken link
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                           cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr and "ERROR" not in built.stderr, built.stderr
    return out


def test_api_pages_name_every_public_function(site: Path) -> None:
    html = "".join(page.read_text(encoding="utf-8") for page in sorted((site / "api").glob("*.html")))
    anchors = set(re.findall(r'id="(model\.[\w.]+)"', html))
    documented = {anchor.rsplit(".", 1)[1] for anchor in anchors}
    assert sorted((set(model.__all__) | set(STUDY_FUNCTIONS)) - documented) == []
    # each is rendered with its own docstring (not, say, a module of the same name: model.solve is
    # also a module): the first line of every public docstring is on the API pages
    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    missing = []
    for name in sorted(set(model.__all__) | set(STUDY_FUNCTIONS)):
        obj = getattr(model, name) if name in model.__all__ else getattr(studies, name)
        first_line = obj.__doc__.strip().splitlines()[0].replace("``", "")
        if first_line not in text:
            missing.append((name, first_line))
    assert missing == []


def test_doctest_examples_render_as_code_not_quotes(site: Path) -> None:
    results_page = (site / "api" / "results.html").read_text(encoding="utf-8")
    assert "<blockquote>" not in results_page
    assert 'class="language-pycon"' in results_page


def test_every_readme_section_is_a_page_of_the_site(site: Path) -> None:
    hooks = _load(ROOT / "docs" / "hooks.py", "docs_hooks")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", re.sub(r"```.*?```", "", readme, flags=re.DOTALL), flags=re.MULTILINE)
    pages = [path for path, _, _ in hooks.readme_pages(readme)]
    assert pages == ["index.md"] + [f"{hooks.slug(title)}.md" for title in sections]
    for page in pages:
        assert (site / page.replace(".md", ".html")).is_file()
    # the README's first paragraph is the home page's
    assert "2025-2060) into <code>results/china/</code>" in (site / "index.html").read_text(encoding="utf-8")


def test_input_reference_page_is_run_py_inputs(site: Path) -> None:
    printed = subprocess.run([sys.executable, "run.py", "inputs"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    files = re.findall(r"^#### `([^`]+)`", printed, flags=re.MULTILINE)
    assert "scenario.toml" in files and "mac.csv" in files
    page = (site / "input-reference.html").read_text(encoding="utf-8")
    for file in files:
        assert f"<code>{file}</code>" in page
    keys = re.findall(r"^\| `([^`]+)` \|", printed, flags=re.MULTILINE)
    assert len(keys) > 50
    assert [key for key in keys if f"<code>{key}</code>" not in page] == []


def test_readme_links_follow_their_section_to_its_page() -> None:
    hooks = _load(ROOT / "docs" / "hooks.py", "docs_hooks")
    pages = [("index.md", "Home", "# Title\n\nsee [Named scenarios](#named-scenarios)\n"),
             ("command-line.md", "Command line", "# Command line\n\n### Named scenarios\n\n[up](#command-line)\n")]
    anchors = hooks._anchors(pages)
    assert anchors == {"title": "index.md", "command-line": "command-line.md", "named-scenarios": "command-line.md"}
    assert hooks._relink("index.md", pages[0][2], anchors, {}) == (
        "# Title\n\nsee [Named scenarios](command-line.md#named-scenarios)\n")
    assert hooks._relink("command-line.md", pages[1][2], anchors, {}).endswith("[up](#command-line)\n")
    toy_notes = {"inputs/toy/README.md": "files/inputs-toy-README.md"}
    assert hooks._relink("index.md", "[notes](inputs/toy/README.md)", anchors, toy_notes) == (
        "[notes](files/inputs-toy-README.md)")
    # a heading inside a code block is no section
    assert [p for p, _, _ in hooks.readme_pages("# T\n\n```bash\n## not a heading\n```\n\n## Real one\n\ntext\n")] == [
        "index.md", "real-one.md"]


def test_doctest_lines_are_fenced() -> None:
    fence = _load(ROOT / "docs" / "griffe_doctest.py", "docs_griffe_doctest").fence_doctests
    assert fence("Text.\n\n>>> a = 1\n... b = 2\n>>> a\n\nMore.") == (
        "Text.\n\n```pycon\n>>> a = 1\n... b = 2\n>>> a\n```\n\nMore.")
    assert fence("```python\n>>> x\n```") == "```python\n>>> x\n```"  # already fenced: left alone
    assert fence("end\n>>> x") == "end\n```pycon\n>>> x\n```"
