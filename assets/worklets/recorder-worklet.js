// AudioWorklet: microphone at the context's rate -> 16 kHz mono PCM16, 20 ms frames.
// Loaded with audioWorklet.addModule(); kept out of Dash's automatic asset scripts.
const TARGET_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.boxLength = Math.max(1, Math.round(this.step)); // moving average: cheap anti-alias
    this.history = new Float32Array(this.boxLength);
    this.historyIndex = 0;
    this.boxSum = 0;
    this.position = 0; // where the next output sample falls, in input samples
    this.previous = 0; // last filtered sample of the previous block
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.enabled = true;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "enable") this.enabled = Boolean(event.data.value);
    };
  }

  filter(block) {
    const out = new Float32Array(block.length);
    for (let i = 0; i < block.length; i++) {
      this.boxSum += block[i] - this.history[this.historyIndex];
      this.history[this.historyIndex] = block[i];
      this.historyIndex = (this.historyIndex + 1) % this.boxLength;
      out[i] = this.boxSum / this.boxLength;
    }
    return out;
  }

  emit(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = clipped < 0 ? clipped * 32768 : clipped * 32767;
    if (this.filled === FRAME_SAMPLES) {
      const frame = this.frame;
      this.frame = new Int16Array(FRAME_SAMPLES);
      this.filled = 0;
      if (this.enabled) this.port.postMessage(frame.buffer, [frame.buffer]);
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0 || channels[0].length === 0) return true;
    const n = channels[0].length;
    const mono = new Float32Array(n);
    for (const channel of channels) {
      for (let i = 0; i < n; i++) mono[i] += channel[i] / channels.length;
    }
    const block = this.filter(mono);
    // Linear interpolation; index -1 is the last sample of the previous block.
    let p = this.position;
    while (p < n - 1) {
      const i0 = Math.floor(p);
      const frac = p - i0;
      const s0 = i0 < 0 ? this.previous : block[i0];
      const s1 = block[i0 + 1];
      this.emit(s0 + (s1 - s0) * frac);
      p += this.step;
    }
    this.position = p - n;
    this.previous = block[n - 1];
    return true;
  }
}

registerProcessor("recorder-processor", RecorderProcessor);
