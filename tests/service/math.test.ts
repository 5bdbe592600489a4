import {
  binIndex,
  logLoss,
  mulberry32,
  psi,
  quantile,
  r2,
  ridgeFit,
  rmse,
  shuffledIndices,
  softmax,
  softmaxFit,
  softmaxLogits,
  solveLinearSystem,
} from "../../service/src/model/math";
import { FeatureWindow } from "../../service/src/model/drift";

describe("solveLinearSystem", () => {
  it("solves a 3x3 system with a known solution (needs pivoting: a zero leading entry)", () => {
    // x = (1, -2, 3)
    const a = [
      [0, 2, 1],
      [1, 1, 1],
      [2, -1, 4],
    ];
    const b = [0 * 1 + 2 * -2 + 3, 1 - 2 + 3, 2 + 2 + 12];
    const x = solveLinearSystem(a, b);
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(-2, 12);
    expect(x[2]).toBeCloseTo(3, 12);
  });
});

describe("ridgeFit", () => {
  it("recovers an exact line with no penalty", () => {
    const x = [[0], [1], [2], [3]];
    const y = x.map(([v]) => 2 + 3 * v);
    const [b0, b1] = ridgeFit(x, y, 0);
    expect(b0).toBeCloseTo(2, 10);
    expect(b1).toBeCloseTo(3, 10);
  });

  it("matches the closed-form simple ridge slope Sxy / (Sxx + λ) with an unpenalised intercept", () => {
    const xs = [1, 2, 4, 7, 8];
    const ys = [3.1, 4.9, 9.2, 14.8, 17.3];
    const lambda = 2.5;
    const mx = xs.reduce((a, b) => a + b) / xs.length;
    const my = ys.reduce((a, b) => a + b) / ys.length;
    let sxx = 0;
    let sxy = 0;
    xs.forEach((x, i) => {
      sxx += (x - mx) ** 2;
      sxy += (x - mx) * (ys[i] - my);
    });
    const slope = sxy / (sxx + lambda);
    const [b0, b1] = ridgeFit(
      xs.map((x) => [x]),
      ys,
      lambda,
    );
    expect(b1).toBeCloseTo(slope, 10);
    expect(b0).toBeCloseTo(my - slope * mx, 10);
  });

  it("solves two-feature least squares like the 2x2 normal equations by Cramer's rule", () => {
    const x = [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [1, 3],
    ];
    const y = [1, 2, 2.5, 4, 5.5];
    // Centre, then Cramer's rule on the centred 2x2 system (independent of the solver under test).
    const n = x.length;
    const m1 = x.reduce((s, r) => s + r[0], 0) / n;
    const m2 = x.reduce((s, r) => s + r[1], 0) / n;
    const my = y.reduce((s, v) => s + v, 0) / n;
    let s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0; // prettier-ignore
    x.forEach(([a, b], i) => {
      s11 += (a - m1) ** 2;
      s22 += (b - m2) ** 2;
      s12 += (a - m1) * (b - m2);
      s1y += (a - m1) * (y[i] - my);
      s2y += (b - m2) * (y[i] - my);
    });
    const det = s11 * s22 - s12 * s12;
    const w1 = (s1y * s22 - s12 * s2y) / det;
    const w2 = (s11 * s2y - s12 * s1y) / det;
    const [b0, c1, c2] = ridgeFit(x, y, 0);
    expect(c1).toBeCloseTo(w1, 10);
    expect(c2).toBeCloseTo(w2, 10);
    expect(b0).toBeCloseTo(my - w1 * m1 - w2 * m2, 10);
  });
});

