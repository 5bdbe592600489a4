/**
 * Checks of the GitHub Actions workflows (.github/workflows) and local composite actions
 * (.github/actions): least privilege, pinned third-party actions, no secrets in scripts, and a
 * pull-request workflow that cannot deploy. Each check is first shown to catch a bad example.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, parseDocument } from "yaml";

const ROOT = path.join(__dirname, "..", "..", "..");
const GITHUB = path.join(ROOT, ".github");

type Obj = Record<string, unknown>;

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Full 40-hex commit SHA pin of a third-party action, with a `# vX.Y.Z` comment on its line. */
const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/;
const PIN_COMMENT = /^\s*(-\s+)?uses:\s*(\S+)\s+#\s*v\d+\.\d+\.\d+\s*$/;

/** Permissions a pull-request job may hold; anything else must be read or none. */
const PR_WRITE_ALLOWED = new Set(["pull-requests", "id-token"]);

function stepsOf(job: Obj): Step[] {
  return Array.isArray(job.steps) ? (job.steps.filter(isObj) as Step[]) : [];
}

/** Violations of the rules that hold for every workflow file. */
function checkWorkflow(name: string, text: string): string[] {
  const problems: string[] = [];
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return [`${name}: not valid YAML: ${doc.errors[0].message}`];
  const wf: unknown = doc.toJS();
  if (!isObj(wf)) return [`${name}: not a mapping`];
  const on = wf.on ?? wf[String(true)]; // `on` is a string key for `yaml` (YAML 1.2)
  const triggers = typeof on === "string" ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {});
  if (triggers.includes("pull_request_target")) {
    problems.push(`${name}: uses pull_request_target (runs fork code with secrets)`);
  }
  if (!("permissions" in wf)) problems.push(`${name}: no top-level permissions`);
  if (typeof wf.permissions === "string" && wf.permissions.startsWith("write")) {
    problems.push(`${name}: top-level permissions ${wf.permissions}`);
  }
  const jobs = isObj(wf.jobs) ? wf.jobs : {};
  if (Object.keys(jobs).length === 0) problems.push(`${name}: no jobs`);
  for (const [id, job] of Object.entries(jobs)) {
    if (!isObj(job)) continue;
    if (!("permissions" in job)) problems.push(`${name}: job ${id} has no explicit permissions`);
    if (typeof job.permissions === "string") {
      problems.push(`${name}: job ${id} permissions "${job.permissions}"; list them per scope`);
    }
    if (typeof job.uses === "string") problems.push(...checkUses(`${name}: job ${id}`, job.uses));
    problems.push(...checkSteps(`${name}: job ${id}`, stepsOf(job)));
  }
  problems.push(...checkPinComments(name, text));
  return problems;
}

/** Violations in a local composite action (.github/actions/<name>/action.yml). */
function checkCompositeAction(name: string, text: string): string[] {
  const action: unknown = parse(text);
  if (!isObj(action) || !isObj(action.runs)) return [`${name}: not an action`];
  const steps = Array.isArray(action.runs.steps) ? (action.runs.steps.filter(isObj) as Step[]) : [];
  return [...checkSteps(name, steps), ...checkPinComments(name, text)];
}

function checkSteps(where: string, steps: readonly Step[]): string[] {
  const problems: string[] = [];
  steps.forEach((step, i) => {
    if (typeof step.uses === "string") problems.push(...checkUses(`${where} step ${i}`, step.uses));
    if (typeof step.run === "string") {
      if (/\bsecrets\./.test(step.run)) {
        problems.push(`${where} step ${i}: reads secrets.* inside run (map it through env)`);
      }
      if (/\b(echo|printf)\b[^\n]*\$\{\{\s*secrets\./.test(step.run)) {
        problems.push(`${where} step ${i}: echoes a secret`);
      }
    }
  });
  return problems;
}

function checkUses(where: string, uses: string): string[] {
  if (uses.startsWith("./")) return [];
  if (uses.startsWith("docker://")) {
    return /@sha256:[0-9a-f]{64}$/.test(uses) ? [] : [`${where}: ${uses} is not pinned by digest`];
  }
  return PINNED.test(uses) ? [] : [`${where}: ${uses} is not pinned to a full commit SHA`];
}

/** Every third-party `uses:` line carries its release as a `# vX.Y.Z` comment. */
function checkPinComments(name: string, text: string): string[] {
  const problems: string[] = [];
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(-\s+)?uses:\s*(\S+)/.exec(line);
    if (m === null || m[2].startsWith("./")) return;
    if (!PIN_COMMENT.test(line)) {
      problems.push(
        `${name}:${i + 1}: ${m[2]} has no "# vX.Y.Z" comment naming the pinned release`,
      );
    }
  });
  return problems;
}

