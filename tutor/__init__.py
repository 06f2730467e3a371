"""The ``tutor`` command: the entry point above every subsystem (agent, knowledge, finetune, evaluation)."""
