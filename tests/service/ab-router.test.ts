/**
 * The A/B router of service/src/model/traffic.ts on a store of hand-written artifacts: which
 * version answers for each bucket, what a shadow may be, and each refusal with its message.
 */
import { createHash } from "node:crypto";
import { ModelStore } from "../../service/src/model/store";
import {
  abBucket,
  interfaceSignature,
  TrafficError,
  TrafficRouter,
} from "../../service/src/model/traffic";
import type { ModelArtifact } from "../../service/src/model/artifact";
import { classifier, regressor, type Doc } from "./toy-artifacts";

const at = (version: string, doc: Doc = regressor()): Doc => ({ ...doc, version });
const store = (...docs: Doc[]) => ModelStore.fromArtifacts(docs, { driftWindow: 5 });
const weights = (w: Record<string, number>) => new Map([["toy", new Map(Object.entries(w))]]);
const version = (r: { model: { artifact: ModelArtifact } } | undefined) =>
  r?.model.artifact.version;

describe("abBucket", () => {
  it("is the first 8 hex digits of sha256(model \\n subject) modulo 100", () => {
    for (const subject of ["alice", "bob", "", "ü"]) {
      const hex = createHash("sha256").update(`toy\n${subject}`, "utf8").digest("hex");
      expect(abBucket("toy", subject)).toBe(parseInt(hex.slice(0, 8), 16) % 100);
    }
  });
});

