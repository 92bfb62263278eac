// Keyboard shortcuts: S start/stop, X stop the reply, M mute, / type a message, Esc stop. Keys typed into
// a text field are left alone (Esc there only leaves the field). They can be turned off
// (kept in this browser): single keys get in the way of speech-input software.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.KEYS_STORE = "voicechat.keys";
window.VoiceChat.keysOn = function keysOn() {
  return window.VoiceChat.readChoice(window.VoiceChat.KEYS_STORE, true) !== false;
};

// Is the person typing into ``target`` (a text field keeps its keys)?
window.VoiceChat.typingIn = function typingIn(target) {
  return Boolean(target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable));
};

window.VoiceChat.installShortcuts = function installShortcuts(app) {
  document.addEventListener("keydown", (event) => {
    if (!document.getElementById("controls-start")) return; // another page (the admin's)
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (!window.VoiceChat.keysOn()) return;
    if (window.VoiceChat.typingIn(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "s") app.toggle();
    else if (key === "m") app.toggleMute();
    else if (key === "x") app.interrupt();
    else if (key === "escape") app.stop();
    else if (key === "/") {
      const input = document.getElementById("composer-input");
      if (input) input.focus();
    } else return;
    event.preventDefault();
  });
};
