"""The README's benchmarks table: one row per results file under ``bench/results`` (see figures_registry.py).

Each row's ``figures(data)`` and ``machine(data)`` read the loaded JSON and return the cell text.
"""

from __future__ import annotations

from figures_lib import FigureError, Row, Table, by, cpu_machine, kilo, pct, secs, variant

# ------------------------------------------------------------------------------------ benchmarks


def quiz_speed(d: dict) -> str:
    quiz, index = d["quiz"], d["index_cache"]["QuestionDraft"]
    return (f"constrained decode {pct(d['constrained_vs_free']['ratio_decode'])} of free; first question "
            f"{secs(quiz['warm_median_first_question_s'])}, 10 questions {secs(quiz['warm_median_all_10_s'])} "
            f"(warm medians of {len(quiz['warm'])} quizzes); question-draft Outlines index built cold "
            f"{secs(index['cold_s'], 1)}, loaded from the disk cache {secs(index['cached_s'], 1)}")


def decode_variants(d: dict) -> str:
    packed, fp32 = variant(d["rows"], "(default)"), variant(d["rows"], "fp32, lean")
    text = (f"packed (default) {packed['decode_tok_s']} tok/s, ARC-Easy[{packed['arc_n']}] {pct(packed['arc_acc'])} "
            f"vs fp32 {fp32['decode_tok_s']} tok/s, {pct(fp32['arc_acc'])} (tutor adapter)")
    return text + llamacpp_beside(d)


def llamacpp_beside(d: dict) -> str:
    """The llama.cpp rows of decode_variants.json, when the run had llama-cpp-python (decode-only / with prompt)."""
    if not any("llama.cpp" in r["variant"] for r in d["rows"]):
        return ""
    own, tutor = variant(d["rows"], "its own sampler"), variant(d["rows"], "tutor runtime")
    return (f"; llama.cpp, same GGUF + adapter: {own['decode_tok_s']} tok/s ({own['total_tok_s']} with the prompt), "
            f"through the tutor's llamacpp backend {tutor['decode_tok_s']} ({tutor['total_tok_s']}), "
            f"ARC-Easy {pct(tutor['arc_acc'])}; {d.get('new_tokens', '?')} new tokens")  # load: machine column


def loaded_machine(d: dict) -> str:
    """The CPU and threads, and the load average the run started and ended with (the machine may be shared)."""
    start, end = d["load_average_start"][0], d["load_average_end"][0]
    return f"{cpu_machine(d)}, load average {start} at the start, {end} at the end"


def eval_speed(d: dict) -> str:
    fp32, bf16 = variant(d["rows"], "packed float32"), variant(d["rows"], "packed bfloat16")
    return f"{fp32['n']:,} loglik questions: fp32 {secs(fp32['seconds'], 1)}, bf16 {secs(bf16['seconds'], 1)}"


def load_sessions(d: dict) -> str:
    first, answer = d["quiz_to_first_question_s"], d["answer_to_next_question_s"]
    checks = "no cross-talk or errors" if not d["problems"] else f"problems in {len(d['problems'])} sessions"
    return (f"{d['completed_sessions']} of {d['sessions']} sessions × {d['questions_per_quiz']} questions completed, "
            f"{checks}; /quiz → first question median {secs(first['p50'], 1)} (max {secs(first['max'], 1)}); "
            f"answer → next question median {secs(answer['p50'])}, p95 {secs(answer['p95'])}")


def socket_load(d: dict) -> str:
    first, answer = d["quiz_to_first_question_s"], d["answer_to_next_question_s"]
    reader = {"default": "turns read by the model under the rules (at most 2 at once)", "rules": "turns read by the rules"}
    problems = f"; problems in {len(d['problems'])} sessions" if d["problems"] else ""
    beside = "".join(
        f"; beside it, the {name} backend ({b['model']}): {b['completed_sessions']} of {b['sessions']} completed, "
        f"first question p95 {secs(b['quiz_to_first_question_s']['p95'], 2)}, answer → next question p95 "
        f"{secs(b['answer_to_next_question_s']['p95'], 2)}" for name, b in (d.get("beside") or {}).items())
    return (f"{d['completed_sessions']} of {d['sessions']} socket students × {d['questions_per_quiz']} questions, "
            f"{reader.get(d['turn_reader'], d['turn_reader'])}: request → first question p50 {secs(first['p50'], 2)}, "
            f"p95 {secs(first['p95'], 2)}; answer → next question p50 {secs(answer['p50'], 2)}, "
            f"p95 {secs(answer['p95'], 2)}{problems}{beside}")


