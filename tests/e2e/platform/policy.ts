/**
 * The policy pack on the real engine (it leaves the stack file with a LoadBalancer Service:
 * the next block configures its own).
 */
import * as path from "node:path";
import { recordTiming, REPO_ROOT } from "../support/context";
import { type PlatformFixture } from "./fixture";

const POLICY_PACK = path.join(REPO_ROOT, "policy");
const POLICY_CONFIG = path.join(REPO_ROOT, "policy/config/local.json");

export function register(platform: PlatformFixture): void {
  describe("policy pack on the real engine", () => {
    test("the local config passes; a LoadBalancer Service is stopped by k8s-no-load-balancer-service", async () => {
      platform.stack.configure(() => undefined);
      const options = { policyPacks: [POLICY_PACK], policyPackConfigs: [POLICY_CONFIG] };
      const ok = await platform.stack.preview(options);
      recordTiming("preview with policy pack", ok.seconds);
      expect(ok.policy.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);

      platform.stack.configure((c) => {
        c["mlops:app"].serviceType = "LoadBalancer";
      });
      const bad = await platform.stack.failingPreview(options);
      const violations = bad.policy.filter((p) => p.enforcementLevel === "mandatory");
      expect(violations.map((p) => p.policyName)).toEqual(["k8s-no-load-balancer-service"]);
      expect(violations[0].resourceUrn).toMatch(
        /kubernetes:core\/v1:Service::(.*:)?mlops\/inference$/,
      );
      expect(bad.message).toMatch(/k8s-no-load-balancer-service/);
    });
  });
}
