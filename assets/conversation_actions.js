// The conversation is the person's: start a new one, copy it, download it as text,
// delete it here and on the server.
window.VoiceChat = window.VoiceChat || {};

// The conversation as plain text, one line per message: "[12:43:03] You: ...".
window.VoiceChat.transcriptText = function transcriptText(messages) {
  return messages.filter((m) => m.text).map((m) => {
    const who = m.role === "user" ? window.VoiceChat.t("You") : window.VoiceChat.t("Assistant");
    const cut = m.cut ? ` ${window.VoiceChat.t("[cut off]")}` : "";
    return `[${m.time.toLocaleTimeString()}] ${who}: ${m.text}${cut}`;
  }).join("\n");
};

window.VoiceChat.ConversationActions = class ConversationActions {
  constructor(app) {
    this.app = app;
    // "Play the reply again" in a reply's waterfall (rendered by Dash: one listener for all).
    document.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("[data-replay]");
      if (button) this.replay(button.dataset.replay);
    });
  }

  replay(key) {
    const kept = this.app.keptAudio;
    const say = (words) => this.app.ui.showProblem(words, "info");
    if (this.app.player.playing) return say(window.VoiceChat.t("Wait until the reply being spoken ends."));
    if (!kept.replay(key)) say(window.VoiceChat.t("That reply's audio is no longer kept (the last 8 are)."));
  }

  // Afresh: the page and the assistant forget it (the server keeps what it stored, until
  // Delete or its retention time).
  async startNew() {
    const app = this.app;
    const wasRunning = app.running;
    if (wasRunning) await app.stop();
    else await app.teardown();
    app.resumeTicket.forget();
    app.session = null;
    app.ui.clearMessages();
    app.keptAudio.turns.clear();
    app.recording.clear();
    const said = wasRunning ? window.VoiceChat.t("A new conversation: press Start to talk.")
      : window.VoiceChat.t("A new conversation.");
    app.ui.showProblem(said, "success");
  }

  // The server forgets the conversation and deletes what it stored of it; the page
  // clears it once the server confirms ("conversation_deleted").
  async remove() {
    const app = this.app;
    try {
      await app.ensureConnection();
    } catch (error) {
      app.ui.showProblem(window.VoiceChat.t("The server could not be reached. Nothing was deleted."), "error",
        window.VoiceChat.t("Retry"));
      app.recover = () => this.remove();
      return;
    }
    app.connection.sendJson({ type: "delete_conversation" });
  }

  async copy() {
    const text = window.VoiceChat.transcriptText(this.app.ui.messages);
    if (!text) return this.app.ui.showProblem(window.VoiceChat.t("Nothing to copy yet."), "info");
    try {
      await navigator.clipboard.writeText(text);
      this.app.ui.showProblem(window.VoiceChat.t("The conversation was copied."), "success");
    } catch (error) {
      const words = window.VoiceChat.t("This browser did not allow copying; use Download instead.");
      this.app.ui.showProblem(words, "warning");
    }
  }

  download() {
    const text = window.VoiceChat.transcriptText(this.app.ui.messages);
    if (!text) return this.app.ui.showProblem(window.VoiceChat.t("Nothing to download yet."), "info");
    window.VoiceChat.saveFile(new Blob([`${text}\n`], { type: "text/plain;charset=utf-8" }), "txt");
  }

  // You on the left, the assistant on the right, as it sounded here (the latest 5 minutes).
  downloadAudio() {
    const wav = this.app.recording.wav();
    if (!wav) return this.app.ui.showProblem(window.VoiceChat.t("No audio to download yet."), "info");
    window.VoiceChat.saveFile(wav, "wav");
  }
};

// After Stop: what Start does now (the server remembers the conversation for its resume
// window, a minute by default).
window.VoiceChat.afterStopHint = function afterStopHint(ui) {
  if (ui.state !== "idle" || !ui.messages.length) return "";
  return window.VoiceChat.t("Stopped. Start within a minute goes on with this conversation; later, or after New, "
    + "it starts afresh.");
};

// ``blob`` saved as conversation-<date-time>.<extension>.
window.VoiceChat.saveFile = function saveFile(blob, extension) {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[T:]/g, "-");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `conversation-${stamp}.${extension}`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
};
