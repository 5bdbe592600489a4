/** Kubernetes recommended labels (app.kubernetes.io/*) shared by every object of the platform. */

export const APP_NAME = "mlops-inference";
export const PART_OF = "mlops-platform";
export const MANAGED_BY = "pulumi";

export type Component = "inference" | "training";

/**
 * The recommended labels of one component of one platform instance. `version` (the image's tag
 * or digest) goes only on objects that run an image, so a new image changes only those.
 */
export function recommendedLabels(
  instance: string,
  component: Component,
  version?: string,
): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
    ...(version === undefined ? {} : { "app.kubernetes.io/version": labelValue(version) }),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
}

/** The labels that select one component's pods: stable across versions, so never `version`. */
export function selectorLabels(instance: string, component: Component): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  };
}

/** An image reference's tag or short digest, shaped as a valid label value (≤ 63 chars). */
export function versionOf(imageRef: string): string {
  const at = imageRef.indexOf("@sha256:");
  if (at >= 0) return `sha256-${imageRef.slice(at + 8, at + 20)}`;
  const lastSlash = imageRef.lastIndexOf("/");
  const colon = imageRef.indexOf(":", lastSlash + 1);
  return colon >= 0 ? imageRef.slice(colon + 1) : "unversioned";
}

function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "") || "unversioned";
}
