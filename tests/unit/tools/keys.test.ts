/** `npm run keys`: its arguments, and what it reads from a stack's outputs and state. */
import { UsageError } from "../../../tools/cli";
import { keysFromOutputs, keySecretUrn, parseKeysArgs, USAGE } from "../../../tools/keys";

describe("parseKeysArgs", () => {
  test("show, with a stack and one key", () => {
    expect(parseKeysArgs(["show"])).toEqual({ command: "show", stack: "local", key: undefined });
    expect(parseKeysArgs(["show", "--stack", "dev", "--key", "secondary"])).toEqual({
      command: "show",
      stack: "dev",
      key: "secondary",
    });
  });

  test("rotate names the key", () => {
    expect(parseKeysArgs(["rotate", "primary", "--stack=prod"])).toEqual({
      command: "rotate",
      stack: "prod",
      key: "primary",
    });
  });

  test("--help", () => {
    expect(parseKeysArgs(["--help"])).toBe("help");
    expect(USAGE).toContain("npm run keys -- rotate <primary|secondary>");
  });

  test.each([
    [[], 'unknown command ""; allowed: show, rotate'],
    [["list"], 'unknown command "list"; allowed: show, rotate'],
    [["rotate"], 'key: got ""; allowed: primary, secondary'],
    [["rotate", "tertiary"], 'key: got "tertiary"; allowed: primary, secondary'],
    [["show", "--key", "both"], 'key: got "both"; allowed: primary, secondary'],
    [
      ["show", "--bogus"],
      'unknown option "--bogus"; allowed: --stack <value>, --key <value>, -h/--help',
    ],
    [["rotate", "primary", "extra"], 'unexpected argument "extra"'],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseKeysArgs(argv)).toThrow(new UsageError(message));
  });
});

describe("keysFromOutputs", () => {
  const keys = { primary: "p".repeat(43), secondary: "s".repeat(43) };
  test("both keys of a key stack", () => {
    expect(
      keysFromOutputs("local", { authMode: { value: "key" }, inferenceKeys: { value: keys } }),
    ).toEqual(keys);
  });
  test.each([
    [{}, "stack local has no outputs yet: deploy it first (npm run up)"],
    [
      { authMode: { value: "entra" } },
      'stack local authenticates with auth.mode "entra": it has no keys',
    ],
    [
      { authMode: { value: "key" }, inferenceKeys: { value: { primary: "x" } } },
      "stack local has no secondary key in its outputs: run npm run up",
    ],
  ])("%j: %s", (outputs, message) => {
    expect(() => keysFromOutputs("local", outputs)).toThrow(message);
  });
});

describe("keySecretUrn", () => {
  const urn = (name: string) =>
    `urn:pulumi:local::mlops-platform::mlops:k8s:InferenceApp$kubernetes:core/v1:Secret::${name}`;
  const resources = [
    { type: "kubernetes:core/v1:Secret", urn: urn("mlops-key-primary") },
    { type: "kubernetes:core/v1:Secret", urn: urn("mlops-key-secondary") },
  ];
  test("the Secret of that key only", () => {
    expect(keySecretUrn("local", resources, "secondary")).toBe(urn("mlops-key-secondary"));
  });
  test("a stack without it says why", () => {
    expect(() => keySecretUrn("dev", [], "primary")).toThrow(
      "stack dev has no Secret mlops-key-primary: it is not deployed, or its auth.mode is not key",
    );
  });
});
