import * as path from "node:path";
import envSchema from "env-schema";
import { AUTH_MODES, type AuthSettings } from "./auth";
import { MODEL_NAME_PATTERN, MODEL_VERSION_PATTERN } from "./model/artifact";
import { packageInfo } from "./package-info";

/** Environment variables of the server, with their defaults. Validated once, at boot. */
export const ENV_SCHEMA = {
  type: "object",
  additionalProperties: true,
  properties: {
    PORT: { type: "integer", minimum: 0, maximum: 65535, default: 8080 },
    /** Open Inference Protocol v2 gRPC port (0 = any free port). */
    GRPC_PORT: { type: "integer", minimum: 0, maximum: 65535, default: 8081 },
    HOST: { type: "string", minLength: 1, default: "0.0.0.0" },
    /** Root of `<name>/<version>/model.json` artifacts; default: the service's models/ dir. */
    MODEL_DIR: { type: "string", minLength: 1 },
    /** `name=version,...`: versions that must be loaded; they become the default versions. */
    MODEL_PINS: { type: "string", default: "" },
    /** JSON `{"<model>": {"<version>": <percent>, ...}}`: A/B split of unversioned routes. */
    MODEL_TRAFFIC: { type: "string", default: "" },
    /** JSON `{"<model>": "<version>"}`: a version that gets a copy of each unversioned request. */
    MODEL_SHADOW: { type: "string", default: "" },
    /** Request header whose value makes A/B assignment sticky (compared case-insensitively). */
    AB_SUBJECT_HEADER: {
      type: "string",
      pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$",
      default: "x-request-subject",
    },
    LOG_LEVEL: {
      type: "string",
      enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      default: "info",
    },
    BODY_LIMIT_BYTES: { type: "integer", minimum: 1024, maximum: 104857600, default: 1048576 },
    MAX_BATCH_ROWS: { type: "integer", minimum: 1, maximum: 1000000, default: 10000 },
    /** Hard deadline from SIGTERM to exit. */
    SHUTDOWN_GRACE_MS: { type: "integer", minimum: 0, maximum: 600000, default: 25000 },
    /** After SIGTERM: time readiness reports 503 while traffic is still served, before closing. */
    SHUTDOWN_DELAY_MS: { type: "integer", minimum: 0, maximum: 600000, default: 5000 },
    /** Recent rows per model kept for the drift (PSI) gauges. */
    DRIFT_WINDOW: { type: "integer", minimum: 10, maximum: 1000000, default: 1000 },
    /** Fraction of inference request bodies logged (0 = never). */
    PAYLOAD_LOG_SAMPLE_RATE: { type: "number", minimum: 0, maximum: 1, default: 0 },
    /** Who may score: `key` (the stack's keys, AUTH_KEYS_DIR), `entra` (Entra ID tokens), `none`. */
    AUTH_MODE: { type: "string", enum: [...AUTH_MODES], default: "key" },
    /** `key`: directory of the key files `primary` and `secondary` (a Secret volume). */
    AUTH_KEYS_DIR: { type: "string", minLength: 1, default: "/var/run/mlops/keys" },
    /** `key`: how often the key files are re-read (a rotated key takes effect within this). */
    AUTH_RELOAD_MS: { type: "integer", minimum: 100, maximum: 600000, default: 2000 },
    /** `entra`: the issuer's JWKS (https, or http on loopback for tests). */
    AUTH_JWKS_URL: { type: "string", minLength: 1 },
    /** `entra`: the `iss` every token must carry. */
    AUTH_ISSUER: { type: "string", minLength: 1 },
    /** `entra`: the `aud` every token must carry (the app ID URI). */
    AUTH_AUDIENCE: { type: "string", minLength: 1 },
    /** `entra`: the app role a token must hold in its `roles` claim. */
    AUTH_ROLE: { type: "string", pattern: "^[A-Za-z0-9._-]{1,120}$", default: "Score" },
    /** Requests served at once; beyond it, 503 with Retry-After at once (0 = no bound). */
    MAX_IN_FLIGHT: { type: "integer", minimum: 0, maximum: 100000, default: 64 },
    /** Seconds a shed client is told to wait (Retry-After). */
    RETRY_AFTER_SECONDS: { type: "integer", minimum: 1, maximum: 3600, default: 1 },
  },
} as const;

