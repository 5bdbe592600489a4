/** Look up policies of the pack by name, typed by kind. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policy/policies";

function find(name: string) {
  const found = policies.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no policy named ${name}`);
  return found;
}

export function resourcePolicy(name: string): ResourceValidationPolicy {
  const p = find(name);
  if (!("validateResource" in p)) throw new Error(`${name} is not a resource policy`);
  return p;
}

export function stackPolicy(name: string): StackValidationPolicy {
  const p = find(name);
  if (!("validateStack" in p)) throw new Error(`${name} is not a stack policy`);
  return p;
}
