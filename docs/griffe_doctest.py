"""Griffe extension: show a docstring's ``>>>`` lines as Python console code.

The project's docstrings give examples as bare ``>>>`` lines (readable in ``help()``);
Markdown would render them as nested quotes, so each run of ``>>>``/``...`` lines is fenced
as ``pycon`` before mkdocstrings renders the docstring. The source is not changed.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """``text`` with each run of unindented ``>>>`` and ``...`` lines inside a pycon fence."""
    lines, out, inside, fence = text.splitlines(), [], False, False
    for line in lines:
        if line.lstrip().startswith("```"):
            fence = not fence  # already fenced code is left alone
        prompt = not fence and (line.startswith(">>>") or (inside and line.startswith("...")))
        if prompt and not inside:
            out.append("```pycon")
        elif inside and not prompt:
            out.append("```")
        inside = prompt
        out.append(line)
    if inside:
        out.append("```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the ``>>>`` examples of every docstring griffe reads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
