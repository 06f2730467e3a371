"""The README's report tables: quality reports, model jobs and mutation testing (see figures_registry.py).

Each row's ``figures(data)`` and ``machine(data)`` read the loaded JSON and return the cell text.
"""

from __future__ import annotations

from figures_lib import Row, Table, cpu_machine, pct, secs

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
    return (f"{o['questions']} questions read blind (no access to the cards or code): {on}keyed correctly "
            f"{pct(o['keyed_correct'])}, self-contained and keyed {pct(o['self_contained_and_keyed'])}, plausible "
            f"distractors {o['plausible_distractors']:.2f} of 3")


def reviewer_calibration(d: dict) -> str:
    tutor, exam = d["by_source"]["tutor"], d["by_source"]["exam"]
    return (f"one shuffled packet, the same blind reviewer: plausible distractors {tutor['plausible_distractors']:.2f} "
            f"of 3 for {tutor['questions']} tutor questions (from round 3), {exam['plausible_distractors']:.2f} for "
            f"{exam['questions']} human-written ARC-Easy exam questions; keyed correctly {pct(tutor['keyed_correct'])} "
            f"vs {pct(exam['keyed_correct'])}")


def _blind(path: str, command: str, what: str, date: str, describe=blind_review) -> Row:
    """A blind review's row: the reviewer is a separate agent session that sees only the packet (no cards, code
    or notes), not a person."""
    return Row(path, (command, what), describe, lambda d: f"a reviewer session shown only the packet, {date}")


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
        _blind("evaluation/reports/quiz-review2/blind/results.json",
               "`python -m evaluation.blind_review --packet ... --judgments ... --out DIR`",
               "blind review of quizzes on 18 held-out topics (round 2)", "2026-12-07"),
        _blind("evaluation/reports/quiz-review3/blind/results.json",
               "`python -m evaluation.blind_review --from-quiz evaluation/reports/quiz-review3/results.json "
               "--packet ...`, then `--judgments ... --out DIR`",
               "blind review of quizzes on 18 new held-out topics after the distractor rewrite of every card (round 3)",
               "2026-12-07"),
        _blind("evaluation/reports/notes/blind-round1/results.json",
               "`python -m evaluation.notes_report --src DIR --packet FILE`, then `evaluation.blind_review`",
               "blind review of questions from notes (9 textbook chapters, two books)", "2026-12-07"),
        _blind("evaluation/reports/notes/blind-round2/results.json",
               "`python -m evaluation.notes_report --src DIR --set heldout --packet FILE`, then `evaluation.blind_review`",
               "blind review of questions from notes, round 2 (15 held-out d2l-en chapters, after stricter checks)",
               "2026-12-07"),
        _blind("evaluation/reports/calibration/results.json",
               "`python -m evaluation.reviewer_calibration make ...`, then `summarise`",
               "how strict is the blind reviewer: tutor questions beside human-written exam questions", "2026-12-08",
               describe=reviewer_calibration),
        _blind("evaluation/reports/notes/blind-round3/results.json",
               "`python -m evaluation.notes_report --files CHAPTERS --packet FILE`, then `evaluation.blind_review`",
               "blind review of questions from notes, round 3 (59 chapters of two books new to development)",
               "2026-12-08"),
        _blind("evaluation/reports/notes/blind-round4/results.json",
               "`python -m evaluation.notes_report --files CHAPTERS --packet FILE`, then `evaluation.blind_review`",
               "blind review of questions from notes, round 4 (56 more new chapters, after checks drawn from round 3)",
               "2026-12-08"),
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
