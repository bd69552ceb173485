"""The paper's method, one file per step: `labeling/` (Sec. 2.1, the AI labeler), `sft.py` (Algorithm 1),
`reward.py` (Algorithm 2's reward model), `rl.py` (Algorithm 3), `evaluate.py` (win rates, Table 1),
`rewards.py` (the reward each Table 1 policy optimises) and `training.py` (what every trainer does
after training). Nothing here knows about presets, run folders' stages or the pipeline."""
