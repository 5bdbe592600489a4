/**
 * Per-model operations of the OpenAPI document: for every loaded model (its default version) and
 * every version, the v2 infer and v1 predict request schemas list that model's inputs (names,
 * datatypes, categories, shapes), with a working example. A client or a schema-driven fuzzer can
 * learn a model's inputs from the document; the generic `{name}` operations stay for discovery.
 *
 * The schemas are a faithful superset of what the handlers accept: every request they accept is
 * valid here, and every request invalid here is refused with a 4xx. Some constraints cannot be
 * written in OpenAPI 3.0 (every input's shape[0] equals its data length and is the same N for all
 * inputs); those are in the descriptions and checked by the handler (400).
 */
import type { FeatureSpec, ModelArtifact } from "../model/artifact";
import type { ModelStore } from "../model/store";
import { outputNames } from "../core/metadata";
import { errorSchema, inferResponseSchema, v1PredictResponseSchema } from "./schemas";

type Schema = Record<string, unknown>;

function valueSchema(f: FeatureSpec): Schema {
  return f.type === "number"
    ? { type: "number", description: `training range ${f.min} – ${f.max}` }
    : { type: "string", enum: [...f.categories] };
}

function exampleValue(f: FeatureSpec): number | string {
  return f.type === "number" ? Math.round(((f.min + f.max) / 2) * 10) / 10 : f.categories[0];
}

/** The v2 request schema of one model version. */
export function v2RequestSchema(a: ModelArtifact, maxRows: number): Schema {
  const tensor = (f: FeatureSpec): Schema => {
    const value = valueSchema(f);
    return {
      type: "object",
      description: `Feature ${f.name}. shape [N] or [N, 1]; data holds N values (flat, or [[v], ...] for [N, 1]); every input has the same N (at most ${maxRows}).`,
      required: ["name", "shape", "datatype", "data"],
      properties: {
        name: { type: "string", enum: [f.name] },
        shape: {
          type: "array",
          minItems: 1,
          maxItems: 2,
          items: { type: "integer", minimum: 0, maximum: maxRows },
        },
        datatype:
          f.type === "number"
            ? { type: "string", enum: ["FP64", "FP32", "INT64", "INT32"] }
            : { type: "string", enum: ["BYTES"] },
        data: {
          type: "array",
          maxItems: maxRows,
          items: { anyOf: [value, { type: "array", minItems: 1, maxItems: 1, items: value }] },
        },
        parameters: { type: "object" },
      },
    };
  };
  return {
    type: "object",
    required: ["inputs"],
    properties: {
      id: { type: "string", maxLength: 256 },
      parameters: {
        type: "object",
        description:
          "binary_data_output: true answers with binary outputs (application/octet-stream)",
      },
      inputs: {
        type: "array",
        description: `One tensor per feature, each exactly once: ${a.features.map((f) => f.name).join(", ")}`,
        minItems: a.features.length,
        maxItems: a.features.length,
        items: { oneOf: a.features.map(tensor) },
      },
      outputs: {
        type: "array",
        maxItems: 16,
        items: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string", enum: outputNames(a) },
            parameters: { type: "object" },
          },
        },
      },
    },
  };
}

/** The v1 request schema of one model version. */
export function v1RequestSchema(a: ModelArtifact, maxRows: number): Schema {
  const anyValue = {
    anyOf: [
      { type: "number" },
      {
        type: "string",
        enum: a.features.flatMap((f) => (f.type === "category" ? f.categories : [])),
      },
    ],
  };
  return {
    type: "object",
    required: ["instances"],
    properties: {
      instances: {
        type: "array",
        minItems: 1,
        maxItems: maxRows,
        items: {
          oneOf: [
            {
              type: "object",
              description: "Features by name",
              required: a.features.map((f) => f.name),
              additionalProperties: false,
              properties: Object.fromEntries(a.features.map((f) => [f.name, valueSchema(f)])),
            },
            {
              type: "array",
              description: `Values in feature order: ${a.features.map((f) => f.name).join(", ")}`,
              minItems: a.features.length,
              maxItems: a.features.length,
              items: anyValue,
            },
          ],
        },
      },
    },
  };
}

const errorContent = { "application/json": { schema: errorSchema } };

function responses(ok: Schema, binary: boolean): Schema {
  return {
    "200": {
      description: "Predictions",
      content: {
        "application/json": { schema: ok },
        ...(binary
          ? {
              "application/octet-stream": {
                schema: { type: "string", format: "binary" },
                description:
                  "Binary tensor data extension: a JSON header of Inference-Header-Content-Length bytes, then the outputs' bytes",
              },
            }
          : {}),
      },
    },
    "4XX": { description: "Client error, naming the field", content: errorContent },
    "5XX": { description: "Server error (no details)", content: errorContent },
  };
}

/** OpenAPI path items of every model's inference operations. */
export function perModelPaths(store: ModelStore, maxRows: number): Record<string, Schema> {
  const paths: Record<string, Schema> = {};
  for (const name of store.names()) {
    const targets: [string, ModelArtifact][] = [[`/v2/models/${name}`, store.get(name)!.artifact]];
    for (const v of store.versions(name)) {
      targets.push([`/v2/models/${name}/versions/${v}`, store.get(name, v)!.artifact]);
    }
    for (const [prefix, a] of targets) {
      const row = Object.fromEntries(a.features.map((f) => [f.name, exampleValue(f)]));
      paths[`${prefix}/infer`] = {
        post: {
          tags: [`Model ${name}`],
          summary: prefix.endsWith(`/${name}`)
            ? `Inference: ${name}, default version (or the MODEL_TRAFFIC split)`
            : `Inference: ${name} version ${a.version}`,
          description: `${a.description}. Outputs: ${outputNames(a).join(", ")}.`,
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: v2RequestSchema(a, maxRows),
                example: {
                  inputs: a.features.map((f) => ({
                    name: f.name,
                    shape: [1],
                    datatype: f.type === "number" ? "FP64" : "BYTES",
                    data: [row[f.name]],
                  })),
                },
              },
            },
          },
          responses: responses(inferResponseSchema, true),
        },
      };
      if (prefix === `/v2/models/${name}`) {
        paths[`/v1/models/${name}:predict`] = {
          post: {
            tags: [`Model ${name}`],
            summary: `KServe v1 predict: ${a.name}`,
            requestBody: {
              required: true,
              content: {
                "application/json": {
                  schema: v1RequestSchema(a, maxRows),
                  example: { instances: [row] },
                },
              },
            },
            responses: responses(v1PredictResponseSchema, false),
          },
        };
      }
    }
  }
  return paths;
}