/** Extra rules for the pull-request workflow: it can preview but never deploy. */
function checkPullRequestWorkflow(
  name: string,
  text: string,
  localActions: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const wf = parse(text) as Obj;
  const jobs = isObj(wf.jobs) ? wf.jobs : {};
  for (const [id, job] of Object.entries(jobs)) {
    if (!isObj(job)) continue;
    const perms = isObj(job.permissions) ? job.permissions : {};
    for (const [scope, level] of Object.entries(perms)) {
      if (level === "write" && !PR_WRITE_ALLOWED.has(scope)) {
        problems.push(`${name}: job ${id} has ${scope}: write`);
      }
    }
    if ("environment" in job) problems.push(`${name}: job ${id} uses a deployment environment`);
    const scripts: string[] = [];
    for (const step of stepsOf(job)) {
      if (typeof step.run === "string") scripts.push(step.run);
      if (typeof step.uses === "string" && step.uses.startsWith("./")) {
        scripts.push(localActions[step.uses.replace(/^\.\//, "").replace(/\/$/, "")] ?? "");
      }
      if (typeof step.uses === "string" && /^pulumi\/actions@/.test(step.uses)) {
        const command = isObj(step.with) ? step.with.command : undefined;
        if (command !== undefined && command !== "preview") {
          problems.push(`${name}: job ${id} runs pulumi/actions command ${String(command)}`);
        }
      }
    }
    for (const script of scripts) {
      const m = /\bpulumi\s+(up|update|destroy|refresh|import|state|cancel)\b/.exec(script);
      if (m !== null) problems.push(`${name}: job ${id} runs \`pulumi ${m[1]}\``);
      if (/\bgit\s+push\b/.test(script)) problems.push(`${name}: job ${id} runs git push`);
    }
  }
  return problems;
}

/**
 * Every `pulumi …` and `npm run …` command of a workflow's run steps that names a stack, as
 * `<file>:<job> <command> --stack <stack>` (plus `--policy-pack-config <stack>` when it has one).
 * `$VAR` and `${VAR}` are replaced by the job's (or the workflow's) env, and `${{ matrix.x }}` in
 * that env by each value of the job's matrix (one entry per value): what the command really runs
 * on. A variable with no value becomes `<unset:VAR>`. Each command is listed once.
 */
function stackCommands(file: string, text: string): string[] {
  const wf = parse(text) as Obj;
  const out = new Set<string>();
  for (const [id, job] of Object.entries(isObj(wf.jobs) ? wf.jobs : {})) {
    if (!isObj(job)) continue;
    const env: Obj = { ...(isObj(wf.env) ? wf.env : {}), ...(isObj(job.env) ? job.env : {}) };
    const matrix = isObj(job.strategy) && isObj(job.strategy.matrix) ? job.strategy.matrix : {};
    let rows: Record<string, string>[] = [{}];
    for (const [key, values] of Object.entries(matrix)) {
      if (!Array.isArray(values)) continue;
      rows = rows.flatMap((row) => values.map((v) => ({ ...row, [key]: String(v) })));
    }
    for (const row of rows) {
      const value = (name: string): string => {
        const v = env[name];
        if (typeof v !== "string") return `<unset:${name}>`;
        return v.replace(
          /\$\{\{\s*matrix\.(\w+)\s*\}\}/g,
          (_, k: string) => row[k] ?? `<no-matrix:${k}>`,
        );
      };
      for (const step of stepsOf(job)) {
        // One logical line per command: join backslash continuations, then expand variables.
        const script = (step.run ?? "")
          .replace(/\\\n\s*/g, " ")
          .replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_, name: string) => value(name));
        for (const line of script.split("\n")) {
          const command = /\b(pulumi\s+[a-z]+(?:\s+output)?|npm run (?:--silent\s+)?[\w:-]+)/.exec(
            line,
          );
          const stack = /--stack[= ]"?([^"\s]+)"?/.exec(line);
          if (command === null || stack === null) continue;
          const config = /--policy-pack-config[= ]"?policy\/config\/([^"\s]+)\.json"?/.exec(line);
          const name = command[1].replace("--silent ", "").replace(/\s+/g, " ");
          const c = config === null ? "" : ` --policy-pack-config ${config[1]}`;
          out.add(`${file}:${id} ${name} --stack ${stack[1]}${c}`);
        }
      }
    }
  }
  return [...out];
}