describe("TrafficRouter", () => {
  const s = store(at("1"), at("2"), at("3"));

  it("routes random requests by cumulative weights in version order, skipping weight 0", () => {
    let next = 0;
    const r = new TrafficRouter(s, weights({ "3": 70, "1": 30, "2": 0 }), new Map(), () => next);
    const pick = (x: number) => {
      next = x;
      const routed = r.route("toy", undefined);
      expect(routed?.assignment).toBe("random");
      return version(routed);
    };
    expect([0, 0.29, 0.2999, 0.3, 0.99].map(pick)).toEqual(["1", "1", "1", "3", "3"]);
    expect(r.weights("toy")).toEqual(
      new Map([
        ["3", 70],
        ["1", 30],
        ["2", 0],
      ]),
    );
    expect([1, 2, 3].map((v) => r.share(s.get("toy", String(v))!))).toEqual([30, 0, 70]);
  });

  it("routes a subject to the version of its bucket, every time; an empty subject is random", () => {
    const r = new TrafficRouter(s, weights({ "1": 50, "2": 50 }), new Map(), () => 0.99);
    for (const subject of ["alice", "bob", "carol", "dave", "erin"]) {
      const expected = abBucket("toy", subject) < 50 ? "1" : "2";
      const routed = r.route("toy", subject);
      expect(routed?.assignment).toBe("sticky");
      expect(version(routed)).toBe(expected);
    }
    expect(r.route("toy", "")).toMatchObject({ assignment: "random" });
    expect(version(r.route("toy", ""))).toBe("2");
  });

  it("without a split, answers with the default version; unknown models get nothing", () => {
    const r = new TrafficRouter(s);
    expect(r.route("toy", "alice")).toMatchObject({ assignment: "default" });
    expect(version(r.route("toy", "alice"))).toBe("3");
    expect(r.route("absent", undefined)).toBeUndefined();
    expect(r.weights("toy")).toBeUndefined();
    expect([1, 2, 3].map((v) => r.share(s.get("toy", String(v))!))).toEqual([0, 0, 100]);
  });

  it("sends a shadow copy of requests other versions answer, never of the shadow's own", () => {
    const r = new TrafficRouter(s, weights({ "1": 100 }), new Map([["toy", "2"]]));
    expect(r.shadowVersion("toy")).toBe("2");
    expect(r.shadowVersion("absent")).toBeUndefined();
    expect(version({ model: r.shadowFor(s.get("toy", "1")!)! })).toBe("2");
    expect(r.shadowFor(s.get("toy", "2")!)).toBeUndefined();
  });

  it.each([
    [
      "an unloaded model",
      () => new TrafficRouter(s, new Map([["absent", new Map([["1", 100]])]])),
      "MODEL_TRAFFIC: model absent is not loaded (loaded models: toy)",
    ],
    [
      "an unloaded version",
      () => new TrafficRouter(s, weights({ "1": 50, "9": 50 })),
      "MODEL_TRAFFIC: toy version 9 is not loaded (loaded versions: 1, 2, 3)",
    ],
    [
      "weights that do not sum to 100",
      () => new TrafficRouter(s, weights({ "1": 50, "2": 40 })),
      "MODEL_TRAFFIC: toy weights must sum to 100, got 90",
    ],
    [
      "only zero weights",
      () => new TrafficRouter(s, weights({ "1": 0 })),
      "MODEL_TRAFFIC: toy weights must sum to 100, got 0",
    ],
    [
      "a shadow of an unloaded version",
      () => new TrafficRouter(s, new Map(), new Map([["toy", "7"]])),
      "MODEL_SHADOW: toy version 7 is not loaded (loaded versions: 1, 2, 3)",
    ],
    [
      "a shadow of the default version",
      () => new TrafficRouter(s, new Map(), new Map([["toy", "3"]])),
      "MODEL_SHADOW: toy version 3 already answers every request (it is the default version); shadow a version that does not",
    ],
    [
      "a shadow of the version with 100%",
      () => new TrafficRouter(s, weights({ "2": 100, "1": 0 }), new Map([["toy", "2"]])),
      "MODEL_SHADOW: toy version 2 already answers every request (MODEL_TRAFFIC gives it 100%); shadow a version that does not",
    ],
  ])("refuses %s", (_what, build, message) => {
    expect(build).toThrow(new TrafficError(message));
  });

  it("refuses versions with different interfaces in a split or as a shadow, and allows a shadow of a live one", () => {
    const other = at("2", { ...regressor(), features: [...regressor().features].reverse() });
    const mixed = store(at("1"), other);
    const message = (v: string) =>
      `${v}: toy versions 1 and 2 take different inputs or give different outputs (features, their order and categories, kind and class labels must match)`;
    expect(() => new TrafficRouter(mixed, weights({ "1": 50, "2": 50 }))).toThrow(
      new TrafficError(message("MODEL_TRAFFIC")),
    );
    expect(() => new TrafficRouter(mixed, weights({ "1": 100 }), new Map([["toy", "2"]]))).toThrow(
      new TrafficError(message("MODEL_SHADOW")),
    );
    // A shadow that is also live with another live version is checked against that one only.
    expect(
      () => new TrafficRouter(s, weights({ "1": 50, "2": 50 }), new Map([["toy", "2"]])),
    ).not.toThrow();
  });
});

describe("interfaceSignature", () => {
  const sig = (doc: Doc) => interfaceSignature(doc as ModelArtifact);

  it("ignores the order of categories and everything but inputs and outputs", () => {
    const reordered = regressor();
    reordered.features[1].categories = ["b", "a"];
    reordered.weights.intercept = 99;
    expect(sig(reordered)).toBe(sig(regressor()));
  });

  it("changes with the feature order, a feature's type or name, the kind and the class labels", () => {
    const base = sig(regressor());
    const variants: ((d: Doc) => void)[] = [
      (d) => d.features.reverse(),
      (d) => (d.features[0].name = "x2"),
      (d) => (d.features[1].categories = ["a", "b", "z"]),
      (d) => (d.features[0] = { ...d.features[0], type: "category", categories: ["x"] }),
    ];
    for (const change of variants) {
      const d = regressor();
      change(d);
      expect(sig(d)).not.toBe(base);
    }
    const c = classifier();
    expect(sig(c)).not.toBe(base);
    const swapped = classifier();
    swapped.classLabels = ["yes", "no"];
    expect(sig(swapped)).not.toBe(sig(c));
  });
});
