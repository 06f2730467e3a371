"""``tutor finetune`` and ``tutor export``: argparse only here; torch and friends load inside handlers.

    tutor finetune --config finetune/configs/tutor_smollm2.yaml [--max_steps 20 --learning_rate 1e-4 ...]
    tutor finetune --config finetune/configs/tutor_smollm2.yaml --resume
    tutor export merge --model embedded --adapter runs/tutor_smollm2/adapter --out runs/tutor_smollm2/merged
    tutor export gguf --model runs/tutor_smollm2/merged --out runs/tutor_smollm2/tutor.gguf --outtype q8_0

Every config field is a flag of ``tutor finetune`` (see ``tutor finetune --help``); a flag overrides
the same key of the ``--config`` YAML file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VERIFY_LIMIT_BYTES = 2 * 1024**3  # auto-verify only models this small: verification holds two fp32 copies


def register(subparsers) -> None:
    from finetune.arguments import add_config_arguments

    finetune = subparsers.add_parser(
        "finetune", help="LoRA/QLoRA fine-tuning (YAML config + flag overrides)",
        description="Fine-tune a LoRA adapter on conversations. Flags override the --config YAML.",
    )
    add_config_arguments(finetune)
    finetune.set_defaults(handler=run_finetune)

    export = subparsers.add_parser("export", help="merge an adapter into its base; write GGUF files")
    export_sub = export.add_subparsers(dest="export_command", metavar="{merge,gguf}")
    export.set_defaults(handler=lambda args: _print_help(export))

    merge = export_sub.add_parser("merge", help="merge a LoRA adapter into the base (streaming, bounded RAM)")
    merge.add_argument("--model", default=None, help="base model spec (default: $TUTOR_MODEL or the embedded model)")
    merge.add_argument("--adapter", required=True, help="PEFT adapter folder (e.g. runs/NAME/adapter)")
    merge.add_argument("--out", required=True, help="output folder for the merged HF model")
    merge.add_argument("--method", choices=("stream", "peft"), default="stream",
                       help="stream: tensor by tensor, ~one tensor in RAM (default); peft: merge_and_unload in RAM")
    merge.add_argument("--max-shard-mb", type=int, default=2000, help="largest safetensors shard, MiB")
    merge.set_defaults(handler=run_merge)

    gguf = export_sub.add_parser("gguf", help="write a llama-architecture HF folder as a GGUF file")
    gguf.add_argument("--model", required=True, help="HF model folder (e.g. the merged one) or another model spec")
    gguf.add_argument("--out", required=True, help="output .gguf file")
    gguf.add_argument("--outtype", choices=("f32", "f16", "bf16", "q8_0"), default="f16", help="tensor type")
    gguf.add_argument("--tokenizer-pre", default=None,
                      help="llama.cpp pre-tokenizer name (default: detected from tokenizer.json)")
    gguf.add_argument("--verify", choices=("auto", "yes", "no"), default="auto",
                      help="reload with transformers and compare logits (auto: only for models under 2 GiB)")
    gguf.set_defaults(handler=run_gguf)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_finetune(args: argparse.Namespace) -> int:
    from finetune.arguments import config_from_namespace

    config = config_from_namespace(args)  # validates before the heavy imports below
    from finetune.train import train

    metrics = train(config)
    summary = {key: metrics[key] for key in ("final_loss", "global_step", "tokens_seen", "seconds",
                                             "step_time_median_s", "rows_skipped", "adapter")}
    print(json.dumps(summary, indent=2))
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from finetune.merge import merge

    info = merge(args.model, args.adapter, args.out, method=args.method, max_shard_mb=args.max_shard_mb)
    print(json.dumps(info, indent=2))
    print(f"peak RSS {info['peak_rss_mb']:.0f} MiB for a {info['model_mb']:.0f} MiB model "
          f"({info['peak_rss_over_model']:.2f}x; {info['rss_before_mb']:.0f} MiB before merging)", file=sys.stderr)
    return 0


def run_gguf(args: argparse.Namespace) -> int:
    from finetune.base_model import local_folder
    from common.files import write_json
    from finetune.gguf_export import write_gguf

    if not args.out.endswith(".gguf"):
        raise ValueError("--out must name a .gguf file")
    folder = local_folder(args.model)
    info = write_gguf(folder, args.out, outtype=args.outtype, tokenizer_pre=args.tokenizer_pre)
    model_bytes = sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))
    if args.verify == "yes" or (args.verify == "auto" and model_bytes < VERIFY_LIMIT_BYTES):
        from finetune.verify import compare_logits

        info["verify"] = compare_logits(folder, args.out)
    else:
        info["verify"] = None
    write_json(args.out + ".json", info)
    print(json.dumps(info, indent=2))
    return 0
