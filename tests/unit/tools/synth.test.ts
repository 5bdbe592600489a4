import { parseAllDocuments } from "yaml";
import { synthStack } from "../../../tools/synth";
import { findResource, runProgram } from "../../support/program";

describe("npm run synth", () => {
  test("writes exactly the manifests the local stack deploys", async () => {
    const synthesized = parseAllDocuments(synthStack("local")).map((d) => d.toJS());
    const deployed = findResource(await runProgram("local"), "kubernetes:yaml/v2:ConfigGroup")
      .inputs.objs;
    expect(synthesized).toEqual(deployed);
  });

  test("local manifests (snapshot)", () => {
    const text = synthStack("local");
    const kinds = parseAllDocuments(text).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual([
      "Namespace",
      "ServiceAccount",
      "Deployment",
      "HorizontalPodAutoscaler",
      "Service",
      "Gateway",
      "HTTPRoute",
      "GRPCRoute",
      "NetworkPolicy",
      "ServiceAccount",
      "CronJob",
      "NetworkPolicy",
    ]);
    expect(text).toMatchSnapshot();
  });

  test("Azure stacks leave only deploy-time values as envsubst placeholders", () => {
    const text = synthStack("dev");
    const placeholders = [...new Set(text.match(/\$\{[A-Z_]+\}/g))].sort();
    expect(placeholders).toEqual([
      "${IMAGE_REF}",
      "${MODEL_STORE_ACCOUNT}",
      "${MODEL_STORE_CLIENT_ID}",
      "${MODEL_STORE_URL}",
      "${RESOURCE_GROUP}",
    ]);
    // prod pins its image by digest: no image placeholder.
    expect(synthStack("prod")).not.toContain("${IMAGE_REF}");
  });

  test("an unknown stack names the stacks that exist", () => {
    expect(() => synthStack("staging")).toThrow(
      /no stack file .*Pulumi\.staging\.yaml; stacks here: dev, local, prod/,
    );
  });
});
