"""Experiments built on whole runs of the pipeline: `analysis.py` (what a labeler's labels and a reward
model track), `selection.py` (the labeling prompt chosen on a validation split) and `sweep.py`
(labeler quality carried through to the policy)."""
