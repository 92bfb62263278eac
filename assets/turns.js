// The turns of a conversation on the page, as the server tells them (docs/protocol.md):
// what each person said, each reply's sentences shown as their audio starts to sound,
// the audio of cleared turns dropped, and when a reply has played to its end.
// The app (assets/voice_app.js) hands it the turn events and the reply audio.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Turns = class Turns {
  constructor(ui, player, reportPlayed, kept) {
    this.ui = ui;
    this.player = player;
    this.reportPlayed = reportPlayed; // (turn) => bool: told the server it has played
    this.cleared = new Set(); // turns whose audio is dropped (until a resume)
    // turn -> what to do once that turn's next audio chunk sounds (a sentence shown)
    this.onNextChunk = new Map();
    this.doneTurns = new Set(); // turns whose audio has all been received
    this.userText = new Map(); // turn -> what the person said (for a retry)
    this.spokenText = new window.VoiceChat.SpokenText((turn, text) => ui.appendReply(turn, text));
    this.speakingTurn = null;
    this.kept = kept; // the app's TurnAudio: the waterfall's "heard", and replays
  }

  key(turn) {
    return `${this.ui.epoch}:${turn}`;
  }

  // An event about a turn; false when it is not one (the app handles it).
  event(event) {
    switch (event.type) {
      case "speech_started":
        if (this.ui.state === "listening") this.ui.set("user_speaking");
        return true;
      case "speech_discarded":
        if (this.ui.state === "user_speaking") this.ui.set("listening");
        return true;
      case "transcript":
        this.userText.set(event.turn, event.text);
        this.ui.setUserText(event.turn, event.text);
        return true;
      case "reply_text":
        this.spokenText.written(event.turn, event.sentence, event.text);
        return true;
      case "sentence_start": {
        const sounds = this.spokenText.sent(event.turn, event.sentence);
        if (!this.cleared.has(event.turn)) this.whenNextChunkSounds(event.turn, sounds);
        return true;
      }
      case "reply_started":
        this.speakingTurn = event.turn;
        return true;
      case "reply_done":
        this.doneTurns.add(event.turn);
        this.showTimings(event.turn, event.timings || {});
        if (event.text) this.ui.adviseStrongerModel();
        if (!this.player.playing) this.played();
        return true;
      case "clear":
        this.cleared.add(event.turn);
        this.onNextChunk.delete(event.turn);
        this.player.clear();
        if (event.reason === "barge_in" || event.reason === "stopped") this.ui.markCut(event.turn, true);
        if (event.reason === "superseded") this.ui.dropTurn(event.turn);
        return true;
      case "resume":
        // The interruption was only a noise: the reply plays on from the cut sentence.
        this.cleared.delete(event.turn);
        this.whenNextChunkSounds(event.turn, () => this.spokenText.playAll(event.turn, true));
        this.speakingTurn = event.turn;
        this.ui.markCut(event.turn, false);
        return true;
      case "ignored":
        this.ui.dropTurn(event.turn);
        return true;
      default:
        return false;
    }
  }

  audio(turn, rate, pcm, kind) {
    if (this.cleared.has(turn)) return;
    if (kind === 2) this.speakingTurn = turn; // the cue plays before the answer
    const startsAt = this.player.enqueue(rate, pcm);
    if (kind !== 2) this.kept.add(this.key(turn), rate, pcm, startsAt);
    const waiting = kind === 2 ? undefined : this.onNextChunk.get(turn);
    if (waiting) {
      this.onNextChunk.delete(turn);
      for (const fn of waiting) this.player.at(startsAt, fn);
    }
  }

  // The reply's steps for its waterfall; "heard": its first audio sent, and as long
  // again as it waited here to sound (the network's share is not known to the page).
  showTimings(turn, timings) {
    const key = this.key(turn);
    const buffered = this.kept.bufferedMs(key);
    const sent = timings.tts_first_audio_ms;
    const heard = typeof sent === "number" && buffered !== null ? sent + buffered : null;
    this.ui.setTimings(turn, timings, heard, this.kept.has(key) ? key : null);
  }

  // The announced audio follows its event: what it starts is timed by the chunk itself,
  // once it is scheduled (a guess made at the event would run early if the chunk is late).
  whenNextChunkSounds(turn, fn) {
    if (!this.onNextChunk.has(turn)) this.onNextChunk.set(turn, []);
    this.onNextChunk.get(turn).push(fn);
  }

  // The player ran dry: if the speaking turn's audio has all come, it has played.
  played() {
    const turn = this.speakingTurn;
    if (turn !== null && this.doneTurns.has(turn) && this.reportPlayed(turn)) this.speakingTurn = null;
  }

  // A turn that failed plays nothing more: its words are still shown.
  failed(turn) {
    if (turn !== undefined && turn !== null) this.spokenText.playAll(turn, false);
  }
};
