/**
 * The standalone bundle (dist/standalone) runs a workflow with only Node: copied away from the
 * repository, with no node_modules anywhere above the workflow file.
 */
import { cpSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";
import { LEADER_DIR, tempDir } from "./helpers.js";

test("the standalone toil runs a .mjs workflow that imports @toil/job, with warm workers", { timeout: 180_000 }, () => {
  const d = tempDir("toil-standalone-");
  const app = path.join(d, "app");
  cpSync(path.join(LEADER_DIR, "dist", "standalone"), app, { recursive: true });
  const flow = path.join(d, "flow.mjs");
  writeFileSync(
    flow,
    `import { Job } from "@toil/job";
export function square(i) { return i * i; }
export function sum(xs) { return xs.reduce((a, b) => a + b, 0); }
export function fan(job, n) { const r = []; for (let i = 0; i < n; i++) r.push(job.addChildFn(square, i).rv()); return job.addFollowOnFn(sum, r).rv(); }
export default function main({ args }) { return Job.wrapJobFn(fan, Number(args[0])); }
`,
  );
  const r = spawnSync(
    process.execPath,
    [path.join(app, "toil.js"), "run", flow, "--jobStore", path.join(d, "js"), "--defaultMemory", "32Mi", "--defaultCores", "0.1", "--defaultDisk", "1Mi", "--disableProgress", "--", "6"],
    { cwd: d, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: d } },
  );
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe("55");
  expect(r.stderr).not.toMatch(/Could not start a warm worker host/);
});
