"""The tutor as a LangGraph state machine: explain -> quiz -> grade -> summarise, resumable per thread.

    state.py    what a thread remembers (JSON-able dicts) and what a turn is (Event)
    routing.py  commands, buttons and free text -> intent; the route_* routers (pure)
    nodes.py    the nodes (verbs): understand, explain, plan_quiz, prepare_retry, write_question,
                present_question (waits), grade, summarise, show_help
    graph.py    nodes + edges
    quizzes.py  quiz records: start, retry, finish (pure)
    cache.py    questions written ahead while the student answers
    classify.py free text -> intent with the model (Literal-constrained)
    runner.py   Tutor: one turn at a time per thread over an AsyncSqliteSaver
"""
