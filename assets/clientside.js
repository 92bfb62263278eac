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
    onSend: function (_submits, _clicks, value) {
      if (!value || !value.trim()) return window.dash_clientside.no_update;
      window.VoiceChat.app.sendText(value);
      return "";
    },
  },
});
