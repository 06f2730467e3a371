"""The tutor's LangGraph: nodes and edges only (nodes in :mod:`.nodes`, routers in :mod:`.routing`).

    START -> understand -> route_intent -> explain | plan_quiz | plan_review | prepare_retry | grade
                                           | show_progress | export_history | show_help | reply
    every handler ------> route_next   -> write_question | present_question | summarise | END
    write_question -----> route_next      (-> present_question)
    present_question ---> understand      (waits in interrupt() for the student's next turn)
    summarise ----------> END

Build it with a checkpointer (:func:`agent.graph.checkpoint.open_saver`) and drive it with :class:`agent.graph.runner.Tutor`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, get_args, get_type_hints

from langgraph.graph import END, START, StateGraph

from agent.graph import nodes
from agent.graph.context import TutorContext
from agent.graph.routing import route_intent, route_next
from agent.graph.state import TutorState

HANDLERS = ("explain", "plan_quiz", "plan_review", "prepare_retry", "grade", "show_progress", "export_history",
            "show_help", "reply", "write_question")


def build_graph(checkpointer=None):
    """The compiled tutor graph (pass a checkpointer to keep state between turns and restarts)."""
    builder = StateGraph(TutorState, context_schema=TutorContext)
    builder.add_node("understand", nodes.understand)
    for name in HANDLERS:
        builder.add_node(name, getattr(nodes, name))
    builder.add_node("present_question", nodes.present_question)
    builder.add_node("summarise", nodes.summarise)

    builder.add_edge(START, "understand")
    builder.add_conditional_edges("understand", *on_loop(route_intent))
    for name in HANDLERS:
        builder.add_conditional_edges(name, *on_loop(route_next))
    builder.add_edge("present_question", "understand")
    builder.add_edge("summarise", END)
    return builder.compile(checkpointer=checkpointer)


def on_loop(router: Callable[[TutorState], str]) -> tuple[Callable[[TutorState], Awaitable[str]], list[str]]:
    """``router`` as a coroutine, with the destinations its ``Literal`` return type names.

    LangGraph runs a plain-function router in the thread pool: three hand-offs per answer turn that each
    wait for the GIL behind the busy event loop; a router is a few dict look-ups, so it runs on the loop.
    """
    destinations = list(get_args(get_type_hints(router)["return"]))

    async def route(state: TutorState) -> Any:
        return router(state)

    route.__name__ = router.__name__
    return route, destinations
