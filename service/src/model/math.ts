/**
 * Small, dependency-free numerical helpers shared by training and serving.
 * Everything here is pure and deterministic.
 */

/** Mulberry32: a tiny seeded 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of [0, n) driven by the given PRNG. */
export function shuffledIndices(n: number, random: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/**
 * Solves A x = b for a square matrix by Gaussian elimination with partial pivoting.
 * Throws when the matrix is (numerically) singular.
 */
export function solveLinearSystem(
  a: readonly (readonly number[])[],
  b: readonly number[],
): number[] {
  const n = a.length;
  if (b.length !== n || a.some((row) => row.length !== n)) {
    throw new Error(`solveLinearSystem: expected a ${n}x${n} matrix and a vector of ${n}`);
  }
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    }
    if (Math.abs(m[pivot][col]) < 1e-12) {
      throw new Error(`solveLinearSystem: matrix is singular (column ${col})`);
    }
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * Ridge regression by the normal equations: (XᵀX + λ·I') w = Xᵀy, where X gets a leading
 * column of ones and I' leaves that intercept unpenalised. Returns [intercept, ...coefficients].
 */
export function ridgeFit(
  x: readonly (readonly number[])[],
  y: readonly number[],
  lambda: number,
): number[] {
  if (x.length === 0 || x.length !== y.length) {
    throw new Error(
      `ridgeFit: need as many targets as rows (got ${x.length} rows, ${y.length} targets)`,
    );
  }
  const d = x[0].length + 1;
  const xtx = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const xty = new Array<number>(d).fill(0);
  for (let i = 0; i < x.length; i++) {
    const row = [1, ...x[i]];
    for (let p = 0; p < d; p++) {
      xty[p] += row[p] * y[i];
      for (let q = 0; q < d; q++) xtx[p][q] += row[p] * row[q];
    }
  }
  for (let p = 1; p < d; p++) xtx[p][p] += lambda;
  return solveLinearSystem(xtx, xty);
}

/** Numerically stable softmax. */
export function softmax(logits: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const exps = logits.map((v) => Math.exp(v - max));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

export interface SoftmaxModel {
  /** [classes] */
  intercepts: number[];
  /** [classes][features] */
  coefficients: number[][];
}

export function softmaxLogits(model: SoftmaxModel, row: readonly number[]): number[] {
  return model.intercepts.map((b, k) => {
    const w = model.coefficients[k];
    let s = b;
    for (let j = 0; j < row.length; j++) s += w[j] * row[j];
    return s;
  });
}

/**
 * Multinomial logistic regression by full-batch gradient descent on the mean cross-entropy
 * plus (l2 / 2)·‖W‖² (intercepts unpenalised). Weights start at zero, so it is deterministic.
 */
export function softmaxFit(
  x: readonly (readonly number[])[],
  y: readonly number[],
  classes: number,
  opts: { learningRate: number; l2: number; epochs: number },
): SoftmaxModel {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  const model: SoftmaxModel = {
    intercepts: new Array<number>(classes).fill(0),
    coefficients: Array.from({ length: classes }, () => new Array<number>(d).fill(0)),
  };
  const gb = new Float64Array(classes);
  const gw = Array.from({ length: classes }, () => new Float64Array(d));
  const logits = new Float64Array(classes);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    gb.fill(0);
    for (const g of gw) g.fill(0);
    for (let i = 0; i < n; i++) {
      const row = x[i];
      let max = -Infinity;
      for (let k = 0; k < classes; k++) {
        const w = model.coefficients[k];
        let s = model.intercepts[k];
        for (let j = 0; j < d; j++) s += w[j] * row[j];
        logits[k] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let k = 0; k < classes; k++) {
        logits[k] = Math.exp(logits[k] - max);
        sum += logits[k];
      }
      for (let k = 0; k < classes; k++) {
        const err = logits[k] / sum - (y[i] === k ? 1 : 0);
        gb[k] += err;
        const g = gw[k];
        for (let j = 0; j < d; j++) g[j] += err * row[j];
      }
    }
    for (let k = 0; k < classes; k++) {
      model.intercepts[k] -= (opts.learningRate * gb[k]) / n;
      const w = model.coefficients[k];
      for (let j = 0; j < d; j++) {
        w[j] -= opts.learningRate * (gw[k][j] / n + opts.l2 * w[j]);
      }
    }
  }
  return model;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Quantile with linear interpolation between order statistics (type 7, as numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error("quantile of an empty list");
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Population standard deviation. */
export function std(values: readonly number[]): number {
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return Math.sqrt(s / values.length);
}

export function rmse(actual: readonly number[], predicted: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += (actual[i] - predicted[i]) ** 2;
  return Math.sqrt(s / actual.length);
}

export function r2(actual: readonly number[], predicted: readonly number[]): number {
  const m = mean(actual);
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < actual.length; i++) {
    ssRes += (actual[i] - predicted[i]) ** 2;
    ssTot += (actual[i] - m) ** 2;
  }
  return 1 - ssRes / ssTot;
}

/** Mean negative log-likelihood of the true class; probabilities clipped to [1e-15, 1]. */
export function logLoss(
  trueClass: readonly number[],
  probabilities: readonly (readonly number[])[],
): number {
  let s = 0;
  for (let i = 0; i < trueClass.length; i++) {
    s -= Math.log(Math.max(1e-15, probabilities[i][trueClass[i]]));
  }
  return s / trueClass.length;
}

/**
 * Index of the bin a value falls in, given ascending inner cut points: bin i holds values in
 * (edges[i-1], edges[i]]; values above the last edge go to bin edges.length.
 */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Smoothing applied to empty bins so the logarithm stays finite. */
export const PSI_EPSILON = 1e-4;

/**
 * Population Stability Index: Σ (actual − expected) · ln(actual / expected), over bins given as
 * proportions. Bins with zero mass on either side are floored at PSI_EPSILON.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) {
    throw new Error(
      `psi: bin count differs (expected ${expected.length}, actual ${actual.length})`,
    );
  }
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], PSI_EPSILON);
    const a = Math.max(actual[i], PSI_EPSILON);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}
