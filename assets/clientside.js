// Dash clientside callbacks: the page's buttons and text box hand over to the app.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  voice: {
    onControl: function () {
      const ctx = window.dash_clientside.callback_context;
      const trigger = ctx.triggered_id || (ctx.triggered[0] && ctx.triggered[0].prop_id.split(".")[0]);
      const app = window.VoiceChat.app;
      if (trigger === "controls-start") app.start();
      if (trigger === "controls-stop") app.stop();
      if (trigger === "controls-mute") app.toggleMute();
      return window.dash_clientside.no_update;
    },
    onRecover: function () {
      window.VoiceChat.app.runRecovery();
      return window.dash_clientside.no_update;
    },
    openSettings: function () {
      return true;
    },
    loadSettings: function (defaults) {
      window.VoiceChat.app.defaults = defaults;
      const saved = window.VoiceChat.app.settings || {};
      const pick = (key) => (saved[key] !== undefined ? String(saved[key])
        : defaults && defaults[key] !== undefined ? String(defaults[key]) : window.dash_clientside.no_update);
      return [pick("vad_aggressiveness"), pick("patience"), pick("max_sentences")];
    },
    onSettings: function (vad, patience, length) {
      window.VoiceChat.app.updateSettings({ vad_aggressiveness: vad, patience, max_sentences: length });
      return window.dash_clientside.no_update;
    },
    resetSettings: function (_clicks, defaults) {
      window.VoiceChat.app.resetSettings(defaults);
      return [String(defaults.vad_aggressiveness), defaults.patience, String(defaults.max_sentences)];
    },
    onSend: function (_submits, _clicks, value) {
      if (!value || !value.trim()) return window.dash_clientside.no_update;
      window.VoiceChat.app.sendText(value);
      return "";
    },
  },
});
