/** The client-error type and the renderings of client values of service/src/model/errors.ts. */
import { InputError, quote, show } from "../../service/src/model/errors";

describe("show and quote", () => {
  it("render client values short: at most 40 characters", () => {
    expect(show(undefined)).toBe("nothing");
    expect(show("a")).toBe('"a"');
    expect(show(Symbol.for("s"))).toBe("Symbol(s)");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(show(cyclic)).toBe("[object Object]");
    expect(show("x".repeat(38))).toBe(`"${"x".repeat(38)}"`);
    expect(show("x".repeat(39))).toBe(`"${"x".repeat(36)}...`);
    expect(quote("n".repeat(40))).toBe(`'${"n".repeat(40)}'`);
    expect(quote("n".repeat(41))).toBe(`'${"n".repeat(37)}...'`);
  });

  it("InputError is a 400 unless told otherwise", () => {
    expect(new InputError("m").statusCode).toBe(400);
    expect(new InputError("m", 404).statusCode).toBe(404);
  });
});
