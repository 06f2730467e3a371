"""The progress picture: mastery per concept (grouped by area, due counts marked) and answers per day.

A PNG drawn with matplotlib's Agg backend (no display; Plotly is not a dependency), which the web
app shows as an image element and ``tutor progress --png FILE`` writes.
"""

from __future__ import annotations

import io

from schemas.study import Progress

MAX_CONCEPTS = 30  # the weakest ones when there are more (a taller picture stops being readable)


def progress_png(progress: Progress) -> bytes:
    """PNG bytes of the picture (a short note on a blank picture when nothing was answered yet)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(area.area, c) for area in progress.areas for c in area.concepts if c.mastery is not None]
    rows = sorted(rows, key=lambda r: r[1].mastery)[:MAX_CONCEPTS]
    rows.sort(key=lambda r: (r[0], r[1].concept), reverse=True)
    height = 2.5 + 0.32 * max(len(rows), 3)
    fig, (bars, days) = plt.subplots(2, 1, figsize=(8, height + 2.5), height_ratios=[height, 2.5])
    try:
        _mastery_panel(bars, rows, progress)
        _days_panel(days, progress)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _mastery_panel(ax, rows, progress: Progress) -> None:
    if not rows:
        ax.text(0.5, 0.5, "No answers yet: take a quiz to see your progress here.", ha="center", va="center")
        ax.set_axis_off()
        return
    areas = sorted({area for area, _ in rows})
    palette = [f"C{i % 10}" for i in range(len(areas))]
    colour = dict(zip(areas, palette))
    labels = [c.concept for _, c in rows]
    values = [100 * c.mastery for _, c in rows]
    ax.barh(range(len(rows)), values, color=[colour[a] for a, _ in rows])
    for y, (_, c) in enumerate(rows):
        note = f"{c.seen} seen, {c.unseen} unseen" + (f", {c.due} due" if c.due else "")
        ax.text(min(100 * c.mastery + 1, 60), y, note, va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("mastery: mean recall probability of the facts seen (%)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colour[a], label=a) for a in areas], fontsize=7, loc="lower right")
    ax.set_title(f"{progress.user}: {progress.seen} facts seen, {progress.due} due now")


def _days_panel(ax, progress: Progress) -> None:
    if not progress.days:
        ax.set_axis_off()
        return
    labels = [d.day.isoformat() for d in progress.days]
    correct = [d.correct for d in progress.days]
    wrong = [d.answers - d.correct for d in progress.days]
    ax.bar(labels, correct, color="C2", label="right")
    ax.bar(labels, wrong, bottom=correct, color="C3", label="wrong")
    ax.set_ylabel("answers")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
