// What the page's tests and the page benchmark read (window.VoiceChat.app.stats()).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.appStats = function appStats(app) {
  return {
    state: app.ui.state,
    states: app.ui.history.slice(),
    running: app.running,
    muted: app.muted,
    connected: Boolean(app.connection && app.connection.isOpen),
    framesSent: app.connection ? app.connection.framesSent : 0,
    framesCaptured: app.recorder ? app.recorder.framesCaptured : 0,
    liveMicrophoneTracks: app.lastStream
      ? app.lastStream.getTracks().filter((t) => t.readyState === "live").length : 0,
    visualizerFrames: app.visualizer.frames,
    player: Object.assign({}, app.player.stats),
    problem: app.ui.problem,
    replays: app.keptAudio.replays,
    pushToTalk: { on: app.pushToTalk.on, held: app.pushToTalk.held, silenced: app.pushToTalk.silenced },
    retrying: app.reconnector.waiting ? app.reconnector.kind : null, // "lost" | "full" | null
    settings: app.settings,
    marks: Object.assign({}, app.marks),
    appliedSettings: app.appliedSettings,
    settingsStatus: app.ui.settingsText || "",
    session: app.session || null,
    messages: app.ui.messages.map((m) => ({
      turn: m.turn, role: m.role, text: m.text, cut: m.cut, latencyMs: m.latencyMs, heardMs: m.heardMs,
    })),
  };
};
