# shellcheck shell=bash
# Sourced by scripts/stack-env.sh and scripts/node/images.sh: values of a stack file.

# stack_config_value <repo root> <stack> <key>: a value of mlops:<key> in Pulumi.<stack>.yaml
# (dotted path); exits 1 naming the key when the file sets none.
stack_config_value() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const yaml = require(require.resolve("yaml", { paths: [process.argv[1]] }));
    const fs = require("fs");
    const [root, stack, key] = process.argv.slice(1);
    const config = yaml.parse(fs.readFileSync(`${root}/Pulumi.${stack}.yaml`, "utf8")).config || {};
    const [head, ...rest] = key.split(".");
    let v = config[`mlops:${head}`];
    for (const k of rest) v = v == null ? undefined : v[k];
    if (v == null) { console.error(`Pulumi.${stack}.yaml sets no mlops:${key}`); process.exit(1); }
    process.stdout.write(String(v));' "$1" "$2" "$3"
}
