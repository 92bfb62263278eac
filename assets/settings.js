// The person's settings, kept in this browser (localStorage) and checked on the way in:
// a stored value the server would refuse is dropped rather than sent.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.SettingsStore = class SettingsStore {
  constructor(key = "voicechat.settings") {
    this.key = key;
  }

  static normalize(values) {
    const vad = Number(values.vad_aggressiveness);
    const length = Number(values.max_sentences);
    const clean = {};
    if (Number.isInteger(vad) && vad >= 0 && vad <= 3) clean.vad_aggressiveness = vad;
    if (["quick", "normal", "patient"].includes(values.patience)) clean.patience = values.patience;
    if (Number.isInteger(length) && length >= 1 && length <= 5) clean.max_sentences = length;
    return clean;
  }

  load() {
    try {
      const raw = window.localStorage.getItem(this.key);
      const clean = raw ? SettingsStore.normalize(JSON.parse(raw)) : {};
      return Object.keys(clean).length ? clean : null;
    } catch (error) {
      console.warn("stored settings could not be read; using the defaults", error);
      return null;
    }
  }

  save(values) {
    try {
      window.localStorage.setItem(this.key, JSON.stringify(values));
    } catch (error) {
      console.warn("settings could not be stored in this browser", error);
    }
  }

  clear() {
    try {
      window.localStorage.removeItem(this.key);
    } catch (error) {
      console.warn("stored settings could not be removed", error);
    }
  }
};
