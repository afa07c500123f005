/**
 * Headless Chromium for the report tests: the Debian `chromium` package driven by playwright-core.
 * No browser is ever downloaded. Without /usr/bin/chromium the browser tests skip with a visible
 * reason, unless TOIL_TEST_REQUIRE_BROWSER=1 (CI), where they fail.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
export const browserRequired = process.env.TOIL_TEST_REQUIRE_BROWSER === "1";
export const browserAvailable = fs.existsSync(CHROMIUM);
export const browserSkipReason = browserAvailable
  ? ""
  : `${CHROMIUM} is not installed (apt-get install -y chromium); set TOIL_TEST_REQUIRE_BROWSER=1 to make this a failure`;

if (!browserAvailable && !browserRequired) {
  process.stderr.write(`[ops report browser tests] SKIPPED: ${browserSkipReason}\n`);
}

/** A fresh headless Chromium with its own throw-away profile directory. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!browserAvailable) {
    throw new Error(`TOIL_TEST_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: install it with apt-get install -y chromium`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "toil-chromium-"));
  // A fresh --user-data-dir: playwright takes it as the persistent context's directory.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1400, height: 1000 },
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface OpenedReport {
  consoleErrors: string[];
  externalRequests: string[];
  bars: number;
  renderedBars: number;
  failedIds: string[];
  kindRows: number;
  summary: string;
}

/** Open a report file, wait for its charts, and read what it shows. */
export async function inspectReport(context: BrowserContext, file: string, screenshot?: string): Promise<OpenedReport> {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const externalRequests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
    externalRequests.push(url);
    return route.abort();
  });
  await page.goto(`file://${file}`);
  // Page code is passed as strings: this package is type-checked without the DOM library.
  await page.waitForFunction("window.toilReport && window.toilReport.ready === true", undefined, { timeout: 20_000 });
  await page.waitForTimeout(300); // let the first frame render
  const result = (await page.evaluate(`(() => {
    const data = window.toilReport.timeline.getModel().getSeriesByIndex(0).getData();
    let rendered = 0;
    for (let i = 0; i < data.count(); i++) if (data.getItemGraphicEl(i)) rendered++;
    return {
      bars: window.toilReport.bars,
      renderedBars: rendered,
      failedIds: [...document.querySelectorAll("#failed .failed-job")].map((e) => e.dataset.jobId || ""),
      kindRows: document.querySelectorAll("#kinds tbody tr").length,
      summary: (document.getElementById("summary") || {}).textContent || "",
    };
  })()`)) as Omit<OpenedReport, "consoleErrors" | "externalRequests">;
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { consoleErrors, externalRequests, ...result };
}
