/** `toil report <jobStore> [-o report.html]`: write a self-contained HTML report of a workflow. */
import * as fs from "node:fs";
import * as path from "node:path";
import { OPS_EXIT, OpsUsageError, openExistingStore, type OpsIO } from "../common.js";
import { collectReportData } from "./collect.js";
import { renderReportHtml } from "./html.js";
import { plural } from "../../text.js";

export { renderReportHtml,  } from "./html.js";
;
;

export interface ReportOptions {
  output?: string;
}

export async function reportCommand(locator: string, opts: ReportOptions, io: OpsIO): Promise<number> {
  const out = path.resolve(io.cwd, opts.output ?? "toil-report.html");
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) {
    throw new OpsUsageError(`${out} is a directory; give -o a file name such as ${path.join(out, "report.html")}.`);
  }
  if (!fs.existsSync(path.dirname(out))) {
    throw new OpsUsageError(`The directory ${path.dirname(out)} does not exist; create it or choose another -o path.`);
  }
  const opened = await openExistingStore(locator, io.cwd);
  const data = await collectReportData(opened);
  const html = renderReportHtml(data);
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, html);
  fs.renameSync(tmp, out);
  io.stdout.write(
    `Wrote ${out} (${(html.length / 1024 / 1024).toFixed(1)} MiB): ${plural(data.jobs.length, "job run")}, ${plural(data.failed.length, "failed job")}. ` +
      `Open it in a browser; it needs no network access.\n`,
  );
  for (const n of data.notes) io.stdout.write(`  ${n}\n`);
  return OPS_EXIT.OK;
}
