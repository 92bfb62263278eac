// Where a reply's time went: each step of the turn on one time line, from the end of the
// person's words (or the message sent) to the reply heard, as a native <details> under
// the reply (keyboard and screen readers open it as they would any other).
window.VoiceChat = window.VoiceChat || {};

// Each step's timing key and its label (English, translated where it is shown).
window.VoiceChat.WATERFALL_STEPS = [
  ["endpoint_ms", window.VoiceChat.words("Turn taken (end of your words judged)")],
  ["transcript_ms", window.VoiceChat.words("Words recognized")],
  ["llm_first_token_ms", window.VoiceChat.words("First word of the reply written")],
  ["llm_first_sentence_ms", window.VoiceChat.words("First sentence written")],
  ["tts_first_audio_ms", window.VoiceChat.words("First audio sent")],
  ["heard_ms", window.VoiceChat.words("Heard here")],
];

// The steps that the turn has, in order, each with its time and its own part of it.
window.VoiceChat.waterfallSteps = function waterfallSteps(timings, heardMs) {
  const all = Object.assign({}, timings, heardMs === null || heardMs === undefined ? {} : { heard_ms: heardMs });
  let before = 0;
  return window.VoiceChat.WATERFALL_STEPS.filter(([key]) => typeof all[key] === "number").map(([key, label]) => {
    const at = Math.max(before, all[key]);
    const step = { key, label, from: before, at };
    before = at;
    return step;
  });
};

// The Dash components of the waterfall (html.Details), for the message list; with
// ``replayKey`` (the reply's audio is kept), a button to hear it again.
window.VoiceChat.waterfall = function waterfall(replayKey, timings, heardMs) {
  const node = (type, props) => ({ namespace: "dash_html_components", type, props });
  const steps = window.VoiceChat.waterfallSteps(timings, heardMs);
  if (!steps.length) return null;
  const total = steps[steps.length - 1].at || 1;
  const rows = steps.map((step) => node("Div", {
    className: "waterfall-row",
    children: [
      node("Span", { className: "waterfall-label", children: window.VoiceChat.t(step.label) }),
      node("Span", {
        className: "waterfall-track",
        children: node("Span", {
          className: `waterfall-bar waterfall-${step.key}`,
          style: { marginLeft: `${(100 * step.from) / total}%`, width: `${Math.max(1, (100 * (step.at - step.from)) / total)}%` },
        }),
      }),
      node("Span", { className: "waterfall-ms", children: window.VoiceChat.t("{ms} ms", { ms: Math.round(step.at) }) }),
    ],
  }));
  const replay = replayKey
    ? [node("Button", { className: "link-button waterfall-replay", type: "button", "data-replay": replayKey,
      children: window.VoiceChat.t("Play the reply again") })]
    : [];
  return node("Details", {
    className: "waterfall",
    children: [node("Summary", { children: window.VoiceChat.t("Where the time went") }), ...rows, ...replay],
  });
};
