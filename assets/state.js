// State manager: the one place that knows the conversation state and what the page
// shows for it. It updates Dash components with dash_clientside.set_props.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.STATES = {
  idle: { label: "Idle", color: "default" },
  connecting: { label: "Connecting…", color: "processing" },
  listening: { label: "Listening", color: "green" },
  user_speaking: { label: "Hearing you", color: "cyan" },
  thinking: { label: "Thinking…", color: "gold" },
  speaking: { label: "Speaking", color: "blue" },
  error: { label: "Error", color: "red" },
};

window.VoiceChat.StateManager = class StateManager {
  constructor() {
    this.state = "idle";
    this.history = []; // the state names in order, for tests and debugging
    this.messages = []; // {turn, role, text, time, cut}
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
    this.setProps("controls-state", { content: view.label, color: view.color });
    const running = state !== "idle" && state !== "error";
    this.setProps("controls-start", { disabled: running });
    this.setProps("controls-stop", { disabled: !running });
  }

  showError(message) {
    this.setProps("controls-error", { message, style: { display: message ? "block" : "none" } });
  }

  message(turn, role) {
    let entry = this.messages.find((m) => m.turn === turn && m.role === role);
    if (!entry) {
      entry = { turn, role, text: "", time: new Date(), cut: false };
      this.messages.push(entry);
      this.messages.sort((a, b) => a.turn - b.turn || (a.role === "user" ? -1 : 1));
    }
    return entry;
  }

  setUserText(turn, text) {
    this.message(turn, "user").text = text || "(nothing heard)";
    this.renderTranscript();
  }

  appendReply(turn, sentence) {
    const entry = this.message(turn, "assistant");
    entry.text = entry.text ? `${entry.text} ${sentence}` : sentence;
    this.renderTranscript();
  }

  markCut(turn, cut) {
    const entry = this.messages.find((m) => m.turn === turn && m.role === "assistant");
    if (entry) {
      entry.cut = cut;
      this.renderTranscript();
    }
  }

  dropTurn(turn) {
    // A turn replaced before it was answered (the person went on talking) or ignored.
    this.messages = this.messages.filter((m) => m.turn !== turn);
    this.renderTranscript();
  }

  renderTranscript() {
    const children = this.messages.map((m) => ({
      namespace: "dash_html_components",
      type: "Div",
      props: {
        className: `message message-${m.role}`,
        children: [
          {
            namespace: "dash_html_components",
            type: "Div",
            props: {
              className: "message-meta",
              children: `${m.role === "user" ? "You" : "Assistant"} · ${m.time.toLocaleTimeString()}${m.cut ? " · cut off" : ""}`,
            },
          },
          {
            namespace: "dash_html_components",
            type: "Div",
            props: { className: "message-text", children: m.text },
          },
        ],
      },
    }));
    this.setProps("transcript-list", { children });
  }
};
