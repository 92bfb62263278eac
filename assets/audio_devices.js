// Which microphone and speaker, and how loud the answers play: page-only choices, kept
// in this browser (components/audio_devices.py draws the fields in the settings drawer).
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.AudioDevices = class AudioDevices {
  constructor(player, key = "voicechat.audio") {
    this.player = player;
    this.key = key;
    this.choice = Object.assign({ mic: "", speaker: "", volume: 100 }, window.VoiceChat.readChoice(key, {}));
    this.apply();
  }

  // The microphone to ask for ("" : the browser's default).
  get mic() {
    return this.choice.mic;
  }

  choose(changes) {
    Object.assign(this.choice, changes);
    window.VoiceChat.keepChoice(this.key, this.choice);
    this.apply();
  }

  apply() {
    this.player.setVolume(this.choice.volume / 100);
    this.player.setSink(this.choice.speaker);
  }

  // The drawer's options, and what this browser chose (shown once the devices are known).
  async show() {
    const VC = window.VoiceChat;
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    // ``named(number)``: what a device the browser gives no label is called.
    const options = (kind, named) => [{ label: window.VoiceChat.t("The browser's default"), value: "" },
      ...devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== "default")
        .map((d, i) => ({ label: d.label || named(i + 1), value: d.deviceId }))];
    const mics = options("audioinput", (number) => window.VoiceChat.t("Microphone {number}", { number }));
    const speakers = options("audiooutput", (number) => window.VoiceChat.t("Speaker {number}", { number }));
    const known = (list, id) => (list.some((o) => o.value === id) ? id : "");
    VC.app.ui.setProps("settings-audio-mic", { options: mics, value: known(mics, this.choice.mic) });
    VC.app.ui.setProps("settings-audio-speaker", { options: speakers, value: known(speakers, this.choice.speaker) });
    VC.app.ui.setProps("settings-audio-volume", { value: String(this.choice.volume) });
    this.listed = { mics: mics.length - 1, speakers: speakers.length - 1 };
  }
};
