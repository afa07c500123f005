// Preloaded into a benchmarked command (node --import): report its peak RSS and CPU time when it exits.
import { writeSync } from "node:fs";
process.on("exit", () => {
  const u = process.resourceUsage();
  writeSync(2, `\nBENCH_MAXRSS_KB=${u.maxRSS} BENCH_CPU_US=${u.userCPUTime + u.systemCPUTime}\n`);
});
