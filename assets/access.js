// Session tickets, where the server asks for one (docs/protocol.md, "Access"): from the
// passcode form, or from an invitation link (#ticket=...), kept for this tab only.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Access = class Access {
  static KEY = "voicechat.ticket";
  // Words made when asked: this script loads before assets/i18n.js, which translates them.
  static REFUSALS = {
    ticket_required: () => window.VoiceChat.t("This assistant is private: enter its passcode."),
    ticket_invalid: () => window.VoiceChat.t("That ticket was not accepted: enter the passcode again."),
    ticket_expired: () => window.VoiceChat.t("Your access has expired: enter the passcode again."),
  };

  get mode() {
    const gate = document.getElementById("access-gate");
    return gate ? gate.dataset.mode : null; // null: the server asks for no ticket
  }

  // The ticket to open a socket with (null where none is needed); may ask the person.
  ticket() {
    if (this.mode === null) return Promise.resolve(null);
    this.fromLink();
    const kept = this.kept();
    return kept ? Promise.resolve(kept) : this.ask("");
  }

  kept() {
    try {
      const held = JSON.parse(sessionStorage.getItem(Access.KEY) || "null");
      return held && held.expires_at * 1000 > Date.now() + 5000 ? held.ticket : null;
    } catch (error) {
      console.warn("stored ticket unreadable", error);
      return null;
    }
  }

  remember(ticket, expiresAt) {
    sessionStorage.setItem(Access.KEY, JSON.stringify({ ticket, expires_at: expiresAt }));
  }

  fromLink() {
    const found = /(?:^#|&)ticket=([^&]+)/.exec(window.location.hash);
    if (!found) return;
    const ticket = decodeURIComponent(found[1]);
    try {
      const part = ticket.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      this.remember(ticket, JSON.parse(atob(part)).exp);
    } catch (error) {
      console.warn("the link's ticket is unreadable", error);
    }
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  // A socket closed with ``reason``: the words for the person when it was the ticket.
  refusal(reason) {
    const words = Access.REFUSALS[reason];
    if (words) sessionStorage.removeItem(Access.KEY);
    return words ? words() : null;
  }

  ask(message) {
    const gate = document.getElementById("access-gate");
    gate.hidden = false;
    document.getElementById("access-message").textContent = message;
    if (this.mode !== "passcode") return Promise.reject(new Error(window.VoiceChat.t("An invitation link is needed.")));
    const input = document.getElementById("access-passcode");
    input.focus();
    return new Promise((resolve) => {
      document.getElementById("access-form").onsubmit = (event) => {
        event.preventDefault();
        this.exchange(input.value).then((ticket) => {
          if (!ticket) return;
          input.value = "";
          gate.hidden = true;
          resolve(ticket);
        });
      };
    });
  }

  async exchange(passcode) {
    const said = document.getElementById("access-message");
    try {
      const response = await fetch("/api/session-ticket", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ passcode }),
      });
      const body = await response.json();
      if (response.ok) {
        this.remember(body.ticket, body.expires_at);
        return body.ticket;
      }
      said.textContent = body.message || window.VoiceChat.t("The passcode could not be checked.");
    } catch (error) {
      said.textContent = window.VoiceChat.t("The server could not be reached to check the passcode.");
    }
    return null;
  }
};
