/**
 * scripts/toolchain/build.sh without building anything: a cache directory filled with stand-in
 * executables (each prints a version) shows what the script reports, when it exits non-zero,
 * and that two runs on one cache take turns instead of writing the same files at once.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const BUILD = path.join(ROOT, "scripts/toolchain/build.sh");

type Result = { code: number | null; stderr: string };

function envFor(cache: string): NodeJS.ProcessEnv {
  return { ...process.env, MLOPS_TOOLCHAIN: "build", MLOPS_TOOLCHAIN_CACHE: cache };
}

/** The cache paths lib.sh derives (from package-lock.json and the tools' go.mod) for `cache`. */
function layout(cache: string): Record<string, string> {
  const names = [
    "PULUMI_BIN_DIR",
    "KUBE_BIN_DIR",
    "KWOK_BIN_DIR",
    "COREDNS_BIN_DIR",
    "K8S_PLUGIN_DIR",
    "TRAEFIK_BIN_DIR",
    "NETPOL_BIN_DIR",
  ];
  const out = spawnSync(
    "bash",
    [
      "-c",
      `source scripts/toolchain/lib.sh && printf '%s\\n' ${names.map((n) => `"$${n}"`).join(" ")}`,
    ],
    { cwd: ROOT, env: envFor(cache), encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`lib.sh: ${out.stderr}`);
  const values = out.stdout.trim().split("\n");
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/** Puts a stand-in for every tool into `cache`; each sleeps `delay` seconds, then prints a version. */
function fillCache(cache: string, delay = 0): void {
  const l = layout(cache);
  const bins = [
    path.join(l.PULUMI_BIN_DIR, "pulumi"),
    path.join(l.PULUMI_BIN_DIR, "pulumi-language-nodejs"),
    path.join(l.K8S_PLUGIN_DIR, "pulumi-resource-kubernetes"),
    path.join(l.KWOK_BIN_DIR, "kwok"),
    path.join(l.COREDNS_BIN_DIR, "coredns"),
    path.join(l.TRAEFIK_BIN_DIR, "traefik"),
    path.join(l.NETPOL_BIN_DIR, "netpol"),
    ...[
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kubectl",
      "kubelet",
      "kube-proxy",
      "etcd",
    ].map((b) => path.join(l.KUBE_BIN_DIR, b)),
  ];
  for (const bin of bins) {
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.writeFileSync(bin, `#!/bin/sh\nsleep ${delay}\necho "stand-in ${path.basename(bin)}"\n`, {
      mode: 0o755,
    });
  }
}

function build(
  cache: string,
  args: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [BUILD, ...args], {
      cwd: ROOT,
      env: { ...envFor(cache), ...extraEnv },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

let cache: string;
beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-toolchain-"));
});
afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

test("--check on an empty cache exits 1 and names every missing tool", async () => {
  const r = await build(cache, ["--check"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /not built yet: pulumi pulumi-resource-kubernetes traefik v3\.7\.13 netpol \(kube-network-policies v0\.8\.0\) kubernetes v[\d.]+ kwok v[\d.]+ coredns v[\d.]+ \(run scripts\/toolchain\/build\.sh\)/,
  );
});

test("a warm cache: every tool is reported cached with its version, nothing is built", async () => {
  fillCache(cache);
  const r = await build(cache);
  expect(r.code).toBe(0);
  for (const tool of [
    "pulumi",
    "kube-apiserver",
    "kubelet",
    "kube-proxy",
    "kubectl",
    "etcd",
    "kwok",
    "coredns",
    "traefik",
  ]) {
    expect(r.stderr).toContain(`cached  ${tool}: stand-in ${tool}`);
  }
  expect(r.stderr).toContain("cached  netpol: kube-network-policies v0.8.0");
  expect(r.stderr).toMatch(/cached {2}pulumi-resource-kubernetes: v[\d.]+/);
  expect(r.stderr).not.toMatch(/building /);
  expect(r.stderr).toMatch(/toolchain ready in \d+s/);
});

test("a second run on the same cache waits for the first, then finds it warm", async () => {
  fillCache(cache, 1); // each stand-in takes a second to answer, so the first run holds the lock
  const first = build(cache);
  await new Promise((r) => setTimeout(r, 500));
  const second = await build(cache);
  const firstResult = await first;
  expect(firstResult.code).toBe(0);
  expect(second.code).toBe(0);
  expect(second.stderr).toContain(`another build is using ${cache}; waiting for it to finish`);
  expect(second.stderr).toMatch(/toolchain ready/);
});

test("a build that fails exits non-zero naming it; the other stream still reports its tools", async () => {
  fillCache(cache);
  const { KWOK_BIN_DIR, KUBE_BIN_DIR } = layout(cache);
  fs.rmSync(path.join(KWOK_BIN_DIR, "kwok"));
  fs.rmSync(path.join(KUBE_BIN_DIR, "kube-apiserver"));
  // An empty module cache and no proxy: both builds fail at their first step, nothing is downloaded.
  const r = await build(cache, [], {
    GOPROXY: "off",
    GOMODCACHE: path.join(cache, "gomodcache"),
    GOFLAGS: "-modcacherw",
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/FAILED {2}kubernetes v[\d.]+ .* after \d+s/);
  expect(r.stderr).toMatch(/FAILED {2}kwok v[\d.]+ after \d+s/);
  expect(r.stderr).toMatch(
    /ERROR: could not build: kubernetes v[\d.]+ \([^)]*\) \+ etcd v[\d.]+; kwok v[\d.]+; see the reasons above/,
  );
  // A failed build leaves nothing behind that a later run would take for a finished one.
  expect(fs.existsSync(path.join(KUBE_BIN_DIR, "kube-apiserver"))).toBe(false);
  expect(r.stderr).toContain("cached  pulumi: stand-in pulumi");
  expect(r.stderr).not.toMatch(/toolchain ready/);
});

test("an unknown argument exits non-zero naming it and the allowed ones", async () => {
  const r = await build(cache, ["everything"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    "unknown argument 'everything' (expected --check, all, pulumi, kubernetes, kwok, coredns, traefik, netpol or karpenter)",
  );
});

test("Karpenter is built only when named, and a warm cache reports its version file", async () => {
  const all = await build(cache, ["--check"]);
  expect(all.stderr).not.toMatch(/karpenter/);
  const missing = await build(cache, ["--check", "karpenter"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(
    /not built yet: karpenter v1\.15\.0 \(build\.sh karpenter\) \(run scripts\/toolchain\/build\.sh\)/,
  );
  const dir = spawnSync(
    "bash",
    ["-c", 'source scripts/toolchain/lib.sh && echo "$KARPENTER_DIR"'],
    {
      cwd: ROOT,
      env: envFor(cache),
      encoding: "utf8",
    },
  ).stdout.trim();
  expect(dir).toBe(path.join(cache, "karpenter-v1.15.0"));
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  fs.writeFileSync(path.join(dir, "bin", "karpenter-kwok"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "VERSION"), "v1.15.0\n");
  const warm = await build(cache, ["karpenter"]);
  expect(warm.code).toBe(0);
  expect(warm.stderr).toContain("cached  karpenter-kwok: v1.15.0");
  expect(warm.stderr).not.toMatch(/building /);
});
