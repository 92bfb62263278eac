// What the page says when something goes wrong: a start that failed, an error event.
window.VoiceChat = window.VoiceChat || {};

// Errors a settings message may get back (nothing of it was applied then).
window.VoiceChat.SETTINGS_ERRORS = ["invalid_message", "forbidden_endpoint", "forbidden_model", "not_permitted",
  "rate_limited", "provider_failed"];

// Browsers give the microphone only to secure pages: https, or this machine (localhost).
window.VoiceChat.microphoneUnavailable = function microphoneUnavailable() {
  if (window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) return null;
  return window.VoiceChat.t("Browsers allow the microphone only on secure pages. Open this app over HTTPS (its admin "
    + "can put it behind a TLS proxy, see docs/deploy.md) or as http://localhost on the machine that "
    + "runs it. Typing works here.");
};

window.VoiceChat.describeStartError = function describeStartError(error) {
  if (error && error.name === "NotAllowedError") {
    return window.VoiceChat.t("Microphone access was denied. Allow it for this page in the browser, then try again.");
  }
  if (error && error.name === "OverconstrainedError") {
    return window.VoiceChat.t("The microphone chosen in Settings is not connected. Choose another (or the default), "
      + "then try again.");
  }
  if (error && error.name === "NotFoundError") {
    return window.VoiceChat.t("No microphone was found. Connect one, then try again.");
  }
  // (An error's own message: the browser's, or one the page made in its language.)
  return (error && error.message) || window.VoiceChat.t("Something went wrong starting the conversation.");
};

// An "error" event from the server, shown where the person looks, with a way out.
window.VoiceChat.showServerError = function showServerError(app, event) {
  app.turns.failed(event.turn); // a failed voice plays nothing more of the turn
  if (app.settingsPending && window.VoiceChat.SETTINGS_ERRORS.includes(event.code)) {
    // Refused settings change nothing; say why where the person is looking.
    app.settingsPending = false;
    app.ui.settingsStatus(window.VoiceChat.t("Not applied: {message}", { message: event.message }));
  }
  const said = event.turn !== undefined ? app.turns.userText.get(event.turn) : undefined;
  if (event.code === "provider_failed" && said) {
    app.recover = () => app.sendText(said);
    app.ui.showProblem(event.message, "error", window.VoiceChat.t("Ask again"));
  } else {
    app.ui.showProblem(event.message, event.retryable === false ? "error" : "warning");
  }
};
