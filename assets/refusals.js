// Why the server closed the connection, and what the page does about it. The server
// sends an "error" event just before it closes (docs/protocol.md): its code, or the
// close reason, tells a full server (wait and try again, with a countdown) from a
// refusal that will not change by itself (say what to do; no retry) and from a lost
// connection (reconnect at once, then with growing waits).
window.VoiceChat = window.VoiceChat || {};

// Error codes that come just before the server closes the connection.
window.VoiceChat.CLOSING_ERRORS = ["server_full", "address_limit", "server_restarting", "origin_not_allowed",
  "resumed_elsewhere", "flooding", "idle_timeout", "ticket_required", "ticket_invalid", "ticket_expired"];

// Refusals that trying again on its own would only repeat. ``null``: the server's own
// words say it best (they name its limit); the page adds what to do. English, translated
// where it is shown.
window.VoiceChat.FINAL_REFUSALS = {
  address_limit: { words: null, then: window.VoiceChat.words("It may be open in another tab or on another device "
    + "on your network; press Try again once it is closed."), action: window.VoiceChat.words("Try again") },
  origin_not_allowed: { words: window.VoiceChat.words("This address may not use the voice service. Open the app at "
    + "the address its admin gave you; the admin can allow this one with VOICECHAT_ALLOWED_ORIGINS."), action: null },
  resumed_elsewhere: { words: window.VoiceChat.words("This conversation was opened in another tab or window and "
    + "goes on there."), action: window.VoiceChat.words("Continue here") },
  flooding: { words: window.VoiceChat.words("The connection was closed because this page sent more than the server "
    + "accepts."), action: window.VoiceChat.words("Start again") },
  idle_timeout: { words: window.VoiceChat.words("The conversation was closed after a long time without activity."),
    action: window.VoiceChat.words("Start again") },
};

// ``info``: the close's {code, reason}; ``lastError``: the error event that came before
// it on the same connection, if any; ``access``: the ticket keeper (its refusals ask
// for the passcode again). Returns {kind: "full" | "final" | "lost", message, action}.
window.VoiceChat.closeVerdict = function closeVerdict(info, lastError, access) {
  const reason = info.reason || (lastError ? lastError.code : "") || "";
  if (reason === "server_full") return { kind: "full" };
  const ticketWords = access.refusal(reason);
  if (ticketWords) return { kind: "final", message: ticketWords, action: window.VoiceChat.t("Try again") };
  const known = window.VoiceChat.FINAL_REFUSALS[reason];
  if (known) {
    // The server's message is shown as it came; the page's own words in the page's language.
    const t = window.VoiceChat.t; // only for the English marked with words() above
    const said = (known.words && t(known.words)) || (lastError && lastError.message)
      || window.VoiceChat.t("The server refused the connection.");
    return { kind: "final", message: known.then ? `${said} ${t(known.then)}` : said,
      action: known.action && t(known.action) };
  }
  if (info.code === 1008) {
    const message = reason ? window.VoiceChat.t("The server refused the connection ({reason}).", { reason })
      : window.VoiceChat.t("The server refused the connection.");
    return { kind: "final", message, action: window.VoiceChat.t("Try again") };
  }
  return { kind: "lost" }; // a restart, a dropped network: reconnect
};

// A typed message the server refused with its connection: kept, to send again.
window.VoiceChat.offerToResend = function offerToResend(app, verdict, text) {
  const why = verdict.kind === "full" ? window.VoiceChat.t("The service is full right now.") : verdict.message;
  const notSent = window.VoiceChat.t("Your message was not sent: “{text}”.", { text: text.slice(0, 60) });
  app.recover = () => app.sendText(text);
  app.ui.showProblem(`${why} ${notSent}`, "warning", window.VoiceChat.t("Send again"));
};