export interface ServiceConfig {
  readonly PORT: number;
  readonly GRPC_PORT: number;
  readonly HOST: string;
  readonly MODEL_DIR: string;
  readonly MODEL_PINS: ReadonlyMap<string, string>;
  /** model -> version -> percent of unversioned requests (integers, summing to 100). */
  readonly MODEL_TRAFFIC: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** model -> shadow version. */
  readonly MODEL_SHADOW: ReadonlyMap<string, string>;
  /** Lower-case header name. */
  readonly AB_SUBJECT_HEADER: string;
  readonly LOG_LEVEL: string;
  readonly BODY_LIMIT_BYTES: number;
  readonly MAX_BATCH_ROWS: number;
  readonly SHUTDOWN_GRACE_MS: number;
  readonly SHUTDOWN_DELAY_MS: number;
  readonly DRIFT_WINDOW: number;
  readonly PAYLOAD_LOG_SAMPLE_RATE: number;
  readonly AUTH: AuthSettings;
  readonly MAX_IN_FLIGHT: number;
  readonly RETRY_AFTER_SECONDS: number;
}

export class ConfigError extends Error {}

/** `mpg-regressor=1,penguin-classifier=2` -> Map. Empty string -> no pins. */
export function parseModelPins(raw: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const part of raw.split(",").map((s) => s.trim())) {
    if (part === "") continue;
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(part);
    if (!m || !MODEL_NAME_PATTERN.test(m[1]) || !MODEL_VERSION_PATTERN.test(m[2])) {
      throw new ConfigError(
        `MODEL_PINS: expected "name=version[,name=version...]", got ${JSON.stringify(part)}`,
      );
    }
    if (pins.has(m[1])) throw new ConfigError(`MODEL_PINS: model ${m[1]} is pinned twice`);
    pins.set(m[1], m[2]);
  }
  return pins;
}

function parseJsonObject(variable: string, raw: string, shape: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(
      `${variable}: not valid JSON (${(e as Error).message}); expected ${shape}`,
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`${variable}: expected ${shape}, got ${JSON.stringify(doc)}`);
  }
  return doc as Record<string, unknown>;
}

function checkModelName(variable: string, name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      `${variable}: ${JSON.stringify(name)} is not a model name (${MODEL_NAME_PATTERN})`,
    );
  }
}

function checkVersion(variable: string, name: string, version: string): void {
  if (!MODEL_VERSION_PATTERN.test(version)) {
    throw new ConfigError(
      `${variable}: ${name} version ${JSON.stringify(version)} is not a version (${MODEL_VERSION_PATTERN})`,
    );
  }
}

/**
 * `{"mpg-regressor": {"1": 90, "2": 10}}` -> Map. Empty string -> no split. Checks the shape only:
 * integer weights 0-100 summing to exactly 100. Whether the models and versions are loaded is
 * checked against the store (TrafficRouter).
 */
export function parseModelTraffic(raw: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  if (raw.trim() === "") return out;
  const shape =
    '{"<model>": {"<version>": <weight>, ...}, ...} with integer weights summing to 100';
  const doc = parseJsonObject("MODEL_TRAFFIC", raw, shape);
  for (const [name, split] of Object.entries(doc)) {
    checkModelName("MODEL_TRAFFIC", name);
    if (typeof split !== "object" || split === null || Array.isArray(split)) {
      throw new ConfigError(
        `MODEL_TRAFFIC: ${name} must map versions to weights, got ${JSON.stringify(split)}`,
      );
    }
    const weights = new Map<string, number>();
    for (const [version, weight] of Object.entries(split as Record<string, unknown>)) {
      checkVersion("MODEL_TRAFFIC", name, version);
      if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new ConfigError(
          `MODEL_TRAFFIC: ${name} version ${version} weight must be an integer from 0 to 100, got ${JSON.stringify(weight)}`,
        );
      }
      weights.set(version, weight);
    }
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    if (total !== 100) {
      const parts = [...weights].map(([v, w]) => `${v}=${w}`).join(", ");
      throw new ConfigError(
        `MODEL_TRAFFIC: ${name} weights must sum to 100, got ${total}` +
          (parts ? ` (${parts})` : " (no versions)"),
      );
    }
    out.set(name, weights);
  }
  return out;
}

