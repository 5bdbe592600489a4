/**
 * Credentials in logs: no key the run saw (the authentication block collects them) in any
 * container log or in the engine's output.
 */
import { kubectl, list, type KubeObject } from "../support/kube";
import { type PlatformFixture, NS } from "./fixture";

export function register(platform: PlatformFixture): void {
  describe("credentials in logs", () => {
    test("no key of the run appears in any container log of the stack, or in the engine's output", async () => {
      expect(platform.seenKeys.length).toBeGreaterThanOrEqual(3);
      const pods = await list("pods", ["-n", NS]);
      let lines = 0;
      const leaks: string[] = [];
      for (const p of pods) {
        for (const c of (p.spec.containers as KubeObject[]).map((x) => x.name as string)) {
          const log = await kubectl("logs", "-n", NS, p.metadata.name, "-c", c).catch(() => "");
          lines += log.split("\n").length;
          for (const key of platform.seenKeys)
            if (log.includes(key)) leaks.push(`${p.metadata.name}/${c}`);
        }
      }
      const engine = (await platform.stack.preview()).stdout;
      for (const key of platform.seenKeys)
        if (engine.includes(key)) leaks.push("pulumi preview --diff output");
      process.stderr.write(
        `[e2e] ${platform.seenKeys.length} keys looked for in ${lines} log lines of ${pods.length} pods: ${leaks.length} found\n`,
      );
      expect(leaks).toEqual([]);
    });
  });
}
