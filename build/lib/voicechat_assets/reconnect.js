// Reconnecting when the connection drops while the person is talking: a countdown with
// growing waits (assets/backoff.js) and a "Reconnect now" button, then listening again
// on the resumed conversation.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Reconnector = class Reconnector {
  constructor(app) {
    this.app = app;
    this.backoff = new window.VoiceChat.Backoff();
    this.timer = null;
  }

  schedule() {
    this.cancel();
    const app = this.app;
    const delay = this.backoff.next();
    app.ui.set("reconnecting");
    app.recover = () => this.now();
    app.ui.showProblem(
      `The connection to the server was lost. Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`,
      "warning", "Reconnect now");
    this.timer = setTimeout(() => this.now(), delay);
  }

  cancel() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  async now() {
    this.cancel();
    const app = this.app;
    if (!app.running) return;
    try {
      await app.ensureConnection();
    } catch (error) {
      if (app.running) this.schedule();
      return;
    }
    this.backoff.reset();
    app.recover = null;
    app.ui.showProblem("Reconnected.", "success");
    setTimeout(() => {
      if (app.ui.problem && app.ui.problem.message === "Reconnected.") app.ui.clearProblem();
    }, 3000);
    app.connection.sendJson({ type: "start" });
  }
};
