import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("mlops-platform", {
  description: "Guard rails of mlops-platform: AKS, ACR, storage and the Kubernetes workloads.",
  enforcementLevel: "mandatory",
  policies,
});
