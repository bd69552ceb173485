"""What every notebook does first: pick the preset and the run folder.

    from rlaif_lib.notebook import setup
    PRESET, RUN = setup()

`make demo` uses the `tiny` preset and runs/demo; `make test` runs the notebooks on `micro` in a
test run folder. Both come from environment variables, so the same notebook runs everywhere.
"""
from __future__ import annotations

import os
from pathlib import Path

from .presets import Preset, get_preset
from .run_folder import RunFolder

DEFAULT_PRESET = "tiny"
DEFAULT_RUN = "../runs/demo"  # relative to notebooks/


def setup(preset: str | None = None, run: str | None = None) -> tuple[Preset, RunFolder]:
    """(Preset, RunFolder) from the arguments, else $RLAIF_PRESET / $RLAIF_RUN, else tiny and
    ../runs/demo; prints both."""
    preset = get_preset(preset or os.environ.get("RLAIF_PRESET", DEFAULT_PRESET))
    folder = RunFolder(Path(run or os.environ.get("RLAIF_RUN", DEFAULT_RUN)))
    print(f"preset {preset.name!r}, run folder {folder}")
    return preset, folder
