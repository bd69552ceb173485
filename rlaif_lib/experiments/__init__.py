"""Experiments built on whole runs of the pipeline: `analysis.py` (what a labeler's labels and a reward
model track), `selection.py` (the labeling prompt chosen on a validation split), `sweep.py` (labeler
quality carried through to the policy, each point a pipeline run) and `precomputed.py` (measurements
committed with the kit, shown where a run's labels are the ones they were measured on)."""
