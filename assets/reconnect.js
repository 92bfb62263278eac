// Connecting again while the person is talking: after a lost connection (growing waits
// from half a second) or a full server (growing waits from five seconds, as room frees
// up slowly), with a countdown that ticks each second and a button to try at once; then
// listening again on the resumed conversation.
window.VoiceChat = window.VoiceChat || {};

// The English of what is said, translated where it is shown ({seconds}: the countdown).
window.VoiceChat.RETRIES = {
  lost: {
    state: "reconnecting",
    words: window.VoiceChat.words("The connection to the server was lost. Reconnecting in {seconds} s…"),
    action: window.VoiceChat.words("Reconnect now"),
    done: window.VoiceChat.words("Reconnected."),
  },
  full: {
    state: "waiting",
    words: window.VoiceChat.words("The service is full right now: every place for a conversation is taken. "
      + "Trying again in {seconds} s…"),
    action: window.VoiceChat.words("Try now"),
    done: window.VoiceChat.words("Connected: there was room."),
  },
};

window.VoiceChat.Reconnector = class Reconnector {
  constructor(app) {
    this.app = app;
    this.backoffs = { lost: new window.VoiceChat.Backoff(), full: new window.VoiceChat.Backoff(5000, 60000) };
    this.kind = null; // the retry under way: "lost" | "full"
    this.timer = null;
    this.ticker = null;
    this.dueAt = 0;
    this.pendingDone = null; // said once the server takes the conversation ("ready")
  }

  schedule(kind = "lost") {
    this.cancel();
    if (kind !== "lost") this.backoffs.lost.reset();
    if (kind !== "full") this.backoffs.full.reset();
    const retry = window.VoiceChat.RETRIES[kind];
    const app = this.app;
    this.kind = kind;
    this.dueAt = Date.now() + this.backoffs[kind].next();
    app.ui.set(retry.state);
    app.recover = () => this.now();
    this.tick();
    this.ticker = setInterval(() => this.tick(), 1000);
    this.timer = setTimeout(() => this.now(), this.dueAt - Date.now());
  }

  // The countdown, in whole seconds (never 0 while waiting).
  tick() {
    const retry = window.VoiceChat.RETRIES[this.kind];
    const seconds = Math.max(1, Math.ceil((this.dueAt - Date.now()) / 1000));
    const words = window.VoiceChat.t(retry.words, { seconds });
    this.app.ui.showProblem(words, "warning", window.VoiceChat.t(retry.action));
  }

  get waiting() {
    return this.timer !== null;
  }

  cancel() {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.timer = null;
    this.ticker = null;
  }

  async now() {
    const kind = this.kind || "lost";
    this.cancel();
    const app = this.app;
    if (!app.running) return;
    try {
      await app.ensureConnection();
    } catch (error) {
      if (app.running) this.schedule(kind);
      return;
    }
    app.recover = null;
    this.pendingDone = window.VoiceChat.RETRIES[kind].done;
    if (app.connection) app.connection.sendJson({ type: "start" }); // (else closed meanwhile: onClose)
  }

  // The server took the conversation: the waits start again from the shortest.
  ready() {
    this.backoffs.lost.reset();
    this.backoffs.full.reset();
    this.kind = null;
    const done = this.pendingDone && window.VoiceChat.t(this.pendingDone);
    this.pendingDone = null;
    if (!done) return;
    const ui = this.app.ui;
    ui.showProblem(done, "success");
    setTimeout(() => {
      if (ui.problem && ui.problem.message === done) ui.clearProblem();
    }, 3000);
  }
};
