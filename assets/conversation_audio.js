// Both sides of the conversation as one stereo WAV the person can keep and replay: you
// on the left (the microphone as it was sent), the assistant on the right (its audio as
// it sounded here: what a barge-in or Stop talking cut off is cut here too). Both on the
// page's clock (performance.now), so their pauses and overlaps are as they were.
// Bounded: the latest five minutes.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.ConversationAudio = class ConversationAudio {
  constructor(maxSeconds = 300) {
    this.maxMs = maxSeconds * 1000;
    this.mic = []; // {at, pcm}: 16 kHz frames, ``at`` (ms) when each began
    this.reply = []; // {at, rate, pcm, until}: chunks as scheduled; ``until``: a cut
  }

  // The player tells what it sounds and when it is silenced.
  follow(player) {
    player.onSound = (rate, pcm, startsInS) => this.played(rate, pcm, startsInS);
    player.onCleared = () => this.cut();
  }

  heard(frame) {
    this.mic.push({ at: performance.now() - frame.length / 16, pcm: frame.slice() });
    this.trim();
  }

  played(rate, pcm, startsInS) {
    this.reply.push({ at: performance.now() + startsInS * 1000, rate, pcm, until: Infinity });
    this.trim();
  }

  // Whatever had not sounded yet never will.
  cut() {
    const now = performance.now();
    for (const chunk of this.reply) chunk.until = Math.min(chunk.until, now);
  }

  clear() {
    this.mic = [];
    this.reply = [];
  }

  trim() {
    const micEnd = (c) => c.at + c.pcm.length / 16;
    const replyEnd = (c) => c.at + (c.pcm.length / c.rate) * 1000;
    const latest = Math.max(this.mic.length ? micEnd(this.mic.at(-1)) : 0,
      this.reply.length ? replyEnd(this.reply.at(-1)) : 0);
    while (this.mic.length && micEnd(this.mic[0]) < latest - this.maxMs) this.mic.shift();
    while (this.reply.length && replyEnd(this.reply[0]) < latest - this.maxMs) this.reply.shift();
  }

  get empty() {
    return !this.mic.length && !this.reply.length;
  }

  // The WAV (16 kHz, 16-bit, two channels) of what is kept, or null.
  wav() {
    if (this.empty) return null;
    const heard = this.reply.map((c) => ({ ...c, end: Math.min(c.until, c.at + (c.pcm.length / c.rate) * 1000) }))
      .filter((c) => c.end > c.at); // (a chunk cut before it began was never heard)
    const starts = [...this.mic.map((c) => c.at), ...heard.map((c) => c.at)];
    const ends = [...this.mic.map((c) => c.at + c.pcm.length / 16), ...heard.map((c) => c.end)];
    const origin = Math.min(...starts);
    const frames = Math.min(Math.ceil((Math.max(...ends) - origin) * 16), (this.maxMs + 1000) * 16);
    const samples = new Int16Array(frames * 2); // interleaved: left, right
    for (const chunk of this.mic) {
      const first = Math.round((chunk.at - origin) * 16);
      for (let i = 0; i < chunk.pcm.length && first + i < frames; i++) samples[(first + i) * 2] = chunk.pcm[i];
    }
    for (const chunk of heard) { // (linear interpolation from the reply's rate to 16 kHz)
      const first = Math.round((chunk.at - origin) * 16);
      const count = Math.min(Math.floor((chunk.end - chunk.at) * 16), frames - first);
      const step = chunk.rate / 16000;
      for (let i = 0; i < count; i++) {
        const x = i * step;
        const j = Math.floor(x);
        if (j >= chunk.pcm.length) break;
        const next = j + 1 < chunk.pcm.length ? chunk.pcm[j + 1] : chunk.pcm[j];
        samples[(first + i) * 2 + 1] = Math.round(chunk.pcm[j] + (next - chunk.pcm[j]) * (x - j));
      }
    }
    return new Blob([window.VoiceChat.wavHeader(frames, 2, 16000), samples.buffer], { type: "audio/wav" });
  }
};

// A 44-byte RIFF header for 16-bit PCM.
window.VoiceChat.wavHeader = function wavHeader(frames, channels, rate) {
  const bytes = frames * channels * 2;
  const view = new DataView(new ArrayBuffer(44));
  const text = (at, words) => [...words].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + bytes, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, bytes, true);
  return view.buffer;
};
