// Spectrum of the microphone (upwards, in the page's colour for "you") and of the reply
// (downwards, the assistant's colour) on one canvas, in the colours of assets/app.css. Reads AnalyserNodes at most 20 times a second, only while a conversation runs
// and the tab is visible, and skips frames where nothing changed (silence stays drawn);
// nothing runs on the audio thread.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Visualizer = class Visualizer {
  constructor(canvasId, bars = 32) {
    this.canvasId = canvasId;
    this.bars = bars;
    this.running = false;
    this.lastDraw = 0;
    this.bins = new Uint8Array(256);
    this.frames = 0; // frames looked at, for tests and the CPU figure
    this.quiet = false; // the last frame drawn was silence on both sides
  }

  start(getAnalysers) {
    this.getAnalysers = getAnalysers;
    if (this.running) return;
    this.running = true;
    const tick = (now) => {
      if (!this.running) return;
      if (now - this.lastDraw > 50 && !document.hidden) {
        this.lastDraw = now;
        this.draw();
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.running = false;
    this.draw(true);
  }

  // Bar heights (0..1) over 0-8 kHz, where speech is.
  spectrum(analyser) {
    const heights = new Float32Array(this.bars);
    if (!analyser) return heights;
    if (this.bins.length !== analyser.frequencyBinCount) this.bins = new Uint8Array(analyser.frequencyBinCount);
    analyser.getByteFrequencyData(this.bins);
    const nyquist = analyser.context.sampleRate / 2;
    const usable = Math.max(this.bars, Math.floor((this.bins.length * Math.min(8000, nyquist)) / nyquist));
    const per = usable / this.bars;
    for (let bar = 0; bar < this.bars; bar++) {
      let peak = 0;
      const from = Math.floor(bar * per);
      const to = Math.max(from + 1, Math.floor((bar + 1) * per));
      for (let i = from; i < to; i++) peak = Math.max(peak, this.bins[i]);
      heights[bar] = peak / 255;
    }
    return heights;
  }

  draw(blank = false) {
    const canvas = document.getElementById(this.canvasId);
    if (!canvas) return;
    let up = null;
    let down = null;
    if (!blank) {
      this.frames += 1;
      const [mic, reply] = this.getAnalysers();
      up = this.spectrum(mic);
      down = this.spectrum(reply);
      const quiet = Math.max(...up, ...down) < 0.02;
      if (quiet && this.quiet) return; // silence is already on the canvas
      this.quiet = quiet;
    } else {
      this.quiet = false;
    }
    const ctx = canvas.getContext("2d");
    const { width, height } = canvas;
    const middle = height / 2;
    const colour = (name) => getComputedStyle(canvas).getPropertyValue(name).trim();
    const [you, assistant] = [colour("--you"), colour("--assistant")];
    ctx.fillStyle = colour("--canvas-bg");
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = colour("--canvas-line");
    ctx.fillRect(0, middle - 0.5, width, 1);
    if (blank) return;
    const step = width / this.bars;
    for (let bar = 0; bar < this.bars; bar++) {
      const x = bar * step + 1;
      ctx.fillStyle = you;
      const h1 = up[bar] * (middle - 2);
      ctx.fillRect(x, middle - 1 - h1, step - 2, h1);
      ctx.fillStyle = assistant;
      const h2 = down[bar] * (middle - 2);
      ctx.fillRect(x, middle + 1, step - 2, h2);
    }
  }
};
