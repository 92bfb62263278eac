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
// words say it best (they name its limit); the page adds what to do.
window.VoiceChat.FINAL_REFUSALS = {
  address_limit: { words: null, then: "It may be open in another tab or on another device on your network; "
    + "press Try again once it is closed.", action: "Try again" },
  origin_not_allowed: { words: "This address may not use the voice service. Open the app at the address its "
    + "admin gave you; the admin can allow this one with VOICECHAT_ALLOWED_ORIGINS.", action: null },
  resumed_elsewhere: { words: "This conversation was opened in another tab or window and goes on there.",
    action: "Continue here" },
  flooding: { words: "The connection was closed because this page sent more than the server accepts.",
    action: "Start again" },
  idle_timeout: { words: "The conversation was closed after a long time without activity.",
    action: "Start again" },
};

// ``info``: the close's {code, reason}; ``lastError``: the error event that came before
// it on the same connection, if any; ``access``: the ticket keeper (its refusals ask
// for the passcode again). Returns {kind: "full" | "final" | "lost", message, action}.
window.VoiceChat.closeVerdict = function closeVerdict(info, lastError, access) {
  const reason = info.reason || (lastError ? lastError.code : "") || "";
  if (reason === "server_full") return { kind: "full" };
  const ticketWords = access.refusal(reason);
  if (ticketWords) return { kind: "final", message: ticketWords, action: "Try again" };
  const known = window.VoiceChat.FINAL_REFUSALS[reason];
  if (known) {
    const said = known.words || (lastError && lastError.message) || "The server refused the connection.";
    return { kind: "final", message: known.then ? `${said} ${known.then}` : said, action: known.action };
  }
  if (info.code === 1008) {
    return { kind: "final", message: `The server refused the connection${reason ? ` (${reason})` : ""}.`,
      action: "Try again" };
  }
  return { kind: "lost" }; // a restart, a dropped network: reconnect
};

// A typed message the server refused with its connection: kept, to send again.
window.VoiceChat.offerToResend = function offerToResend(app, verdict, text) {
  const why = verdict.kind === "full" ? "The service is full right now." : verdict.message;
  app.recover = () => app.sendText(text);
  app.ui.showProblem(`${why} Your message was not sent: “${text.slice(0, 60)}”.`, "warning", "Send again");
};
