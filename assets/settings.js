// The person's settings, kept in this browser and checked on the way in: a stored value
// the server would refuse is dropped rather than sent. API keys are kept apart, for this
// tab only (sessionStorage): they should not outlive the visit on a shared computer.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.SettingsStore = class SettingsStore {
  constructor(key = "voicechat.settings") {
    this.key = key;
  }

  secretFor(name) {
    return name === "openai_api_key" ? `${this.key}.api-key` : `${this.key}.${name}`;
  }

  static normalize(values) {
    const vad = Number(values.vad_aggressiveness);
    const length = Number(values.max_sentences);
    const clean = {};
    if (Number.isInteger(vad) && vad >= 0 && vad <= 3) clean.vad_aggressiveness = vad;
    if (["quick", "normal", "patient"].includes(values.patience)) clean.patience = values.patience;
    if (Number.isInteger(length) && length >= 1 && length <= 5) clean.max_sentences = length;
    for (const key of SettingsStore.TEXT_KEYS) {
      const value = values[key];
      if (typeof value === "string" && value.length <= 300) clean[key] = value.trim();
    }
    return clean;
  }

  // The voice must suit the provider and language chosen; otherwise the provider's default.
  static fitVoice(values, voices) {
    const voice = values.voice || "";
    if (!voice || !voices) return values;
    const list = values.tts_provider === "edge" ? (voices.edge || {})[values.language]
      : values.tts_provider === "local" ? (voices.local || {}).en : [];
    return (list || []).includes(voice) ? values : Object.assign({}, values, { voice: "" });
  }

  load() {
    try {
      const raw = window.localStorage.getItem(this.key);
      const clean = raw ? SettingsStore.normalize(JSON.parse(raw)) : {};
      for (const name of SettingsStore.SECRET_KEYS) {
        const secret = window.sessionStorage.getItem(this.secretFor(name));
        if (secret) clean[name] = secret;
      }
      return Object.keys(clean).length ? clean : null;
    } catch (error) {
      console.warn("stored settings could not be read; using the defaults", error);
      return null;
    }
  }

  save(values) {
    try {
      const kept = Object.assign({}, values);
      for (const name of SettingsStore.SECRET_KEYS) {
        delete kept[name];
        if (values[name]) window.sessionStorage.setItem(this.secretFor(name), values[name]);
        else window.sessionStorage.removeItem(this.secretFor(name));
      }
      window.localStorage.setItem(this.key, JSON.stringify(kept));
    } catch (error) {
      console.warn("settings could not be stored in this browser", error);
    }
  }

  clear() {
    try {
      window.localStorage.removeItem(this.key);
      for (const name of SettingsStore.SECRET_KEYS) window.sessionStorage.removeItem(this.secretFor(name));
    } catch (error) {
      console.warn("stored settings could not be removed", error);
    }
  }
};

window.VoiceChat.SettingsStore.TEXT_KEYS = [
  "stt_provider", "llm_provider", "tts_provider", "voice", "language", "openai_base_url",
  "openai_api_key", "openai_stt_model", "openai_llm_model", "openai_tts_model", "openai_tts_voice",
  "speech_provider", "speech_base_url", "speech_api_key", "speech_model", "speech_voice",
];
window.VoiceChat.SettingsStore.SECRET_KEYS = ["openai_api_key", "speech_api_key"];
// What the defaults say of the keys: none of the page's own.
window.VoiceChat.SettingsStore.NO_KEYS = { openai_api_key: "", speech_api_key: "" };
