// Pure helpers of the attention views: float16 decoding, head matrices, the lines of the head
// view, colours.  No DOM here, so the JS tests can check them without a browser.

let HALF_TABLE = null;

// float16 bit pattern -> float32 value, for every one of the 65536 patterns (built once).
function halfTable() {
  if (HALF_TABLE) return HALF_TABLE;
  HALF_TABLE = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  return HALF_TABLE;
}

export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}

// A binary trait arrives as a DataView (live kernel or saved state), an ArrayBuffer or a typed array.
export function toBytes(value) {
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(0);
}

// One layer [heads, T, T] of little-endian float16 -> Float32Array, or null when the size is off.
export function decodeLayer(value, heads, T) {
  const bytes = toBytes(value);
  const n = heads * T * T;
  if (bytes.byteLength !== n * 2 || n === 0) return null;
  const table = halfTable();
  // browsers are little-endian, like the bytes; copy first when the view is not 2-byte aligned
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[halves[i]];
  return out;
}

// [T, T] weights of one head, or their mean over heads when head < 0.
export function headMatrix(layer, heads, T, head) {
  const size = T * T;
  if (head >= 0) return layer.subarray(head * size, (head + 1) * size);
  const out = new Float32Array(size);
  for (let h = 0; h < heads; h++) {
    const off = h * size;
    for (let i = 0; i < size; i++) out[i] += layer[off + i];
  }
  for (let i = 0; i < size; i++) out[i] /= heads;
  return out;
}

// The head view's lines: for every enabled head, the (from, to, weight) pairs above threshold;
// with a focus ({side: "left"|"right", index}) only the lines that touch that token.  At most
// maxLines, the strongest: stroking tens of thousands of long lines takes a browser seconds.
export function links(layer, heads, T, headsOn, focus = null, threshold = 0.02, maxLines = Infinity) {
  const out = [];
  const size = T * T;
  for (let h = 0; h < heads; h++) {
    if (headsOn && headsOn[h] === false) continue;
    const off = h * size;
    for (let i = 0; i < T; i++) {
      if (focus && focus.side === "left" && focus.index !== i) continue;
      for (let j = 0; j < T; j++) {
        if (focus && focus.side === "right" && focus.index !== j) continue;
        const w = layer[off + i * T + j];
        if (w >= threshold) out.push({ head: h, from: i, to: j, weight: w });
      }
    }
  }
  if (out.length <= maxLines) return out;
  return out.sort((a, b) => b.weight - a.weight).slice(0, maxLines);
}

// A distinct colour per head, the same in the toggles and in the lines.
export function headColor(h, heads) {
  const hue = Math.round((360 * h) / Math.max(1, heads));
  return `hsl(${hue}, 70%, 45%)`;
}

// RGBA pixels of a [rows, cols] matrix of weights (0..1 floats, or 0..255 bytes with scale 255),
// on a white-to-dark-blue scale (the same as the Python static picture's).
export function matrixPixels(values, rows, cols, scale = 1) {
  const px = new Uint8ClampedArray(rows * cols * 4);
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.max(0, Math.min(1, values[i] / scale));
    px[i * 4] = 247 - 239 * v;
    px[i * 4 + 1] = 251 - 203 * v;
    px[i * 4 + 2] = 255 - 148 * v;
    px[i * 4 + 3] = 255;
  }
  return px;
}
