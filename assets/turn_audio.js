// The reply audio of the latest turns, kept so a turn can be heard again from its
// waterfall ("Play again"), and when its first sound was due here (for the "heard" step).
// Bounded: the last 8 turns, up to 30 s of audio each.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.TurnAudio = class TurnAudio {
  constructor(player, maxTurns = 8, maxSeconds = 30) {
    this.player = player;
    this.maxTurns = maxTurns;
    this.maxSeconds = maxSeconds;
    this.turns = new Map(); // "epoch:turn" -> {rate, chunks, samples, bufferedMs}
    this.playing = null; // the source replaying now
    this.replays = 0;
  }

  // A chunk of a reply as it arrives; ``startsAt``: when the player will sound it.
  add(key, rate, pcm, startsAt) {
    let kept = this.turns.get(key);
    if (!kept) {
      const context = this.player.context;
      kept = { rate, chunks: [], samples: 0, bufferedMs: Math.max(0, (startsAt - context.currentTime) * 1000) };
      this.turns.set(key, kept);
      while (this.turns.size > this.maxTurns) this.turns.delete(this.turns.keys().next().value);
    }
    if (rate !== kept.rate || kept.samples + pcm.length > rate * this.maxSeconds) return;
    kept.chunks.push(pcm);
    kept.samples += pcm.length;
  }

  // From the first chunk's arrival to its first sound here (ms), or null.
  bufferedMs(key) {
    const kept = this.turns.get(key);
    return kept ? kept.bufferedMs : null;
  }

  has(key) {
    return this.turns.has(key);
  }

  // The kept reply, once more (stopping a replay already going); not over a live reply.
  replay(key) {
    const kept = this.turns.get(key);
    if (!kept || this.player.playing) return false;
    this.stop();
    const context = this.player.ensureContext();
    const buffer = context.createBuffer(1, kept.samples, kept.rate);
    const samples = buffer.getChannelData(0);
    let at = 0;
    for (const chunk of kept.chunks) {
      for (let i = 0; i < chunk.length; i++) samples[at + i] = chunk[i] / 32768;
      at += chunk.length;
    }
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.player.output);
    source.onended = () => {
      if (this.playing === source) this.playing = null;
    };
    source.start();
    this.playing = source;
    this.replays += 1;
    return true;
  }

  stop() {
    if (this.playing) this.playing.stop();
    this.playing = null;
  }
};
