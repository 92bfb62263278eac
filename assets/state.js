// State manager: the one place that knows what the page shows: the conversation state,
// the controls, the problem panel and the conversation history. It updates Dash
// components with dash_clientside.set_props; audio never goes through Dash.
window.VoiceChat = window.VoiceChat || {};

// The labels are English, translated where they are shown (set).
window.VoiceChat.STATES = {
  idle: { label: window.VoiceChat.words("Idle"), color: "idle" },
  connecting: { label: window.VoiceChat.words("Connecting…"), color: "busy" },
  listening: { label: window.VoiceChat.words("Listening"), color: "listening" },
  user_speaking: { label: window.VoiceChat.words("Hearing you"), color: "hearing" },
  thinking: { label: window.VoiceChat.words("Thinking…"), color: "thinking" },
  speaking: { label: window.VoiceChat.words("Speaking"), color: "speaking" },
  reconnecting: { label: window.VoiceChat.words("Reconnecting…"), color: "busy" },
  waiting: { label: window.VoiceChat.words("Waiting for room…"), color: "busy" },
  error: { label: window.VoiceChat.words("Error"), color: "error" },
};

// The built-in replies model (core/providers/embedded/llama.py's name): small and quick,
// often vague or wrong. After its first answer the page says once how to connect a
// stronger one.
window.VoiceChat.SMALL_REPLY_MODELS = ["gemma3-270m"];
window.VoiceChat.STRONGER_MODEL_ADVICE = window.VoiceChat.words(
  "Answers come from a small built-in model: quick, but often vague or wrong. For better "
  + "answers, open Settings and choose an OpenAI-compatible server for replies, such as "
  + "Ollama on this computer (http://127.0.0.1:11434/v1).");

