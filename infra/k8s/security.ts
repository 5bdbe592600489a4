/**
 * The security settings every pod of the platform runs with: non-root (the image's numeric user),
 * read-only root filesystem, no privilege escalation, every capability dropped, seccomp
 * RuntimeDefault. One place, so the inference and training workloads cannot drift apart.
 */
import { ApiObject, JsonPatch } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";

/** The numeric non-root user (and group) of the service image (service/Dockerfile). */
export const RUN_AS_USER = 10001;

export const POD_SECURITY_CONTEXT: kplus.PodSecurityContextProps = {
  ensureNonRoot: true,
  user: RUN_AS_USER,
  group: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
};

export const CONTAINER_SECURITY_CONTEXT: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  user: RUN_AS_USER,
  group: RUN_AS_USER,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
};

/**
 * Settings cdk8s-plus-27 has no prop for: the RuntimeDefault seccomp profile of the pod, and every
 * Linux capability dropped from each of its `containerCount` containers.
 */
export function hardenPod(workload: Construct, podSpecPath: string, containerCount = 1): void {
  const object = ApiObject.of(workload);
  object.addJsonPatch(
    JsonPatch.add(`${podSpecPath}/securityContext/seccompProfile`, { type: "RuntimeDefault" }),
  );
  for (let i = 0; i < containerCount; i++) {
    object.addJsonPatch(
      JsonPatch.add(`${podSpecPath}/containers/${i}/securityContext/capabilities`, {
        drop: ["ALL"],
      }),
    );
  }
}
