/** The full policy list of the pack (index.ts only hands it to `new PolicyPack`). */
import type { Policies } from "@pulumi/policy";
import { azurePolicies } from "./azure";
import { kubernetesPolicies } from "./kubernetes";
import { trafficPolicies } from "./traffic";

export const policies: Policies = [
  ...kubernetesPolicies(),
  ...trafficPolicies(),
  ...azurePolicies(),
];
