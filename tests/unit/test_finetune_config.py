"""Config parsing for ``tutor finetune``: defaults < YAML < flags, types, errors, shipped configs.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_config.py -q
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from finetune.arguments import ConfigError, config_from_namespace, parse_config
from finetune.config import CONFIG_CLASSES, FinetuneConfig

CONFIGS = Path(__file__).resolve().parents[2] / "finetune" / "configs"


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_documented_and_names_unique():
    names = [f.name for cls in CONFIG_CLASSES for f in dataclasses.fields(cls)]
    assert len(names) == len(set(names))
    for cls in CONFIG_CLASSES:
        for f in dataclasses.fields(cls):
            assert len(f.metadata.get("help", "")) > 10, f"{cls.__name__}.{f.name} lacks help"


def test_defaults_without_arguments():
    config = parse_config([])
    assert config == FinetuneConfig()
    assert config.model.target_modules == "all-linear" and config.model.fast is True  # the fast CUDA path is the default; no effect on CPU


def test_yaml_then_flags_override(tmp_path):
    path = write_yaml(tmp_path, "learning_rate: 1.0e-3\nlora_r: 8\ndataset: a.jsonl\npacking: true\n")
    config = parse_config(["--config", str(path), "--lora_r", "4", "--max-steps", "7"])
    assert config.train.learning_rate == 1e-3  # from YAML
    assert config.model.lora_r == 4  # flag beats YAML
    assert config.train.max_steps == 7  # dashed alias works
    assert config.data.packing is True and config.data.dataset == "a.jsonl"
    assert config.train.seed == 42  # untouched default


def test_yaml_scientific_notation_without_dot_is_a_float(tmp_path):
    # PyYAML (YAML 1.1) reads `2e-4` as the string "2e-4"; the parser must still give a float.
    config = parse_config(["--config", str(write_yaml(tmp_path, "learning_rate: 2e-4\n"))])
    assert isinstance(config.train.learning_rate, float) and config.train.learning_rate == pytest.approx(2e-4)


@pytest.mark.parametrize(
    "argv, expected",
    [(["--resume"], True), (["--resume", "false"], False), (["--resume", "yes"], True), ([], False)],
)
def test_boolean_flags(argv, expected):
    assert parse_config(argv).train.resume is expected


def test_optional_int_accepts_none(tmp_path):
    path = write_yaml(tmp_path, "max_rows: 10\n")
    assert parse_config(["--config", str(path)]).data.max_rows == 10
    assert parse_config(["--config", str(path), "--max_rows", "none"]).data.max_rows is None


def test_unknown_yaml_key_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown config field.*learning_rat"):
        parse_config(["--config", str(write_yaml(tmp_path, "learning_rat: 0.1\n"))])


def test_bad_yaml_value_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="lora_r"):
        parse_config(["--config", str(write_yaml(tmp_path, "lora_r: sixteen\n"))])
    with pytest.raises(ConfigError, match="quantization"):
        parse_config(["--config", str(write_yaml(tmp_path, "quantization: int3\n"))])


def test_bad_flag_value_exits():
    with pytest.raises(SystemExit):
        parse_config(["--quantization", "int3"])
    with pytest.raises(SystemExit):
        parse_config(["--lora_r", "1.5"])


def test_missing_config_file():
    with pytest.raises(ConfigError, match="does not exist"):
        parse_config(["--config", "/nonexistent/run.yaml"])


def test_tutor_cli_registers_finetune_with_overrides():
    from tutor.cli import build_parser

    args = build_parser().parse_args(
        ["finetune", "--config", str(CONFIGS / "tutor_smollm2.yaml"), "--learning_rate", "1e-4", "--fast", "false"]
    )
    config = config_from_namespace(args)
    assert config.train.learning_rate == 1e-4
    assert config.model.fast is False
    assert config.model.model == "embedded" and config.data.dataset == "runs/tutor_sft/train.jsonl"


def test_tutor_cli_export_commands_parse():
    from tutor.cli import build_parser

    args = build_parser().parse_args(["export", "merge", "--adapter", "a", "--out", "b"])
    assert args.method == "stream" and args.model is None and callable(args.handler)
    args = build_parser().parse_args(["export", "gguf", "--model", "m", "--out", "x.gguf", "--outtype", "q8_0"])
    assert args.outtype == "q8_0"


def test_recipe_config_reproduces_original_project():
    config = parse_config(["--config", str(CONFIGS / "llama32_3b_finetome.yaml")])
    assert config.model.model == "meta-llama/Llama-3.2-3B-Instruct"
    assert config.model.quantization == "qlora"
    assert (config.model.lora_r, config.model.lora_alpha) == (16, 16)
    assert config.model.target_modules == "all-linear"
    assert config.data.dataset == "mlabonne/FineTome-100k" and config.data.max_length == 2048
    assert config.train.learning_rate == pytest.approx(2e-4)
    assert (config.train.per_device_train_batch_size, config.train.gradient_accumulation_steps) == (2, 4)


def test_tutor_config_is_cpu_lora_on_embedded_model():
    config = parse_config(["--config", str(CONFIGS / "tutor_smollm2.yaml")])
    assert config.model.model == "embedded" and config.model.quantization == "none"
    assert config.data.dataset.endswith(".jsonl")
