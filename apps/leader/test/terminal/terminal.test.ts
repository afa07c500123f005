/**
 * What a person sees in a terminal: `npx toil run flow.ts --jobStore ./js` typed into bash inside
 * tmux, at 80 and 200 columns, in a new project folder outside the repository. The screen is read
 * with capture-pane while the run goes on and after it ended:
 *
 * - while it runs, the progress bar is the last line, drawn once, never wider than the terminal,
 *   and log lines scroll above it;
 * - afterwards, every line the run printed is on the screen intact and in order (the same lines as
 *   the text log `js.log` holds: long lines wrapped, not cut, nothing printed over anything), the
 *   bar is gone, and the summary and the failure report are whole;
 * - a job named with escape sequences and an error message with ANSI codes neither retitle the
 *   terminal nor clear it: they are shown as `cat -v` shows them.
 *
 * Each run's screens are saved under `apps/leader/test-artifacts/terminal/` to look at.
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, test } from "vitest";
import { HOSTILE_SHOWN, newProject, requireBuiltCli, userEnv } from "./project.js";
import { PROMPT, TmuxPane, haveTmux, saveScreen } from "./tmux.js";

const ARTIFACTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts", "terminal");
const BAR = /^Workflow (?:[█░]+ )?\d+\/\d+ jobs? done · /;
const SUMMARY = /^\[\d\d:\d\d:\d\d\] (?:INFO|WARNING) Workflow (completed|failed|stopped): (\d+) jobs? succeeded, (\d+) retried, (\d+) failed in [\d.]+ s \([\d.]+ jobs\/s\)\. Log: (\S+)$/;
const STEP_LINE = /INFO Got message from job 'Step' \S+: step (\d) of 8 is done; .* end-of-step-\1$/;

const tmuxMissing = !haveTmux();
if (tmuxMissing && process.env.TOIL_TEST_REQUIRE_TMUX === "1") throw new Error("tmux is not installed but TOIL_TEST_REQUIRE_TMUX=1");
if (tmuxMissing) console.warn("skipping the terminal tests: tmux is not installed (apt-get install tmux)");

const projects: string[] = [];
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

/** A line as a terminal lays it out: tabs advance to the next multiple of 8 columns. */
function expandTabs(line: string): string {
  let out = "";
  for (const ch of line) out += ch === "\t" ? " ".repeat(8 - (out.length % 8)) : ch;
  return out;
}

/** The log file's lines as the terminal shows them: `[hh:mm:ss] LEVEL message`; the CLI's report without the log prefix. */
function asOnTerminal(logText: string): string[] {
  return logText
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => {
      const m = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\.\d{3}Z (\S+) (.*)$/.exec(line);
      if (!m) return expandTabs(line);
      if (m[2] === "ERROR" && m[3]!.startsWith("toil run: error [")) return expandTabs(m[3]!);
      return expandTabs(`[${m[1]}] ${m[2]} ${m[3]}`);
    });
}

interface Sample {
  screen: string[];
  cursor: number;
}

interface Outcome {
  pane: TmuxPane;
  project: string;
  samples: Sample[];
  output: string[];
  rc: number;
}

/** The last row with something on it. */
function lastNonEmpty(screen: readonly string[]): number {
  for (let i = screen.length - 1; i >= 0; i--) if (screen[i]!.trim() !== "") return i;
  return -1;
}

