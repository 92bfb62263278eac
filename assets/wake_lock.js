// While a conversation is on, the screen stays on (a phone would dim and lock in the
// middle of it); released when it ends. A browser drops the lock when the tab is hidden:
// it is taken again when the tab comes back.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.WakeLock = class WakeLock {
  constructor() {
    this.sentinel = null;
    this.wanted = false;
    document.addEventListener("visibilitychange", () => {
      if (this.wanted && document.visibilityState === "visible") this.take();
    });
  }

  // The page's state: a conversation is on unless idle or stopped by an error.
  follow(state) {
    const on = state !== "idle" && state !== "error";
    if (on === this.wanted) return;
    this.wanted = on;
    if (on) this.take();
    else this.release();
  }

  async take() {
    if (!("wakeLock" in navigator) || this.sentinel) return;
    try {
      const sentinel = await navigator.wakeLock.request("screen");
      if (!this.wanted) return sentinel.release(); // ended while it was being granted
      this.sentinel = sentinel;
      sentinel.addEventListener("release", () => {
        if (this.sentinel === sentinel) this.sentinel = null;
      });
    } catch (error) {
      console.info(`The screen may dim during the conversation (wake lock: ${error.name}).`);
    }
  }

  release() {
    const sentinel = this.sentinel;
    this.sentinel = null;
    if (sentinel) sentinel.release();
  }

  get held() {
    return this.sentinel !== null;
  }
};

window.VoiceChat.wakeLock = new window.VoiceChat.WakeLock();
