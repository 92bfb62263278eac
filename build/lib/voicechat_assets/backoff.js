// Reconnection delays: doubling from half a second up to ten, with a little jitter so
// that many pages do not come back at the same instant after a server restart.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Backoff = class Backoff {
  constructor(baseMs = 500, maxMs = 10000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.attempts = 0;
  }

  next() {
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.attempts);
    this.attempts += 1;
    return Math.round(delay * (0.85 + 0.3 * Math.random()));
  }

  reset() {
    this.attempts = 0;
  }
};
