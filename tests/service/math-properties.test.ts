/**
 * Properties of the numerical helpers and drift windows (service/src/model/math.ts, drift.ts):
 * each stated against an independent, slower computation or a value worked out by hand. And the
 * inference statistics (stats.ts) in their JSON form.
 */
import * as fc from "fast-check";
import { DriftMonitor, FeatureWindow } from "../../service/src/model/drift";
import {
  binIndex,
  logLoss,
  mean,
  median,
  mulberry32,
  psi,
  PSI_EPSILON,
  quantile,
  ridgeFit,
  rmse,
  r2,
  shuffledIndices,
  softmax,
  softmaxFit,
  softmaxLogits,
  solveLinearSystem,
  std,
} from "../../service/src/model/math";
import type { ModelArtifact } from "../../service/src/model/artifact";
import { add, newStatistics, nowNs, statisticsJson } from "../../service/src/model/stats";

const RUNS = { numRuns: 200, seed: 42 };

describe("solveLinearSystem", () => {
  it("returns x with A·x = b for diagonally dominant systems of any size up to 6", () => {
    const system = fc.integer({ min: 1, max: 6 }).chain((n) =>
      fc.tuple(
        fc.array(
          fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
          {
            minLength: n,
            maxLength: n,
          },
        ),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
        // Which row holds the dominant entry of each column: the solver must pivot to it.
        fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      ),
    );
    fc.assert(
      fc.property(system, ([a, b, perm]) => {
        const m = a.map((row, i) => row.map((v, j) => (perm[i] === j ? v + 2 * a.length + 5 : v)));
        const x = solveLinearSystem(m, b);
        m.forEach((row, i) => {
          const lhs = row.reduce((s, v, j) => s + v * x[j], 0);
          expect(lhs).toBeCloseTo(b[i], 8);
        });
      }),
      RUNS,
    );
  });

  it("needs the pivot: a tiny leading entry does not lose the solution", () => {
    // Without row exchanges the 1e-14 pivot is rejected as singular.
    expect(
      solveLinearSystem(
        [
          [1e-14, 1],
          [1, 1],
        ],
        [1, 2],
      ),
    ).toEqual([expect.closeTo(1, 10), expect.closeTo(1, 10)]);
  });

  it("refuses shapes that do not match, naming the expected size", () => {
    const message = "solveLinearSystem: expected a 2x2 matrix and a vector of 2";
    expect(() =>
      solveLinearSystem(
        [
          [1, 0],
          [0, 1],
        ],
        [1],
      ),
    ).toThrow(message);
    expect(() => solveLinearSystem([[1, 0], [0]], [1, 2])).toThrow(message);
    expect(() =>
      solveLinearSystem(
        [
          [1, 0],
          [0, 1, 2],
        ],
        [1, 2],
      ),
    ).toThrow(message);
  });

  it("refuses a singular matrix, naming the column", () => {
    expect(() =>
      solveLinearSystem(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toThrow("solveLinearSystem: matrix is singular (column 1)");
  });
});

describe("ridgeFit", () => {
  it("refuses no rows and mismatched targets, with both counts", () => {
    expect(() => ridgeFit([], [], 0)).toThrow(
      "ridgeFit: need as many targets as rows (got 0 rows, 0 targets)",
    );
    expect(() => ridgeFit([[1], [2]], [1], 0)).toThrow(
      "ridgeFit: need as many targets as rows (got 2 rows, 1 targets)",
    );
  });

  it("shrinks the slope by λ and never the intercept: y = 5 + 0·x is fitted exactly for any λ", () => {
    const x = [[1], [2], [3], [4]];
    for (const lambda of [0, 1, 100]) {
      const [b0, b1] = ridgeFit(x, [5, 5, 5, 5], lambda);
      expect(b0).toBeCloseTo(5, 10);
      expect(b1).toBeCloseTo(0, 10);
    }
    // x centred at 0: slope Sxy / (Sxx + λ) = 20 / (10 + 10) with y = 2x + 1.
    const [b0, b1] = ridgeFit([[-2], [-1], [0], [1], [2]], [-3, -1, 1, 3, 5], 10);
    expect(b0).toBeCloseTo(1, 10);
    expect(b1).toBeCloseTo(1, 10);
  });
});

describe("softmax", () => {
  it("stays finite for large logits and gives exp(z - max) / Σ", () => {
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]);
    const p = softmax([-1000, 1000 + Math.log(3), 1000]);
    expect(p[0]).toBe(0);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(p[2]).toBeCloseTo(0.25, 12);
    expect(softmax([-5, -7])[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
  });

  it("softmaxLogits adds each class's intercept to its weighted sum", () => {
    const model = {
      intercepts: [1, -1],
      coefficients: [
        [2, 3],
        [-1, 0.5],
      ],
    };
    expect(softmaxLogits(model, [10, 100])).toEqual([1 + 20 + 300, -1 - 10 + 50]);
  });

  it("softmaxFit takes exactly one gradient step per epoch from zero weights", () => {
    // One epoch from zero: every class has p = 1/2, so the gradient is the mean of (1/2 - y_k)·x.
    const x = [[2], [-2], [4]];
    const y = [0, 1, 0];
    const m = softmaxFit(x, y, 2, { learningRate: 0.3, l2: 0.5, epochs: 1 });
    const gb0 = (-0.5 + 0.5 - 0.5) / 3;
    const gw0 = (-0.5 * 2 + 0.5 * -2 - 0.5 * 4) / 3;
    expect(m.intercepts[0]).toBeCloseTo(-0.3 * gb0, 12);
    expect(m.intercepts[1]).toBeCloseTo(0.3 * gb0, 12);
    expect(m.coefficients[0][0]).toBeCloseTo(-0.3 * gw0, 12);
    expect(m.coefficients[1][0]).toBeCloseTo(0.3 * gw0, 12);
    // A second epoch applies the l2 penalty to the weights only.
    const two = softmaxFit(x, y, 2, { learningRate: 0.3, l2: 0.5, epochs: 2 });
    const w = m.coefficients[0][0];
    const b = m.intercepts[0];
    const p0 = (r: number) => 1 / (1 + Math.exp(-2 * (b + w * r)));
    const g2b = (p0(2) - 1 + p0(-2) + p0(4) - 1) / 3;
    const g2w = ((p0(2) - 1) * 2 + p0(-2) * -2 + (p0(4) - 1) * 4) / 3;
    expect(two.intercepts[0]).toBeCloseTo(b - 0.3 * g2b, 12);
    expect(two.coefficients[0][0]).toBeCloseTo(w - 0.3 * (g2w + 0.5 * w), 12);
  });
});

describe("summary statistics", () => {
  it("median of odd and even counts, in any order, without sorting the input", () => {
    const values = [9, 1, 5];
    expect(median(values)).toBe(5);
    expect(values).toEqual([9, 1, 5]);
    expect(median([10, 2, 4, 8])).toBe(6);
    expect(median([3])).toBe(3);
    expect(() => median([])).toThrow("median of an empty list");
  });

  it("quantile at the ends is the min and the max; an empty list is refused", () => {
    const s = [1, 2, 4, 8];
    expect(quantile(s, 0)).toBe(1);
    expect(quantile(s, 1)).toBe(8);
    expect(quantile(s, 0.5)).toBe(3);
    expect(quantile([7], 0.3)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow("quantile of an empty list");
  });

  it("mean, population std, rmse, r2 and log-loss of small hand-computed sets", () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
    expect(rmse([1, 2, 3], [1, 4, 3])).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(r2([1, 2, 3], [1, 2, 4])).toBeCloseTo(1 - 1 / 2, 12);
    expect(
      logLoss(
        [0, 1],
        [
          [0.5, 0.5],
          [0.2, 0.8],
        ],
      ),
    ).toBeCloseTo(-(Math.log(0.5) + Math.log(0.8)) / 2, 12);
    // A zero probability of the true class is clipped at 1e-15, not infinite.
    expect(logLoss([1], [[1, 0]])).toBeCloseTo(-Math.log(1e-15), 9);
  });
});

describe("binIndex and psi", () => {
  it("binIndex is the number of edges below the value (upper-inclusive bins)", () => {
    const edges = fc
      .uniqueArray(fc.integer({ min: -50, max: 50 }), { maxLength: 12 })
      .map((e) => e.sort((p, q) => p - q));
    fc.assert(
      fc.property(edges, fc.integer({ min: -60, max: 60 }), (e, v) => {
        expect(binIndex(e, v)).toBe(e.filter((x) => x < v).length);
      }),
      RUNS,
    );
  });

  it("psi floors empty bins at PSI_EPSILON on either side and refuses different bin counts", () => {
    const e = PSI_EPSILON;
    expect(psi([1, 0], [0.5, 0.5])).toBeCloseTo(
      (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - e) * Math.log(0.5 / e),
      12,
    );
    expect(psi([0.5, 0.5], [0, 1])).toBeCloseTo(
      (e - 0.5) * Math.log(e / 0.5) + (1 - 0.5) * Math.log(1 / 0.5),
      12,
    );
    expect(() => psi([1], [0.5, 0.5])).toThrow("psi: bin count differs (expected 1, actual 2)");
  });
});

describe("seeded randomness", () => {
  it("mulberry32 draws uniform floats in [0, 1), the same for the same seed", () => {
    const r = mulberry32(2024);
    const draws = Array.from({ length: 20000 }, r);
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true);
    expect(mean(draws)).toBeCloseTo(0.5, 1);
    const tenths = new Array<number>(10).fill(0);
    for (const d of draws) tenths[Math.floor(d * 10)]++;
    for (const t of tenths) expect(Math.abs(t - 2000)).toBeLessThan(200);
    expect(Array.from({ length: 5 }, mulberry32(2024))).toEqual(draws.slice(0, 5));
    expect(mulberry32(2024 + 2 ** 32)()).toBe(draws[0]);
  });

  it("shuffledIndices places every index at every position about equally often", () => {
    const n = 4;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let seed = 0; seed < 4000; seed++) {
      shuffledIndices(n, mulberry32(seed)).forEach((v, pos) => counts[pos][v]++);
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
});

describe("drift windows", () => {
  const reference = { type: "number" as const, edges: [0, 10], proportions: [0.2, 0.5, 0.3] };

  it("a window holds the last `size` values, bin by bin, after any number of wraps", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.integer({ min: -5, max: 15 }), { maxLength: 40 }),
        (size, values) => {
          const w = new FeatureWindow("x", reference, size);
          values.forEach((v) => w.add(v));
          const kept = values.slice(Math.max(0, values.length - size));
          expect(w.samples).toBe(kept.length);
          if (kept.length === 0) {
            expect(w.psi()).toBeUndefined();
            return;
          }
          const counts = [0, 0, 0];
          for (const v of kept) counts[binIndex(reference.edges, v)]++;
          expect(w.psi()).toBeCloseTo(
            psi(
              reference.proportions,
              counts.map((c) => c / kept.length),
            ),
            12,
          );
        },
      ),
      RUNS,
    );
  });

  it("a category window ignores values it has no category for", () => {
    const w = new FeatureWindow(
      "c",
      { type: "category", categories: ["a", "b"], proportions: [0.5, 0.5] },
      4,
    );
    ["a", "zzz", "b"].forEach((v) => w.add(v));
    expect(w.samples).toBe(2);
    expect(w.psi()).toBe(0);
  });

  it("a monitor keeps the last rows of a batch larger than its window, per feature", () => {
    const artifact = {
      features: [{ name: "x" }, { name: "c" }],
      drift: {
        x: reference,
        c: { type: "category", categories: ["a", "b"], proportions: [0.5, 0.5] },
      },
    } as unknown as ModelArtifact;
    const monitor = new DriftMonitor(artifact, 2);
    expect(monitor.windows.map((w) => w.feature)).toEqual(["x", "c"]);
    monitor.observe({
      rows: 3,
      columns: [
        [-1, 5, 20],
        ["a", "a", "b"],
      ],
    } as never);
    expect(monitor.windows.map((w) => w.samples)).toEqual([2, 2]);
    expect(monitor.windows[0].psi()).toBeCloseTo(psi([0.2, 0.5, 0.3], [0, 0.5, 0.5]), 12);
    expect(monitor.windows[1].psi()).toBe(0);
  });
});

