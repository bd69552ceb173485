"""The TL;DR prompt format both worlds share; real data does not need the toy world."""
import subprocess
import sys

from rlaif_lib.tldr import parse_tldr_prompt, tldr_prompt


def test_tldr_prompt_round_trips():
    prompt = tldr_prompt("relationships", "Help me", "My post.\nSecond line.")
    assert prompt == "SUBREDDIT: r/relationships\n\nTITLE: Help me\n\nPOST: My post.\nSecond line.\n\nTL;DR:"
    assert parse_tldr_prompt(prompt) == {"subreddit": "relationships", "title": "Help me", "post": "My post.\nSecond line."}
    assert tldr_prompt(None, None, "x") == "SUBREDDIT: r/\n\nTITLE: \n\nPOST: x\n\nTL;DR:"


def test_real_data_code_does_not_import_the_toy_world():
    code = ("import sys, rlaif_lib.data, rlaif_lib.method.labeling; "
            "assert 'rlaif_lib.toy_world' not in sys.modules, 'toy_world imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
