"""The notebooks' pictures of the method's ideas (rlaif_lib/diagrams.py): each draws what its docstring says, and
the numbers drawn are the formulas' (computed here independently)."""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from rlaif_lib import diagrams, paper
from rlaif_lib.provenance import STAGES


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def texts(fig) -> list[str]:
    """Every string drawn on the figure: titles, labels, tick labels, annotations."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def marker(ax, gid):
    """(x, y) of the one-point line drawn with this gid."""
    line = next(line for line in ax.get_lines() if line.get_gid() == gid)
    return float(line.get_xdata()[0]), float(line.get_ydata()[0])


def test_every_stage_has_a_box():
    assert list(diagrams.PIPELINE_BOXES) == list(STAGES)


def test_pipeline_diagram_names_every_stage_its_algorithm_and_notebook():
    fig = diagrams.pipeline_diagram()
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    drawn = texts(fig)
    assert all(stage in drawn for stage in STAGES), "every run-folder stage is named in a box"
    joined = "\n".join(drawn)
    for words in ("Algorithm 1", "Algorithm 2", "Algorithm 3", "RLHF: human raters", "RLAIF: an off-the-shelf LLM",
                  "pseudocode from a presentation of the paper"):
        assert words in joined
    assert {f"notebook 0{i}" for i in range(1, 6)} <= set(drawn)


def test_soft_label_diagram_draws_the_formula_on_given_logits():
    logits = (2.0, -1.0, 0.5, 0.25)  # "1", "2" with A first; "1", "2" with B first
    fig = diagrams.soft_label_diagram(*logits, source="a test pair")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    p1_ab = math.exp(2.0) / (math.exp(2.0) + math.exp(-1.0))
    p1_ba = math.exp(0.5) / (math.exp(0.5) + math.exp(0.25))
    expected = (p1_ab + (1 - p1_ba)) / 2
    assert [b.get_height() for b in fig.axes[0].patches] == pytest.approx([p1_ab, 1 - p1_ab])
    assert [b.get_height() for b in fig.axes[1].patches] == pytest.approx([p1_ba, 1 - p1_ba])
    assert fig.axes[2].patches[0].get_height() == pytest.approx(expected)
    assert f"{expected:.3f}" in texts(fig) and "a test pair" in fig.get_suptitle()
    # log-probabilities give the same label: the softmax ignores a constant added to both logits of one order
    shifted = diagrams.soft_label_diagram(2.0 - 7, -1.0 - 7, 0.5 + 3, 0.25 + 3)
    assert shifted.axes[2].patches[0].get_height() == pytest.approx(expected)


def test_soft_label_diagram_says_when_its_logits_are_made_up():
    fig = diagrams.soft_label_diagram()
    assert "illustration" in fig.get_suptitle() and len(fig.axes) == 3
    with pytest.raises(ValueError):
        diagrams.soft_label_diagram(1.0, 0.0)


def test_bradley_terry_loss_minima_sit_at_logit_p():
    fig = diagrams.bradley_terry_diagram()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax_bt, ax_loss = fig.axes
    d, prob = ax_bt.get_lines()[0].get_data()
    assert np.allclose(prob, 1 / (1 + np.exp(-d)))
    curves = {line.get_label(): line for line in ax_loss.get_lines() if line.get_label().startswith("p = ")}
    assert set(curves) == {"p = 0.5", "p = 0.7", "p = 0.9", "p = 1"}
    for p in (0.5, 0.7, 0.9):
        x, y = curves[f"p = {p:g}"].get_data()
        assert np.allclose(y, -(p * np.log(1 / (1 + np.exp(-x))) + (1 - p) * np.log(1 / (1 + np.exp(x)))))
        logit = math.log(p / (1 - p))
        assert abs(x[np.argmin(y)] - logit) <= 0.01, "the drawn curve is lowest at logit(p)"
        assert marker(ax_loss, f"minimum p={p:g}")[0] == pytest.approx(logit)
    x, y = curves["p = 1"].get_data()
    assert np.all(np.diff(y) < 0), "a hard label has no minimum: the loss keeps falling"
    assert marker(ax_loss, "minimum p=0.5")[0] == pytest.approx(0.0)
    assert any("no preference teaches equal rewards" in t for t in texts(fig))


def test_kl_penalised_reward_maxima_move_towards_sft_as_beta_grows():
    fig = diagrams.kl_penalised_reward_diagram()
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    r_max, scale, kl_max = 3.0, 4.0, 30.0  # the function's defaults
    best = {}
    for beta in (0.0, paper.KL_BETA, 10 * paper.KL_BETA):
        best[beta] = marker(ax, f"maximum beta={beta:g}")[0]
        # r = r_max (1 - exp(-KL / scale)), r' = beta at KL = scale * log(r_max / (scale * beta))
        exact = kl_max if beta == 0 else scale * math.log(r_max / (scale * beta))
        assert best[beta] == pytest.approx(exact, abs=kl_max / 3000)
    assert best[0.0] > best[paper.KL_BETA] > best[10 * paper.KL_BETA] > 0
    assert any("(the paper's)" in t for t in texts(fig)) and "illustration" in ax.get_title()
