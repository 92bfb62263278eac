// The ticket that lets a dropped or reloaded page take its conversation back (see
// "Resume" in docs/protocol.md). Kept per tab in sessionStorage: another tab starts its
// own conversation. Only tried within the window the server announced.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.ResumeTicket = class ResumeTicket {
  constructor(storage = window.sessionStorage, key = "voicechat.resume") {
    this.storage = storage;
    this.key = key;
  }

  remember(ready) {
    if (!ready.session_id || !ready.resume_token) return;
    const ticket = {
      session_id: ready.session_id,
      token: ready.resume_token,
      windowMs: (ready.resume_window_s || 0) * 1000,
      savedAt: Date.now(),
    };
    this.write(ticket);
  }

  // Called while the socket is open: the window runs from the moment it drops.
  touch() {
    const ticket = this.read();
    if (ticket) this.write(Object.assign(ticket, { savedAt: Date.now() }));
  }

  current() {
    const ticket = this.read();
    if (!ticket || Date.now() - ticket.savedAt > ticket.windowMs) return null;
    return { type: "resume", session_id: ticket.session_id, token: ticket.token };
  }

  forget() {
    try {
      this.storage.removeItem(this.key);
    } catch (error) {
      console.warn("could not forget the resume ticket", error);
    }
  }

  read() {
    try {
      return JSON.parse(this.storage.getItem(this.key) || "null");
    } catch (error) {
      return null;
    }
  }

  write(ticket) {
    try {
      this.storage.setItem(this.key, JSON.stringify(ticket));
    } catch (error) {
      console.warn("could not keep the resume ticket", error);
    }
  }
};