describe("inference statistics", () => {
  it("add counts samples and sums nanoseconds; the JSON rounds them and reports no queue or cache", () => {
    const s = newStatistics();
    add(s.success, 1.4);
    add(s.success, 2.2);
    add(s.fail, 7.5);
    add(s.computeInput, 1);
    add(s.computeInfer, 2);
    add(s.computeOutput, 3);
    s.lastInference = 1700000000000;
    s.inferenceCount = 5;
    s.executionCount = 2;
    expect(statisticsJson("m", "1", s)).toEqual({
      name: "m",
      version: "1",
      last_inference: 1700000000000,
      inference_count: 5,
      execution_count: 2,
      inference_stats: {
        success: { count: 2, ns: 4 },
        fail: { count: 1, ns: 8 },
        queue: { count: 2, ns: 0 },
        compute_input: { count: 1, ns: 1 },
        compute_infer: { count: 1, ns: 2 },
        compute_output: { count: 1, ns: 3 },
        cache_hit: { count: 0, ns: 0 },
        cache_miss: { count: 0, ns: 0 },
      },
      batch_stats: [],
    });
    expect(statisticsJson("m", "1", newStatistics()).inference_stats.success).toEqual({
      count: 0,
      ns: 0,
    });
  });

  it("nowNs is performance.now in nanoseconds", () => {
    const before = performance.now() * 1e6;
    const t = nowNs();
    const after = performance.now() * 1e6;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });
});
