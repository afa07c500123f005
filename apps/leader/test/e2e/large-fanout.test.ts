/**
 * A fan-out larger than the leader's issue window and its in-memory window: the workflow still gives
 * the right result, and the leader never has more jobs issued to the batch system at once than its
 * window (the rest wait as ids), which is what keeps its memory flat on 100,000-job fan-outs.
 */
import path from "node:path";
import { describe, expect, test } from "vitest";
import { readBusLog } from "@toil/bus";
import { REPO_ROOT, SMALL, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(REPO_ROOT, "examples", "fan-out-fan-in", "flow.ts");
const N = 9_000;

describe("large fan-out", () => {
  test(`a fan-out of ${N} jobs gives the right sum and never has more than 4,096 jobs issued at once`, async () => {
    const dir = tempDir();
    const messages = path.join(dir, "bus.jsonl");
    const r = await runToil(
      ["run", FLOW, "--jobStore", path.join(dir, "js"), ...SMALL, "--maxCores", "2", "--writeMessages", messages, "--", String(N)],
      { timeoutMs: 900_000 },
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    let expected = 0;
    for (let i = 0; i < N; i++) expected += i * i;
    expect(r.stdout).toContain(String(expected));

    let outstanding = 0;
    let most = 0;
    let issued = 0;
    for await (const m of readBusLog(messages)) {
      if (m.type === "JobIssued") {
        issued++;
        most = Math.max(most, ++outstanding);
      } else if (m.type === "JobUpdated") {
        outstanding--;
      }
    }
    expect(issued).toBe(N + 2);
    expect(most).toBeLessThanOrEqual(4_096);
    expect(most).toBeGreaterThan(1);
  }, 960_000);
});
