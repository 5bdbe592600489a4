/**
 * scripts/node/images.sh service with a stand-in buildah: the base image is in buildah's storage
 * (machine-wide) while the script's cache under HOME is new, as on a fresh HOME of a machine that
 * built it before. A failing build must still leave its log where the error says.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-images-"));
  const bin = path.join(home, "bin");
  fs.mkdirSync(bin);
  // `inspect` finds every image (the base image is cached); `bud` fails with a line of its own.
  fs.writeFileSync(
    path.join(bin, "buildah"),
    '#!/bin/sh\nfor a in "$@"; do [ "$a" = bud ] && { echo "stand-in build error"; exit 1; }; done\nexit 0\n',
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, "runc"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

test("a failed build on a new cache exits 1 with the build's own output and a log that exists", () => {
  const r = spawnSync("bash", ["scripts/node/images.sh", "service", "mlops-inference:0.0.0"], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOME: home,
      XDG_CACHE_HOME: "",
      PATH: `${home}/bin:${process.env.PATH}`,
    },
    encoding: "utf8",
    timeout: 60000,
  });
  const log = path.join(home, ".cache/mlops-platform/node/build.log");
  expect(r.status).toBe(1);
  expect(r.stderr).not.toContain("No such file or directory");
  expect(r.stderr).toContain("stand-in build error");
  expect(r.stderr).toContain(`building service/Dockerfile failed (log: ${log})`);
  expect(fs.readFileSync(log, "utf8")).toContain("stand-in build error");
});
