/** Promotion from the deployed stack's real outputs into the prod stack file. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT, type E2eContext } from "../support/context";
import { get, deploymentContainer } from "../support/kube";
import { run } from "../support/proc";
import { STACK_NAME } from "../support/stack";
import { type PlatformFixture, NS } from "./fixture";

/**
 * The digest-pinned image the promotion step deploys: the 0.1.0 image by the digest the suite's
 * nodes hold it under, or MLOPS_E2E_DIGEST_REF (a digest your cluster can pull).
 */
function digestRef(context: E2eContext): string {
  const ref = process.env.MLOPS_E2E_DIGEST_REF ?? context.digestRef ?? "";
  if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(
      `MLOPS_E2E_DIGEST_REF: got "${ref}"; expected <repository>@sha256:<64 hex digits> of mlops-inference:0.1.0 that the cluster can pull`,
    );
  }
  return ref;
}

export function register(platform: PlatformFixture): void {
  describe("promotion from the deployed stack", () => {
    let projectDir: string;
    let prodBefore: string;

    beforeAll(() => {
      projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-promote-"));
      fs.copyFileSync(
        path.join(platform.stack.projectDir, "Pulumi.yaml"),
        path.join(projectDir, "Pulumi.yaml"),
      );
      prodBefore = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
      fs.writeFileSync(path.join(projectDir, "Pulumi.prod.yaml"), prodBefore);
    });
    afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

    const promote = () =>
      run(
        "npm",
        [
          "run",
          "--silent",
          "promote",
          "--",
          "--from",
          STACK_NAME,
          "--to",
          "prod",
          "--project-dir",
          projectDir,
        ],
        { cwd: REPO_ROOT, env: { ...process.env, ...platform.stack.envVars }, timeoutMs: 180000 },
      );

    test("refuses the local stack's tag, read from its real outputs, and writes nothing", async () => {
      platform.stack.configure(() => undefined);
      await platform.up("up (back to local config)");
      const r = await promote();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `stack "${STACK_NAME}" runs image "mlops-inference:0.1.0", which is not a digest reference`,
      );
      expect(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")).toBe(prodBefore);
    });

    test("moves the deployed digest and model versions into the prod stack file", async () => {
      platform.stack.configure((c) => {
        c["mlops:image"].ref = digestRef(platform.context);
        c["mlops:app"].models = { "mpg-regressor": "2", "penguin-classifier": "1" };
      });
      await platform.up("up (digest-pinned image)");
      expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
        digestRef(platform.context),
      );
      const r = await promote();
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const after = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
      expect(after).toContain(`    ref: ${digestRef(platform.context)}\n`);
      expect(after).toMatch(/models:\n {6}mpg-regressor: "2"\n {6}penguin-classifier: "1"\n/);
      // Only those two keys move: every other line of the file stays.
      const removed = prodBefore.split("\n").filter((l) => !after.split("\n").includes(l));
      expect(removed).toEqual([
        "    ref: mlopsacr00000000.azurecr.io/mlops-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        '      mpg-regressor: "1"',
      ]);
    });
  });
}
