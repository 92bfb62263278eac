// The assistant's sentences, shown as each begins to play rather than when it is written.
// The server sends a sentence's text (reply_text) ahead of its audio and announces the
// audio's start (sentence_start); the app tells this class when that audio sounds.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.SpokenText = class SpokenText {
  constructor(show, limit = 256) {
    this.show = show; // (turn, text) => void: adds a sentence to the conversation
    this.limit = limit; // sentences remembered; the oldest is forgotten first
    this.sentences = new Map(); // "turn:index" -> {text, sent, playing, shown}
  }

  entry(turn, index) {
    const key = `${turn}:${index}`;
    if (!this.sentences.has(key)) {
      if (this.sentences.size >= this.limit) this.sentences.delete(this.sentences.keys().next().value);
      // sent: its audio has begun to arrive; playing: it has begun to sound.
      this.sentences.set(key, { text: null, sent: false, playing: false, shown: false });
    }
    return this.sentences.get(key);
  }

  written(turn, index, text) {
    this.entry(turn, index).text = text;
    this.showInOrder(turn);
  }

  // Its audio has arrived; returns what to call once that audio starts to sound.
  sent(turn, index) {
    const entry = this.entry(turn, index);
    entry.sent = true;
    return () => {
      entry.playing = true;
      this.showInOrder(turn);
    };
  }

  // After a resume (its audio plays again) only what was sent; after a failure, all.
  playAll(turn, sentOnly) {
    for (const [key, entry] of this.sentences) {
      if (key.startsWith(`${turn}:`) && (entry.sent || !sentOnly)) entry.playing = true;
    }
    this.showInOrder(turn);
  }

  // Show the turn's sentences that have started playing and whose text is known, in order.
  showInOrder(turn) {
    for (let index = 0; this.sentences.has(`${turn}:${index}`); index++) {
      const entry = this.sentences.get(`${turn}:${index}`);
      if (entry.shown) continue;
      if (!entry.playing || entry.text === null) return;
      entry.shown = true;
      this.show(turn, entry.text);
    }
  }
};
