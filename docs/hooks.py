"""MkDocs hooks: build the site's prose pages from the README at build time.

The README is the one source of the user documentation, so the site is generated from it
rather than copied (a copy would drift): each ``## `` section of README.md becomes a page,
the text before the first section the home page, and the input reference page is the output
of ``python run.py inputs`` (the declarations in model/data/schema.py). Links from the README to
files of the repository (examples, dataset notes) become pages of the site too, so that
``mkdocs build --strict`` can check every link.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.MULTILINE)
_LINK = re.compile(r"\]\((?!https?://|mailto:)([^)#\s]*)(#[^)\s]*)?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (its default slugify)."""
    text = re.sub(r"[`*_]", "", heading)
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def readme_pages(readme: str) -> list[tuple[str, str, str]]:
    """(page path, title, Markdown) for the README's introduction and each ``## `` section."""
    masked = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), readme)  # '#' in code is no heading
    starts = [m.start() for m in _SECTION.finditer(masked)]
    bounds = list(zip([0] + starts, starts + [len(readme)]))
    pages = []
    for number, (start, stop) in enumerate(bounds):
        text = readme[start:stop].strip() + "\n"
        if number == 0:
            pages.append(("index.md", "Home", text))
        else:
            title, body = text.split("\n", 1)
            title = title.removeprefix("## ").strip()
            pages.append((f"{slug(title)}.md", title, f"# {title}\n{body}"))
    return pages


def _anchors(pages: list[tuple[str, str, str]]) -> dict[str, str]:
    """Which page holds each heading anchor of the README."""
    where: dict[str, str] = {}
    for path, _, text in pages:
        masked = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        for heading in _HEADING.findall(masked):
            where.setdefault(slug(heading), path)
    return where


def _relink(path: str, text: str, anchors: dict[str, str], repo_files: dict[str, str]) -> str:
    """Point the README's links at the pages that now hold their targets."""

    def target(match: re.Match[str]) -> str:
        file, anchor = match.group(1), match.group(2) or ""
        if not file and anchor:  # a section of the README, maybe on another page now
            page = anchors.get(anchor[1:], path)
            return f"]({'' if page == path else page}{anchor})"
        if file in repo_files:
            return f"]({repo_files[file]}{anchor})"
        return match.group(0)  # left for mkdocs --strict to judge

    return _LINK.sub(target, text)


def _repo_page(relative: str) -> str:
    """A repository file linked from the README, as a page: Markdown as is, code fenced."""
    text = (ROOT / relative).read_text(encoding="utf-8")
    if relative.endswith(".md"):
        return text
    language = {".py": "python", ".toml": "toml", ".csv": "text"}.get(Path(relative).suffix, "text")
    return f"# `{relative}`\n\n```{language}\n{text}```\n"


def input_reference() -> str:
    """The input reference page: ``python run.py inputs``, as a user would print it."""
    printed = subprocess.run([sys.executable, str(ROOT / "run.py"), "inputs"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    return ("# Input reference\n\nEvery file, key and column of a dataset with its type, unit, default "
            "and range, as printed by `python run.py inputs` (generated from `model/data/schema.py`).\n\n"
            + re.sub(r"^#### ", "## ", printed, flags=re.MULTILINE))  # a file per section of the page


def on_files(files: Files, config: Any) -> Files:
    """Add the README's pages, the pages of the files it links to and the input reference."""
    pages = readme_pages(README.read_text(encoding="utf-8"))
    anchors = _anchors(pages)
    linked = sorted({m.group(1) for _, _, text in pages for m in _LINK.finditer(text)
                     if m.group(1) and (ROOT / m.group(1)).is_file()})
    repo_files = {relative: "files/" + relative.replace("/", "-").removesuffix(".md") + ".md"
                  for relative in linked}
    for path, _, text in pages:
        if path == "index.md":  # the home page leads to the rest
            text += "\n## Contents\n\n" + "".join(f"- [{title}]({page})\n" for page, title, _ in pages[1:])
            text += "- [Input reference](input-reference.md)\n- [API reference](api/index.md)\n"
        files.append(File.generated(config, path, content=_relink(path, text, anchors, repo_files)))
    for relative, page in repo_files.items():
        files.append(File.generated(config, page, content=_repo_page(relative)))
    files.append(File.generated(config, "input-reference.md", content=input_reference()))
    return files


API_PAGES = ["index", "inputs", "parameters", "formulation", "pipeline", "results", "studies", "compare", "errors"]


def on_config(config: Any) -> Any:
    """The navigation: the README's sections in order, the input reference, the API pages."""
    pages = readme_pages(README.read_text(encoding="utf-8"))
    api = [{"Overview" if name == "index" else _title(ROOT / "docs" / "api" / f"{name}.md"): f"api/{name}.md"}
           for name in API_PAGES]
    config["nav"] = ([{title: path} for path, title, _ in pages]
                     + [{"Input reference": "input-reference.md"}, {"API reference": api}])
    return config


def _title(page: Path) -> str:
    return page.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ").strip()