function readTree(dir: string, match: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const file = path.join(dir, entry);
    if (match.test(entry) && fs.statSync(file).isFile()) out[entry] = fs.readFileSync(file, "utf8");
  }
  return out;
}

const workflows = readTree(path.join(GITHUB, "workflows"), /\.ya?ml$/);
/** Keyed by the path a workflow writes in `uses: ./<path>`. */
const localActions = Object.fromEntries(
  Object.entries(readTree(path.join(GITHUB, "actions"), /(^|\/)action\.ya?ml$/)).map(
    ([file, text]) => [`.github/actions/${path.dirname(file)}`, text],
  ),
);

const SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1";

describe("the checks catch what they are for", () => {
  const good = (body: string): string =>
    `on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n${body}`;

  it("a job without explicit permissions", () => {
    expect(checkWorkflow("w", good("    steps:\n      - run: true\n"))).toEqual([
      "w: job a has no explicit permissions",
    ]);
  });

  it("a tag, a branch or a short SHA instead of a full commit SHA, and a missing version comment", () => {
    const text = good(
      [
        "    permissions: {}",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/checkout@main # v4.2.2",
        "      - uses: actions/checkout@3d3c42e # v7.0.1",
        `      - uses: actions/checkout@${SHA}`,
        `      - uses: actions/checkout@${SHA} # v7.0.1`,
        "      - uses: ./.github/actions/setup",
        "",
      ].join("\n"),
    );
    expect(checkWorkflow("w", text)).toEqual([
      "w: job a step 0: actions/checkout@v4 is not pinned to a full commit SHA",
      "w: job a step 1: actions/checkout@main is not pinned to a full commit SHA",
      "w: job a step 2: actions/checkout@3d3c42e is not pinned to a full commit SHA",
      'w:8: actions/checkout@v4 has no "# vX.Y.Z" comment naming the pinned release',
      `w:11: actions/checkout@${SHA} has no "# vX.Y.Z" comment naming the pinned release`,
    ]);
  });

  it("secrets read or echoed in a script", () => {
    const text = good(
      [
        "    permissions: {}",
        "    env:",
        "      TOKEN: ${{ secrets.TOKEN }}",
        "    steps:",
        '      - run: echo "${{ secrets.TOKEN }}"',
        '      - run: curl -H "token ${{ secrets.TOKEN }}" url',
        '      - run: curl -H "token $TOKEN" url',
        "",
      ].join("\n"),
    );
    expect(checkWorkflow("w", text)).toEqual([
      "w: job a step 0: reads secrets.* inside run (map it through env)",
      "w: job a step 0: echoes a secret",
      "w: job a step 1: reads secrets.* inside run (map it through env)",
    ]);
  });

  it("pull_request_target and missing top-level permissions", () => {
    expect(
      checkWorkflow("w", "on: [pull_request_target]\njobs:\n  a:\n    permissions: {}\n"),
    ).toEqual([
      "w: uses pull_request_target (runs fork code with secrets)",
      "w: no top-level permissions",
    ]);
  });

  it("a pull-request workflow that could deploy", () => {
    const text = [
      "on: pull_request",
      "permissions: {}",
      "jobs:",
      "  a:",
      "    environment: production",
      "    permissions:",
      "      contents: write",
      "      pull-requests: write",
      "      id-token: write",
      "    steps:",
      "      - run: pulumi preview --stack dev",
      "      - run: pulumi up --stack dev --yes",
      `      - uses: pulumi/actions@${SHA} # v7.0.0`,
      "        with:",
      "          command: destroy",
      "      - uses: ./.github/actions/deploy",
      "",
    ].join("\n");
    expect(
      checkPullRequestWorkflow("pr", text, {
        ".github/actions/deploy": "runs:\n  steps:\n    - run: pulumi destroy --yes\n",
      }),
    ).toEqual([
      "pr: job a has contents: write",
      "pr: job a uses a deployment environment",
      "pr: job a runs pulumi/actions command destroy",
      "pr: job a runs `pulumi up`",
      "pr: job a runs `pulumi destroy`",
    ]);
  });

  it("stackCommands resolves what a job really runs on", () => {
    const text = [
      "on: push",
      "jobs:",
      "  a:",
      "    env: { STACK: dev }",
      "    strategy: { matrix: { stack: [x, y] } }",
      "    steps:",
      "      - run: |",
      "          pulumi up --stack prod --yes \\",
      '            --policy-pack policy --policy-pack-config "policy/config/$STACK.json"',
      '          pulumi preview --stack "$STACK"',
      "  b:",
      "    env:",
      '      STACK: "${{ matrix.stack }}"',
      "    strategy: { matrix: { stack: [x, y] } }",
      "    steps:",
      "      - run: npm run --silent azure:names -- --stack=${STACK} --field registry",
      "      - run: pulumi destroy --stack $OTHER",
      "",
    ].join("\n");
    expect(stackCommands("w", text).sort()).toEqual([
      "w:a pulumi preview --stack dev",
      "w:a pulumi up --stack prod --policy-pack-config dev",
      "w:b npm run azure:names --stack x",
      "w:b npm run azure:names --stack y",
      "w:b pulumi destroy --stack <unset:OTHER>",
    ]);
  });
});

