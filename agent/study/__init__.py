"""The study loop: per-student memory of facts (FSRS), progress, spaced review, export.

    clock.py      UTC now plus an offset from the environment (tests jump days ahead)
    memory.py     FSRS ratings, schedules and recall probabilities (pure)
    facts.py      which fact a question tests; the plan item that asks it again
    store.py      tables in the chat database (SQLite or PostgreSQL): answers, fact schedules, quizzes, facts asked
    progress.py   mastery per area and concept, due counts, answers per day (pure)
    chart.py      the progress picture (matplotlib PNG)
    export.py     Anki (genanki), Markdown and JSON exports
    companion.py  the one object the graph, the app and the CLI call
"""
