/**
 * service/Dockerfile's build context is the repository root, filtered by .dockerignore (an allow
 * list): every file the Dockerfile copies from the context must be let through, or `docker build`
 * (and buildah) stop at that COPY.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const dockerfile = fs.readFileSync(path.join(ROOT, "service/Dockerfile"), "utf8");
const allowed = fs
  .readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l.startsWith("!"))
  .map((l) => l.slice(1));

/** The sources of every COPY that reads the build context (not `--from=<stage>`). */
function contextSources(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
    .flatMap((l) => {
      const words = l
        .trim()
        .split(/\s+/)
        .slice(1)
        .filter((w) => !w.startsWith("--"));
      return words.slice(0, -1);
    });
}

/** A file or directory the context keeps (a directory: when anything under it is kept). */
function letThrough(source: string): boolean {
  const src = source.replace(/\/$/, "");
  return allowed.some((p) => {
    const base = p.endsWith("/**") ? p.slice(0, -3) : p;
    return (
      src === base ||
      (p.endsWith("/**") && src.startsWith(`${base}/`)) ||
      base.startsWith(`${src}/`)
    );
  });
}

test("the Dockerfile copies from the build context", () => {
  expect(contextSources(dockerfile)).toEqual(
    expect.arrayContaining(["package.json", "service/package.json", "service/public"]),
  );
});

test("every file the Dockerfile copies from the context is let through by .dockerignore", () => {
  const sources = contextSources(dockerfile);
  expect(sources.length).toBeGreaterThan(3);
  expect(sources.filter((s) => !letThrough(s))).toEqual([]);
});

test("a COPY of something .dockerignore keeps out is caught", () => {
  expect(contextSources("COPY scripts/ scripts/\n").filter((s) => !letThrough(s))).toEqual([
    "scripts/",
  ]);
});
