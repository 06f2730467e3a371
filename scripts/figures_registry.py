"""What the README and the docstrings quote, and from which results file (rendered by readme_figures.py).

To add a results file, add one entry and run ``python scripts/readme_figures.py --write``:

* a table row: append ``Row(path, (script, what it measures), figures, machine)`` to ``BENCHMARKS`` or
  ``QUALITY``, where ``figures(data)`` and ``machine(data)`` read the loaded JSON and return the cell text
  (``machine`` says what the file records about the machine or card: name it, or say it is not recorded);
* a paragraph: a new ``Prose`` in ``SECTIONS`` and a ``<!-- figures:NAME -->`` ... ``<!-- /figures -->``
  block in the README;
* a figure a docstring keeps: a ``DocFigure(file, template, results file, values)`` in ``DOC_FIGURES``.
"""

from __future__ import annotations

from figures_lib import DocFigure, FigureError, Prose, Row, Table, by, cpu_machine, kilo, pct, secs, variant

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

# ------------------------------------------------------------------------------------ quality reports


def arc(d: dict) -> str:
    c = d["comparison"]["loglik"]
    low, high = c["difference_ci95"]
    return (f"loglik accuracy on {c['n']:,} questions: base {pct(c['first_accuracy'])}, tutor adapter "
            f"{pct(c['second_accuracy'])} ({100 * c['difference']:+.1f} pp, 95 % CI {100 * low:+.1f} to "
            f"{100 * high:+.1f}, McNemar p = {c['mcnemar']['p_value']:.2g})")


def arc_command(d: dict) -> str:
    s = d["settings"]
    base = " --compare-base" if s["compare_base"] else ""
    adapter = f" --adapter {s['adapter']}" if s["adapter"] else ""
    return (f"`tutor eval arc --data {s['data']}{adapter}{base} --mode {s['mode']} --chat-template "
            f"{s['chat_template']} --dtype {s['dtype']} --out {s['out']}`")


def quiz_command(d: dict) -> str:
    c = d["config"]
    return f"`tutor eval quiz --topics {c['topics']} --questions {c['questions']} --seed {c['seed']} --out {c['out']}`"


def arc_machine(d: dict) -> str:
    if d["settings"].get("device") == "cuda":
        return f"{d['machine'].get('gpu') or 'CUDA, card not recorded'}, {d['settings']['dtype']}"
    return f"{d['machine']['cpu']}, {d['machine']['torch_threads']} threads, {d['settings']['dtype']}"


def quiz_quality(d: dict) -> str:
    s, env = d["summary"], d["environment"]
    per_quiz, first = s["seconds_per_quiz"]["median"], s["seconds_to_first_question"]["median"]
    return (f"{s['valid_quizzes']['n']} of {s['valid_quizzes']['of']} quizzes valid ({s['questions']} questions), "
            f"keys verified {pct(s['verified_meta']['rate'])}, key stated by its fact "
            f"{pct(s['recheck_lexical']['rate'])}, largest letter share {pct(s['max_letter_share_overall'])}; "
            f"median {secs(per_quiz, 1)} a quiz, {secs(first, 1)} to the first question ({env['strategy']} strategy)")


def quiz_review_command(d: dict) -> str:
    c = d["config"]
    return (f"`tutor eval quiz --topics {c['topics']} --questions {c['questions']} --seed {c['seed']}"
            f"{' --no-model' if c.get('no_model') else ''} --out {c['out']}`")


def quiz_review(d: dict) -> str:
    s = d["summary"]
    f, n = s["focus"], s["focus"]["questions"]
    deep = sum(f["kinds"].get(k, 0) for k in ("application", "computation", "scenario"))
    recall, understanding = f["kinds"].get("recall", 0) / n, f["kinds"].get("understanding", 0) / n
    return (f"{s['topics']} held-out topics, {n} questions ({s['valid_quizzes']['n']} of {s['valid_quizzes']['of']} "
            f"quizzes valid): {pct(f['on_concept'] / n)} from the concept card the planner names; "
            f"{f['re_asked']} re-ask a stem an earlier topic's quiz asked; item kinds recall "
            f"{pct(recall, 0)}, understanding {pct(understanding, 0)}, "
            f"application/computation/scenario {pct(deep / n, 0)} ({d['config'].get('difficulty', 'medium')} quizzes)")


