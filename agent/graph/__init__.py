"""The tutor as a LangGraph state machine: explain -> quiz -> grade -> summarise, resumable per thread.

    events.py   typed UI events: turns in (text, answer click, action click), outputs to show (unions)
    state.py    what a thread remembers (ActiveQuiz, LastQuiz, the TurnRequest of the turn)
    context.py  run dependencies: the service and turn-reader protocols, the question cache, study + user
    routing.py  buttons, commands and free text -> TurnRequest; the route_* routers (pure)
    nodes.py    the nodes (verbs): understand, explain, plan_quiz, prepare_retry, write_question,
                present_question (waits), grade, summarise, plan_review, show_help, reply
    study_nodes.py  the study loop: record answers and quizzes, review plans, show_progress, export_history
    replies.py  the tutor's own short texts: help, small talk
    graph.py    nodes + edges
    quizzes.py  quiz records: start, retry, finish (pure)
    cache.py    questions written ahead while the student answers
    runner.py   Tutor: one turn at a time per thread over a SQLite (or PostgreSQL) saver
    checkpoint.py  the savers and the serializer (state classes only, each stored record rebuilt once)
    sqlite_saver.py  LangGraph's SQLite saver, one worker-thread hand-off per async call
"""
