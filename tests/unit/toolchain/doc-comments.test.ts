/**
 * The doc comments of the code say what an optional field's absence does, as cdk8s-plus's do:
 * `@default no canary: the route sends every request to the Service`, never `@default none` or
 * `@default undefined`, which leave the reader to find out.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SOURCES = ["infra", "stacks", "tools", "service/src", "service/train", "policy"];
const EMPTY_DEFAULT = /@default\s+(none|undefined|null|nothing)\b/i;

function typescriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : typescriptFiles(file);
    return entry.name.endsWith(".ts") ? [file] : [];
  });
}

test("no @default none or @default undefined: each says what happens without the field", () => {
  const files = SOURCES.flatMap((dir) => typescriptFiles(path.join(ROOT, dir)));
  expect(files.length).toBeGreaterThan(50);
  const found = files.flatMap((file) =>
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) =>
        EMPTY_DEFAULT.test(line) ? [`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [],
      ),
  );
  expect(found).toEqual([]);
});

test("the check finds what it looks for", () => {
  expect(EMPTY_DEFAULT.test("/** Workload identity. @default none */")).toBe(true);
  expect(EMPTY_DEFAULT.test(" * @default undefined: no workload identity */")).toBe(true);
  expect(EMPTY_DEFAULT.test("/** @default no canary: the route sends everything */")).toBe(false);
  expect(EMPTY_DEFAULT.test("/** @default nodePort of the Service */")).toBe(false);
});
