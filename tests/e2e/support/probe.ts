/** Probe pods: pods of the inference image outside the stack, for checks from inside the cluster. */
import { get, kubectl, kubectlWithInput } from "./kube";

/**
 * A pod of the inference image in `namespace` that runs `command` (default: sleeps), for
 * `kubectl exec` probes: created once (namespace too), Ready before it is returned.
 */
export async function probePod(
  namespace: string,
  name = "probe",
  spec: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): Promise<string> {
  const manifest = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: { "e2e-probe": "true", ...labels } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: "probe",
            image: "mlops-inference:0.1.0",
            imagePullPolicy: "IfNotPresent",
            command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
        ...spec,
      },
    },
  ];
  const applied = await kubectlWithInput(
    manifest.map((o) => JSON.stringify(o)).join("\n"),
    "apply",
    "-f",
    "-",
  );
  if (applied.code !== 0) throw new Error(`probe pod ${namespace}/${name}: ${applied.stderr}`);
  await kubectl("wait", "--for=condition=Ready", `pod/${name}`, "-n", namespace, "--timeout=120s");
  return (await get("pod", name, namespace)).status.podIP as string;
}
