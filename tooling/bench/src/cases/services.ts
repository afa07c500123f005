/**
 * The services case: how long a service keeps running after the last job that uses it is done
 * (from that job's end to the service's stop(), with the default `--servicePollingInterval` of
 * 60 s, which only paces the service's check() now), and the wall time of examples/services, a
 * workflow with one service, end to end. Toil stops a service at its next poll: up to 60 s later.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Ctx, toilRunArgs } from "./common.js";
import { REPO_ROOT, failureNote, killPids, median, runToil } from "../run.js";

const EXAMPLE = join(REPO_ROOT, "examples", "services");

function readMs(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, "utf8"));
  return Number.isFinite(n) ? n : undefined;
}

export async function servicesCase(ctx: Ctx): Promise<void> {
  const k = ctx.quick ? 3 : 5;
  const latencies: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < k; i++) {
    const dir = mkdtempSync(join(ctx.tmp, "services-"));
    const r = await runToil({ args: toilRunArgs("services", join(dir, "store"), [], [dir]), logDir: dir, label: `services-${i}`, timeoutMs: 180_000 });
    killPids(r.survivors);
    const end = readMs(join(dir, "client-end"));
    const stop = readMs(join(dir, "service-stop"));
    if (r.code === 0 && end !== undefined && stop !== undefined) latencies.push(stop - end);
    else failures.push(r.code === 0 ? "a timestamp is missing" : failureNote(r));
    ctx.cleanup.push(dir);
  }
  const latency = latencies.length > 0 ? median(latencies) : null;
  ctx.log(`services: stop after the client's end ${latencies.map((ms) => `${ms} ms`).join(", ")}${failures.length ? `; ${failures.length} failed` : ""}`);
  ctx.figures.push({
    id: "services.stopAfterClientMs",
    case: "services",
    figure: "service: from its last client's end to its stop() (median)",
    value: latency,
    unit: "ms",
    published: "Toil: at the service's next poll, up to --servicePollingInterval (60 s by default)",
    note: `${latencies.length} of ${k} runs, default --servicePollingInterval (60 s)${failures.length ? `; failed: ${failures[0]}` : ""}`,
  });

  const walls: number[] = [];
  let exampleFailure = "";
  for (let i = 0; i < k; i++) {
    const dir = mkdtempSync(join(ctx.tmp, "services-example-"));
    const r = await runToil({
      args: ["run", "flow.ts", "--jobStore", join(dir, "store"), "--logLevel", "warning"],
      logDir: dir,
      label: `services-example-${i}`,
      timeoutMs: 180_000,
      cwd: EXAMPLE,
    });
    killPids(r.survivors);
    if (r.code === 0 && r.stdout.includes('{"a":"1","b":"2"}')) walls.push(r.wallMs);
    else exampleFailure ||= failureNote(r);
    ctx.cleanup.push(dir);
  }
  ctx.figures.push({
    id: "services.exampleSeconds",
    case: "services",
    figure: "examples/services end to end (median wall)",
    value: walls.length > 0 ? median(walls) / 1000 : null,
    unit: "s",
    published: "about 61 s while a service waited for its next poll to stop",
    note: `${walls.length} of ${k} runs${exampleFailure ? `; failed: ${exampleFailure}` : ""}`,
  });
}