async function waitUntil(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Type `command` at the prompt and read the screen until the prompt comes back. */
async function typeAndWatch(pane: TmuxPane, command: string, onSample?: (s: Sample) => void): Promise<{ samples: Sample[]; output: string[]; rc: number }> {
  pane.type(command);
  await waitUntil("the command to be echoed", () => pane.screen().some((l) => l.endsWith(command)), 10_000);
  const samples: Sample[] = [];
  const end = Date.now() + 240_000;
  for (;;) {
    const sample = { cursor: pane.cursorRow(), screen: pane.screen() };
    samples.push(sample);
    onSample?.(sample);
    const last = sample.screen[lastNonEmpty(sample.screen)] ?? "";
    if (PROMPT.test(last)) break;
    if (Date.now() > end) throw new Error(`the command did not end: ${command}\n${sample.screen.join("\n")}`);
    await sleep(200);
  }
  const history = pane.history();
  let start = history.length - 1;
  while (start > 0 && !history[start]!.endsWith(command)) start--;
  let stop = start + 1;
  while (stop < history.length && !PROMPT.test(history[stop]!)) stop++;
  const rc = Number(PROMPT.exec(history[stop] ?? "")?.[1] ?? -1);
  // The terminal itself echoes a Ctrl-C as "^C"; that is the keypress, not the program's output. And
  // bash starts a new line after a command that died of SIGINT (npx passes the interrupt on).
  const output = history.slice(start + 1, stop).filter((l) => l !== "^C");
  if (rc === 130 && output.at(-1) === "") output.pop();
  return { samples, output, rc };
}

async function runInTerminal(mode: "succeed" | "fail" | "kill", columns: number): Promise<Outcome> {
  requireBuiltCli();
  const project = newProject();
  projects.push(project);
  const pane = new TmuxPane(project, columns, columns === 80 ? 30 : 50, userEnv());
  await waitUntil("the shell prompt", () => pane.screen().some((l) => PROMPT.test(l)), 10_000);
  let interrupted = false;
  try {
    const { samples, output, rc } = await typeAndWatch(pane, `npx toil run flow.ts --jobStore ./js -- ${mode}`, (s) => {
      // Ctrl-C once three steps have logged and the bar shows the rest running.
      if (mode === "kill" && !interrupted && s.screen.filter((l) => /step \d of 8/.test(l)).length >= 3 && s.screen.some((l) => BAR.test(l))) {
        pane.interrupt();
        interrupted = true;
      }
    });
    if (mode === "kill") expect(interrupted, "the run was interrupted while it ran").toBe(true);
    return { pane, project, samples, output, rc };
  } catch (err) {
    await stopAndClose(pane);
    throw err;
  }
}

/** Stop whatever still runs in the pane the way a person would (Ctrl-C), then close it. */
async function stopAndClose(pane: TmuxPane): Promise<void> {
  pane.interrupt();
  await waitUntil("the prompt after Ctrl-C", () => PROMPT.test(pane.screen()[lastNonEmpty(pane.screen())] ?? ""), 30_000).catch(() => undefined);
  pane.close();
}

/** The checks every run gets, whatever its end. */
function checkRun(name: string, o: Outcome, columns: number): { summary: RegExpExecArray; report: string[] } {
  const { samples, output, project } = o;
  // While it runs: the bar is on the last line, once, one row wide, with the cursor just below it.
  const withBar = samples.filter((s) => s.screen.some((l) => BAR.test(l)));
  expect(withBar.length, "the live bar was seen while the workflow ran").toBeGreaterThan(0);
  for (const s of withBar) {
    const rows = s.screen.flatMap((l, i) => (BAR.test(l) ? [i] : []));
    expect(rows, `one bar on the screen:\n${s.screen.join("\n")}`).toHaveLength(1);
    expect(rows[0], `the bar is the last line:\n${s.screen.join("\n")}`).toBe(lastNonEmpty(s.screen));
    expect(s.screen[rows[0]!]!.length).toBeLessThan(columns);
    expect(s.screen.filter((l) => /[█░]/.test(l)), "no leftover bar").toHaveLength(1);
  }
  const logsAboveBar = withBar.filter((s) => s.screen.some((l) => /step \d of 8/.test(l)));
  expect(logsAboveBar.length, "log lines were printed above the live bar").toBeGreaterThan(0);
  saveScreen(ARTIFACTS, `${name}-running`, logsAboveBar.at(-1)!.screen);
  saveScreen(ARTIFACTS, `${name}-final-screen`, o.pane.screen());
  saveScreen(ARTIFACTS, `${name}-whole-output`, output);

  // Afterwards: exactly the log's lines, intact and in order (then the result on stdout, if any).
  const log = readFileSync(path.join(project, "js.log"), "utf8");
  const expected = asOnTerminal(log);
  const printed = output.filter((l) => l !== '"succeed"');
  expect(printed).toEqual(expected);
  expect(output.filter((l) => /[█░]/.test(l)), "the bar is gone at the end").toEqual([]);
  // Long lines wrapped rather than cut: each step line is whole.
  for (const line of output.filter((l) => /step \d of 8 is done/.test(l))) {
    expect(line.length).toBeGreaterThan(columns);
    expect(line).toMatch(STEP_LINE);
  }
  const summaryLine = output.find((l) => SUMMARY.test(l));
  expect(summaryLine, `a summary line in:\n${output.join("\n")}`).toBeDefined();
  const summary = SUMMARY.exec(summaryLine!)!;
  expect(summary[5]).toBe(path.join(project, "js.log"));
  const report = output.slice(output.indexOf(summaryLine!) + 1);
  // Nothing reached the terminal raw: its title is unchanged.
  expect(o.pane.title()).not.toBe("pwned");
  return { summary, report };
}

describe.skipIf(tmuxMissing).each([80, 200])("toil run in a %i-column terminal", (columns) => {
  test("a run that succeeds", async () => {
    const o = await runInTerminal("succeed", columns);
    try {
      expect(o.rc, o.output.join("\n")).toBe(0);
      const { summary, report } = checkRun(`succeed-${columns}`, o, columns);
      expect(summary.slice(1, 5)).toEqual(["completed", "9", "0", "0"]);
      expect(report, "the root job's result is the last line").toEqual(['"succeed"']);
      expect(o.output.filter((l) => STEP_LINE.test(l)).map((l) => STEP_LINE.exec(l)![1]).sort()).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    } finally {
      await stopAndClose(o.pane);
    }
  }, 300_000);

  test("a run that fails, with a job named with escape sequences; then toil status --logs", async () => {
    const o = await runInTerminal("fail", columns);
    try {
      expect(o.rc, o.output.join("\n")).toBe(1);
      const { summary, report } = checkRun(`fail-${columns}`, o, columns);
      expect(summary[1]).toBe("failed");
      expect(Number(summary[3]), "the failing job was retried once").toBe(1);
      expect(Number(summary[4])).toBeGreaterThanOrEqual(1);
      // The failure report, whole: its first line, the job (escaped), its log tail, the advice.
      expect(report[0]).toMatch(/^toil run: error \[FailedJobsError\]: The workflow in job store \S+ has \d+ failed jobs?\.$/);
      expect(report.some((l) => l.startsWith(`  - ${HOSTILE_SHOWN} (`))).toBe(true);
      expect(report.some((l) => l.includes("failed on purpose: ^[[31mred^[[0m and ^[]0;pwned^G"))).toBe(true);
      expect(report.at(-1)).toBe("Fix the cause and run again with --restart to retry the failed jobs (finished jobs are not rerun).");
      expect(o.output.some((l) => l.includes(`Job 'Step' ${HOSTILE_SHOWN} `))).toBe(true);

      const status = await typeAndWatch(o.pane, "npx toil status ./js --logs");
      saveScreen(ARTIFACTS, `fail-${columns}-status-logs`, status.output);
      expect(status.output.some((l) => l.startsWith("=== log of ") && l.includes(HOSTILE_SHOWN)), status.output.join("\n")).toBe(true);
      expect(status.output.some((l) => l.includes("failed on purpose: ^[[31mred^[[0m"))).toBe(true);
      expect(o.pane.title()).not.toBe("pwned");
    } finally {
      await stopAndClose(o.pane);
    }
  }, 300_000);

  test("a run stopped with Ctrl-C", async () => {
    const o = await runInTerminal("kill", columns);
    try {
      // The leader exits with 3; npx passes the interrupt on, so the shell may show 130.
      expect([3, 130], o.output.join("\n")).toContain(o.rc);
      const { summary, report } = checkRun(`kill-${columns}`, o, columns);
      expect(summary.slice(1, 5)).toEqual(["stopped", "4", "0", "0"]);
      expect(report[0]).toMatch(/^toil run: error \[WorkflowInterruptedError\]: The workflow in file:\S+ was stopped: received SIGINT\./);
      expect(o.output.some((l) => /WARNING Received SIGINT: stopping the workflow's jobs/.test(l))).toBe(true);
    } finally {
      await stopAndClose(o.pane);
    }
  }, 300_000);
});
