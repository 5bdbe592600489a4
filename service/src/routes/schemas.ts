/** JSON schemas shared by the routes (request validation, response serialisation, OpenAPI). */

export const errorSchema = {
  type: "object",
  description: "A client (4xx) or server (5xx) error; 5xx never carries internal details.",
  properties: { error: { type: "string" } },
  required: ["error"],
} as const;

export const errorResponses = { "4xx": errorSchema, "5xx": errorSchema } as const;

const freeObject = { type: "object", additionalProperties: true } as const;

export const modelParams = {
  type: "object",
  properties: { name: { type: "string", description: "Model name, e.g. mpg-regressor" } },
  required: ["name"],
} as const;

export const versionedModelParams = {
  type: "object",
  properties: {
    name: { type: "string", description: "Model name, e.g. mpg-regressor" },
    version: { type: "string", description: 'Model version, e.g. "1"' },
  },
  required: ["name", "version"],
} as const;

const metadataTensor = {
  type: "object",
  properties: {
    name: { type: "string" },
    datatype: { type: "string" },
    shape: { type: "array", items: { type: "integer" } },
    parameters: freeObject,
  },
  required: ["name", "datatype", "shape"],
} as const;

export const modelMetadataSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    versions: { type: "array", items: { type: "string" } },
    platform: { type: "string" },
    inputs: { type: "array", items: metadataTensor },
    outputs: { type: "array", items: metadataTensor },
    parameters: freeObject,
  },
  required: ["name", "platform", "inputs", "outputs"],
} as const;

export const modelReadySchema = {
  type: "object",
  properties: { name: { type: "string" }, ready: { type: "boolean" } },
  required: ["name", "ready"],
} as const;

export const inferRequestSchema = {
  type: "object",
  description:
    "Open Inference Protocol v2 request, tabular convention: one input tensor per feature, named " +
    "after it, shape [N] or [N, 1]; FP64/FP32/INT64/INT32 for numbers, BYTES for categories.",
  properties: {
    id: { type: "string", maxLength: 256 },
    parameters: freeObject,
    inputs: {
      type: "array",
      minItems: 1,
      maxItems: 1024,
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          shape: {
            type: "array",
            minItems: 1,
            maxItems: 8,
            items: { type: "integer", minimum: 0 },
          },
          datatype: { type: "string" },
          parameters: freeObject,
          data: { type: "array" },
        },
        required: ["name", "shape", "datatype", "data"],
      },
    },
    outputs: {
      type: "array",
      maxItems: 16,
      items: {
        type: "object",
        properties: { name: { type: "string" }, parameters: freeObject },
        required: ["name"],
      },
    },
  },
  required: ["inputs"],
} as const;

export const inferResponseSchema = {
  type: "object",
  properties: {
    model_name: { type: "string" },
    model_version: { type: "string" },
    id: { type: "string" },
    parameters: freeObject,
    outputs: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          datatype: { type: "string" },
          shape: { type: "array", items: { type: "integer" } },
          parameters: freeObject,
          data: { type: "array", items: { type: ["number", "string"] } },
        },
        required: ["name", "datatype", "shape", "data"],
      },
    },
  },
  required: ["model_name", "outputs"],
} as const;

export const v1PredictRequestSchema = {
  type: "object",
  description:
    "KServe v1: instances are objects keyed by feature name, or arrays in feature order.",
  properties: {
    instances: {
      type: "array",
      description: "Each item: an object or an array (checked per instance)",
    },
  },
  required: ["instances"],
} as const;

export const v1PredictResponseSchema = {
  type: "object",
  properties: {
    predictions: {
      type: "array",
      items: {
        anyOf: [
          { type: "number" },
          {
            type: "object",
            properties: {
              label: { type: "string" },
              probabilities: { type: "object", additionalProperties: { type: "number" } },
            },
            required: ["label", "probabilities"],
          },
        ],
      },
    },
  },
  required: ["predictions"],
} as const;
