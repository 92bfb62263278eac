// The voice conversation in the page: wires recorder, connection, player, state and
// visualizer together. Start/Stop arrive through Dash clientside callbacks.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.App = class App {
  constructor() {
    const VC = window.VoiceChat;
    this.ui = new VC.StateManager();
    this.player = new VC.Player();
    this.visualizer = new VC.Visualizer("controls-level");
    this.recorder = null;
    this.connection = null;
    this.cleared = new Set(); // turns whose audio is dropped (until a resume)
    this.doneTurns = new Set(); // turns whose audio has all been received
    this.speakingTurn = null;
    this.stopping = false;
    this.player.onDrained = () => this.reportPlaybackDone();
  }

  async start() {
    if (this.connection) return;
    const VC = window.VoiceChat;
    this.stopping = false;
    this.ui.showError("");
    this.ui.set("connecting");
    this.player.ensureContext(); // inside the click: allowed to make sound later
    this.connection = new VC.Connection({
      onEvent: (event) => this.onEvent(event),
      onAudio: (turn, rate, pcm, kind) => this.onAudio(turn, rate, pcm, kind),
      onClose: (info) => this.onClose(info),
    });
    try {
      await this.connection.open();
      this.recorder = new VC.Recorder((frame) => this.connection && this.connection.sendAudio(frame));
      await this.recorder.start();
    } catch (error) {
      await this.fail(this.describe(error));
      return;
    }
    this.connection.sendJson({ type: "start" });
    this.visualizer.start(() => [
      this.recorder && this.recorder.analyser,
      this.player.analyser,
    ]);
  }

  describe(error) {
    if (error && error.name === "NotAllowedError") {
      return "Microphone access was denied. Allow it in the browser and press Start again.";
    }
    if (error && error.name === "NotFoundError") {
      return "No microphone was found. Connect one and press Start again.";
    }
    return (error && error.message) || "Something went wrong starting the conversation.";
  }

  async stop() {
    this.stopping = true;
    if (this.connection) this.connection.sendJson({ type: "stop" });
    await this.teardown();
    this.ui.set("idle");
  }

  async teardown() {
    this.visualizer.stop();
    this.player.clear();
    if (this.recorder) await this.recorder.stop();
    this.recorder = null;
    if (this.connection) this.connection.close();
    this.connection = null;
  }

  async fail(message) {
    await this.teardown();
    this.ui.set("error");
    this.ui.showError(message);
  }

  onClose(info) {
    if (this.stopping || !this.connection) return;
    this.connection = null;
    const detail = info.reason ? ` (${info.reason})` : "";
    this.fail(`The connection to the server was lost${detail}. Press Start to reconnect.`);
  }

  onEvent(event) {
    switch (event.type) {
      case "state":
        // The server starts idle; until it is listening the page is still connecting.
        if (!(event.state === "idle" && this.ui.state === "connecting")) this.ui.set(event.state);
        break;
      case "speech_started":
        if (this.ui.state === "listening") this.ui.set("user_speaking");
        break;
      case "speech_discarded":
        if (this.ui.state === "user_speaking") this.ui.set("listening");
        break;
      case "transcript":
        this.ui.setUserText(event.turn, event.text);
        break;
      case "reply_text":
        this.ui.appendReply(event.turn, event.text);
        break;
      case "reply_started":
        this.speakingTurn = event.turn;
        break;
      case "reply_done":
        this.doneTurns.add(event.turn);
        if (!this.player.playing) this.reportPlaybackDone();
        break;
      case "clear":
        this.cleared.add(event.turn);
        this.player.clear();
        if (event.reason === "barge_in") this.ui.markCut(event.turn, true);
        if (event.reason === "superseded") this.ui.dropTurn(event.turn);
        break;
      case "resume":
        // The interruption was only a noise: the reply plays on from the cut sentence.
        this.cleared.delete(event.turn);
        this.speakingTurn = event.turn;
        this.ui.markCut(event.turn, false);
        break;
      case "ignored":
        this.ui.dropTurn(event.turn);
        break;
      case "error":
        this.ui.showError(event.message);
        break;
      default:
        break;
    }
  }

  onAudio(turn, rate, pcm, kind) {
    if (this.cleared.has(turn)) return;
    if (kind === 2) this.speakingTurn = turn; // the cue plays before the answer
    this.player.enqueue(rate, pcm);
  }

  reportPlaybackDone() {
    const turn = this.speakingTurn;
    if (turn !== null && this.doneTurns.has(turn) && this.connection) {
      this.connection.sendJson({ type: "playback_done", turn });
      this.speakingTurn = null;
    }
  }

  stats() {
    return {
      state: this.ui.state,
      states: this.ui.history.slice(),
      framesSent: this.connection ? this.connection.framesSent : 0,
      framesCaptured: this.recorder ? this.recorder.framesCaptured : 0,
      player: Object.assign({}, this.player.stats),
      messages: this.ui.messages.map((m) => ({ turn: m.turn, role: m.role, text: m.text, cut: m.cut })),
    };
  }
};

window.VoiceChat.app = new window.VoiceChat.App();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  voice: {
    onControl: function () {
      const ctx = window.dash_clientside.callback_context;
      const trigger = ctx.triggered_id || (ctx.triggered[0] && ctx.triggered[0].prop_id.split(".")[0]);
      const app = window.VoiceChat.app;
      if (trigger === "controls-start") app.start();
      if (trigger === "controls-stop") app.stop();
      return window.dash_clientside.no_update;
    },
  },
});
