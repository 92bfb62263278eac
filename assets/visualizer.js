// Level meter: microphone level (green) and reply level (blue) on one small canvas.
// Draws at most ~30 times a second from AnalyserNodes; no work on the audio thread.
window.VoiceChat = window.VoiceChat || {};

window.VoiceChat.Visualizer = class Visualizer {
  constructor(canvasId) {
    this.canvasId = canvasId;
    this.sources = [];
    this.running = false;
    this.lastDraw = 0;
    this.buffer = new Float32Array(512);
  }

  start(getAnalysers) {
    this.getAnalysers = getAnalysers;
    if (this.running) return;
    this.running = true;
    const tick = (now) => {
      if (!this.running) return;
      if (now - this.lastDraw > 33) {
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

  level(analyser) {
    if (!analyser) return 0;
    analyser.getFloatTimeDomainData(this.buffer);
    let sum = 0;
    for (let i = 0; i < this.buffer.length; i++) sum += this.buffer[i] * this.buffer[i];
    return Math.min(1, Math.sqrt(sum / this.buffer.length) * 4);
  }

  draw(blank = false) {
    const canvas = document.getElementById(this.canvasId);
    if (!canvas) return;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#f0f0f0";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (blank) return;
    const [mic, reply] = this.getAnalysers();
    const half = canvas.height / 2;
    ctx.fillStyle = "#52c41a";
    ctx.fillRect(0, 0, canvas.width * this.level(mic), half - 1);
    ctx.fillStyle = "#1677ff";
    ctx.fillRect(0, half + 1, canvas.width * this.level(reply), half - 1);
  }
};
