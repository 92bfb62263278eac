// AudioWorklet: microphone at the context's rate -> 16 kHz mono PCM16, 20 ms frames.
// Loaded with audioWorklet.addModule(); kept out of Dash's automatic asset scripts.
//
// Resampling is band-limited interpolation: each output sample is a windowed-sinc
// weighted sum of the 16 nearest input samples, with the cut-off at 7.2 kHz (just below
// the 8 kHz Nyquist of the output), so nothing above it folds back into the speech band.
const TARGET_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const HALF_TAPS = 8;

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.cutoff = Math.min(0.5, (0.45 * TARGET_RATE) / sampleRate); // cycles per input sample
    this.tail = new Float32Array(2 * HALF_TAPS); // end of the previous block
    this.position = HALF_TAPS; // next output position, in tail+block coordinates
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.enabled = true;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "enable") this.enabled = Boolean(event.data.value);
    };
  }

  weight(t) {
    if (Math.abs(t) >= HALF_TAPS) return 0;
    const x = 2 * this.cutoff * t;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const hann = 0.5 * (1 + Math.cos((Math.PI * t) / HALF_TAPS));
    return sinc * hann;
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
    const work = new Float32Array(this.tail.length + n);
    work.set(this.tail, 0);
    for (const channel of channels) {
      for (let i = 0; i < n; i++) work[this.tail.length + i] += channel[i] / channels.length;
    }
    let p = this.position;
    while (p + HALF_TAPS < work.length) {
      const i0 = Math.floor(p);
      const frac = p - i0;
      let sum = 0;
      let weights = 0;
      for (let k = -HALF_TAPS + 1; k <= HALF_TAPS; k++) {
        const w = this.weight(k - frac);
        sum += work[i0 + k] * w;
        weights += w;
      }
      this.emit(sum / weights);
      p += this.step;
    }
    const keep = this.tail.length;
    this.tail = work.slice(work.length - keep);
    this.position = p - (work.length - keep);
    return true;
  }
}

registerProcessor("recorder-processor", RecorderProcessor);
