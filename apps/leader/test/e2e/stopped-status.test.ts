/**
 * `toil status` after a workflow was stopped: by `toil kill`, by SIGTERM, by Ctrl-C typed in a real
 * terminal. Each leaves the workflow STOPPED with the hint to `--restart`; FAILED is kept for jobs
 * that failed for good, and a restart of a failed workflow that is then stopped is STOPPED again.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, finish, startToil, toil, waitFor, TOIL_BIN } from "../ops-helpers.js";
import { FIXTURES, tempDir } from "./helpers.js";
import { TmuxSession, tmuxAvailable } from "./tmux-session.js";

const FLOW = path.join(FIXTURES, "first-hour.ts");
const OPTS = ["--disableProgress", "--retryCount", "0"];
const tmp = tempDir("toil-stopped-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => assertBuilt());

async function state(store: string): Promise<string> {
  const r = await toil(["status", store, "--json"], tmp);
  return r.code === 0 ? (JSON.parse(r.stdout) as { state: string }).state : `exit ${r.code}`;
}

/** What a person sees from `toil status` and `toil status --logs` of a stopped workflow. */
async function expectStopped(store: string): Promise<void> {
  const st = await toil(["status", store], tmp);
  expect(st.code, st.stderr).toBe(0);
  expect(st.stdout).toContain(": STOPPED (");
  expect(st.stdout).not.toContain("FAILED");
  expect(st.stdout).toContain(`toil run ... --jobStore ${store} --restart`);
  const logs = await toil(["status", store, "--logs"], tmp);
  expect(logs.stdout).toContain("STOPPED");
  expect(logs.stdout).not.toMatch(/Some jobs failed/);
  expect(await state(store)).toBe("STOPPED");
}

describe("a stopped workflow is STOPPED, whatever stopped it", () => {
  it("toil kill", async () => {
    const store = path.join(tmp, "killed");
    const ended = finish(startToil(["run", FLOW, "--jobStore", store, ...OPTS, "--", "sleep", "100"], tmp));
    await waitFor("the leader to run", async () => (await state(store)) === "RUNNING");
    const kill = await toil(["kill", store], tmp);
    expect(kill.code, kill.stderr).toBe(0);
    expect((await ended).code).toBe(1);
    await expectStopped(store);
  }, 180_000);

  it("SIGTERM", async () => {
    const store = path.join(tmp, "sigterm");
    const child = startToil(["run", FLOW, "--jobStore", store, ...OPTS, "--", "sleep", "100"], tmp);
    const ended = finish(child);
    await waitFor("the leader to run", async () => (await state(store)) === "RUNNING");
    child.kill("SIGTERM");
    expect((await ended).code).toBe(3);
    await expectStopped(store);
  }, 180_000);

  it.skipIf(!tmuxAvailable && !process.env.CI)("Ctrl-C typed in a terminal", async () => {
    const store = path.join(tmp, "ctrl-c");
    const term = new TmuxSession(`node ${TOIL_BIN} run ${FLOW} --jobStore ${store} --retryCount 0 -- sleep 100`, tmp, { NO_COLOR: "1" });
    try {
      await waitFor("the leader to run", async () => (await state(store)) === "RUNNING");
      term.sendKeys("C-c");
      const screen = await term.waitFor(/\[exit \d+\]/);
      expect(screen).toContain("[exit 3]");
      expect(screen).toContain("--restart");
    } finally {
      term.close();
    }
    await expectStopped(store);
  }, 180_000);

  it("jobs that failed for good: FAILED; a restart stopped by SIGTERM: STOPPED again", async () => {
    const store = path.join(tmp, "failed");
    const stateDir = path.join(tmp, "failed-state");
    const first = await toil(["run", FLOW, "--jobStore", store, ...OPTS, "--", "failThenSleep", stateDir], tmp);
    expect(first.code, first.stderr).toBe(1);
    const failed = await toil(["status", store], tmp);
    expect(failed.stdout).toContain(": FAILED (");
    expect(failed.stdout).toContain("--logs");
    expect((await toil(["status", store, "--logs"], tmp)).stdout).toContain("first try fails on purpose");

    const child = startToil(["run", FLOW, "--jobStore", store, "--restart", "--disableProgress"], tmp);
    const ended = finish(child);
    await waitFor("the restarted leader to run", async () => (await state(store)) === "RUNNING");
    child.kill("SIGTERM");
    expect((await ended).code).toBe(3);
    await expectStopped(store);
  }, 240_000);

  it("a leader killed before it saved the root job: --restart says the workflow never started and exits 2", async () => {
    const flow = path.join(tmp, "slow-main.mjs");
    const marker = path.join(tmp, "slow-main.started");
    fs.writeFileSync(
      flow,
      `import { writeFileSync } from "node:fs";
      export default async function main() {
        writeFileSync(${JSON.stringify(marker)}, "");
        await new Promise((r) => setTimeout(r, 60_000));
      }\n`,
    );
    const store = path.join(tmp, "never-started");
    const child = startToil(["run", flow, "--jobStore", store, ...OPTS], tmp);
    const ended = finish(child);
    await waitFor("the workflow's main to run", async () => fs.existsSync(marker));
    child.kill("SIGKILL");
    await ended;
    const again = await toil(["run", flow, "--jobStore", store, "--restart", ...OPTS], tmp);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toContain("never started");
    expect(again.stderr).toContain(`toil clean ${store}`);
  }, 120_000);
});
