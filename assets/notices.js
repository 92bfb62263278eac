// What the server tells the person beside the conversation (docs/protocol.md): a
// provider gone out of use or back, the conversation deleted, and advice (headphones,
// when the microphone hears the answers come back). The app hands over the events that
// are not about a turn; true when one was handled here.
window.VoiceChat = window.VoiceChat || {};

// Advice in the page's own words, by the event's code (the server's words otherwise).
window.VoiceChat.ADVICE = {
  headphones: window.VoiceChat.words("Your speakers' sound reaches the microphone: with headphones you can "
    + "talk over the answers more easily."),
};

window.VoiceChat.notice = function notice(app, event) {
  const VC = window.VoiceChat;
  switch (event.type) {
    case "provider_status":
      app.ui.showProblem(event.message, event.state === "closed" ? "success" : "warning");
      return true;
    case "conversation_deleted":
      app.ui.clearMessages();
      app.recording.clear();
      app.ui.showProblem(window.VoiceChat.t("Conversation deleted, here and on the server."), "success");
      return true;
    case "advice": {
      const shown = app.ui.problem;
      if (!shown || shown.kind === "info") { // (a problem to act on stays in view)
        app.ui.showProblem(VC.ADVICE[event.code] ? VC.t(VC.ADVICE[event.code]) : event.message, "info");
      }
      return true;
    }
    default:
      return false;
  }
};
