import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./toil.js";

/**
 * Where suites leave the figures CI prints at the end of a run (kills survived, bad inputs tried,
 * bytes verified). One JSON object per line, so parallel test files can append without a lock.
 */
function figuresFile(): string {
  return process.env.TOIL_TEST_FIGURES ?? path.join(REPO_ROOT, ".test-figures", "figures.jsonl");
}

export interface Figure {
  /** The suite the figure belongs to, e.g. "faults/leader-kill". */
  suite: string;
  /** What was counted, e.g. "leader kills survived". */
  name: string;
  value: number;
  /** Optional unit, e.g. "bytes". */
  unit?: string;
}

/** Record one figure; repeated names of a suite are summed by the printer. */
export function recordFigure(figure: Figure): void {
  const file = figuresFile();
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(figure)}\n`);
}