/** `{"mpg-regressor": "2"}` -> Map. Empty string -> no shadow. */
export function parseModelShadow(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (raw.trim() === "") return out;
  const doc = parseJsonObject("MODEL_SHADOW", raw, '{"<model>": "<version>", ...}');
  for (const [name, version] of Object.entries(doc)) {
    checkModelName("MODEL_SHADOW", name);
    if (typeof version !== "string") {
      throw new ConfigError(
        `MODEL_SHADOW: ${name} version must be a string such as "2", got ${JSON.stringify(version)}`,
      );
    }
    checkVersion("MODEL_SHADOW", name, version);
    out.set(name, version);
  }
  return out;
}

/** Validates the environment; throws ConfigError whose message names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const data: Record<string, string> = {};
  for (const key of Object.keys(ENV_SCHEMA.properties)) {
    const v = env[key];
    if (v !== undefined) data[key] = v;
  }
  let raw: Record<string, unknown>;
  try {
    raw = envSchema({ schema: ENV_SCHEMA, data, dotenv: false }) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`invalid environment: ${(e as Error).message}`);
  }
  const config: ServiceConfig = {
    PORT: raw.PORT as number,
    GRPC_PORT: raw.GRPC_PORT as number,
    HOST: raw.HOST as string,
    MODEL_DIR: path.resolve(
      (raw.MODEL_DIR as string | undefined) ?? path.join(packageInfo().root, "models"),
    ),
    MODEL_PINS: parseModelPins(raw.MODEL_PINS as string),
    MODEL_TRAFFIC: parseModelTraffic(raw.MODEL_TRAFFIC as string),
    MODEL_SHADOW: parseModelShadow(raw.MODEL_SHADOW as string),
    AB_SUBJECT_HEADER: (raw.AB_SUBJECT_HEADER as string).toLowerCase(),
    LOG_LEVEL: raw.LOG_LEVEL as string,
    BODY_LIMIT_BYTES: raw.BODY_LIMIT_BYTES as number,
    MAX_BATCH_ROWS: raw.MAX_BATCH_ROWS as number,
    SHUTDOWN_GRACE_MS: raw.SHUTDOWN_GRACE_MS as number,
    SHUTDOWN_DELAY_MS: raw.SHUTDOWN_DELAY_MS as number,
    DRIFT_WINDOW: raw.DRIFT_WINDOW as number,
    PAYLOAD_LOG_SAMPLE_RATE: raw.PAYLOAD_LOG_SAMPLE_RATE as number,
    AUTH: authSettings(raw),
    MAX_IN_FLIGHT: raw.MAX_IN_FLIGHT as number,
    RETRY_AFTER_SECONDS: raw.RETRY_AFTER_SECONDS as number,
  };
  if (config.SHUTDOWN_DELAY_MS > config.SHUTDOWN_GRACE_MS) {
    throw new ConfigError(
      `invalid environment: SHUTDOWN_DELAY_MS (${config.SHUTDOWN_DELAY_MS}) must not exceed ` +
        `SHUTDOWN_GRACE_MS (${config.SHUTDOWN_GRACE_MS})`,
    );
  }
  return config;
}

/** The variables each mode needs, checked together: a missing one is named with its mode. */
function authSettings(raw: Record<string, unknown>): AuthSettings {
  const mode = raw.AUTH_MODE as AuthSettings["mode"];
  const need = (variable: string): string => {
    const value = raw[variable] as string | undefined;
    if (value === undefined) {
      throw new ConfigError(`invalid environment: ${variable} is required with AUTH_MODE=${mode}`);
    }
    return value;
  };
  const settings: AuthSettings = {
    mode,
    reloadMs: raw.AUTH_RELOAD_MS as number,
    role: raw.AUTH_ROLE as string,
  };
  if (mode === "key") return { ...settings, keysDir: path.resolve(need("AUTH_KEYS_DIR")) };
  if (mode === "entra") {
    const jwksUrl = need("AUTH_JWKS_URL");
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new ConfigError(
        `invalid environment: AUTH_JWKS_URL: got ${JSON.stringify(jwksUrl)}; expected an https URL`,
      );
    }
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      throw new ConfigError(
        `invalid environment: AUTH_JWKS_URL: got ${JSON.stringify(jwksUrl)}; expected an https URL (http only on loopback, for tests)`,
      );
    }
    return {
      ...settings,
      jwksUrl,
      issuer: need("AUTH_ISSUER"),
      audience: need("AUTH_AUDIENCE"),
    };
  }
  return settings;
}
