"""Quiz generation: plan sub-concepts, write one question per sub-concept, check, verify, assemble.

    planning.py   topic -> a QuizPlan: the concept's facts first, neighbouring cards only when they run out
    ordering.py   which facts first: fresh before asked, then the item kinds the difficulty asks for (pure)
    writing.py    one question per plan item (template forms, or a model's draft under the checks)
    checks.py     stem and key checks in code
    assemble.py   option placement and balanced key letters
    service.py    TutorService: the one object the CLI, the graph and the evaluations call
"""
