/**
 * The standalone bundle (dist/standalone) loads TypeScript workflow files with only Node: copied
 * away from the repository, with no node_modules anywhere above it, no tsx, no esbuild binary.
 */
import { cpSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";
import { LEADER_DIR, tempDir } from "./helpers.js";

const LIB = `export interface Point { x: number; y: number }
export enum Scale { One = 1, Ten = 10 }
export function norm2(p: Point): number {
  return p.x * p.x + p.y * p.y;
}
`;

const FLOW = `import { Job } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";
import { norm2, Scale, type Point } from "./lib.js";

export class Square extends Job {
  constructor(private readonly p: Point) {
    super({ memory: "32Mi", cores: 0.1, disk: "1Mi" });
  }
  override run(): number {
    return norm2(this.p) * Scale.One;
  }
}

export function total(xs: number[]): number {
  return xs.reduce((a: number, b: number) => a + b, 0) * (Scale.Ten as number) / 10;
}

export function fan(job: Job, n: number): unknown {
  const parts: unknown[] = [];
  for (let i = 0; i < n; i++) parts.push(job.addChild(new Square({ x: i, y: 1 })).rv());
  return job.addFollowOnFn(total, parts).rv();
}

export default function main({ args }: WorkflowContext): Job {
  return Job.wrapJobFn(fan, Number(args[0]));
}
`;

function standalone(): { d: string; toil: string } {
  const d = tempDir("toil-standalone-ts-");
  const app = path.join(d, "app");
  cpSync(path.join(LEADER_DIR, "dist", "standalone"), app, { recursive: true });
  // Nothing to install: no node_modules in the folder, no native binary.
  expect(existsSync(path.join(app, "node_modules"))).toBe(false);
  expect(readdirSync(app).filter((f) => f.endsWith(".node"))).toEqual([]);
  return { d, toil: path.join(app, "toil.js") };
}

/** Only Node: PATH holds node's own directory, HOME is the temp dir. */
function onlyNode(d: string): NodeJS.ProcessEnv {
  return { PATH: path.dirname(process.execPath), HOME: d };
}

test("the standalone toil runs a .ts workflow (types, enums, parameter properties, ./x.js -> x.ts imports) with only Node", { timeout: 180_000 }, () => {
  const { d, toil } = standalone();
  writeFileSync(path.join(d, "lib.ts"), LIB);
  writeFileSync(path.join(d, "flow.ts"), FLOW);
  const r = spawnSync(
    process.execPath,
    [toil, "run", "flow.ts", "--jobStore", path.join(d, "js"), "--defaultMemory", "32Mi", "--defaultCores", "0.1", "--defaultDisk", "1Mi", "--disableProgress", "--", "4"],
    { cwd: d, encoding: "utf8", env: onlyNode(d) },
  );
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe("18"); // (0+1) + (1+1) + (4+1) + (9+1)
  expect(r.stderr).not.toMatch(/Could not start a warm worker host/);
});

test("a .ts workflow with a syntax error fails before anything runs, naming the file, line and column", { timeout: 60_000 }, () => {
  const { d, toil } = standalone();
  writeFileSync(path.join(d, "bad.ts"), 'import { Job } from "@toil/job";\nexport default function main(: number {\n  return 1;\n}\n');
  const r = spawnSync(process.execPath, [toil, "run", "bad.ts", "--jobStore", path.join(d, "js"), "--disableProgress"], {
    cwd: d,
    encoding: "utf8",
    env: onlyNode(d),
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(path.join(d, "bad.ts"));
  expect(r.stderr).toMatch(/bad\.ts:2:\d+/);
  expect(existsSync(path.join(d, "js"))).toBe(false);
});
