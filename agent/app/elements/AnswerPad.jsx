// The answer buttons A-D of one quiz question (a Chainlit custom element; agent/app/answer_pad.py sends it).
//
// Why not Chainlit's own action buttons: under load (tests/e2e, bench/load_sessions.py) a click on them was
// silently lost when it landed while Chainlit re-rendered the message list (after the first message of a chat
// the page moves to /thread/<id> and remounts every message); they are also disabled while any message of the
// session is being handled. These buttons:
//  - send on the press (pointerdown), so a remount between press and release cannot swallow the click; keyboard
//    activation (Enter/Space) sends on click. A sent pad is locked with aria-disabled, not `disabled`: a disabled
//    button stops taking pointer events, so the release of the same press would land beside it (Playwright then
//    reports a missed click and tries again: tests/e2e, first run);
//  - keep what was sent in a page-wide store, so a remounted pad still shows it;
//  - always say what happened to the click: "Sending answer B…", then "✓ Answer B received" (or, from the
//    server's `answered` prop, after a reload), or "⚠ Answer B was not delivered: click again." with the buttons
//    enabled again. The server grades each question once; a second answer gets a visible "already answered".
// Props (injected by Chainlit): quiz_id, index, total, letters, tooltips, answered (the graded letter or null).
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";

const store = (window.tutorAnswerPads = window.tutorAnswerPads || { sent: {}, listeners: new Set() });

function remember(key, value) {
  store.sent[key] = value;
  store.listeners.forEach((listener) => listener());
}

export default function AnswerPad() {
  const key = `${props.quiz_id}:${props.index}`;
  const [, redraw] = useState(0);
  useEffect(() => {
    const listener = () => redraw((n) => n + 1);
    store.listeners.add(listener);
    return () => store.listeners.delete(listener);
  }, []);
  const state = props.answered ? { letter: props.answered, status: "received" } : store.sent[key];
  const locked = state && state.status !== "failed";

  async function send(letter) {
    const now = store.sent[key];
    if (props.answered || (now && now.status !== "failed")) return; // one answer per question
    remember(key, { letter, status: "sending" });
    try {
      const result = await callAction({
        name: "answer", label: letter, payload: { quiz_id: props.quiz_id, index: props.index, letter },
      });
      remember(key, { letter, status: result && result.success ? "received" : "failed" });
    } catch (error) {
      remember(key, { letter, status: "failed" });
    }
  }

  const status = !state ? "" : state.status === "sending" ? `Sending answer ${state.letter}…`
    : state.status === "received" ? `✓ Answer ${state.letter} received`
    : `⚠ Answer ${state.letter} was not delivered: click again.`;
  return (
    <div className="flex flex-wrap items-center gap-2" data-answer-pad={key} data-locked={locked ? "true" : undefined}>
      {props.letters.map((letter, i) => (
        <Button
          key={letter}
          id={`answer-${props.quiz_id}-${props.index}-${letter}`}
          size="sm"
          variant={state && state.letter === letter ? "default" : "outline"}
          title={props.tooltips[i]}
          aria-disabled={locked ? "true" : undefined}
          className={locked ? "opacity-50 cursor-default" : undefined}
          onPointerDown={(event) => { if (event.button === 0) send(letter); }}
          onClick={(event) => { if (event.detail === 0) send(letter); }}
        >
          {letter}
        </Button>
      ))}
      <span role="status" className="text-sm text-muted-foreground">{status}</span>
    </div>
  );
}
