"""Simulated students for ``bench/load_sessions.py`` (one server, N students taking quizzes at once).

- :mod:`.records`: what a student saw, the checks on it and the percentiles (pure);
- :mod:`.socket_student`: a student speaking Chainlit's own socket.io protocol (cheap: 50 on 2 cores);
- :mod:`.browser_student`: a student in a headless chromium page (Playwright), clicking as a person does.
"""
