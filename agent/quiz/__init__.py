"""Quiz generation: plan sub-concepts, write one question per sub-concept, check, verify, assemble."""
