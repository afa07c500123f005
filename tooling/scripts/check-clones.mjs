// Copy-paste check of `pnpm lint`: runs jscpd with the settings in .jscpd.json and fails on every
// clone that is not in that file's `ignoreClones` list. Each entry there names the two files of a
// clone (the same file twice for a clone inside one file) and gives the reason the copies stay.
// jscpd itself does not read `ignoreClones`, so it gets the settings without it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const { ignoreClones = [], ...settings } = JSON.parse(readFileSync(path.join(root, ".jscpd.json"), "utf8"));

for (const entry of ignoreClones) {
  if (!Array.isArray(entry.files) || entry.files.length !== 2 || typeof entry.reason !== "string" || entry.reason.trim() === "") {
    console.error(`.jscpd.json: each ignoreClones entry needs "files" (two paths) and a "reason": ${JSON.stringify(entry)}`);
    process.exit(1);
  }
}

const work = mkdtempSync(path.join(tmpdir(), "toil-jscpd-"));
try {
  const config = path.join(work, "jscpd.json");
  // jscpd resolves `path` against the config file's folder: make it absolute.
  writeFileSync(config, JSON.stringify({ ...settings, path: (settings.path ?? ["."]).map((p) => path.resolve(root, p)), reporters: ["json"], output: work, exitCode: 0 }));
  const bin = createRequire(import.meta.url).resolve("jscpd/run-jscpd.js");
  const run = spawnSync(process.execPath, [bin, "--config", config, "--no-tips", "--silent"], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    console.error(`jscpd failed (exit ${run.status ?? run.signal}).`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(path.join(work, "jscpd-report.json"), "utf8"));
  const rel = (name) => path.relative(root, path.resolve(root, name));
  const key = (a, b) => [a, b].sort().join("\n");
  const allowed = new Map(ignoreClones.map((e) => [key(rel(e.files[0]), rel(e.files[1])), e]));
  const used = new Set();
  const unexpected = [];
  for (const clone of report.duplicates) {
    const a = rel(clone.firstFile.name);
    const b = rel(clone.secondFile.name);
    const k = key(a, b);
    if (allowed.has(k)) used.add(k);
    else unexpected.push(`${a}:${clone.firstFile.start}-${clone.firstFile.end} = ${b}:${clone.secondFile.start}-${clone.secondFile.end} (${clone.lines} lines)\n${clone.fragment}`);
  }
  for (const [k, entry] of allowed) {
    if (!used.has(k)) console.warn(`jscpd: no clone left between ${entry.files.join(" and ")}; remove that entry from .jscpd.json.`);
  }
  if (unexpected.length > 0) {
    console.error(`jscpd: ${unexpected.length} clone(s) of at least ${settings.minTokens} tokens outside the ignore list of .jscpd.json:\n`);
    console.error(unexpected.join("\n\n"));
    console.error("\nMove the shared code to one place, or add the pair to ignoreClones with the reason both copies stay.");
    process.exit(1);
  }
  console.log(`jscpd: ${report.duplicates.length} clone(s), all in the ignore list of .jscpd.json (${report.statistics.total.sources} files).`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