describe("softmax and logistic regression", () => {
  it("softmax sums to 1, is shift-invariant and matches exp(z)/Σexp(z)", () => {
    const z = [1, 2, 3];
    const p = softmax(z);
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b);
    p.forEach((v, i) => expect(v).toBeCloseTo(e[i] / s, 12));
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(softmax([1001, 1002, 1003])).toEqual(p.map((v) => expect.closeTo(v, 12)));
    expect(softmax([1000, 0]).every(Number.isFinite)).toBe(true);
  });

  it("fits separable three-class data and its gradient vanishes near the optimum", () => {
    const x = [[-2], [-1.5], [-1], [0], [0.2], [-0.2], [1], [1.5], [2]];
    const y = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const m = softmaxFit(x, y, 3, { learningRate: 0.5, l2: 0.01, epochs: 3000 });
    const pred = x.map((r) => {
      const p = softmax(softmaxLogits(m, r));
      return p.indexOf(Math.max(...p));
    });
    expect(pred).toEqual(y);
    // Gradient of mean CE + (l2/2)||W||^2 at the result is ~0.
    for (let k = 0; k < 3; k++) {
      let g = 0;
      x.forEach((r, i) => (g += (softmax(softmaxLogits(m, r))[k] - (y[i] === k ? 1 : 0)) * r[0]));
      expect(Math.abs(g / x.length + 0.01 * m.coefficients[k][0])).toBeLessThan(1e-3);
    }
  });
});

describe("metrics", () => {
  it("rmse, r2 and log-loss match hand-computed values", () => {
    expect(rmse([1, 2, 3], [1, 2, 5])).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(r2([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2([1, 2, 3], [2, 2, 2])).toBeCloseTo(0, 12);
    expect(
      logLoss(
        [0, 1],
        [
          [0.5, 0.5],
          [0.2, 0.8],
        ],
      ),
    ).toBeCloseTo(-(Math.log(0.5) + Math.log(0.8)) / 2, 12);
    expect(Number.isFinite(logLoss([0], [[0, 1]]))).toBe(true);
  });

  it("quantile interpolates like numpy's default (type 7)", () => {
    const s = [1, 2, 3, 4];
    expect(quantile(s, 0.5)).toBe(2.5);
    expect(quantile(s, 0.1)).toBeCloseTo(1.3, 12);
    expect(quantile(s, 0.9)).toBeCloseTo(3.7, 12);
  });
});

describe("PSI and drift windows", () => {
  it("is 0 for identical distributions and matches the hand-computed value otherwise", () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    const expected = (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.75 - 0.5) * Math.log(0.75 / 0.5);
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(expected, 12);
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.2747, 4);
    // Empty bins are floored, so PSI stays finite and large.
    expect(psi([0.5, 0.5], [1, 0])).toBeGreaterThan(2);
  });

  it("binIndex puts values in upper-inclusive bins", () => {
    const edges = [4, 6, 8];
    expect([3, 4, 5, 6, 7, 8, 9].map((v) => binIndex(edges, v))).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  it("a feature window keeps only the most recent values and scores them against the reference", () => {
    const w = new FeatureWindow("x", { type: "number", edges: [0], proportions: [0.5, 0.5] }, 4);
    expect(w.psi()).toBeUndefined();
    [-1, 1, -1, 1].forEach((v) => w.add(v));
    expect(w.psi()).toBe(0);
    [1, 1].forEach((v) => w.add(v)); // -1 1 -1 1 1 1: the window keeps -1 1 1 1
    expect(w.samples).toBe(4);
    expect(w.psi()).toBeCloseTo(psi([0.5, 0.5], [0.25, 0.75]), 12);
    const c = new FeatureWindow(
      "c",
      { type: "category", categories: ["a", "b"], proportions: [0.75, 0.25] },
      8,
    );
    ["a", "a", "a", "b"].forEach((v) => c.add(v));
    expect(c.psi()).toBe(0);
  });
});

describe("seeded shuffle", () => {
  it("is a deterministic permutation", () => {
    const a = shuffledIndices(50, mulberry32(7));
    expect(shuffledIndices(50, mulberry32(7))).toEqual(a);
    expect(shuffledIndices(50, mulberry32(8))).not.toEqual(a);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