describe("the repository's workflows", () => {
  it("exist: pr, main, promote, train", () => {
    expect(Object.keys(workflows).sort()).toEqual(
      expect.arrayContaining(["main.yml", "pr.yml", "promote.yml", "train.yml"]),
    );
  });

  it.each(Object.keys(workflows).sort())(
    "%s: permissions per job, pinned actions, no secrets in scripts",
    (file) => {
      expect(checkWorkflow(file, workflows[file])).toEqual([]);
    },
  );

  it.each(Object.keys(localActions).sort())("%s: pinned actions, no secrets in scripts", (dir) => {
    expect(checkCompositeAction(dir, localActions[dir])).toEqual([]);
  });

  it("every local action a workflow uses exists", () => {
    const used = Object.values(workflows).flatMap((text) =>
      [...text.matchAll(/uses:\s*\.\/(\S+)/g)].map((m) => m[1].replace(/\/$/, "")),
    );
    expect(new Set(used)).toEqual(new Set([".github/actions/setup"]));
    for (const action of used) expect(Object.keys(localActions)).toContain(action);
  });

  it("pr.yml runs on pull_request only, checks everything, and cannot deploy", () => {
    const text = workflows["pr.yml"];
    const wf = parse(text) as Obj;
    expect(Object.keys(wf.on as Obj)).toEqual(["pull_request"]);
    expect(checkPullRequestWorkflow("pr.yml", text, localActions)).toEqual([]);
    expect(text).toContain("npm run lint");
    expect(text).toContain("npm run typecheck");
    expect(text).toContain("npx jest --selectProjects unit policy service");
    for (const stack of ["dev", "prod"]) {
      expect((((wf.jobs as Obj).preview as Obj).strategy as Obj).matrix).toEqual({
        stack: ["dev", "prod"],
      });
      expect(fs.existsSync(path.join(ROOT, "policy", "config", `${stack}.json`))).toBe(true);
    }
    expect(text).toContain('--policy-pack policy --policy-pack-config "policy/config/$STACK.json"');
    expect(wf.concurrency).toEqual({
      group: "pr-${{ github.event.pull_request.number }}",
      "cancel-in-progress": true,
    });
  });

  it("runs every stack command on the stack its job is for, with that stack's policy config", () => {
    const commands = Object.entries(workflows).flatMap(([file, text]) => stackCommands(file, text));
    expect(commands.sort()).toEqual(
      [
        "main.yml:deploy-dev npm run azure:names --stack dev",
        "main.yml:deploy-dev pulumi stack output --stack dev",
        "main.yml:deploy-dev pulumi up --stack dev --policy-pack-config dev",
        "pr.yml:preview npm run preview:summary --stack dev",
        "pr.yml:preview npm run preview:summary --stack prod",
        "pr.yml:preview pulumi preview --stack dev --policy-pack-config dev",
        "pr.yml:preview pulumi preview --stack prod --policy-pack-config prod",
        "promote.yml:deploy-prod pulumi stack output --stack prod",
        "promote.yml:deploy-prod pulumi up --stack prod --policy-pack-config prod",
      ].sort(),
    );
  });

  it("deploys to prod only from promote.yml, in the production environment", () => {
    const prodUps = Object.entries(workflows)
      .flatMap(([file, text]) => stackCommands(file, text))
      .filter((c) => / pulumi up --stack prod\b/.test(c))
      .map((c) => c.split(" ")[0]);
    expect(prodUps).toEqual(["promote.yml:deploy-prod"]);
    const job = ((parse(workflows["promote.yml"]) as Obj).jobs as Obj)["deploy-prod"] as Obj;
    expect(job.environment).toBe("production");
    // The promotion job itself deploys nothing: it writes dev's release into Pulumi.prod.yaml.
    const promote = ((parse(workflows["promote.yml"]) as Obj).jobs as Obj).promote as Obj;
    const scripts = stepsOf(promote).map((s) => s.run ?? "");
    expect(scripts.join("\n")).not.toMatch(/\bpulumi\s+(up|destroy)\b/);
    expect(scripts.join("\n")).toContain("args=(--from dev --to prod)");
  });

  /** Jobs that run `pulumi up --stack` or `pulumi preview --stack` (dev, prod: Azure stacks). */
  const azureJobs = (): Array<[string, Obj]> =>
    Object.entries(workflows).flatMap(([file, text]) =>
      Object.entries((parse(text) as Obj).jobs as Obj)
        .map(([id, job]) => [`${file}:${id}`, job as Obj] as [string, Obj])
        .filter(([, job]) => {
          const scripts = stepsOf(job)
            .map((s) => s.run ?? "")
            .join("\n");
          return /\bpulumi (up|preview) --stack\b/.test(scripts);
        }),
    );

  it("every job that reaches a cluster installs kubelogin and logs it in with a fresh GitHub OIDC token per call", () => {
    const jobs = azureJobs();
    expect(jobs.map(([id]) => id).sort()).toEqual([
      "main.yml:deploy-dev",
      "pr.yml:preview",
      "promote.yml:deploy-prod",
    ]);
    for (const [id, job] of jobs) {
      const setup = stepsOf(job).find((s) => s.uses === "./.github/actions/setup");
      expect({ id, kubelogin: setup?.with?.kubelogin }).toEqual({ id, kubelogin: "true" });
      // Not azurecli: the CLI's federated assertion expires minutes after azure/login and cannot
      // be refreshed (AADSTS700024), and the first cluster token is asked for only after the
      // cluster exists. workloadidentity with the Actions ID-token variables (set by the runner
      // under id-token: write) fetches a new GitHub token for every kubelogin call.
      const env = job.env as Obj;
      expect({ id, method: env.AAD_LOGIN_METHOD }).toEqual({ id, method: "workloadidentity" });
      expect({ id, client: env.AZURE_CLIENT_ID }).toEqual({ id, client: env.ARM_CLIENT_ID });
      expect({ id, tenant: env.AZURE_TENANT_ID }).toEqual({ id, tenant: env.ARM_TENANT_ID });
      expect({ id, client: setup?.with?.["azure-client-id"] }).toEqual({
        id,
        client: env.ARM_CLIENT_ID,
      });
      expect({ id, idToken: (job.permissions as Obj)["id-token"] }).toEqual({
        id,
        idToken: "write",
      });
    }
    const setup = localActions[".github/actions/setup"];
    // The GitHub Actions token source of workloadidentity arrived in kubelogin v0.2.0.
    const version = /--kubelogin-version v(\d+)\.(\d+)\.(\d+)\b/.exec(setup);
    expect(version).not.toBeNull();
    const [major, minor] = [Number(version![1]), Number(version![2])];
    expect(major > 0 || minor >= 2).toBe(true);
    expect(setup).toContain(
      '--install-location "$bin/kubectl" --kubelogin-install-location "$bin/kubelogin"',
    );
    expect(setup).toContain('echo "$bin" >> "$GITHUB_PATH"');
  });

  it("a deploy job ends before the state backend's first token must be refreshed", () => {
    // The azblob backend's token comes from the Azure CLI login once, at the start of `pulumi
    // up`; Entra access tokens live 60 to 90 minutes and are refreshed 5 minutes before expiry,
    // when the CLI's federated assertion is long gone. So no job may run past 55 minutes.
    for (const [id, job] of azureJobs()) {
      expect({ id, short: Number(job["timeout-minutes"]) <= 50 }).toEqual({ id, short: true });
    }
  });

  it("every job that reaches a stack checks, before pulumi runs, that its stack file holds the passphrase's encryptionsalt", () => {
    for (const [id, job] of azureJobs()) {
      const steps = stepsOf(job);
      const check = steps.findIndex(
        (s) => s.run?.trim() === '.github/scripts/check-stack-salt.sh "$STACK"',
      );
      const pulumi = steps.findIndex((s) => /\bpulumi (up|preview) --stack\b/.test(s.run ?? ""));
      expect({ id, check: check > -1 && check < pulumi }).toEqual({ id, check: true });
    }
  });

  describe("check-stack-salt.sh", () => {
    const script = path.join(GITHUB, "scripts", "check-stack-salt.sh");
    const runIn = (stackFile: string | undefined, backend: string | undefined) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "salt-"));
      if (stackFile !== undefined) fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackFile);
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
      if (backend !== undefined) env.PULUMI_BACKEND_URL = backend;
      const r = spawnSync("bash", [script, "dev"], { cwd: dir, env, encoding: "utf8" });
      fs.rmSync(dir, { recursive: true, force: true });
      return { status: r.status, stderr: r.stderr.trim() };
    };
    const blob = "azblob://pulumi-state?storage_account=x";

    it("refuses a self-managed backend's stack file without the salt, saying what to do", () => {
      expect(runIn("config:\n  mlops:environment: dev\n", blob)).toEqual({
        status: 1,
        stderr:
          "::error::Pulumi.dev.yaml has no encryptionsalt line: run `pulumi stack init dev` once " +
          "with the passphrase and commit Pulumi.dev.yaml (docs/azure.md, 1.6)",
      });
    });

    it("passes with the salt, and on Pulumi Cloud without one", () => {
      expect(runIn("encryptionsalt: v1:abc=:v1:def:ghi==\nconfig: {}\n", blob).status).toBe(0);
      expect(runIn("config: {}\n", undefined).status).toBe(0);
      expect(runIn("config: {}\n", "https://api.pulumi.com").status).toBe(0);
    });
  });

  it("the deploy jobs smoke-test through the Service (independent of DNS for the Gateway)", () => {
    for (const [file, id] of [
      ["main.yml", "deploy-dev"],
      ["promote.yml", "deploy-prod"],
    ]) {
      const steps = stepsOf(((parse(workflows[file]) as Obj).jobs as Obj)[id] as Obj);
      const up = steps.findIndex((s) => /\bpulumi up\b/.test(s.run ?? ""));
      const smoke = steps.findIndex((s) => /smoke-test/.test(s.run ?? ""));
      expect({ file, run: steps[smoke]?.run?.trim() }).toEqual({
        file,
        run: '.github/scripts/smoke-test-port-forward.sh "$STACK"',
      });
      expect(up).toBeGreaterThan(-1);
      expect(smoke).toBeGreaterThan(up);
    }
  });

  it("pr.yml previews only with the read-only preview identity, never the deploying one", () => {
    const text = workflows["pr.yml"];
    const jobs = (parse(text) as Obj).jobs as Obj;
    const preview = jobs.preview as Obj;
    expect(text).not.toContain("vars.AZURE_CLIENT_ID");
    expect((preview.env as Obj).ARM_CLIENT_ID).toBe("${{ vars.AZURE_PREVIEW_CLIENT_ID }}");
    const setup = stepsOf(preview).find((s) => s.uses === "./.github/actions/setup");
    expect(setup?.with?.["azure-client-id"]).toBe("${{ vars.AZURE_PREVIEW_CLIENT_ID }}");
    // Without it the preview does not run, and preview-skipped says why.
    expect(preview.if).toContain("vars.AZURE_PREVIEW_CLIENT_ID != ''");
    const skipped = jobs["preview-skipped"] as Obj;
    expect(skipped.if).toContain("vars.AZURE_PREVIEW_CLIENT_ID == ''");
    expect(skipped.permissions).toEqual({});
    expect(stepsOf(skipped)[0].run).toContain("AZURE_PREVIEW_CLIENT_ID");
  });

  it("main.yml deploys a fresh dev: the registry it pushes to is the shared one, named by the program", () => {
    const text = workflows["main.yml"];
    expect(text).not.toContain("DEV_REGISTRY_LOGIN_SERVER");
    const steps = stepsOf(((parse(text) as Obj).jobs as Obj)["deploy-dev"] as Obj);
    const login = steps.findIndex((s) => /\baz acr login\b/.test(s.run ?? ""));
    const up = steps.findIndex((s) => /\bpulumi up\b/.test(s.run ?? ""));
    expect(login).toBeGreaterThan(-1);
    expect(login).toBeLessThan(up);
    expect(steps[login].run).toContain(
      'npm run --silent azure:names -- --stack "$STACK" --field registry',
    );
  });

  it("train.yml opens a pull request and never pushes to main", () => {
    const text = workflows["train.yml"];
    expect(text).not.toMatch(/\bgit\s+push\b/);
    const steps = stepsOf(((parse(text) as Obj).jobs as Obj).train as Obj);
    const pr = steps.find((s) => s.uses?.startsWith("peter-evans/create-pull-request@"));
    expect(pr?.with?.branch).not.toBe("main");
    expect(pr?.with?.base).toBe("main");
  });

  it("every pinned action is listed with its SHA in .github/ACTIONS_PINNING.md", () => {
    const doc = fs.readFileSync(path.join(GITHUB, "ACTIONS_PINNING.md"), "utf8");
    const all = [...Object.values(workflows), ...Object.values(localActions)].join("\n");
    const pins = new Set([...all.matchAll(/uses:\s*([^\s@]+)@([0-9a-f]{40})/g)].map((m) => m[0]));
    expect(pins.size).toBeGreaterThan(0);
    for (const pin of pins) {
      const [, action, sha] = /uses:\s*([^\s@]+)@([0-9a-f]{40})/.exec(pin)!;
      expect(doc).toContain(`\`${action}\``);
      expect(doc).toContain(sha);
    }
  });
});
