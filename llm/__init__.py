"""Model loading and generation shared by the agent, fine-tuning and evaluation (model I/O lives here)."""
