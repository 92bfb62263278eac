// Push to talk, for noisy rooms and shared spaces: when it is on, the microphone is heard
// only while the Talk button (or the space bar) is held; the rest of the time the server
// gets silence, so it hears the end of each turn as it would anyone pausing. Kept in
// this browser.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.PushToTalk = class PushToTalk {
  constructor(key = "voicechat.push_to_talk") {
    this.key = key;
    this.on = window.VoiceChat.readChoice(key, false) === true;
    this.held = false;
    this.silenced = 0; // frames sent as silence (tests read it)
    this.silence = new Int16Array(320);
  }

  // The frame to send: the microphone's, or silence while not held.
  gate(frame) {
    if (!this.on || this.held) return frame;
    this.silenced += 1;
    return this.silence;
  }

  toggle() {
    this.on = !this.on;
    this.held = false;
    window.VoiceChat.keepChoice(this.key, this.on);
    return this.on;
  }

  // The Talk button's and the space bar's presses (wired once the page is drawn).
  install() {
    const hold = (held) => () => {
      if (this.on) this.held = held;
    };
    document.addEventListener("pointerdown", (event) => {
      if (event.target.closest && event.target.closest("#controls-talk")) hold(true)();
    });
    document.addEventListener("pointerup", hold(false));
    document.addEventListener("pointercancel", hold(false));
    document.addEventListener("keydown", (event) => {
      if (event.key === " " && this.on && !window.VoiceChat.typingIn(event.target)) {
        event.preventDefault();
        this.held = true;
      }
    });
    document.addEventListener("keyup", (event) => {
      if (event.key === " ") this.held = false;
    });
  }
};
