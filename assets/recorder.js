// Microphone capture: getUserMedia -> AudioWorklet (16 kHz PCM16 frames) -> callback.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Recorder = class Recorder {
  constructor(onFrame, deviceId = "") {
    this.onFrame = onFrame;
    this.deviceId = deviceId; // the microphone chosen in Settings ("": the default)
    this.context = null;
    this.stream = null;
    this.node = null;
    this.analyser = null;
    this.framesCaptured = 0;
    this.stopped = false; // stop() came: a start still under way lets go of what it got
  }

  async start() {
    // ?mic=raw turns browser processing off (tests compare waveforms); people keep
    // echo cancellation so the assistant does not hear itself.
    const raw = new URLSearchParams(window.location.search).get("mic") === "raw";
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: !raw,
        noiseSuppression: !raw,
        autoGainControl: !raw,
        ...(this.deviceId ? { deviceId: { exact: this.deviceId } } : {}),
      },
    });
    if (this.stopped) return this.release(); // (refused or stopped while the browser asked)
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule("/assets/worklets/recorder-worklet.js");
    if (this.stopped) return this.release();
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "recorder-processor");
    this.node.port.onmessage = (event) => {
      this.framesCaptured += 1;
      this.onFrame(new Int16Array(event.data));
    };
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 512;
    this.analyser.minDecibels = -85; // room noise stays below the visualizer's floor
    this.analyser.maxDecibels = -20;
    // The worklet only runs while connected to the destination: go through zero gain.
    const silent = this.context.createGain();
    silent.gain.value = 0;
    source.connect(this.node);
    source.connect(this.analyser);
    this.node.connect(silent).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
  }

  setEnabled(enabled) {
    if (this.node) this.node.port.postMessage({ type: "enable", value: enabled });
  }

  async stop() {
    this.stopped = true;
    await this.release();
  }

  async release() {
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.node) this.node.port.onmessage = null;
    if (this.context) await this.context.close();
    this.stream = null;
    this.node = null;
    this.context = null;
    this.analyser = null;
  }
};