def socket_machine(d: dict) -> str:
    before = d["load_average"]["before"][0]
    return f"{d['machine_info']['cpu']}, {d['machine']}, load average {before:.1f} before the run (shared machine)"


def batched_decode(d: dict) -> str:
    rows = d["rows"]
    top = max(r["n"] for r in rows)
    serial, batched = by(rows, mode="serialised", n=top), by(rows, mode="batched", n=top)
    same = "same tokens" if all(r["same_tokens_as_serialised"] for r in rows) else "TOKENS DIFFER"
    return (f"{top} requests × {batched['new_tokens']} tokens at once: batched {batched['aggregate_tok_s']} tok/s vs "
            f"one at a time {serial['aggregate_tok_s']}; first token p95 {secs(batched['first_token_p95_s'], 1)} vs "
            f"{secs(serial['first_token_p95_s'], 1)}, whole answer p95 {secs(batched['latency_p95_s'], 1)} vs "
            f"{secs(serial['latency_p95_s'], 1)}; {same} (load average {d['load_average_start'][0]})")


def quiz_soak(d: dict) -> str:
    s = d["summary"]
    valid = s["valid_quizzes"]
    return (f"{valid['of'] - valid['n']} invalid of {valid['of']} quizzes ({s['questions']:,} questions), "
            f"{s['duplicate_stems']} duplicate stems, {s['duplicate_options']} duplicate options, largest letter "
            f"share {pct(s['max_letter_share_overall'])}; median {secs(s['seconds_per_quiz']['median'], 1)} a quiz "
            f"({d['strategy']} strategy)")


def train_throughput(rows: list[dict]) -> str:
    """Project vs Unsloth (and the plain stack, project + FP8 where run); medians with their spread when the
    run interleaved repeats (bench/interleave.py), else single measurements."""
    def cell(stack: str, batch: int) -> str:
        row = by(rows, stack=stack, batch=batch)
        text = f"{kilo(row['tokens_per_s'])} tok/s, {row['peak_gib']:.2f} GiB"
        if row.get("repeats"):
            text += f", spread {pct(row['spread'], 0)}"
        return text

    def others(batch: int) -> str:
        extra = [f"plain stack {cell('plain', batch)}"] if any(r["stack"] == "plain" and r["batch"] == batch
                                                                for r in rows) else []
        for stack, label in (("project-fp8", "project + FP8"), ("project-fp8-bwd", "project + FP8 input grads")):
            if any(r["stack"] == stack and r["batch"] == batch for r in rows):
                extra.append(f"{label} {cell(stack, batch)}")
        return "".join(f"; {text}" for text in extra)

    repeats = max((len(r.get("repeats", [])) for r in rows), default=0)
    lead = f"medians of {repeats} interleaved repeats; " if repeats > 1 else ""
    return lead + "; ".join(f"batch {b}: {cell('project', b)} (Unsloth {cell('unsloth', b)}{others(b)})"
                            for b in sorted({r["batch"] for r in rows if r["stack"] == "project"}))


def gpus(rows: list[dict]) -> str:
    names = sorted({row["gpu"] for row in rows})
    if len(names) != 1:
        raise FigureError(f"rows from more than one card: {names}")
    count = max(row.get("gpus", 1) for row in rows)
    return f"{count} x {names[0]}" if count > 1 else names[0]


def ddp(d: dict) -> str:
    def scaling(batch: int) -> str:
        one, two = by(d["rows"], gpus=1, bs_per_gpu=batch), by(d["rows"], gpus=2, bs_per_gpu=batch)
        ratio = two["tokens_per_s"] / one["tokens_per_s"]
        return f"{ratio:.2f}x ({kilo(one['tokens_per_s'])} → {kilo(two['tokens_per_s'])} tok/s)"

    return f"2 GPUs vs 1, batch 4 per GPU: {scaling(4)}; batch 2 per GPU (host-bound): {scaling(2)}"


def xeon_machine(d: dict) -> str:
    where = d["note"].split(";")[0].removeprefix("Reference timing on another machine: ")
    return f"{where}, {d['threads']} threads"


