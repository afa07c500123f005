/**
 * Which tests need a container engine, and whether one is available.
 *
 * A test needs one when its process (the tool file, the documents its steps `run`, and every
 * process of a `$graph`) has `DockerRequirement` under `requirements` (under `hints` it is
 * optional). An engine is available when `docker info` or `podman info` succeeds (the daemon
 * answers, not only the client is installed), or `singularity --version` / `apptainer --version`
 * runs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

function hasDockerRequirement(requirements: unknown): boolean {
  if (Array.isArray(requirements)) return requirements.some((r) => isObj(r) && r.class === "DockerRequirement");
  if (isObj(requirements)) return "DockerRequirement" in requirements;
  return false;
}

/** Whether the CWL document at `file` (or a document it runs) requires Docker. */
export function requiresDocker(file: string, seen = new Set<string>()): boolean {
  const doc = file.split("#")[0]!;
  if (seen.has(doc) || !existsSync(doc)) return false;
  seen.add(doc);
  let parsed: unknown;
  try {
    parsed = yaml.load(readFileSync(doc, "utf8"));
  } catch {
    return false;
  }
  const walk = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(walk);
    if (!isObj(node)) return false;
    if (hasDockerRequirement(node.requirements)) return true;
    for (const [k, v] of Object.entries(node)) {
      if (k === "hints") continue;
      if (k === "run" && typeof v === "string" && !v.startsWith("#")) {
        if (requiresDocker(path.resolve(path.dirname(doc), v), seen)) return true;
      } else if (walk(v)) return true;
    }
    return false;
  };
  return walk(parsed);
}

/** A container engine that answers, or undefined; `reason` says what was tried. */
export function detectContainerEngine(): { engine?: string; reason: string } {
  const tried: string[] = [];
  const works = (cmd: string, args: string[]): boolean => {
    const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 15_000 });
    tried.push(`${[cmd, ...args].join(" ")}: ${r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : `exit ${r.status}`}`);
    return r.status === 0;
  };
  for (const [cmd, args] of [
    ["docker", ["info"]],
    ["podman", ["info"]],
    ["singularity", ["--version"]],
    ["apptainer", ["--version"]],
  ] as const) {
    if (works(cmd, [...args])) return { engine: cmd, reason: `${cmd} answers` };
  }
  return { reason: `no container engine answers (${tried.join("; ")})` };
}
