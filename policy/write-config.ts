/**
 * Writes config/<stack>.json from config.ts (`npm run config:write -w policy`). A test fails
 * when a file differs from what this writes.
 */
import { writeFileSync } from "fs";
import { join } from "path";
import { ENVIRONMENTS, packConfigFile } from "./config";
import { policies } from "./policies";

for (const environment of ENVIRONMENTS) {
  const file = join(__dirname, "config", `${environment}.json`);
  writeFileSync(file, `${JSON.stringify(packConfigFile(environment, policies), null, 2)}\n`);
}
