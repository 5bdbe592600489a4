/**
 * The bundled models, as the platform pins them. The list of models is the training registry's
 * (`DATASETS` in service/train/models.ts); nothing here names a model.
 */
import { BUNDLED_MODELS } from "../service/train/models";

/** `MODEL_PINS` of the service: `name=version` pairs, sorted so the value is stable. */
export function modelPins(models: Readonly<Record<string, string>>): string {
  return Object.keys(models)
    .sort()
    .map((name) => `${name}=${models[name]}`)
    .join(",");
}

/** The `MODEL_PINS=` entry of the runtime stage's `ENV` in service/Dockerfile. */
const DOCKERFILE_PINS = /^(\s*)MODEL_PINS=\S*/m;

/**
 * service/Dockerfile with its `MODEL_PINS` naming every model of `models` at the build argument
 * `MODEL_VERSION` (a Dockerfile cannot read the registry: `npm run schema` writes this line, and
 * tests/unit/infra/models.test.ts fails when it is stale).
 */
export function dockerfileWithModelPins(
  dockerfile: string,
  models: readonly string[] = BUNDLED_MODELS,
): string {
  if (!DOCKERFILE_PINS.test(dockerfile)) {
    throw new Error("service/Dockerfile has no MODEL_PINS=... entry in the runtime stage's ENV");
  }
  const pins = modelPins(Object.fromEntries(models.map((m) => [m, "${MODEL_VERSION}"])));
  return dockerfile.replace(DOCKERFILE_PINS, `$1MODEL_PINS=${pins}`);
}
