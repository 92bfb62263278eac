// Keyboard shortcuts: S start/stop, M mute, / type a message, Esc stop. Keys typed into
// a text field are left alone (Esc there only leaves the field).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.installShortcuts = function installShortcuts(app) {
  document.addEventListener("keydown", (event) => {
    if (!document.getElementById("controls-start")) return; // another page (the admin's)
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "s") app.toggle();
    else if (key === "m") app.toggleMute();
    else if (key === "escape") app.stop();
    else if (key === "/") {
      const input = document.getElementById("composer-input");
      if (input) input.focus();
    } else return;
    event.preventDefault();
  });
};
