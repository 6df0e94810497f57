"""The one exception type users see, and its few kinds.

Every error a user can cause (a bad input file, an unknown override key, a target
that cannot be met, a solver that stops early) is an ``EtscapError``. The CLI prints
its message without a traceback and exits with the kind's ``exit_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import pandas as pd


class EtscapError(Exception):
    """An error the user can fix; the message says where and how."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, what was expected."""

    file: str
    row: int | None  # as a spreadsheet user counts it: the header is row 1
    column: str | None
    found: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        found = f"found {self.found!r}, " if self.found is not None else ""
        return f"{', '.join(where)}: {found}expected {self.expected}"


class InputError(EtscapError):
    """A dataset or override that does not meet its declaration."""

    exit_code = 2
    max_listed = 50

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        lines = [str(p) for p in self.problems[: self.max_listed]]
        hidden = len(self.problems) - len(lines)
        if hidden > 0:
            lines.append(f"... and {hidden} more")
        if len(self.problems) == 1:
            super().__init__(lines[0])
        else:
            super().__init__(f"{len(self.problems)} problems in the inputs:\n"
                             + "\n".join(f"  {line}" for line in lines))


class InfeasibleError(EtscapError):
    """The targets (or fixed caps, or allocation rules) cannot all be met.

    ``relaxation``, when the cause was diagnosed, is a table (a pandas DataFrame) of the
    smallest relaxation of each target that makes the model feasible (``model.solving.diagnose``).
    """

    exit_code = 3

    def __init__(self, message: str, relaxation: pd.DataFrame | None = None):
        super().__init__(message)
        self.relaxation = relaxation


class SolverError(EtscapError):
    """HiGHS stopped without an optimal solution for a reason other than infeasibility."""

    exit_code = 4


def short_text(value: object) -> str:
    """A cell as a message shows it: its text, cut to 60 characters."""
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def number_text(value: float) -> str:
    """A number as a person writes it: 180, not 180.0."""
    return f"{value:.10g}"


def did_you_mean(word: object, known: Iterable[object]) -> str:
    """' (did you mean 'x'?)' for the closest known names, or '' if none is close."""
    import difflib  # here: only a misspelt name needs it

    names = [str(k) for k in known]
    close = [n for n in names if n.startswith(str(word)) and word] + difflib.get_close_matches(
        str(word), names, n=3
    )
    close = list(dict.fromkeys(close))[:3]
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
