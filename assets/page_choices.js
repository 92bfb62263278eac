// Choices about this page alone (shortcuts, push to talk, sound), kept in this browser as
// JSON under their own keys. Storage that is forbidden or full (private windows, quotas)
// keeps nothing: the choice holds for this visit and the console says why.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.readChoice = function readChoice(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch (error) {
    return fallback;
  }
};

window.VoiceChat.keepChoice = function keepChoice(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch (error) {
    console.warn(`could not keep the choice ${key}`, error);
  }
};
