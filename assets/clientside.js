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
      if (trigger === "controls-interrupt") app.interrupt();
      return window.dash_clientside.no_update;
    },
    onDelete: function () {
      window.VoiceChat.app.conversation.remove();
      return window.dash_clientside.no_update;
    },
    onRecover: function () {
      window.VoiceChat.app.runRecovery();
      return window.dash_clientside.no_update;
    },
    openSettings: function () {
      return true;
    },
    loadSettings: function (defaults, layout) {
      const fields = layout.fields;
      const app = window.VoiceChat.app;
      app.defaults = defaults;
      const saved = app.settings || {};
      return fields.map(([key, kind]) => {
        const value = saved[key] !== undefined ? saved[key] : (defaults || {})[key];
        if (value === undefined) return key.endsWith("_api_key") ? "" : window.dash_clientside.no_update;
        if (key === "voice" && !value) return null; // the select shows "Default"
        return kind === "int" ? String(value) : value;
      });
    },
    onSettings: function (...args) {
      // The values of the fields applied on change, the button's clicks, then the values
      // of the fields applied with the button, then the field list.
      const layout = args[args.length - 1];
      const fields = layout.fields;
      const onChange = args.slice(0, layout.onChange);
      const withButton = args.slice(layout.onChange + (layout.buttons || 1), args.length - 1);
      const values = {};
      [...onChange, ...withButton].forEach((value, i) => {
        const [key, kind] = fields[i];
        values[key] = kind === "str" && (value === null || value === undefined) ? "" : value;
      });
      window.VoiceChat.app.updateSettings(values);
      return window.dash_clientside.no_update;
    },
    resetSettings: function (_clicks, defaults, layout) {
      window.VoiceChat.app.resetSettings(defaults);
      return layout.fields.map(([key, kind]) => {
        const value = defaults[key] === undefined ? "" : defaults[key];
        if (key === "voice" && !value) return null;
        return kind === "int" ? String(value) : value;
      });
    },
    voiceOptions: function (tts, language, stt, llm, voices) {
      window.VoiceChat.app.voices = voices;
      const names = tts === "edge" ? (voices.edge[language] || []) : tts === "local" ? voices.local.en : [];
      const options = names.map((name) => ({ label: name, value: name }));
      const usesServer = [tts, stt, llm].includes("openai");
      return [options, { display: tts === "openai" ? "none" : "block" },
        { display: usesServer ? "block" : "none" }];
    },
    speechFields: function (kind) {
      return { display: kind && kind !== "off" ? "block" : "none" };
    },
    onKeys: function (clicks) {
      const VC = window.VoiceChat;
      const unchanged = window.dash_clientside.no_update;
      // The list of keys as the page was drawn with it (components/controls.py), read once.
      const text = document.getElementById("controls-keys-text");
      if (VC.keysText === undefined && text) VC.keysText = text.textContent;
      if (!clicks && VC.keysOn()) return [unchanged, unchanged, unchanged]; // as drawn: nothing to redraw
      if (clicks) VC.keepChoice(VC.KEYS_STORE, !VC.keysOn());
      return VC.keysOn() ? [VC.keysText, window.VoiceChat.t("Turn keys off"), "true"]
        : [window.VoiceChat.t("Single-key shortcuts are off"), window.VoiceChat.t("Turn keys on"), "false"];
    },
    listAudioDevices: function (visible) {
      if (visible) window.VoiceChat.app.devices.show().catch((error) => console.warn("no device list", error));
      return window.dash_clientside.no_update;
    },
    onAudioChoice: function (mic, speaker, volume) {
      const devices = window.VoiceChat.app.devices;
      const level = Number.parseInt(volume, 10);
      devices.choose({ mic: mic || "", speaker: speaker || "", volume: Number.isNaN(level) ? 100 : level });
      return window.dash_clientside.no_update;
    },
    onPushToTalk: function (clicks) {
      const ptt = window.VoiceChat.app.pushToTalk;
      const unchanged = window.dash_clientside.no_update;
      if (!clicks && !ptt.on) return [unchanged, unchanged, unchanged]; // as drawn: nothing to redraw
      const on = clicks ? ptt.toggle() : ptt.on;
      const label = on ? window.VoiceChat.t("Push to talk: on (turn off)") : window.VoiceChat.t("Push to talk");
      return [label, on ? "true" : "false",
        { display: on ? "block" : "none" }];
    },
    onConversation: function () {
      const ctx = window.dash_clientside.callback_context;
      const trigger = ctx.triggered_id || (ctx.triggered[0] && ctx.triggered[0].prop_id.split(".")[0]);
      const actions = window.VoiceChat.app.conversation;
      if (trigger === "transcript-new") actions.startNew();
      if (trigger === "transcript-copy") actions.copy();
      if (trigger === "transcript-download") actions.download();
      if (trigger === "transcript-audio") actions.downloadAudio();
      return window.dash_clientside.no_update;
    },
    onSend: function (_submits, _clicks, value) {
      // What the box holds now: on a busy machine Enter can come before the typed value
      // has reached Dash's store, and the message must not be lost for it.
      const box = document.getElementById("composer-input");
      const text = (box && box.value) || value;
      if (!text || !text.trim()) return window.dash_clientside.no_update;
      window.VoiceChat.app.sendText(text);
      return "";
    },
  },
});
