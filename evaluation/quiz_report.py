"""Write a quiz-quality report (see :mod:`evaluation.quiz_quality`): JSON, Markdown, samples, PNG.

Every file is written to a temporary sibling and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from common.files import atomic_path, write_atomic
from schemas import LETTERS


def write_report(results: dict, out: Path, samples: int = 50, seed: int = 0) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "results.json", json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    write_atomic(out / "results.md", results_markdown(results))
    write_atomic(out / "samples.md", samples_markdown(results, samples, seed))
    plot(results, out / "quiz_quality.png")


def _model_name(env: dict) -> str:
    adapter = env.get("adapter")
    return f"{env['model']} + adapter {Path(adapter).name}" if adapter else env["model"]


def _pct(rate: dict | None) -> str:
    if not rate or rate["rate"] is None:
        return "n/a"
    low, high = rate["ci95"]
    return f"{100 * rate['rate']:.1f}% ({rate['n']}/{rate['of']}; 95% CI {100 * low:.1f}-{100 * high:.1f})"


def _secs(spread: dict | None) -> str:
    if not spread:
        return "n/a"
    return (f"median {spread['median']:.1f} s, mean {spread['mean']:.1f}, p90 {spread['p90']:.1f}, "
            f"max {spread['max']:.1f}")


def results_markdown(results: dict) -> str:
    s, env, cfg = results["summary"], results["environment"], results["config"]
    letters = s["letters"]
    share = s["max_letter_share_overall"]
    per_quiz = s["max_letter_share_per_quiz"]
    lines = [
        f"# Quiz quality: {_model_name(env)} ({env['strategy']} strategy)",
        "",
        f"{s['topics']} topics from `{cfg['topics']}`, {cfg['questions']} questions each, "
        f"seed {cfg['seed']} + topic index; "
        f"{env['date']}, {env['cpus']} CPUs ({env.get('torch_threads')} torch threads), load average "
        f"{env['load_average']}. Reproduce with "
        f"`{reproduce_command(cfg)}`.",
        "",
        *_no_model_note(cfg),
        "| measure | value |",
        "|---|---|",
        f"| quizzes generated / topics | {s['quizzes']} / {s['topics']} |",
        f"| valid quizzes (re-validated from JSON) | {_pct(s['valid_quizzes'])} |",
        f"| questions | {s['questions']} |",
        f"| duplicate stems / questions with duplicate options | {s['duplicate_stems']} / {s['duplicate_options']} |",
        f"| answer letters A/B/C/D | {' / '.join(str(letters[x]) for x in LETTERS)} |",
        f"| largest letter share overall / within one quiz | "
        f"{'n/a' if share is None else f'{100 * share:.1f}%'} / "
        f"{'n/a' if per_quiz is None else f'{100 * per_quiz:.0f}%'} |",
        f"| keys verified by the generator (meta.verified) | {_pct(s['verified_meta'])} |",
        f"| re-check: card fact supports the key lexically | {_pct(s['recheck_lexical'])} |",
        f"| re-check: model picks the key from the fact (options re-ordered) | {_pct(s['recheck_model'])} |",
        f"| re-check: lexical or model | {_pct(s['recheck_either'])} |",
        f"| letters of keys the fact does not state (lexical re-check failed) | "
        f"{s['unsupported_key_letters'] or 'none'} |",
        f"| stems passing `stem_problems` | {_pct(s['stem_pass'])} |",
        f"| stem problems found | {s['stem_problems'] or 'none'} |",
        f"| questions from the topic's 3 best-matching cards | {_pct(s['topic_cards'])} |",
        *_focus_rows(s.get("focus")),
        f"| seconds per quiz | {_secs(s['seconds_per_quiz'])} |",
        f"| seconds to the first question | {_secs(s['seconds_to_first_question'])} |",
        f"| model load (s) | {env['model_load_seconds']} |",
        f"| unavailable (QuizUnavailable) | {len(s['unavailable'])} |",
        f"| other failures (errors, invalid quizzes) | {len(s['errors'])} |",
        "",
    ]
    lines += _focus_sections(results)
    for label, rows in (("Unavailable", s["unavailable"]), ("Failures", s["errors"])):
        if rows:
            lines += [f"## {label}", ""] + [f"- `{r['topic'][:80]}`: {r['message'][:300]}" for r in rows] + [""]
    lines += [
        "## Per topic",
        "",
        "| topic | seed | status | s | first q (s) | verified | lexical | model | stems ok | max letter | cards "
        "| top-3 cards |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for q in results["quizzes"]:
        n = q["questions"] or 1
        cards = len({r["source"] for r in q["rows"]})
        first = q["first_question_seconds"]
        model = "n/a" if q["model_ok"] is None else f"{q['model_ok']}/{n}"
        lines.append(
            f"| {q['topic'][:60]} | {q['seed']} | {q['status']} | {q['seconds']:.1f} "
            f"| {'' if first is None else f'{first:.1f}'} "
            f"| {q['verified_meta']}/{n} | {q['lexical_ok']}/{n} | {model} | {q['stem_ok']}/{n} "
            f"| {100 * q['max_letter_share']:.0f}% | {cards} | {q['topic_cards']}/{n} |"
        )
    return "\n".join(lines) + "\n"


def reproduce_command(cfg: dict) -> str:
    """The ``tutor eval quiz`` command line that re-runs this report."""
    flags = [f"--topics {cfg['topics']}", f"--questions {cfg['questions']}", f"--seed {cfg['seed']}"]
    if cfg.get("difficulty", "medium") != "medium":
        flags.append(f"--difficulty {cfg['difficulty']}")
    if cfg["strategy"] != "auto":
        flags.append(f"--strategy {cfg['strategy']}")
    if cfg.get("no_model"):
        flags.append("--no-model")
    return "tutor eval quiz " + " ".join(flags) + f" --out {cfg['out']}"


def _no_model_note(cfg: dict) -> list[str]:
    if not cfg.get("no_model"):
        return []
    return ["The template quiz path makes no model call, so these are the quizzes the app gives with the embedded "
            "model; only the model's re-check of each key is left out.", ""]


def _mix(counts: dict) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _focus_rows(focus: dict | None) -> list[str]:
    if not focus or not focus["questions"]:
        return []
    n = focus["questions"]
    return [
        f"| questions from the concept card the planner names for the topic | "
        f"{focus['on_concept']}/{n} ({100 * focus['on_concept'] / n:.1f}%) |",
        f"| questions whose stem an earlier topic's quiz asked / stems asked under several topics | "
        f"{focus['re_asked']} / {len(focus['repeated_stems'])} |",
        f"| item kinds (labels of the facts asked) | {_mix(focus['kinds'])} |",
        f"| difficulty labels of the facts asked | {_mix(focus['difficulties'])} |",
    ]


def _focus_sections(results: dict) -> list[str]:
    """Per topic: the concept card, the share on it, the kind and difficulty mix; then cross-topic repeats."""
    quizzes = [q for q in results["quizzes"] if q.get("focus")]
    if not quizzes:
        return []
    lines = ["## Focus per topic", "", "| topic | concept card (planner) | on concept | item kinds | difficulty |",
             "|---|---|---|---|---|"]
    for q in quizzes:
        f = q["focus"]
        lines.append(f"| {q['topic'][:60]} | {'; '.join(f['concept']) or 'none'} | {f['on_concept']}/{q['questions']} "
                     f"| {_mix(f['kinds'])} | {_mix(f['difficulties'])} |")
    repeated = results["summary"].get("focus", {}).get("repeated_stems", [])
    lines += ["", "## Stems asked under several topics", ""]
    lines += [f"- {r['stem']} ({'; '.join(r['topics'])})" for r in repeated] or ["none"]
    return lines + [""]


def pick_samples(results: dict, count: int, seed: int) -> list[tuple[str, dict]]:
    """``count`` questions spread over the topics (seeded), in topic order."""
    pool = [(i, q["topic"], row) for i, q in enumerate(results["quizzes"]) for row in q["rows"]]
    chosen = sorted(random.Random(f"samples:{seed}").sample(range(len(pool)), min(count, len(pool))))
    return [(pool[i][1], pool[i][2]) for i in chosen]


def samples_markdown(results: dict, count: int = 20, seed: int = 0) -> str:
    lines = [
        f"# Sample questions ({_model_name(results['environment'])}, {results['environment']['strategy']} strategy)",
        "",
        "Picked at random (seeded) from the evaluated quizzes, for a person to read. **Bold** is the key; "
        "the re-check columns are the independent lexical and model checks of that key.",
        "",
    ]
    for n, (topic, row) in enumerate(pick_samples(results, count, seed), start=1):
        model = {True: "agrees", False: "DISAGREES", None: "not run"}[row["model"]]
        lines += [f"### {n}. Topic: {topic[:80]}", "", f"**Q{row['index'] + 1}.** {row['question']}",
                  "", _labels(row), ""]
        for letter, option in zip(LETTERS, row["options"]):
            mark = f"**{letter}. {option}** (key)" if letter == row["answer"] else f"{letter}. {option}"
            lines.append(f"- {mark}")
        lines += [
            "",
            f"Source `{row['source']}`: {row['fact']}",
            "",
            f"Re-check: lexical {'supports' if row['lexical'] else 'does not support'} the key; model {model}; "
            f"stem problems: {', '.join(row['stem_problems']) or 'none'}.",
            "",
        ]
    return "\n".join(lines)


def _labels(row: dict) -> str:
    return f"({row.get('kind', 'unlabelled')}, {row.get('difficulty', 'unlabelled')}; source `{row['source']}`)"


def samples_text(results: dict, count: int = 50, seed: int = 0) -> str:
    """The same questions as ``samples.md``, as plain text for the terminal (key marked with '*')."""
    lines = [f"{count} questions for a person to read (key marked *):", ""]
    for n, (topic, row) in enumerate(pick_samples(results, count, seed), start=1):
        lines += [f"{n}. [{topic[:60]}] {row['question']}  {_labels(row)}"]
        lines += [f"   {'*' if letter == row['answer'] else ' '}{letter}. {option}"
                  for letter, option in zip(LETTERS, row["options"])]
        lines.append("")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quizzes = [q for q in results["quizzes"] if q["status"] == "ok"]
    s = results["summary"]
    fig, axes = plt.subplots(1, 3, figsize=(15, max(4.5, 0.22 * len(quizzes) + 1.5)),
                             gridspec_kw={"width_ratios": [2.2, 1, 1]})
    ax = axes[0]
    ax.barh([q["topic"][:38] for q in quizzes], [q["seconds"] for q in quizzes], color="#4c72b0", label="whole quiz")
    firsts = [q["first_question_seconds"] or 0 for q in quizzes]
    ax.barh([q["topic"][:38] for q in quizzes], firsts, color="#dd8452", label="to first question")
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title("Seconds per quiz")
    ax.legend(loc="lower right", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax = axes[1]
    counts = [s["letters"][x] for x in LETTERS]
    ax.bar(LETTERS, counts, color="#55a868")
    if s["questions"]:
        ax.axhline(s["questions"] / 4, color="grey", linestyle="--", label="even spread")
        ax.legend(fontsize=8)
    ax.set_title("Answer letters (all questions)")
    ax = axes[2]
    names = ["verified\n(meta)", "lexical\nre-check", "model\nre-check", "stems\nok"]
    rates = [(s[k] or {}).get("rate") or 0 for k in ("verified_meta", "recheck_lexical", "recheck_model", "stem_pass")]
    ax.bar(names, [100 * r for r in rates], color="#8172b3")
    ax.set_ylim(0, 100)
    ax.set_title("Key and stem checks (%)")
    fig.suptitle(f"Quiz quality: {_model_name(results['environment'])} ({results['environment']['strategy']})")
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
