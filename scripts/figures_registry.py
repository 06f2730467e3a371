"""What the README and the docstrings quote, and from which results file (rendered by readme_figures.py).

To add a results file, add one entry and run ``python scripts/readme_figures.py --write``:

* a table row: append ``Row(path, (script, what it measures), figures, machine)`` to ``BENCHMARKS``
  (``figures_bench.py``) or to ``QUALITY``, ``MODEL_JOBS`` or ``MUTATION`` (``figures_reports.py``), where
  ``figures(data)`` and ``machine(data)`` read the loaded JSON and return the cell text (``machine`` says
  what the file records about the machine or card: name it, or say it is not recorded);
* a paragraph: a new ``Prose`` in ``SECTIONS`` and a ``<!-- figures:NAME -->`` ... ``<!-- /figures -->``
  block in the README;
* a figure a docstring keeps: a ``DocFigure(file, template, results file, values)`` in ``DOC_FIGURES``.
"""

from __future__ import annotations

from figures_bench import BENCHMARKS
from figures_lib import DocFigure, Prose, pct, variant
from figures_reports import MODEL_JOBS, MUTATION, QUALITY

# ------------------------------------------------------------------------------------ paragraphs


def adapter(config: dict, metrics: dict) -> str:
    device = metrics.get("gpu") or ("CUDA, card not recorded" if metrics["device"] == "cuda" else metrics["device"])
    return f"""
The embedded model runs with the **tutor adapter** shipped in `llm/adapters/tutor-smollm2/` (LoRA r{config['r']} on
{len(config['target_modules'])} projections, trained with this project's pipeline on a dataset built from the knowledge
cards; `--adapter none` falls back to the base). The committed run (`finetune/reports/tutor-smollm2/metrics.json`)
trained {metrics['global_step']} steps over {metrics['data']['rows_used']:,} rows in {metrics['seconds']:.0f} s
({device}); loss {metrics['first_loss']:.2f} → {metrics['final_loss']:.2f}. Reproduce it with one command (CPU works):
"""


def packed(d: dict) -> str:
    p, fp32 = variant(d["rows"], "(default)"), variant(d["rows"], "fp32, lean")
    text = f"""
With the tutor adapter on {d['cpu']} ({d['threads']} threads, load average {d['load_average_start'][0]} at the
start), packed decoding runs {p['decode_tok_s']} tok/s against {fp32['decode_tok_s']} for the fp32 weights; on ARC-Easy ({p['arc_n']} questions) it scores {pct(p['arc_acc'])} vs
{pct(fp32['arc_acc'])} and picks the same answer as fp32 on {pct(p['arc_same_pick_as_fp32'])} of them
(`bench/decode_variants.py`, `bench/results/decode_variants.json`)."""
    if not any("llama.cpp" in r["variant"] for r in d["rows"]):
        return text + "\n"
    own, tutor = variant(d["rows"], "its own sampler"), variant(d["rows"], "tutor runtime")
    return text + f"""
In the same run llama.cpp decodes the same GGUF and adapter at {own['decode_tok_s']} tok/s
({own['total_tok_s']} including the prompt), and {tutor['decode_tok_s']} ({tutor['total_tok_s']}) through the tutor's
`TUTOR_BACKEND=llamacpp` loop, ARC-Easy {pct(tutor['arc_acc'])}.
"""


class SettingsTable:
    """The settings table, generated from the settings object's field docs (``python -m agent.settings --markdown``)."""

    sources: tuple[str, ...] = ()  # no results file: the code is the source

    def render(self, results) -> str:
        from agent.settings import Settings
        from common.settings import markdown_table

        return markdown_table(Settings)


SECTIONS = {
    "settings": SettingsTable(),
    "adapter": Prose(("llm/adapters/tutor-smollm2/adapter_config.json", "finetune/reports/tutor-smollm2/metrics.json"),
                     adapter),
    "packed": Prose(("bench/results/decode_variants.json",), packed),
    "benchmarks": BENCHMARKS,
    "quality": QUALITY,
    "model_jobs": MODEL_JOBS,
    "mutation": MUTATION,
}

# ------------------------------------------------------------------------------------ docstrings

LLAMACPP_TEST = "tests/integration/test_llamacpp_runtime.py"

DOC_FIGURES = (
    DocFigure("agent/app/main.py", "answer -> next question p95 {p95} s", "bench/results/load_sessions.json",
              lambda d: {"p95": f"{d['answer_to_next_question_s']['p95']:.2f}"}),
    DocFigure("llm/packed.py", "the lean fp32 step decodes {tok} tokens/s", "bench/results/decode_variants.json",
              lambda d: {"tok": variant(d["rows"], "fp32, lean")["decode_tok_s"]}),
    DocFigure(LLAMACPP_TEST,
              "mean KL {kl} nats a step, ARC-Easy picks {same} % the same as fp32's; no adapter: {none} nats",
              "bench/results/llamacpp_emulation.json",
              lambda d: {"kl": d["rows"][0]["mean_kl"], "same": f"{100 * d['rows'][0]['arc_same_pick_as_fp32']:.1f}",
                         "none": variant(d["rows"], "no adapter")["mean_kl"]}),
    DocFigure(LLAMACPP_TEST, "llama.cpp itself picks {same} % the same", "bench/results/decode_variants.json",
              lambda d: {"same": f"{100 * variant(d['rows'], 'tutor runtime')['arc_same_pick_as_fp32']:.1f}"}),
)

__all__ = ["BENCHMARKS", "DOC_FIGURES", "MUTATION", "QUALITY", "SECTIONS"]
