import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CwlLoader, type CommandLineTool } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The CWL v1.2 conformance suite next to the repository. */
export const SUITE_DIR = path.resolve(here, "../../../../shared/cwl/v1.2");

/** Whether the suite is there; in CI it must be (tests that need it fail instead of skipping). */
export function suiteAvailable(): boolean {
  if (existsSync(path.join(SUITE_DIR, "conformance_tests.yaml"))) return true;
  if (process.env.CI) throw new Error(`The CWL conformance suite is missing at ${SUITE_DIR}; CI needs it next to the repository.`);
  return false;
}

/** A fresh temporary directory. */
export function tempDir(prefix = "toil-cwl-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write files (name → text) into a directory; returns the directory. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A CommandLineTool loaded from a document of `text` after its `cwlVersion` and `class` lines. */
export async function loadTool(text: string): Promise<CommandLineTool> {
  const dir = writeFiles(tempDir(), { "t.cwl": `cwlVersion: v1.2\nclass: CommandLineTool\n${text}` });
  return (await new CwlLoader().load(path.join(dir, "t.cwl"))) as CommandLineTool;
}
