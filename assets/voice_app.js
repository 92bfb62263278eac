// The voice conversation in the page: wires recorder, connection, player, state,
// visualizer and the turns (assets/turns.js) together. Controls arrive through Dash clientside callbacks
// (assets/clientside.js) and keyboard shortcuts (assets/keyboard.js).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.App = class App {
  constructor() {
    const VC = window.VoiceChat;
    this.ui = new VC.StateManager();
    this.player = new VC.Player();
    this.visualizer = new VC.Visualizer("visualizer-canvas");
    this.reconnector = new VC.Reconnector(this);
    this.conversation = new VC.ConversationActions(this); // new, copy, download, delete
    this.pushToTalk = new VC.PushToTalk();
    this.devices = new VC.AudioDevices(this.player); // microphone, speaker, volume
    this.resumeTicket = new VC.ResumeTicket();
    this.access = new VC.Access();
    // The resume window runs from the moment the page goes (a reload comes back into it).
    window.addEventListener("pagehide", () => this.resumeTicket.touch());
    this.recorder = null;
    this.connection = null;
    this.connecting = null; // the promise of a connection being opened
    this.running = false; // the person pressed Start and has not stopped
    this.muted = false;
    this.recover = null; // what the problem panel's button does now
    this.lastStream = null; // the microphone stream last opened (tests check it is released)
    this.marks = { startPressed: null, firstFrameSent: null }; // performance.now() times
    this.settingsStore = new VC.SettingsStore();
    this.settings = this.settingsStore.load(); // null: the server's defaults
    this.appliedSettings = null; // what the server last confirmed
    this.defaults = null; // the server's defaults, as the page was rendered with them
    this.voices = null; // the voices the page offers, per provider and language
    this.settingsPending = false; // a settings message awaits its answer
    this.keptAudio = new VC.TurnAudio(this.player); // the latest replies, to hear again
    this.recording = new VC.ConversationAudio(); // both sides, for Download audio
    this.recording.follow(this.player);
    this.resetTurns();
    this.player.onDrained = () => this.turns.played();
  }

  resetTurns() {
    this.turns = new window.VoiceChat.Turns(this.ui, this.player, (turn) => {
      if (!this.connection) return false;
      this.connection.sendJson({ type: "playback_done", turn });
      return true;
    }, this.keptAudio);
  }

  // ----- controls -----------------------------------------------------------------
  async start() {
    if (this.running) return;
    const unavailable = window.VoiceChat.microphoneUnavailable();
    if (unavailable) return this.fail(unavailable, null, null);
    this.running = true;
    this.marks = { startPressed: performance.now(), firstFrameSent: null };
    this.ui.clearProblem();
    this.ui.set("connecting");
    this.showControls();
    this.player.ensureContext(); // inside the click: allowed to make sound later
    try {
      await this.ensureConnection();
      if (!this.recorder) {
        const recorder = new window.VoiceChat.Recorder((frame) => this.sendFrame(frame), this.devices.mic);
        this.recorder = recorder;
        await recorder.start();
        this.lastStream = recorder.stream;
      }
    } catch (error) {
      await this.fail(window.VoiceChat.describeStartError(error), window.VoiceChat.t("Try again"), () => this.start());
      return;
    }
    if (!this.running) return; // stopped while the microphone was being opened
    this.recorder.setEnabled(!this.muted);
    if (this.connection) this.connection.sendJson({ type: "start" }); // (else refused meanwhile: onClose)
    // ?viz=off leaves the visualizer out (the page benchmark measures what it costs).
    if (new URLSearchParams(window.location.search).get("viz") !== "off") {
      this.visualizer.start(() => [this.recorder && this.recorder.analyser, this.player.analyser]);
    }
  }

  async stop() {
    if (!this.running && !this.connection) return;
    this.running = false;
    this.reconnector.cancel();
    if (this.connection) this.connection.sendJson({ type: "stop" });
    await this.teardown();
    this.ui.clearProblem();
    this.ui.set("idle");
    this.showControls();
  }

  // "Stop talking": the reply stops here at once; the server keeps what was heard, cut.
  interrupt() {
    if (!this.connection || !this.ui.replyUnderWay) return;
    this.player.clear();
    this.connection.sendJson({ type: "interrupt" });
  }

  toggle() {
    return this.running ? this.stop() : this.start();
  }

  toggleMute() {
    if (!this.running) return;
    this.muted = !this.muted;
    if (this.recorder) this.recorder.setEnabled(!this.muted);
    this.showControls();
  }

  showControls() {
    this.ui.controls({ running: this.running, muted: this.muted });
  }

  // A typed message: answered like speech, and the answer is spoken.
  async sendText(text) {
    const words = (text || "").trim();
    if (!words) return false;
    this.player.ensureContext();
    try {
      await this.ensureConnection();
    } catch (error) {
      this.ui.showProblem(window.VoiceChat.t("The server could not be reached. Your message was not sent."), "error",
        window.VoiceChat.t("Retry"));
      this.recover = () => this.sendText(words);
      return false;
    }
    this.connection.sendJson({ type: "text", text: words });
    this.connection.unansweredText = words; // until the server takes the conversation
    return true;
  }

  // From the settings drawer: keep the choice and apply it to the session now.
  updateSettings(values) {
    const Store = window.VoiceChat.SettingsStore;
    const clean = Store.normalize(Store.fitVoice(values, this.voices));
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const defaults = this.defaults ? Store.normalize(Object.assign({}, Store.NO_KEYS, this.defaults)) : null;
    if (same(clean, this.settings || defaults || {})) return;
    if (defaults && same(clean, defaults)) {
      this.settingsStore.clear(); // the defaults: follow the server's if they change
      this.settings = null;
    } else {
      this.settingsStore.save(clean);
      this.settings = clean;
    }
    this.sendSettings(clean);
  }

  resetSettings(defaults) {
    this.settingsStore.clear();
    this.settings = null;
    const Store = window.VoiceChat.SettingsStore;
    this.sendSettings(Store.normalize(Object.assign({}, Store.NO_KEYS, defaults)));
  }

  sendSettings(values) {
    if (!this.connection) return;
    this.settingsPending = true;
    this.ui.settingsStatus(window.VoiceChat.t("Applying…"));
    this.connection.sendJson(Object.assign({ type: "settings" }, values));
  }

  runRecovery() {
    const action = this.recover;
    this.recover = null;
    this.ui.clearProblem();
    if (action) action();
  }

  // ----- the connection -----------------------------------------------------------
  ensureConnection() {
    if (this.connection && this.connection.isOpen) return Promise.resolve();
    if (this.connecting) return this.connecting;
    const connection = new window.VoiceChat.Connection({
      onEvent: (event) => this.onEvent(event),
      onAudio: (turn, rate, pcm, kind) => this.turns.audio(turn, rate, pcm, kind),
      onClose: (info) => this.onClose(connection, info),
    }, this.access);
    const opened = this.access.ticket().then((ticket) => connection.open(this.resumeTicket.current(), ticket));
    this.connecting = opened.then(
      () => {
        this.connecting = null;
        this.connection = connection;
        this.ui.newSession();
        this.resetTurns();
        if (this.settings) this.sendSettings(this.settings);
      },
      (error) => {
        this.connecting = null;
        throw error;
      },
    );
    return this.connecting;
  }

  sendFrame(frame) {
    if (!this.connection || this.muted) return;
    const sent = this.pushToTalk.gate(frame);
    this.connection.sendAudio(sent);
    this.recording.heard(sent);
    if (this.marks.firstFrameSent === null) this.marks.firstFrameSent = performance.now();
  }

  async teardown() {
    this.visualizer.stop();
    this.player.suspend();
    if (this.recorder) await this.recorder.stop();
    this.recorder = null;
    if (this.connection) this.connection.close();
    this.connection = null;
  }

  async fail(message, actionLabel, action) {
    this.running = false;
    this.reconnector.cancel();
    await this.teardown();
    this.ui.set("error");
    this.showControls();
    this.recover = action || null;
    this.ui.showProblem(message, "error", action ? actionLabel : null);
  }

  onClose(connection, info) {
    if (connection !== this.connection) return; // an old or never-opened connection
    this.connection = null;
    this.resumeTicket.touch();
    this.player.clear();
    const verdict = window.VoiceChat.closeVerdict(info, connection.closingError, this.access);
    if (!this.running) {
      this.ui.set("idle");
      if (connection.closingError && connection.unansweredText) {
        window.VoiceChat.offerToResend(this, verdict, connection.unansweredText);
      }
      return;
    }
    if (verdict.kind === "final") {
      // Refused for good (a limit, the origin, the ticket): trying again alone would be refused again.
      this.fail(verdict.message, verdict.action, verdict.action ? () => this.start() : null);
      return;
    }
    this.reconnector.schedule(verdict.kind);
  }

  // ----- from the server ------------------------------------------------------------
  onEvent(event) {
    if (this.turns.event(event) || window.VoiceChat.notice(this, event)) return;
    switch (event.type) {
      case "state":
        this.onState(event.state);
        break;
      case "error":
        this.onServerError(event);
        break;
      case "ready":
        this.onReady(event);
        break;
      case "settings_applied":
        this.settingsPending = false;
        this.appliedSettings = event.settings;
        this.ui.settingsStatus(window.VoiceChat.t("Applied to this conversation."));
        this.ui.showProviders(event.providers);
        break;
      default:
        break;
    }
  }

  onReady(event) {
    this.ui.showProviders(event.providers);
    this.resumeTicket.remember(event);
    this.reconnector.ready();
    if (this.connection) this.connection.unansweredText = null;
    this.session = { id: event.session_id, resumed: Boolean(event.resumed) };
    if (event.resumed && event.history && !this.ui.messages.length) this.ui.restoreHistory(event.history);
  }

  onState(state) {
    // The server starts idle; until it is listening the page is still connecting. With
    // the microphone off (a typed message), "listening" means ready: shown as idle.
    if (state === "idle" && this.ui.state === "connecting") return;
    if (state === "listening" && !this.running) state = "idle";
    this.ui.set(state);
  }

  onServerError(event) {
    window.VoiceChat.showServerError(this, event);
  }

  // ----- for tests and the performance figures --------------------------------------
  stats() {
    return window.VoiceChat.appStats(this);
  }
};

window.VoiceChat.app = new window.VoiceChat.App();
window.VoiceChat.app.pushToTalk.install();
window.VoiceChat.installShortcuts(window.VoiceChat.app);
