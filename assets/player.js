// Reply audio player: PCM16 chunks scheduled back to back (gapless), cleared at once.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Player = class Player {
  constructor() {
    this.context = null;
    this.output = null;
    this.onSound = null; // (rate, pcm16, startsInS): each chunk as it is scheduled (ConversationAudio)
    this.onCleared = null; // what was scheduled and not yet heard is dropped
    this.analyser = null;
    this.sources = new Set();
    this.nextStart = 0;
    this.onDrained = null; // called when the last scheduled chunk has finished
    this.timers = new Set(); // callbacks due at a playback time (dropped by clear)
    this.stats = { chunks: 0, scheduledSeconds: 0, endedChunks: 0, clears: 0 };
    this.volume = 1; // 0..1, the answers' loudness here
    this.sinkId = ""; // the speaker ("": the default)
  }

  setVolume(volume) {
    this.volume = Math.max(0, Math.min(1, volume));
    if (this.output) this.output.gain.value = this.volume;
  }

  // Where the answers play, where the browser allows choosing (AudioContext.setSinkId).
  setSink(sinkId) {
    this.sinkId = sinkId || "";
    if (!this.context || typeof this.context.setSinkId !== "function") return;
    this.context.setSinkId(this.sinkId).catch((error) => {
      console.warn("the chosen speaker could not be used", error.name);
    });
  }

  ensureContext() {
    if (!this.context) {
      // At 48 kHz, 16/22/24 kHz buffers join without glitches (at 44.1 kHz they did not).
      this.context = new AudioContext({ sampleRate: 48000 });
      this.output = this.context.createGain();
      this.output.gain.value = this.volume;
      if (this.sinkId) this.setSink(this.sinkId);
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 512;
      this.analyser.minDecibels = -85; // room noise stays below the visualizer's floor
      this.analyser.maxDecibels = -20;
      this.output.connect(this.analyser);
      this.analyser.connect(this.context.destination);
    }
    if (this.context.state === "suspended") this.context.resume();
    return this.context;
  }

  // Schedule a chunk after what is queued; returns when it will start (context time).
  enqueue(sampleRate, pcm16) {
    const context = this.ensureContext();
    const samples = new Float32Array(pcm16.length);
    for (let i = 0; i < pcm16.length; i++) samples[i] = pcm16[i] / 32768;
    const buffer = context.createBuffer(1, samples.length, sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    const earliest = context.currentTime + 0.03;
    if (this.nextStart < earliest) this.nextStart = earliest;
    const startsAt = this.nextStart;
    source.start(startsAt);
    if (this.onSound) this.onSound(sampleRate, pcm16, startsAt - context.currentTime);
    this.nextStart += buffer.duration;
    this.sources.add(source);
    this.stats.chunks += 1;
    this.stats.scheduledSeconds += buffer.duration;
    source.onended = () => {
      this.sources.delete(source);
      this.stats.endedChunks += 1;
      if (this.sources.size === 0 && this.onDrained) this.onDrained();
    };
    return startsAt;
  }

  // Run fn when playback reaches ``time`` (context time); clear() cancels it.
  at(time, fn) {
    const delayMs = Math.max(0, (time - this.context.currentTime) * 1000);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }

  get playing() {
    return this.sources.size > 0;
  }

  clear() {
    if (this.onCleared) this.onCleared();
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch (error) {
        console.warn("stopping a reply chunk failed", error);
      }
    }
    this.sources.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.nextStart = 0;
    this.stats.clears += 1;
  }

  // Idle between conversations: a running AudioContext keeps an audio thread busy.
  suspend() {
    this.clear();
    if (this.context && this.context.state === "running") this.context.suspend();
  }

  async close() {
    this.clear();
    if (this.context) await this.context.close();
    this.context = null;
  }
};
