/**
 * The bundle case: the standalone leader (apps/leader/dist/standalone, the build that runs with
 * only Node installed, .ts workflow files included). Reports its size on disk and gzipped, its
 * number of files and largest file, the start-up of its `toil --help`, and the wall time of a
 * one-job TypeScript workflow run from a copy of the folder with nothing else installed.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import type { Ctx } from "./common.js";
import { REPO_ROOT, median, timeCommand } from "../run.js";

const STANDALONE_DIR = join(REPO_ROOT, "apps", "leader", "dist", "standalone");

const MB = 1e6;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const FLOW = `import { Job } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export function hello(who: string): string {
  return \`Hello, \${who}!\`;
}

export default function main({ args }: WorkflowContext): Job {
  return Job.wrapFn(hello, args[0] ?? "world");
}
`;

export async function bundleCase(ctx: Ctx): Promise<void> {
  if (!existsSync(join(STANDALONE_DIR, "toil.js"))) {
    const note = `not built: ${relative(REPO_ROOT, STANDALONE_DIR)}/toil.js is missing (pnpm --filter @toil/leader build)`;
    ctx.log(`bundle ${note}`);
    ctx.figures.push({ id: "bundle.standaloneMB", case: "bundle", figure: "standalone leader: size on disk", value: null, unit: "MB", note });
    return;
  }
  const files = filesUnder(STANDALONE_DIR);
  let bytes = 0;
  let gzipped = 0;
  let largest = { file: "", bytes: 0 };
  for (const f of files) {
    const data = readFileSync(f);
    bytes += data.length;
    gzipped += gzipSync(data, { level: 9 }).length;
    if (data.length > largest.bytes) largest = { file: relative(STANDALONE_DIR, f), bytes: data.length };
  }
  ctx.log(`bundle: ${files.length} files, ${(bytes / MB).toFixed(2)} MB (${(gzipped / MB).toFixed(2)} MB gzipped)`);
  ctx.figures.push({
    id: "bundle.standaloneMB",
    case: "bundle",
    figure: "standalone leader (dist/standalone): size on disk",
    value: bytes / MB,
    unit: "MB",
    note: `${files.length} files, nothing native, no node_modules; largest ${largest.file} ${(largest.bytes / MB).toFixed(2)} MB; the TypeScript loader (a pure-JS type stripper) is inside`,
  });
  ctx.figures.push({
    id: "bundle.standaloneGzipMB",
    case: "bundle",
    figure: "standalone leader: size gzipped (sum of files, level 9)",
    value: gzipped / MB,
    unit: "MB",
  });

  // Start-up and a one-job .ts workflow, from a copy of the folder with only Node on PATH.
  const dir = mkdtempSync(join(ctx.tmp, "bundle-"));
  const app = join(dir, "app");
  cpSync(STANDALONE_DIR, app, { recursive: true });
  const toil = join(app, "toil.js");
  try {
    timeCommand(process.execPath, [toil, "--help"]);
    const t: number[] = [];
    for (let i = 0; i < (ctx.quick ? 3 : 7); i++) t.push(timeCommand(process.execPath, [toil, "--help"]));
    const ms = median(t);
    ctx.figures.push({
      id: "bundle.helpMs",
      case: "bundle",
      figure: "standalone `toil --help` (start-up, median)",
      value: ms,
      unit: "ms",
      ...(ctx.floorMs ? { baseline: { value: ctx.floorMs, unit: "ms", label: "floor" }, ratio: ms / ctx.floorMs } : {}),
    });
  } catch (err) {
    ctx.log(`standalone toil --help failed: ${String(err)}`);
  }
  writeFileSync(join(dir, "flow.ts"), FLOW);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [toil, "run", "flow.ts", "--jobStore", join(dir, "js"), "--disableProgress", "--logLevel", "warning", "--", "bench"], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: dir },
    timeout: 120_000,
  });
  const wall = (performance.now() - t0) / 1000;
  const ok = r.status === 0 && r.stdout.trim() === JSON.stringify("Hello, bench!"); // a string result prints as JSON
  ctx.log(`  standalone .ts workflow: ${ok ? "ok" : "FAILED"} in ${wall.toFixed(2)} s`);
  ctx.figures.push({
    id: "bundle.tsWorkflowSeconds",
    case: "bundle",
    figure: "standalone: a one-job .ts workflow, wall (types stripped by the bundle)",
    value: ok ? wall : null,
    unit: "s",
    ...(ok ? {} : { note: `exit ${r.status ?? r.signal}: ${(r.stderr ?? "").split("\n").filter(Boolean).slice(-2).join(" / ").slice(0, 240)}` }),
  });
  if (statSync(dir).isDirectory()) ctx.cleanup.push(dir);
}
