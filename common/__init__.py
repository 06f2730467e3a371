"""Small helpers every layer shares; the bottom of the layering (imports nothing of ours).

    database.py     one async SQL interface on a SQLite file or PostgreSQL (chat history, accounts)
    sync_database.py  its synchronous twin for worker threads (the study store)
    files.py        write-then-rename: ``atomic_path`` (file or folder), ``write_atomic``, ``write_json``
    provenance.py   what to record with a run: package versions, CPU name, load average
    settings.py     the base of every layer's settings: environment fallback read in one place, field docs,
                    the markdown table of variables and CLI flags built from the same fields
"""
