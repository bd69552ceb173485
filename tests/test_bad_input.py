"""Bad input gets a clear error naming the file and line/row, never a hub lookup
or a raw traceback; `rlaif run` prints such errors as one line and exits with code 2."""
import json
import subprocess
import sys

import datasets
import pytest

from rlaif_lib import data

GOOD_SFT = {"prompt": "SUBREDDIT: r/x\n\nTITLE: t\n\nPOST: a post\n\nTL;DR:", "completion": " a summary"}


@pytest.fixture
def no_hub(monkeypatch):
    """Any attempt to reach the hub fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"hub lookup for {args!r}")

    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.mark.parametrize("source", ["data/missing.jsonl", "./missing", "/nowhere/comparisons", "missing.parquet",
                                    "a/b/c"])
def test_a_missing_path_is_no_such_file_not_a_hub_lookup(source, no_hub):
    for load in (data.load_sft, data.load_comparisons):
        with pytest.raises(FileNotFoundError, match=f"{source}: no such file"):
            load(source, "train")


@pytest.mark.parametrize("content, line, problem", [
    (json.dumps(GOOD_SFT) + "\n" + json.dumps(GOOD_SFT) + "\n{\"prompt\": \"x\", \n", 3, "not valid JSON"),
    (json.dumps(GOOD_SFT) + "\n\n" + json.dumps(GOOD_SFT) + "\n", None, None),  # blank lines are fine
    ((json.dumps(GOOD_SFT) + "\n").encode() + b'{"prompt": "caf\xe9", "completion": " x"}\n', 2, "not UTF-8"),
    ("", None, "is empty"),
    ("\n\n", None, "is empty"),
    (json.dumps(GOOD_SFT) + "\n" + json.dumps({"prompt": "p"}) + "\n", 2, "sft row 1: field 'completion' is missing"),
    (json.dumps(GOOD_SFT) + "\n[1, 2]\n", 2, "must be a JSON object"),
])
def test_malformed_files_raise_schema_errors_naming_file_and_line(tmp_path, content, line, problem, no_hub):
    path = tmp_path / "tldr.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if problem is None:
        assert len(data.load_sft(str(path), split=None)) == 2
        return
    with pytest.raises(data.SchemaError) as err:
        data.load_sft(str(path), split=None)
    message = str(err.value)
    assert message.startswith(str(path)) and problem in message
    if line:
        assert f"line {line}:" in message


def test_missing_comparison_fields_name_file_line_and_field(tmp_path):
    from tests.test_data import comparison_row

    rows = [comparison_row(i) for i in range(3)]
    del rows[2]["summaries"]
    path = tmp_path / "cmp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(data.SchemaError, match=rf"^{path}, line 3: comparisons row 2: field 'summaries' is missing"):
        data.load_comparisons(str(path), "train")


def test_a_folder_without_the_split_is_a_clear_error(tmp_path, no_hub):
    (tmp_path / "train.jsonl").write_text(json.dumps(GOOD_SFT) + "\n")
    assert len(data.load_sft(str(tmp_path), "train")) == 1
    with pytest.raises(data.SchemaError, match=f"{tmp_path}: cannot read split 'test'"):
        data.load_sft(str(tmp_path), "test")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rlaif_lib.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_unknown_preset_and_stage_are_one_line_errors(tmp_path, capsys):
    from rlaif_lib import cli

    for args, said in ((["--preset", "nope"], "unknown preset 'nope'"), (["--stages", "bogus"], "invalid choice: 'bogus'")):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["run", "--out", str(tmp_path / "run"), *args])
        assert exit_.value.code == 2 and said in capsys.readouterr().err
        assert not (tmp_path / "run" / "metrics.json").exists()
    result = _cli("run", "--preset", "nope", "--out", str(tmp_path / "run"))  # the console script, as a student runs it
    assert result.returncode == 2 and result.stderr.startswith("rlaif: error: unknown preset 'nope'")
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_cli_prints_a_data_error_as_one_line(tmp_path, monkeypatch, capsys):
    """The data stage on a malformed local file: one line naming file and line, exit code 2."""
    from dataclasses import replace

    from rlaif_lib import cli, presets

    bad = tmp_path / "tldr.jsonl"
    bad.write_text(json.dumps(GOOD_SFT) + "\nnot json\n")
    monkeypatch.setattr(presets, "get_preset", lambda name: replace(presets.Preset(), name=name, sft_data=str(bad),
                                                                    comparisons=str(bad)))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--preset", "local", "--out", str(tmp_path / "run"), "--stages", "data"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == f"rlaif: error: {bad}, line 2: not valid JSON (Expecting value)\n"


def test_cli_on_a_missing_data_file(tmp_path, monkeypatch, capsys, no_hub):
    from dataclasses import replace

    from rlaif_lib import cli, presets

    monkeypatch.setattr(presets, "get_preset", lambda name: replace(presets.Preset(), name=name,
                                                                    sft_data="data/tldr.jsonl", comparisons="data/c.jsonl"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--preset", "local", "--out", str(tmp_path / "run"), "--stages", "data"])
    assert exit_.value.code == 2 and "data/tldr.jsonl: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("args, said", [
    (["--sft-data", "missing/tldr.jsonl"], "missing/tldr.jsonl: no such file or folder"),
    (["--comparisons", "openai-batch99"], "unknown comparisons data 'openai-batch99'"),
    (["--policy", "./no-such-model"], "--policy ./no-such-model: no such folder"),
    (["--judge", "bigjudge"], "unknown --judge 'bigjudge'"),
    (["--labeler", "simulated:alignment=2"], "alignment must be a fraction"),
    (["--preset", "nope"], "unknown preset 'nope'"),
])
def test_cli_refuses_bad_data_and_models_before_loading_torch(tmp_path, args, said):
    """A missing file or an unknown name on `rlaif run` is one line and exit code 2, said before torch,
    TRL or the pipeline are imported (what makes the answer come in about a second)."""
    script = ("import sys\nfrom rlaif_lib import cli\ntry:\n    cli.main(sys.argv[1:])\nexcept SystemExit as e:\n"
              "    print('exit', e.code, 'torch' in sys.modules, 'rlaif_lib.pipeline' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script, "run", "--out", str(tmp_path / "run"), *args],
                            capture_output=True, text=True, timeout=120)
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout.strip() == "exit 2 False False"


def test_cli_names_the_real_data_in_the_box(tmp_path):
    """`--sft-data tldr-500 --comparisons openai-batch13` set the preset's data: the data stage reads the
    real posts, and holds out the test half's posts."""
    from rlaif_lib import cli
    from rlaif_lib.run_folder import RunFolder, read_json

    out = tmp_path / "run"
    cli.main(["run", "--preset", "micro", "--out", str(out), "--stages", "data", "--sft-data", "tldr-500",
              "--comparisons", "openai-batch13"])
    inputs = read_json(RunFolder(out).done("data"))["provenance"]["inputs"]
    assert inputs["sft_data"] == "tldr-500" and inputs["comparisons"] == "openai-batch13"
    assert "share no post" in read_json(RunFolder(out).done("data"))["held_out"]
