/**
 * A new user's project: an empty folder outside the repository, `npm init -y`, `@toil/job` and
 * `@toil/leader` installed the way `npm install` lays them out (linked to this workspace's built
 * packages, as `npm link` would), and a workflow file written there, run with `npx toil run` as
 * the README says.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, "..", "..", "..", "..");
const LEADER = path.join(REPO_ROOT, "apps", "leader");
const JOB = path.join(REPO_ROOT, "packages", "job");

/** A job's unit name as input data can bring it (a sample name): clears the screen and retitles the terminal if printed raw. */
const HOSTILE_NAME = "x\u001b[2J\u001b]0;pwned\u0007y";
/** The same name as the CLI must show it (`cat -v`). */
export const HOSTILE_SHOWN = "x^[[2J^[]0;pwned^Gy";

/**
 * The workflow: a root job with eight children that finish one after another, each logging one
 * long line (longer than a 200-column terminal). `succeed` finishes; `fail` makes the last child
 * (named with {@link HOSTILE_NAME}) throw an error whose message carries ANSI codes; `kill` makes
 * the last five children sleep for minutes, to be stopped with Ctrl-C.
 */
const FLOW_TS = `// flow.ts
import { Job, type FileStore } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

const HOSTILE = ${JSON.stringify(HOSTILE_NAME)};

export class Step extends Job {
  constructor(readonly n: number, readonly ms: number, readonly fail: boolean) {
    super({ cores: 0.1, memory: "64Mi", disk: "1Mi", ...(fail ? { unitName: HOSTILE, displayName: HOSTILE } : {}) });
  }
  async run(fileStore: FileStore) {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    if (this.fail) throw new Error("step " + this.n + " failed on purpose: \\u001b[31mred\\u001b[0m and \\u001b]0;pwned\\u0007");
    const words = Array.from({ length: 40 }, (_, i) => "word" + String(i).padStart(2, "0")).join(" ");
    fileStore.logToLeader("step " + this.n + " of 8 is done; " + words + " end-of-step-" + this.n);
    return this.n;
  }
}

export class Root extends Job {
  constructor(readonly mode: string) { super({ cores: 0.1, memory: "64Mi", disk: "1Mi" }); }
  run() {
    for (let n = 1; n <= 8; n++) {
      const slow = this.mode === "kill" && n > 3;
      this.addChild(new Step(n, slow ? 300_000 : 1500 + 600 * n, this.mode === "fail" && n === 8));
    }
    return this.mode;
  }
}

export default function main({ args }: WorkflowContext) { return new Root(args[0] ?? "succeed"); }
`;

/** Make the project folder; returns its path. */
export function newProject(prefix = "toil-first-hour-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const nm = path.join(dir, "node_modules");
  mkdirSync(path.join(nm, "@toil"), { recursive: true });
  mkdirSync(path.join(nm, ".bin"), { recursive: true });
  symlinkSync(LEADER, path.join(nm, "@toil", "leader"), "dir");
  symlinkSync(JOB, path.join(nm, "@toil", "job"), "dir");
  symlinkSync(path.join("..", "@toil", "leader", "dist", "cli.js"), path.join(nm, ".bin", "toil"));
  // The README starts with `npm init -y` (a CommonJS package.json).
  execFileSync("npm", ["init", "-y"], { cwd: dir, stdio: "ignore", env: userEnv() });
  writeFileSync(path.join(dir, "flow.ts"), FLOW_TS);
  return dir;
}

/** The built CLI must exist (`pnpm build`). */
export function requireBuiltCli(): void {
  const cli = path.join(LEADER, "dist", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (pnpm build).`);
}

/** The environment a person's shell has: none of the test runner's or package manager's variables. */
export function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(VITEST|npm_|PNPM_|NODE_OPTIONS$|NODE_PATH$|TOIL_|TMUX)/i.test(k)) env[k] = v;
  }
  env.npm_config_update_notifier = "false";
  env.LANG = "C.UTF-8";
  return env;
}
