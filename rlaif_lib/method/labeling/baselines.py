"""Labelers that are not LLMs, with the same row shape as `label_pairs`: how much of a labeler's
alignment is trivia (longer-wins), chance (random) or topic similarity (MiniLM)."""
from __future__ import annotations

import numpy as np

from .prompts import validate_pairs


def _rows(pairs, p_as, name: str) -> list[dict]:
    validate_pairs(pairs)
    return [{"id": p["id"], "p_a": float(x), "probs_ab": [float(x), 1 - float(x)], "probs_ba": [1 - float(x), float(x)],
             "other_mass": 0.0, "same_position": False, "position": None, "labeler": name}
            for p, x in zip(pairs, p_as)]


def length_labeler(pairs) -> list[dict]:
    """"The longer summary wins" (characters); equal lengths give 0.5."""
    return _rows(pairs, [float(np.sign(len(p["summary_a"].strip()) - len(p["summary_b"].strip())) + 1) / 2
                         for p in pairs], "longer-wins")


def longer_wins(pairs) -> dict:
    """How often the human chose the longer summary (characters, as `length_labeler` counts them), over the
    pairs whose summaries differ in length: {value, ci_low, ci_high, n}. Real raters prefer longer summaries;
    the paper's length-controlled win rates (Table 8) exist because of it."""
    from ...stats import bootstrap_mean

    return bootstrap_mean([float((len(p["summary_a"].strip()) > len(p["summary_b"].strip())) == (p["choice"] == 0))
                           for p in pairs if len(p["summary_a"].strip()) != len(p["summary_b"].strip())])


def random_labeler(pairs, seed: int = 0) -> list[dict]:
    """A coin flip per pair (hard labels): alignment ~ 50% by construction."""
    rng = np.random.default_rng(seed)
    return _rows(pairs, rng.integers(0, 2, size=len(pairs)).astype(float), "random")


def embedding_labeler(pairs, temperature: float = 0.05, batch_size: int = 32) -> list[dict]:
    """MiniLM (all-MiniLM-L6-v2, mean pooling, 256-token inputs as it was trained): p_a =
    sigmoid((cos(post, a) - cos(post, b)) / temperature), i.e. a softmax over the two similarities."""
    import torch

    from ...models import load_encoder

    validate_pairs(pairs)
    enc, tok = load_encoder()  # on the device policy's device, in its dtype

    def embed(texts):
        out = []
        for i in range(0, len(texts), batch_size):
            x = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=256,
                    return_tensors="pt").to(enc.device)
            with torch.no_grad():
                h = enc(**x).last_hidden_state.float()
            m = x["attention_mask"][..., None].float()
            out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).cpu())
        return torch.cat(out)

    post, a, b = (embed([p[f] for p in pairs]) for f in ("post", "summary_a", "summary_b"))
    margin = ((post * a).sum(-1) - (post * b).sum(-1)) / temperature
    return _rows(pairs, torch.sigmoid(margin).tolist(), "minilm-cosine")

