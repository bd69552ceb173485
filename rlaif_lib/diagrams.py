"""Pictures of the method's ideas for the notebooks: the pipeline, the soft label, the Bradley-Terry loss and the
KL brake. Each function draws one idea with matplotlib (no image files, no run folder) and returns the Figure;
a notebook shows it with `plt.show()`. Numbers that are not given are made up to illustrate, and the titles say so.
"""
from __future__ import annotations

import numpy as np

from . import paper
from .provenance import STAGES

# What each run-folder stage makes, which of Algorithms 1-3 (the pseudocode from a presentation of the paper) or
# which section of the paper describes it, and the notebook that teaches it. Keyed by stage, drawn in STAGES' order.
PIPELINE_BOXES = {
    "data": ("demonstrations", "SFT rows, prompts", "01"),
    "sft": ("SFT policy", "Algorithm 1", "01"),
    "sample": ("samples", "Algorithm 2, loop 1", "02"),
    "label": ("AI labels", "Algorithm 2 (Sec. 2.1)", "02"),
    "reward": ("reward model", "Algorithm 2, loop 2", "03"),
    "rl": ("RL policy", "Algorithm 3", "04"),
    "evaluate": ("evaluation", "win rates (Sec. 2.3)", "05"),
}

# The illustrative labeler of soft_label_diagram: it prefers the first position in both orders (a position bias),
# a little more strongly when A is first, so the debiased label leans slightly to A.
ILLUSTRATIVE_LOGITS = {"logit_1": 1.2, "logit_2": 0.4, "logit_1_swapped": 0.9, "logit_2_swapped": 0.6}


def sigmoid(x):
    """1 / (1 + e^-x), written with tanh so that no x overflows."""
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=float) / 2))


def two_token_softmax(logit_1: float, logit_2: float) -> tuple[float, float]:
    """(P("1"), P("2")) from the two tokens' logits, renormalised over the two (the mass on every other token
    is left out, as the label stage does)."""
    p_1 = float(sigmoid(logit_1 - logit_2))
    return p_1, 1 - p_1


def soft_label_loss(margin, p):
    """-[p log sigmoid(d) + (1-p) log sigmoid(-d)] at margin d = r_A - r_B, for a soft label p; numerically
    stable (log sigmoid(d) = -log(1 + e^-d))."""
    d = np.asarray(margin, dtype=float)
    return p * np.logaddexp(0, -d) + (1 - p) * np.logaddexp(0, d)


