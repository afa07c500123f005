/**
 * Where the workflow files are. Normally the `.ts` files in ../workflows run as they are (the
 * leader and workers load them with tsx). If that path is broken in this build (probed once per
 * suite run), the suite transpiles them to `.mjs` next to them (in `.compiled/`, same
 * node_modules) and says so in the results, so the rest of the engine is still measured.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { WORKFLOWS } from "./run.js";

export type WorkflowMode = "ts" | "mjs";
let mode: WorkflowMode = "ts";

export function setWorkflowMode(m: WorkflowMode): void {
  mode = m;
}
export function workflowMode(): WorkflowMode {
  return mode;
}

const COMPILED = join(WORKFLOWS, "..", ".compiled");

/** Absolute path of a workflow (`fanout`, `chain`, `files`) in the current mode. */
export function workflowFile(name: string): string {
  if (mode === "ts") return join(WORKFLOWS, `${name}.ts`);
  return join(COMPILED, `${name}.mjs`);
}

/** Transpile every workflow to .compiled/*.mjs (type-only imports removed; no type check). */
export function compileWorkflows(names: readonly string[]): void {
  const require = createRequire(import.meta.url);
  const ts = require("typescript") as typeof import("typescript");
  mkdirSync(COMPILED, { recursive: true });
  for (const name of names) {
    const src = readFileSync(join(WORKFLOWS, `${name}.ts`), "utf8");
    const out = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: `${name}.ts`,
    });
    writeFileSync(join(COMPILED, `${name}.mjs`), out.outputText);
  }
}
