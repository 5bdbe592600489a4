/**
 * Azure names that must be globally unique and alphanumeric (ACR: 5–50 chars, storage: 3–24
 * lowercase). Derived from the component name and the stack, so renaming either replaces them.
 */
export function globalName(parts: string[], maxLength: number): string {
  const name = parts
    .join("")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
  if (name.length < 3) {
    throw new Error(
      `cannot derive an Azure name from ${JSON.stringify(parts)}: fewer than 3 letters or digits`,
    );
  }
  return name.slice(0, maxLength);
}

/** Built-in Azure role definition ids (the same in every subscription). */
export const ROLES = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
} as const;

/** The full id of a built-in role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}
