// WebSocket client for /ws/voice (protocol 1, see docs/protocol.md).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Connection = class Connection {
  constructor(handlers, access) {
    this.handlers = handlers; // onEvent(event), onAudio(turn, rate, pcm16), onClose(info)
    this.access = access; // keeps the renewed session ticket the server sends
    this.socket = null;
    this.framesSent = 0;
    this.closingError = null; // the error event sent just before the server closes
    this.unansweredText = null; // a typed message sent before the server took the conversation
  }

  // ``ticket``: the session ticket (sent first, where the server asks for one);
  // ``first``: a message sent before the rest (a resume request), or null.
  open(first = null, ticket = null) {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/voice`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.onopen = () => {
        if (ticket) this.sendJson({ type: "auth", ticket });
        if (first) this.sendJson(first);
        this.sendJson({ type: "hello", protocol: 1, sample_rate: 16000 });
        resolve();
      };
      socket.onerror = () => reject(new Error(window.VoiceChat.t("The server could not be reached.")));
      socket.onmessage = (message) => this.dispatch(message.data);
      socket.onclose = (event) => {
        if (this.socket === socket) this.socket = null;
        this.handlers.onClose({ code: event.code, reason: event.reason });
      };
    });
  }

  dispatch(data) {
    if (typeof data === "string") {
      let parsed;
      try {
        parsed = JSON.parse(data);
      } catch (error) {
        console.error("server sent a message that is not JSON", error);
        return;
      }
      if (parsed.type === "error" && window.VoiceChat.CLOSING_ERRORS.includes(parsed.code)) {
        this.closingError = parsed; // why the close that follows (assets/refusals.js)
      }
      if (parsed.type === "ticket") this.access.remember(parsed.ticket, parsed.expires_at);
      else this.handlers.onEvent(parsed);
      return;
    }
    if (data.byteLength < 12) return;
    const view = new DataView(data);
    const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1));
    const kind = view.getUint8(3); // 1: the reply, 2: a "let me think" cue
    if (magic !== "VC" || view.getUint8(2) !== 1 || (kind !== 1 && kind !== 2)) return;
    const turn = view.getUint32(4, true);
    const rate = view.getUint32(8, true);
    this.handlers.onAudio(turn, rate, new Int16Array(data, 12), kind);
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  sendJson(message) {
    if (this.isOpen) this.socket.send(JSON.stringify(message));
  }

  sendAudio(frame) {
    if (!this.isOpen) return;
    this.socket.send(frame.buffer);
    this.framesSent += 1;
  }

  close() {
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, "client stopped");
    }
  }
};
