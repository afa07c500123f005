/**
 * A batch plugin that brings its own copy of @toil/batch-core (with its own @toil/job and @toil/bus,
 * as a plugin installed in its own folder does): its errors are classes `instanceof` does not know
 * in the leader, yet `toil run` must treat them as the toil-ts errors they are, by their code: a job
 * too big for the plugin is the user's to fix (exit 2 before anything ran, with the advice that
 * goes with it), not a crash with a stack-trace hint. Through the real `toil` CLI.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { FIXTURES, REPO_ROOT, SMALL, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "fidelity.ts");

/** A plugin folder: its own copies of bus, job and batch-core; the real batch-local to run jobs. */
function pluginWithOwnPackages(): string {
  const dir = tempDir("toil-plugin-copies-");
  const modules = path.join(dir, "node_modules");
  for (const name of ["bus", "job", "batch-core"]) {
    const from = path.join(REPO_ROOT, "packages", name);
    const to = path.join(modules, "@toil", name);
    mkdirSync(to, { recursive: true });
    cpSync(path.join(from, "dist"), path.join(to, "dist"), { recursive: true });
    cpSync(path.join(from, "package.json"), path.join(to, "package.json"));
  }
  // The third-party packages the copy of @toil/job depends on: the installed ones.
  const jobManifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "packages", "job", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of Object.keys(jobManifest.dependencies).filter((n) => !n.startsWith("@toil/"))) {
    symlinkSync(realpathSync(path.join(REPO_ROOT, "packages", "job", "node_modules", name)), path.join(modules, name));
  }
  symlinkSync(path.join(REPO_ROOT, "packages", "batch-local"), path.join(modules, "@toil", "batch-local"));
  const plugin = path.join(dir, "picky-batch-system.mjs");
  writeFileSync(
    plugin,
    `import { InsufficientSystemResources } from "@toil/batch-core";
import { SingleMachineBatchSystem } from "@toil/batch-local";

/** Runs jobs on this machine, but refuses any job asking for more than one core. */
export default class PickyBatchSystem extends SingleMachineBatchSystem {
  static batchSystemName = "picky";

  async issueBatchJob(command, jobDesc, env) {
    const cores = jobDesc.requirements.cores;
    if (cores > 1) {
      throw new InsufficientSystemResources({
        resource: "cores", requested: cores, available: 1, jobName: jobDesc.jobName,
        batchSystem: "picky", source: "the picky plugin",
      });
    }
    return super.issueBatchJob(command, jobDesc, env);
  }
}
`,
  );
  return plugin;
}

describe("errors of a plugin's own copy of the packages", { timeout: 300_000 }, () => {
  let plugin: string;
  beforeAll(() => {
    plugin = pluginWithOwnPackages();
  });

  test("a root job the plugin refuses: exit 2, no job store, the advice, no stack-trace hint", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--batchSystem", plugin, "--", "bigRoot", "2"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("toil run: error [InsufficientSystemResources]: ");
    expect(r.stderr).toContain("requests cores = 2, but the limit on the picky batch system is 1 (the picky plugin)");
    expect(r.stderr).toContain("Nothing ran and no job store was left behind");
    expect(r.stderr).not.toContain("Rerun with --logLevel debug");
    expect(existsSync(js), "nothing ran, so no store is left").toBe(false);
  });

  test("a refused job after others ran: exit 1, the store is kept for --restart", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--batchSystem", plugin, "--retryBackoffSeconds", "0", "--", "bigChild", "2"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("toil run: error [InsufficientSystemResources]: ");
    expect(r.stderr).toContain(`The job store ${js} was kept`);
    expect(r.stderr).not.toContain("Rerun with --logLevel debug");
    expect(existsSync(path.join(js, "format.json")), "the store is kept").toBe(true);
  });
});
