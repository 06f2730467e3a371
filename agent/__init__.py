"""The tutor: quiz generation and checks, grading, the LangGraph flow and the Chainlit app."""