def pipeline_diagram():
    """The pipeline as boxes and arrows, one box per run-folder stage (its name in monospace, from
    provenance.STAGES): what the stage makes, the algorithm or section of the paper, the notebook. Above the
    label stage, where the preference labels come from: human raters in RLHF, an off-the-shelf LLM in RLAIF
    (and, dashed, d-RLAIF, where the LLM scores RL's rollouts itself). Below, the SFT policy's second role:
    RL starts from it and its KL penalty is measured against it."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    width, step, height = 1.55, 2.0, 1.3  # box width, distance between box centres, box height
    centre = {stage: i * step + width / 2 for i, stage in enumerate(STAGES)}
    fig, ax = plt.subplots(figsize=(14, 4.4))
    for stage in STAGES:
        made, where, notebook = PIPELINE_BOXES[stage]
        x = centre[stage]
        ax.add_patch(FancyBboxPatch((x - width / 2, 0), width, height, boxstyle="round,pad=0.03",
                                    facecolor="#c7e9c0" if stage == "label" else "whitesmoke",
                                    edgecolor="black"))
        ax.text(x, 1.05, made, ha="center", va="center", fontsize=10, fontweight="bold")
        ax.text(x, 0.75, stage, ha="center", va="center", fontsize=10, family="monospace",
                bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="grey"))
        ax.text(x, 0.42, where, ha="center", va="center", fontsize=8)
        ax.text(x, 0.17, f"notebook {notebook}", ha="center", va="center", fontsize=8, color="dimgrey")
    for a, b in zip(STAGES, STAGES[1:]):
        ax.annotate("", xy=(centre[b] - width / 2 - 0.04, height / 2),
                    xytext=(centre[a] + width / 2 + 0.04, height / 2), arrowprops=dict(arrowstyle="-|>", lw=1.3))

    # Who labels the pairs: the one thing RLAIF changes in RLHF's recipe
    top = (centre["label"], height + 0.05)
    humans, llm = (centre["label"] - 1.3, 2.55), (centre["label"] + 1.3, 2.55)
    ax.annotate("RLHF: human raters", xy=(top[0] - 0.2, top[1]), xytext=humans, ha="center", va="center",
                fontsize=9, color="tab:red", fontweight="bold", arrowprops=dict(arrowstyle="-|>", color="tab:red"))
    ax.annotate("RLAIF: an off-the-shelf LLM", xy=(top[0] + 0.2, top[1]), xytext=llm, ha="center", va="center",
                fontsize=9, color="tab:blue", fontweight="bold", arrowprops=dict(arrowstyle="-|>", color="tab:blue"))
    ax.annotate("", xy=(centre["rl"], height + 0.05), xytext=(llm[0] + 0.6, llm[1] - 0.15),
                arrowprops=dict(arrowstyle="-|>", color="tab:blue", ls="--"))
    ax.text(centre["rl"] + 0.1, 2.3, "d-RLAIF (Sec. 2.2.2): the LLM scores\neach rollout, no reward model",
            fontsize=8, color="tab:blue", va="center")

    # The SFT policy's second role: RL's starting point and its KL anchor
    ax.annotate("", xy=(centre["rl"], -0.05), xytext=(centre["sft"], -0.05),
                arrowprops=dict(arrowstyle="-|>", color="dimgrey", ls=":", connectionstyle="arc3,rad=0.12"))
    ax.text((centre["sft"] + centre["rl"]) / 2, -0.72, "π_SFT: where RL starts, and the reference of its KL penalty",
            ha="center", fontsize=8, color="dimgrey")
    ax.text(-0.2, -1.15, "Algorithms 1-3: the pseudocode from a presentation of the paper, corrected in notebooks "
            "01, 03 and 04. Each box is a stage of the run folder (its name in monospace), run in this order.",
            fontsize=8, color="dimgrey")
    ax.set(xlim=(-0.3, centre[STAGES[-1]] + width / 2 + 0.3), ylim=(-1.3, 2.9))
    ax.axis("off")
    ax.set_title("The RLAIF pipeline: the RLHF recipe with the preference labels from an LLM")
    fig.tight_layout()
    return fig


def soft_label_diagram(logit_1: float | None = None, logit_2: float | None = None,
                       logit_1_swapped: float | None = None, logit_2_swapped: float | None = None,
                       source: str | None = None):
    """How the labeler's next-token logits become a soft label. The pair is shown in both orders; after
    "Preferred Summary=" the logits of the tokens "1" and "2" give, by a two-token softmax, P("1") and P("2") in
    each order (left: A shown first, so "1" means A; middle: B shown first, so "2" means A). The soft label
    averages A's probability over the two orders: p = (P("1" | A first) + P("2" | B first)) / 2 (right).
    Log-probabilities work as well as logits (the softmax ignores a shared constant). With no logits given, the
    ones of an illustrative labeler with a position bias (ILLUSTRATIVE_LOGITS), and the title says so; `source`
    names where given logits come from."""
    import matplotlib.pyplot as plt

    given = (logit_1, logit_2, logit_1_swapped, logit_2_swapped)
    if all(v is None for v in given):
        logits, source = ILLUSTRATIVE_LOGITS, "illustration: made-up logits"
    elif any(v is None for v in given):
        raise ValueError("give all four logits, or none for the illustration")
    else:
        logits = dict(zip(ILLUSTRATIVE_LOGITS, map(float, given)))
        source = source or "the logits given"
    ab = two_token_softmax(logits["logit_1"], logits["logit_2"])  # A is summary 1
    ba = two_token_softmax(logits["logit_1_swapped"], logits["logit_2_swapped"])  # A is summary 2
    p = (ab[0] + ba[1]) / 2

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), gridspec_kw={"width_ratios": [2, 2, 1.4]})
    orders = ((axes[0], ab, ("A", "B"), (logits["logit_1"], logits["logit_2"]), "order (A, B): A shown first"),
              (axes[1], ba, ("B", "A"), (logits["logit_1_swapped"], logits["logit_2_swapped"]),
               "order (B, A): B shown first"))
    for ax, probs, who, order_logits, title in orders:
        colours = ["tab:blue" if w == "A" else "tab:orange" for w in who]
        ax.bar([0, 1], probs, color=colours, width=0.6)
        for x, prob in enumerate(probs):
            ax.text(x, prob + 0.03, f"{prob:.3f}", ha="center", fontsize=9)
        ax.set_xticks([0, 1], [f'P("{k}"), "{k}" = {w}\nlogit {v:+.2f}' for k, w, v in zip("12", who, order_logits)])
        ax.set(ylim=(0, 1.12), title=title, ylabel="probability (softmax over the two tokens)")
    axes[2].bar([0], [p], color="tab:blue", width=0.5)
    axes[2].axhline(0.5, color="grey", ls="--", lw=0.8)
    axes[2].text(0.3, 0.52, "0.5: no\npreference", fontsize=8, color="grey", va="bottom")
    axes[2].text(0, p + 0.03, f"{p:.3f}", ha="center", fontsize=9)
    axes[2].set_xticks([0], ['p = (P("1" | A first)\n+ P("2" | B first)) / 2'])
    axes[2].set(xlim=(-0.6, 0.8), ylim=(0, 1.12), title="soft label P(A better)")
    same = (ab[0] > ab[1]) == (ba[0] > ba[1])
    fig.text(0.5, 0.01, "The labeler picks the same position in both orders (a position bias): averaging the two "
             "orders cancels a constant one." if same else "The labeler flips its answer with the swap: it follows "
             "the summaries, not their positions.", ha="center", fontsize=9, color="dimgrey")
    fig.suptitle(f"From two logits to a soft label ({source})")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def bradley_terry_diagram(soft_labels=(0.5, 0.7, 0.9, 1.0)):
    """The reward model's loss, in two panels. Left, Bradley-Terry: the model's P(A preferred) is
    sigmoid(r_A - r_B), a function of the reward margin d only. Right, the soft-label cross-entropy
    -[p log sigmoid(d) + (1-p) log sigmoid(-d)] against d for each soft label p, with its minimum marked at
    d = logit(p), where sigmoid(d) = p (the same points on the left). p = 0.5 is minimised at d = 0: no preference
    teaches equal rewards. p = 1 (a hard label) has no minimum: the loss keeps falling as the margin grows."""
    import matplotlib.pyplot as plt

    fig, (ax_bt, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
    margins = np.linspace(-6, 6, 1201)
    ax_bt.plot(margins, sigmoid(margins), color="black")
    ax_bt.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax_bt.axvline(0, color="grey", lw=0.6, ls=":")
    ax_bt.set(xlabel="reward margin d = r_A - r_B", ylabel="P(A preferred) = sigmoid(d)",
              title="Bradley-Terry: a reward margin is a preference probability")

    d = np.linspace(-4, 6, 1001)  # steps of 0.01: the drawn curves' minima sit within 0.01 of logit(p)
    for i, p in enumerate(soft_labels):
        colour = f"C{i}"
        ax_loss.plot(d, soft_label_loss(d, p), color=colour, label=f"p = {p:g}")
        if p < 1:
            best = float(np.log(p / (1 - p)))  # logit(p)
            ax_loss.plot([best], [soft_label_loss(best, p)], "o", color=colour, gid=f"minimum p={p:g}")
            ax_bt.plot([best], [p], "o", color=colour)
            ax_bt.plot([margins[0], best], [p, p], color=colour, lw=0.8, ls="--")
    if 0.5 in soft_labels:
        ax_loss.annotate("p = 0.5: minimum at d = 0,\nno preference teaches equal rewards", xy=(0, np.log(2)),
                         xytext=(-3.9, 0.2), fontsize=8, arrowprops=dict(arrowstyle="->", color="C0"))
    if 1.0 in soft_labels:
        ax_loss.annotate("p = 1 (a hard label): no minimum,\nthe margin is pushed up for ever", xy=(5.5, 0.01),
                         xytext=(0.3, 2.8), fontsize=8, arrowprops=dict(arrowstyle="->", color="gray"))
    ax_loss.set(xlabel="reward margin d = r_A - r_B", ylabel="loss", ylim=(0, 4.2),
                title="Soft-label loss: lowest at d = logit(p), where sigmoid(d) = p")
    ax_loss.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def kl_penalised_reward_diagram(beta: float = paper.KL_BETA, reward_max: float = 3.0, reward_scale: float = 4.0,
                                kl_max: float = 30.0):
    """The brake the KL term puts on RL. Each summary's objective is r - beta * KL, where KL is how far the
    policy's summary has moved from the SFT policy (log-ratio summed over its tokens). With an illustrative reward
    that rises and saturates as the policy moves away, r = reward_max * (1 - exp(-KL / reward_scale)), the
    objective is drawn for beta = 0 (no brake: it climbs as far as the plot goes), for `beta` (the paper's by
    default) and for 10 * beta, each curve's maximum marked: the larger beta, the nearer to SFT RL stops."""
    import matplotlib.pyplot as plt

    kl = np.linspace(0, kl_max, 3001)
    reward = reward_max * (1 - np.exp(-kl / reward_scale))
    fig, ax = plt.subplots(figsize=(8, 4.4))
    for i, b in enumerate((0.0, beta, 10 * beta)):
        objective = reward - b * kl
        best = int(np.argmax(objective))
        name = f"β = {b:g}" + (" (r alone)" if b == 0 else " (the paper's)" if b == paper.KL_BETA else "")
        ax.plot(kl, objective, color=f"C{i}", label=name)
        ax.plot([kl[best]], [objective[best]], "o", color=f"C{i}", gid=f"maximum beta={b:g}")
        ax.axvline(kl[best], color=f"C{i}", lw=0.6, ls=":")
    ax.annotate("β = 0: no brake, the best KL is\nas far as the policy can go", xy=(kl_max, reward[-1]),
                xytext=(0.55 * kl_max, 0.55 * reward_max), fontsize=8, arrowprops=dict(arrowstyle="->", color="C0"))
    ax.set(xlim=(0, kl_max * 1.02), ylim=(-0.3 * reward_max, 1.15 * reward_max),
           xlabel="KL(π ‖ π_SFT) of a summary (nats, summed over its tokens)", ylabel="objective r - β · KL",
           title="The KL brake: r - β · KL for a reward that saturates (illustration)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
