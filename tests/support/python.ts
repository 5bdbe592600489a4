/**
 * The Python of the test venv (tritonclient, schemathesis), shared by the service suites and the
 * e2e suite: created on first use by service/scripts/pyenv.sh and cached outside the repository
 * (~/.cache/mlops-platform/venv). The script prints the interpreter's path last.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";

const PYENV = path.resolve(__dirname, "../../service/scripts/pyenv.sh");

let python: Promise<string> | undefined;

export function pythonEnv(): Promise<string> {
  python ??= new Promise((resolve, reject) => {
    execFile(
      "bash",
      [PYENV],
      { timeout: 900000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`service/scripts/pyenv.sh failed (${error.code}):\n${stderr}`));
        } else {
          resolve(stdout.trim().split("\n").at(-1)!);
        }
      },
    );
  });
  return python;
}
