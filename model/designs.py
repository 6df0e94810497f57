"""``model.designs`` moved to ``model.studies.designs``; this path, shown in the README, docs or examples
before the move, stays importable as that same module (not a copy)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("model.studies.designs")
