/**
 * The request-to-columns conversion of service/src/model/input.ts, called directly: every
 * refusal with its exact message and status, and what an accepted request becomes.
 */
import type { ModelArtifact } from "../../service/src/model/artifact";
import { InputError } from "../../service/src/model/errors";
import { columnsFromV1, columnsFromV2, type V2InputTensor } from "../../service/src/model/input";

/** Only what the conversion reads of an artifact: its name and features. */
const artifact = {
  name: "toy",
  features: [
    { name: "x", type: "number" },
    { name: "c", type: "category", categories: ["a", "b"] },
  ],
} as unknown as ModelArtifact;

const x = (data: unknown[], extra: Partial<V2InputTensor> = {}): V2InputTensor => ({
  name: "x",
  shape: [data.length],
  datatype: "FP64",
  data,
  ...extra,
});
const c = (data: unknown[], extra: Partial<V2InputTensor> = {}): V2InputTensor => ({
  name: "c",
  shape: [data.length],
  datatype: "BYTES",
  data,
  ...extra,
});

function refusal(f: () => unknown): { message: string; status: number } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return { message: (err as InputError).message, status: (err as InputError).statusCode };
  }
  throw new Error("expected an InputError");
}

describe("columnsFromV2", () => {
  it("accepts [N] and [N, 1] tensors in any order, flat or nested, as columns in feature order", () => {
    expect(columnsFromV2(artifact, [c(["b", "a"]), x([1.5, -2])], 10)).toEqual({
      rows: 2,
      columns: [
        [1.5, -2],
        ["b", "a"],
      ],
    });
    expect(
      columnsFromV2(
        artifact,
        [x([[3], [4]], { shape: [2, 1] }), c(["a", "a"], { shape: [2, 1] })],
        10,
      ),
    ).toEqual({
      rows: 2,
      columns: [
        [3, 4],
        ["a", "a"],
      ],
    });
  });

  it.each([
    ["INT64", [2, -7], undefined],
    ["INT32", [2 ** 31 - 1, -(2 ** 31 - 1)], undefined],
    ["FP32", [3.4e38, -1.5], undefined],
    ["INT64", [1.5], "expected an integer at row 0, got 1.5"],
    ["INT32", [1, 2 ** 31], "expected a 32-bit integer at row 1, got 2147483648"],
    ["FP32", [3.5e38], "expected a 32-bit float (FP32) at row 0, got 3.5e+38"],
    ["FP64", [1, "2"], 'expected a number at row 1, got "2"'],
    ["FP64", [null], "expected a number at row 0, got null"],
    ["INT64", [Infinity], "expected a number at row 0, got null"],
  ])("a %s tensor of %j: %s", (datatype, data, problem) => {
    const call = () => columnsFromV2(artifact, [x(data, { datatype }), c(data.map(() => "a"))], 10);
    if (problem === undefined) expect(call().columns[0]).toEqual(data);
    else expect(refusal(call)).toEqual({ message: `input 'x': ${problem}`, status: 400 });
  });

  it.each([
    [[x([1]), c(["a"]), { ...x([2]), name: "y" }], 'unknown input "y"; toy expects inputs x, c'],
    [[x([1]), x([2]), c(["a"])], "input 'x' is given more than once"],
    [[x([1])], "missing input 'c'"],
    [[], "missing inputs 'x', 'c'"],
    [[x([1], { shape: [] }), c(["a"])], "input 'x': shape must be [N] or [N, 1], got []"],
    [
      [x([1], { shape: [1, 1, 1] }), c(["a"])],
      "input 'x': shape must be [N] or [N, 1], got [1,1,1]",
    ],
    [[x([1], { shape: [1, 2] }), c(["a"])], "input 'x': shape must be [N] or [N, 1], got [1,2]"],
    [
      [x([1], { shape: [-1] }), c(["a"])],
      "input 'x': shape must hold non-negative integers, got [-1]",
    ],
    [
      [x([1], { shape: [1.5] }), c(["a"])],
      "input 'x': shape must hold non-negative integers, got [1.5]",
    ],
    [
      [x([1], { datatype: "BYTES" }), c(["a"])],
      "input 'x': datatype must be one of FP64, FP32, INT64, INT32 for a number, got \"BYTES\"",
    ],
    [
      [x([1]), c(["a"], { datatype: "FP64" })],
      "input 'c': datatype must be BYTES for a category, got \"FP64\"",
    ],
    [[x([[1]]), c(["a"])], "input 'x': nested data needs shape [N, 1], got [1]"],
    [
      [x([[1], [2, 3]], { shape: [2, 1] }), c(["a", "b"])],
      "input 'x': row 1 must be a one-element array for shape [N, 1], got [2,3]",
    ],
    [
      [x([[1], 2], { shape: [2, 1] }), c(["a", "b"])],
      "input 'x': row 1 must be a one-element array for shape [N, 1], got 2",
    ],
    [[x([1, 2], { shape: [3] }), c(["a"])], "input 'x': shape [3] needs 3 values, but data has 2"],
    [[x([1, 2]), c(["a"])], "input 'c' has 1 rows but input 'x' has 2; all inputs need the same N"],
    [[x([1]), c([3])], "input 'c': expected a string (one of a, b) at row 0, got 3"],
    [[x([1]), c(["z"])], "input 'c': unknown category; expected one of a, b at row 0, got \"z\""],
    [[x([]), c([])], "empty batch: the request has no rows"],
    [
      [x([1, 2, 3, 4]), c(["a", "a", "a", "a"])],
      "batch too large: 4 rows, at most 3 (MAX_BATCH_ROWS) are accepted",
    ],
  ])("refuses %j: %s", (inputs, message) => {
    expect(refusal(() => columnsFromV2(artifact, inputs as V2InputTensor[], 3))).toEqual({
      message,
      status: 400,
    });
  });

  it("accepts exactly MAX_BATCH_ROWS rows", () => {
    expect(columnsFromV2(artifact, [x([1, 2, 3]), c(["a", "b", "a"])], 3).rows).toBe(3);
  });
});