window.VoiceChat.StateManager = class StateManager {
  constructor() {
    this.state = "idle";
    this.history = []; // the state names in order, for tests and debugging
    this.messages = []; // {epoch, turn, role, text, time, cut, latencyMs}
    this.latencies = new Map(); // "epoch:turn" -> ms, for a reply whose words are not shown yet
    this.epoch = 0; // one per server session: turn numbers start again in a new one
    this.problem = null; // {message, kind, actionLabel}
    this.providers = null; // {stt, llm, tts}: the names of the models in use
    this.advised = false; // the advice to connect a stronger model was shown
  }

  setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  set(state) {
    if (!window.VoiceChat.STATES[state] || state === this.state) return;
    this.state = state;
    this.history.push(state);
    const view = window.VoiceChat.STATES[state];
    this.setProps("controls-state", { children: window.VoiceChat.t(view.label) });
    this.setProps("controls-dot", { className: `state-dot state-${view.color}` });
    this.setProps("visualizer-who", { className: `who who-${view.color}` });
    this.hintNext();
    this.setProps("controls-interrupt", { disabled: !this.replyUnderWay });
    if (window.VoiceChat.wakeLock) window.VoiceChat.wakeLock.follow(state);
  }

  // An answer is being prepared or said: what "Stop talking" stops.
  get replyUnderWay() {
    return this.state === "speaking" || this.state === "thinking";
  }

  // Under the state, after Stop: what Start does now.
  hintNext() {
    this.setProps("controls-next", { children: window.VoiceChat.afterStopHint(this) });
  }

  // running: a conversation is on (or being set up); muted: the microphone is off.
  controls({ running, muted }) {
    this.setProps("controls-start", { disabled: running });
    this.setProps("controls-stop", { disabled: !running });
    this.setProps("controls-mute", {
      disabled: !running,
      children: muted ? window.VoiceChat.t("Unmute") : window.VoiceChat.t("Mute"),
      "aria-pressed": muted ? "true" : "false",
      "aria-label": muted ? window.VoiceChat.t("Unmute the microphone") : window.VoiceChat.t("Mute the microphone"),
    });
    this.setProps("controls-muted", { style: { display: running && muted ? "inline-block" : "none" } });
  }

  // kind: error | warning | info | success; actionLabel: the recovery button, if any.
  showProblem(message, kind = "error", actionLabel = null) {
    const fresh = !this.problem || this.problem.message !== message;
    this.problem = message ? { message, kind, actionLabel } : null;
    if (kind === "error" && actionLabel && fresh) {
      // Keyboard and screen reader users land on the way out (once Dash has shown it).
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const button = document.getElementById("status-action");
        if (button && this.problem && this.problem.actionLabel === actionLabel) button.focus();
      }));
    }
    this.setProps("status-panel", { style: { display: message ? "flex" : "none" } });
    this.setProps("status-alert", { message: message || "", type: kind });
    this.setProps("status-action", {
      children: actionLabel || "",
      "aria-label": actionLabel || "",
      style: { display: actionLabel ? "inline-block" : "none" },
    });
  }

  // After an answer: with the small built-in model, say once how to get better answers
  // (not over a problem being shown).
  adviseStrongerModel() {
    const small = this.providers && window.VoiceChat.SMALL_REPLY_MODELS.includes(this.providers.llm);
    if (this.advised || !small || this.problem) return;
    this.advised = true;
    this.showProblem(window.VoiceChat.t(window.VoiceChat.STRONGER_MODEL_ADVICE), "info");
  }

  clearProblem() {
    this.showProblem("");
  }

  showProviders(providers) {
    if (!providers) return;
    this.providers = providers;
    let text = window.VoiceChat.t("Speech recognition: {stt} · replies: {llm} · voice: {tts}", providers);
    if (providers.speech) text += " · " + window.VoiceChat.t("answers: {speech}", providers);
    this.setProps("settings-providers", { children: text });
  }

  settingsStatus(text) {
    this.settingsText = text;
    this.setProps("settings-saved", { children: text });
  }

  newSession() {
    this.epoch += 1;
  }

  message(turn, role) {
    let entry = this.messages.find((m) => m.epoch === this.epoch && m.turn === turn && m.role === role);
    if (!entry) {
      const key = `${this.epoch}:${turn}`;
      const times = role === "assistant" && this.latencies.has(key) ? this.latencies.get(key) : {};
      this.latencies.delete(key);
      entry = Object.assign({ epoch: this.epoch, turn, role, text: "", time: new Date(), cut: false, latencyMs: null,
        timings: null, heardMs: null, replayKey: null }, times);
      this.messages.push(entry);
      this.messages.sort((a, b) => a.epoch - b.epoch || a.turn - b.turn || (a.role === "user" ? -1 : 1));
    }
    return entry;
  }

  // A resumed conversation on a page that lost its transcript (a reload): the server's
  // history, as exchanges numbered before the turns to come.
  // Stored turns keep their numbers (new turns go on after them); remembered exchanges,
  // which have none, are numbered before the turns to come.
  restoreHistory(history) {
    const exchanges = Math.ceil(history.length / 2);
    history.forEach((item, index) => {
      const turn = typeof item.turn === "number" ? item.turn : Math.floor(index / 2) - exchanges;
      const entry = this.message(turn, item.role);
      entry.cut = Boolean(item.cut) || (item.role === "assistant" && item.text.endsWith(" …"));
      entry.text = item.text;
    });
    this.renderTranscript();
  }

  setUserText(turn, text) {
    this.message(turn, "user").text = text || window.VoiceChat.t("(nothing heard)");
    this.renderTranscript();
  }

  appendReply(turn, sentence) {
    const entry = this.message(turn, "assistant");
    entry.text = entry.text ? `${entry.text} ${sentence}` : sentence;
    this.renderTranscript();
  }

  // A reply's timings (ms after the end of the words): its latency in the header, its
  // steps in a waterfall; ``replayKey``: its audio is kept to be heard again.
  setTimings(turn, timings, heardMs, replayKey) {
    const ms = timings.tts_first_audio_ms;
    if (typeof ms !== "number") return;
    const times = { latencyMs: ms, timings, heardMs, replayKey };
    const entry = this.messages.find((m) => m.epoch === this.epoch && m.turn === turn && m.role === "assistant");
    if (!entry) {
      // The whole reply arrived before its first words are shown (a short one): keep it.
      if (this.latencies.size > 32) this.latencies.clear();
      this.latencies.set(`${this.epoch}:${turn}`, times);
      return;
    }
    Object.assign(entry, times);
    this.renderTranscript();
  }

  markCut(turn, cut) {
    const entry = this.messages.find((m) => m.epoch === this.epoch && m.turn === turn && m.role === "assistant");
    if (entry) {
      entry.cut = cut;
      this.renderTranscript();
    }
  }

  // The conversation was deleted: nothing of it stays on the page.
  clearMessages() {
    this.messages = [];
    this.latencies.clear();
    this.renderTranscript();
  }

  dropTurn(turn) {
    // A turn replaced before it was answered (the person went on talking) or ignored.
    this.messages = this.messages.filter((m) => !(m.epoch === this.epoch && m.turn === turn));
    this.renderTranscript();
  }

  meta(m) {
    const who = m.role === "user" ? window.VoiceChat.t("You") : window.VoiceChat.t("Assistant");
    const parts = [who, m.time.toLocaleTimeString()];
    const seconds = m.latencyMs !== null ? (m.latencyMs / 1000).toFixed(2) : null;
    if (seconds !== null) parts.push(window.VoiceChat.t("{seconds} s", { seconds }));
    if (m.cut) parts.push(window.VoiceChat.t("cut off"));
    return parts.join(" · ");
  }

  renderTranscript() {
    const div = (props) => ({ namespace: "dash_html_components", type: "Div", props });
    const latency = window.VoiceChat.t("Time from the end of your words to the first sound of the reply");
    const children = this.messages.map((m) => div({
      className: `message message-${m.role}${m.cut ? " message-cut" : ""}`,
      title: m.latencyMs !== null ? latency : undefined,
      children: [
        div({ className: "message-meta", children: this.meta(m) }),
        div({ className: "message-text", children: m.text }),
        m.timings ? window.VoiceChat.waterfall(m.replayKey, m.timings, m.heardMs) : null,
      ],
    }));
    this.followTalk();
    this.hintNext();
    this.setProps("transcript-list", { children });
    this.setProps("transcript-empty", { style: { display: children.length ? "none" : "block" } });
  }

  // New messages scroll into view, unless the person scrolled up to read: the list
  // follows while it is at (or within a line of) its end.
  followTalk() {
    const list = document.getElementById("transcript-list");
    if (!list || list.dataset.follows) return;
    list.dataset.follows = "yes";
    const atEnd = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    let following = true;
    list.addEventListener("scroll", () => { following = atEnd(); }, { passive: true });
    new MutationObserver(() => {
      if (following) list.scrollTop = list.scrollHeight;
    }).observe(list, { childList: true, subtree: true, characterData: true });
  }
};
