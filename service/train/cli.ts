import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  MODEL_NAME_PATTERN,
  MODEL_VERSION_PATTERN,
  type ModelArtifact,
} from "../src/model/artifact";
import { loadDataset } from "./datasets";
import { DATASETS } from "./models";
import { DEFAULT_TRAIN_OPTIONS, trainModel, type TrainOptions } from "./pipeline";

/** Greedy word wrap at `width` columns. */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join("\n");
}

const TRAINS = new Intl.ListFormat("en", { type: "conjunction" }).format(
  DATASETS.map((d) => `${d.modelName} (${d.file})`),
);

export const USAGE = `Usage: node dist/train/main.js --out <dir> [options]

${wrap(
  `Trains ${TRAINS} from the vega-datasets package and writes ` +
    "<dir>/<model-name>/<version>/model.json. Nothing is written unless every model passes the " +
    "quality gate.",
)}

Options (environment variable in brackets):
  --out <dir>            output directory                          [MODEL_OUTPUT_DIR]
  --version <v>          artifact version, default "1"             [MODEL_VERSION]
  --seed <int>           shuffle/split seed, default 42            [TRAIN_SEED]
  --test-fraction <f>    held-out fraction, default 0.2            [TEST_FRACTION]
  --min-r2 <f>           quality gate: minimum held-out R² of the regressor, default 0.7  [MIN_R2]
  --min-accuracy <f>     quality gate: minimum held-out accuracy of the classifier, default 0.9
                                                                   [MIN_ACCURACY]
  --if-empty             do nothing when <dir> already holds a model.json
  --help                 print this text

GIT_SHA (optional) is recorded in the artifact's codeVersion; SOURCE_DATE_EPOCH (seconds), when
set, fixes createdAt for reproducible bytes.
Exit codes: 0 published, 2 bad usage, 3 quality gate failed, 1 other error.`;

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_QUALITY_GATE = 3;

export class UsageError extends Error {}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface CliConfig {
  readonly outDir: string;
  readonly ifEmpty: boolean;
  readonly minR2: number;
  readonly minAccuracy: number;
  readonly options: TrainOptions;
}

function numberArg(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(
      `${name} must be a number in [${min}, ${max}], got ${JSON.stringify(raw)}`,
    );
  }
  return v;
}

/** Flags win over environment variables; both are validated. Throws UsageError. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliConfig | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string" },
        version: { type: "string" },
        seed: { type: "string" },
        "test-fraction": { type: "string" },
        "min-r2": { type: "string" },
        "min-accuracy": { type: "string" },
        "if-empty": { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return "help";
  const outDir = values.out ?? env.MODEL_OUTPUT_DIR;
  if (!outDir) throw new UsageError("--out <dir> (or MODEL_OUTPUT_DIR) is required");
  const version = values.version ?? env.MODEL_VERSION ?? DEFAULT_TRAIN_OPTIONS.version;
  if (!MODEL_VERSION_PATTERN.test(version)) {
    throw new UsageError(
      `--version must match ${MODEL_VERSION_PATTERN}, got ${JSON.stringify(version)}`,
    );
  }
  const seed = numberArg(
    "--seed",
    values.seed ?? env.TRAIN_SEED,
    DEFAULT_TRAIN_OPTIONS.seed,
    0,
    2 ** 32 - 1,
  );
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${seed}`);
  const epoch = env.SOURCE_DATE_EPOCH;
  let createdAt: string | undefined;
  if (epoch !== undefined && epoch !== "") {
    const secs = numberArg("SOURCE_DATE_EPOCH", epoch, 0, 0, 2 ** 40);
    createdAt = new Date(secs * 1000).toISOString();
  }
  return {
    outDir,
    ifEmpty: values["if-empty"] ?? false,
    minR2: numberArg("--min-r2", values["min-r2"] ?? env.MIN_R2, 0.7, -1e9, 1),
    minAccuracy: numberArg("--min-accuracy", values["min-accuracy"] ?? env.MIN_ACCURACY, 0.9, 0, 1),
    options: {
      ...DEFAULT_TRAIN_OPTIONS,
      version,
      seed,
      testFraction: numberArg(
        "--test-fraction",
        values["test-fraction"] ?? env.TEST_FRACTION,
        DEFAULT_TRAIN_OPTIONS.testFraction,
        0.05,
        0.5,
      ),
      createdAt,
      gitSha: env.GIT_SHA ? env.GIT_SHA : null,
    },
  };
}

/** True when `dir` already holds at least one `<name>/<version>/model.json`. */
export function hasArtifacts(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const name of readdirSync(dir)) {
    if (!MODEL_NAME_PATTERN.test(name)) continue;
    const modelDir = path.join(dir, name);
    try {
      for (const version of readdirSync(modelDir)) {
        if (existsSync(path.join(modelDir, version, "model.json"))) return true;
      }
    } catch {
      // not a directory
    }
  }
  return false;
}

/** Writes `<dir>/<name>/<version>/model.json` atomically (temp file + rename). */
export function writeArtifact(dir: string, artifact: ModelArtifact): string {
  const target = path.join(dir, artifact.name, artifact.version);
  mkdirSync(target, { recursive: true });
  const file = path.join(target, "model.json");
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(artifact, null, 2) + "\n");
  renameSync(tmp, file);
  return file;
}

/** The whole command; returns the exit code instead of exiting, so tests can call it. */
export function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): number {
  let config: CliConfig | "help";
  try {
    config = parseCli(argv, env);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`train: ${e.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (config === "help") {
    io.out(USAGE);
    return EXIT_OK;
  }
  if (config.ifEmpty && hasArtifacts(config.outDir)) {
    io.out(`train: ${config.outDir} already holds models; nothing to do (--if-empty)`);
    return EXIT_OK;
  }

  const results = DATASETS.map((spec) => trainModel(spec, loadDataset(spec), config.options));
  const failures: string[] = [];
  for (const { artifact, gate } of results) {
    const floor = gate.metric === "r2" ? config.minR2 : config.minAccuracy;
    const metrics = Object.entries(artifact.metrics)
      .map(([k, v]) => `${k}=${v.toFixed(4)}`)
      .join(" ");
    io.out(
      `train: ${artifact.name}@${artifact.version} held-out ${metrics} (gate: ${gate.metric} >= ${floor})`,
    );
    if (!(gate.value >= floor)) {
      failures.push(
        `${artifact.name}: held-out ${gate.metric} ${gate.value.toFixed(4)} is below the floor ${floor}` +
          ` (set with --${gate.metric === "r2" ? "min-r2" : "min-accuracy"})`,
      );
    }
  }
  if (failures.length > 0) {
    io.err(`train: quality gate failed; no artifact was published\n  ${failures.join("\n  ")}`);
    return EXIT_QUALITY_GATE;
  }
  for (const { artifact } of results) {
    io.out(`train: wrote ${writeArtifact(config.outDir, artifact)}`);
  }
  return EXIT_OK;
}