describe("columnsFromV1", () => {
  it("takes instances as objects or arrays in feature order", () => {
    expect(columnsFromV1(artifact, [{ c: "a", x: 1 }, [2, "b"]], 5)).toEqual({
      rows: 2,
      columns: [
        [1, 2],
        ["a", "b"],
      ],
    });
  });

  it.each([
    [[], "empty batch: instances has no rows"],
    [
      [
        [1, "a"],
        [2, "a"],
        [3, "a"],
      ],
      "batch too large: 3 rows, at most 2 (MAX_BATCH_ROWS) are accepted",
    ],
    [[[1]], "instance 0: expected 2 values (x, c), got 1"],
    [[{ x: 1, c: "a", y: 2 }], 'instance 0: unknown feature "y"; toy expects x, c'],
    [[{ x: 1 }], "instance 0: missing feature 'c'"],
    [
      [[1, "a"], "row"],
      'instance 1: expected an object of features or an array of values, got "row"',
    ],
    [[null], "instance 0: expected an object of features or an array of values, got null"],
    [
      [
        [1, "a"],
        ["1", "a"],
      ],
      "instance 1, feature 'x': expected a number, got \"1\"",
    ],
    [
      [{ x: 1, c: "z" }],
      "instance 0, feature 'c': unknown category; expected one of a, b, got \"z\"",
    ],
  ])("refuses %j: %s", (instances, message) => {
    expect(refusal(() => columnsFromV1(artifact, instances, 2))).toEqual({ message, status: 400 });
  });

  it("does not take an inherited property for a feature", () => {
    const inst = Object.create({ c: "a" }) as Record<string, unknown>;
    inst.x = 1;
    expect(refusal(() => columnsFromV1(artifact, [inst], 2)).message).toBe(
      "instance 0: missing feature 'c'",
    );
  });
});
