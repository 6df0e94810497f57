"""The datasets that come with etscap (``china``, ``toy``) and where they are: read by the
CLI (a dataset named ``china`` works from any folder) and by ``init``."""

from __future__ import annotations

from pathlib import Path

BUNDLED_NAMES = ("china", "toy")


def bundled_datasets() -> Path:
    """The folder of the datasets that come with etscap: ``inputs/`` of a checkout (an
    editable install), else the copy shipped in the package (``model/datasets/``)."""
    package = Path(__file__).resolve().parent.parent  # model/
    checkout = package.parent / "inputs"
    return checkout if (checkout / "china").is_dir() else package / "datasets"
