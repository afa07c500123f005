/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): self time per function, and total (inclusive)
 * time per function, heaviest first.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  location: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
}

function shortUrl(url: string): string {
  const m = /\/(packages|apps|tooling)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length).replace(/^\.pnpm\/[^/]+\/node_modules\//, "");
  return url.replace(/^file:\/\//, "") || "(native)";
}

export function summarizeProfile(path: string, top = 20): { totalMs: number; idleMs: number; self: FunctionCost[]; inclusive: FunctionCost[] } {
  const p = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const key = (f: CallFrame): string => `${f.functionName || "(anonymous)"}\u0000${shortUrl(f.url)}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += us;
    if (node.callFrame.functionName === "(idle)") idle += us;
    const k = key(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    // inclusive: count each distinct function once per stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const kk = key(n.callFrame);
      if (seen.has(kk)) continue;
      seen.add(kk);
      inclusive.set(kk, (inclusive.get(kk) ?? 0) + us);
    }
  }
  const busy = Math.max(total - idle, 1);
  const rows = (m: Map<string, number>): FunctionCost[] =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith("(idle)") && !k.startsWith("(root)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => {
        const [name, location] = k.split("\u0000") as [string, string];
        return { name, location, selfMs: us / 1000, selfPct: (100 * us) / busy, totalMs: (inclusive.get(k) ?? us) / 1000 };
      });
  return { totalMs: total / 1000, idleMs: idle / 1000, self: rows(self), inclusive: rows(inclusive).filter((r) => !r.name.startsWith("(")) };
}

export function renderProfile(title: string, s: ReturnType<typeof summarizeProfile>): string {
  const lines = [`### ${title}`, "", `${s.totalMs.toFixed(0)} ms profiled, ${s.idleMs.toFixed(0)} ms idle.`, "", "Top self time:", "", "| function | where | self ms | % of busy |", "|---|---|---:|---:|"];
  for (const r of s.self) lines.push(`| ${r.name} | ${r.location} | ${r.selfMs.toFixed(0)} | ${r.selfPct.toFixed(1)} |`);
  lines.push("", "Top inclusive time:", "", "| function | where | total ms |", "|---|---|---:|");
  for (const r of s.inclusive) lines.push(`| ${r.name} | ${r.location} | ${r.totalMs.toFixed(0)} |`);
  lines.push("");
  return lines.join("\n");
}