def blind_review(d: dict) -> str:
    o = d["overall"]
    on = f"on the requested topic {pct(o['on_topic'])}, " if o.get("on_topic") is not None else ""
    return (f"{o['questions']} questions read by a reviewer with no access to the cards or code: {on}keyed correctly "
            f"{pct(o['keyed_correct'])}, self-contained and keyed {pct(o['self_contained_and_keyed'])}, plausible "
            f"distractors {o['plausible_distractors']:.2f} of 3")


def phrasing(d: dict) -> str:
    base, adapter = d["base"]["rates"], d["adapter"]["rates"]
    return (f"usable drafts: base {pct(base['usable'], 0)}, tutor adapter {pct(adapter['usable'], 0)} of "
            f"{d['adapter']['n']} held-out facts (valid {pct(base['valid'], 0)} → {pct(adapter['valid'], 0)})")


QUALITY = Table(
    ("command", "measures", "latest", "machine (as the JSON records it)", "results"),
    (
        Row("evaluation/reports/tutor-vs-base/arc_easy/results.json",
            (arc_command, "ARC-Easy test, base vs tutor adapter, same questions"),
            arc, arc_machine),
        Row("evaluation/reports/tutor-vs-base/openbookqa/results.json",
            (arc_command, "OpenBookQA test, base vs tutor adapter, same questions"),
            arc, arc_machine),
        Row("evaluation/reports/quiz-embedded/results.json",
            (quiz_command, "quiz quality, embedded model + tutor adapter"),
            quiz_quality, lambda d: cpu_machine(d["environment"], threads="torch_threads")),
        Row("evaluation/reports/quiz-review/results.json",
            (quiz_review_command, "quiz focus and depth on topics not used in development (no model needed)"),
            quiz_review, lambda d: cpu_machine({k: v for k, v in d["environment"].items() if v is not None},
                                               threads="torch_threads")),
        Row("evaluation/reports/quiz-review2/blind/results.json",
            ("`python -m evaluation.blind_review --packet ... --judgments ... --out DIR`",
             "blind review of quizzes on 18 held-out topics (round 2)"),
            blind_review, lambda d: "a person (a session with no access to the cards), 2026-12-07"),
        Row("evaluation/reports/quiz-review3/blind/results.json",
            ("`python -m evaluation.blind_review --from-quiz evaluation/reports/quiz-review3/results.json --packet ...`, "
             "then `--judgments ... --out DIR`",
             "blind review of quizzes on 18 new held-out topics after the distractor rewrite of every card (round 3)"),
            blind_review, lambda d: "a person (a session with no access to the cards), 2026-12-07"),
        Row("evaluation/reports/notes/blind-round1/results.json",
            ("`python -m evaluation.notes_report --src DIR --packet FILE`, then `evaluation.blind_review`",
             "blind review of questions from notes (9 textbook chapters, two books)"),
            blind_review, lambda d: "a person (a session with no access to the cards), 2026-12-07"),
        Row("evaluation/reports/notes/blind-round2/results.json",
            ("`python -m evaluation.notes_report --src DIR --set heldout --packet FILE`, then `evaluation.blind_review`",
             "blind review of questions from notes, round 2 (15 held-out d2l-en chapters, after stricter checks)"),
            blind_review, lambda d: "a person (a session with no access to the cards or notes), 2026-12-07"),
        Row("evaluation/reports/phrasing/phrasing.json",
            ("`python -m evaluation.phrasing --adapter llm/adapters/tutor-smollm2 --compare-base --out DIR`",
             "can the model phrase a question itself (`QuestionDraft`, first try)"),
            phrasing, lambda d: "not recorded"),
    ),
)


# ------------------------------------------------------------------------------------ model jobs


def turn_reading(d: dict) -> str:
    def cell(mode: str) -> str:
        m, s = d[mode]["metrics"], d[mode]["seconds_per_turn"]
        return (f"{mode}: intent {pct(m['intent_accuracy'])}, topic F1 {m['topic']['token_f1']:.2f}, "
                f"count {pct(m['questions']['accuracy'])}, letter {pct(m['letter']['accuracy'])}, "
                f"p95 {s['p95']:.2f} s")
    name = "blind test set, " if d.get("data") == "turns_test_blind.jsonl" else ""
    return f"{name}{d['rules']['metrics']['rows']} held-out messages; " + "; ".join(cell(m) for m in ("rules", "model", "both"))


def turn_machine(d: dict) -> str:
    m = d["model"]["machine"]
    adapter = f"adapter {d['adapter_sha256'][:8]}" if d.get("adapter_sha256") else "adapter v2"
    load = m.get("load_average")
    busy = f", load average {load[0]:.1f} (shared machine: seconds are not the quiet figure)" if load and load[0] > 2 else ""
    return f"{m['cpu']}, {m['torch_threads']} threads, {adapter}{busy}"


