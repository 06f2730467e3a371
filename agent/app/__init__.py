"""The Chainlit web app: ``tutor chat``.

    launch.py       start Chainlit with its app root under the data dir (``tutor chat``)
    main.py         the Chainlit handlers (the file Chainlit loads)
    resources.py    the model-backed tutor service and the graph runner, built once per server
    inputs.py       browser input -> typed graph turn, with refusals for bad input (pure)
    render.py       typed graph output events -> markdown and buttons, HTML neutralised (pure)
    pad.py          the answer pad's Chainlit element: props to the browser, no file written
    settings.py     host, port, login name, password, cookie secret (env fallback)
    auth.py         password login or open single-user mode
    guard.py        open mode: only this server's Host and origin are answered (ASGI middleware)
    data_layer.py   chat history on SQLite (Chainlit BaseDataLayer on aiosqlite)
    chat_schema.py  its tables and row conversion (pure)
"""