BENCHMARKS = Table(
    ("script", "measures", "latest", "machine (as the JSON records it)", "results"),
    (
        Row("bench/results/quiz_speed.json",
            ("`bench/quiz_speed.py`",
             "constrained vs free decode, Outlines index cold/cached, first question, 10 questions"),
            quiz_speed, cpu_machine),
        Row("bench/results/decode_variants.json",
            ("`bench/decode_variants.py`", "decode tok/s *and* ARC-Easy answers per CPU weight format"),
            decode_variants, loaded_machine),
        Row("bench/results/eval_speed.json", ("`bench/eval_speed.py`", "`tutor eval arc` loglik throughput"),
            eval_speed, cpu_machine),
        Row("bench/results/eval_speed_xeon_2cores.json",
            ("`bench/eval_speed.py`", "the same on another machine, random weights (speed only)"),
            eval_speed, xeon_machine),
        Row("bench/results/batched_decode.json",
            ("`bench/batched_decode.py`", "N concurrent generations: one at a time vs batched (`llm.batching`)"),
            batched_decode, lambda d: cpu_machine(d, threads="torch_threads", cores="cores")),
        Row("bench/results/load_sessions.json",
            ("`bench/load_sessions.py`", "N browser sessions taking quizzes at once on one server"),
            load_sessions, lambda d: f"{d['machine']}, {d['model']}"),
        Row("bench/results/socket20/load_sessions.json",
            ("`bench/load_sessions.py --sessions 20 --clients socket`", "20 students typing a quiz request at once"),
            socket_load, socket_machine),
        Row("bench/results/socket20-nice0/load_sessions.json",
            ("`TUTOR_MODEL_NICE=0 ...`", "the same, the model's threads at the app's CPU priority (run right after)"),
            socket_load, socket_machine),
        Row("bench/results/socket20-rules/load_sessions.json",
            ("`... --turn-reader rules`", "the same with the rules alone reading turns"),
            socket_load, socket_machine),
        Row("bench/results/e2e_under_load.json",
            ("`bash scripts/e2e_under_load.sh 10`", "the browser tier, run after run, with the 20-student load bench beside it"),
            lambda d: (f"{d['passed_in_a_row']} of {d['runs']} runs in a row passed (no retries in the tests), median "
                       f"{secs(sorted(d['seconds_per_run'])[len(d['seconds_per_run']) // 2], 0)} a run; beside them "
                       f"{d['load_beside']['completed']} load runs completed, {d['load_beside']['met_every_target']} "
                       f"met every target, worst answer → next question p95 "
                       f"{secs(d['load_beside']['worst_answer_to_next_question_p95_s'], 2)}"),
            lambda d: f"{d['cpu']}, {d['cores']} cores"),
        Row("bench/results/socket50/load_sessions.json",
            ("`bench/load_sessions.py --sessions 50 --clients socket`", "50 students typing a quiz request at once"),
            socket_load, socket_machine),
        Row("bench/results/socket50-run2/load_sessions.json",
            ("`... --out bench/results/socket50-run2`", "the same, run 2 of 3 back to back"),
            socket_load, socket_machine),
        Row("bench/results/socket50-run3/load_sessions.json",
            ("`... --out bench/results/socket50-run3`", "the same, run 3 of 3"),
            socket_load, socket_machine),
        Row("bench/results/unit_tier.json",
            ("`bench/unit_tier.py --runs 3`", "the unit tier's wall time, collection included"),
            lambda d: (f"{d['runs'][0]['passed']} tests: median {secs(d['median_wall_s'], 1)}, max "
                       f"{secs(d['max_wall_s'], 1)} over {len(d['runs'])} runs (target ≤ {d['target_s']:.0f} s)"),
            lambda d: f"{d['cpu']}, {d['cores']} cores, load average {d['load_average']['before'][0]:.1f} before"),
        Row("bench/results/quiz_soak.json",
            ("`bench/quiz_soak.py`", "100 quizzes: validity, duplicates, letter spread"),
            quiz_soak, cpu_machine),
        Row("bench/results/train_throughput.json",
            ("`bench/train_throughput.py`",
             "QLoRA tokens/s and peak memory: this trainer vs plain stack vs Unsloth, same run"),
            train_throughput, gpus),
        Row("bench/results/train_throughput_ddp.json",
            ("`bench/throughput_ddp.py`", "the same trainer through accelerate DDP, 1 vs 2 GPUs"),
            ddp, lambda d: gpus(d["rows"])),
    ),
)