def quiz_ablation(d: dict) -> str:
    s = d["summary"]
    key = s["key_check"]["checks"]["model"]
    return (f"plan pick = relevance order in {pct(s['plan_pick']['picks_are_relevance_order'])} of "
            f"{s['plan_pick']['plans']} plans; form pick = first form in {pct(s['form_pick']['picked_first'])}; "
            f"model key check rejects {pct(key['rejects_correct'])} of correct and {pct(key['detects_miskeyed'])} "
            f"of mis-keyed questions (an always-\"1\" model: 100 % of both): all three calls removed")


def explanations(d: dict) -> str:
    r = {k: v["summary"] for k, v in d["results"].items()}
    base = f", base {pct(r['base']['answered'])}" if "base" in r else ""
    clean = "every answer ends on a whole sentence" if all(v["clean"] == 1.0 for v in r.values()) else \
        "ending on a whole sentence: " + ", ".join(f"{k} {pct(v['clean'])}" for k, v in r.items())
    return (f"{r['extractive']['n']} held-out questions, answer in the first two sentences: extractive "
            f"{pct(r['extractive']['answered'])}, tutor adapter {pct(r['adapter']['answered'])} "
            f"({r['adapter']['tokens_per_s']:.1f} tok/s){base}; {clean}")


MODEL_JOBS = Table(
    ("job", "command", "measured", "machine (as the JSON records it)", "results"),
    (
        Row("bench/results/turns.json", ("reading a chat turn into a `TurnRequest`", "`python bench/turns.py`"),
            turn_reading, turn_machine),
        Row("bench/results/turns_blind.json", ("the same, messages written blind to the readers",
                                               "`python bench/turns.py --data evaluation/data/turns_test_blind.jsonl "
                                               "--results bench/results/turns_blind.json`"),
            turn_reading, turn_machine),
        Row("bench/results/quiz_ablation.json", ("quiz path: plan, question form, key check",
                                                  "`python -m bench.quiz_ablation`"),
            quiz_ablation, lambda d: f"{d['machine']}, {d['model']} + adapter v1"),
        Row("evaluation/reports/explain/results.json", ("answering an explain question",
                                                        "`tutor eval explain --data evaluation/data/explain_questions.jsonl`"),
            explanations, lambda d: f"{d['meta']['model']} + `{d['meta']['adapter']}`"),
    ),
)

MUTATED = ("agent/grading.py", "agent/quiz/assemble.py", "agent/quiz/checks.py", "agent/quiz/planning.py",
           "agent/quiz/ordering.py", "agent/graph/routing.py", "agent/turns/rules.py")


def mutants(m: dict) -> str:
    caught = f"{m['killed']} killed" + (f", {m['timeout']} timed out" if m["timeout"] else "")
    return (f"{m['mutants']:,} mutants: {caught}, {m['survived'] + m['no_tests']} survive, {m['equivalent']} "
            f"equivalent → kill rate {pct(m['kill_rate'])}")


def mutation_machine(d: dict) -> str:
    return f"{d['machine']['cpu']}, {d['machine']['cores']} cores (shared), {d['tool']}"


MUTATION = Table(
    ("module", "mutants (`python bench/mutation.py`)", "machine (as the JSON records it)", "results"),
    tuple(Row("bench/results/mutation.json", (f"`{name}`",), lambda d, name=name: mutants(d["modules"][name]),
              mutation_machine) for name in MUTATED)
    + (Row("bench/results/mutation.json", ("the core (all but the turn rules)",), lambda d: mutants(d["core"]),
           mutation_machine),
       Row("bench/results/mutation.json", ("all seven",), lambda d: mutants(d["total"]), mutation_machine)),
)

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

DOC_FIGURES = (
    DocFigure("agent/app/main.py", "answer -> next question p95 {p95} s", "bench/results/load_sessions.json",
              lambda d: {"p95": f"{d['answer_to_next_question_s']['p95']:.2f}"}),
    DocFigure("llm/packed.py", "the lean fp32 step decodes {tok} tokens/s", "bench/results/decode_variants.json",
              lambda d: {"tok": variant(d["rows"], "fp32, lean")["decode_tok_s"]}),
)

__all__ = ["BENCHMARKS", "DOC_FIGURES", "MUTATION", "QUALITY", "SECTIONS"]
