// Preloaded with NODE_OPTIONS="--import <this file>" (where `--cpu-prof` itself is not allowed):
// profiles the whole process with the inspector and writes <dir>/CPU.<pid>.<role>.cpuprofile at exit
// (also on SIGTERM/SIGINT, which then exit with 128 + signal). The directory comes from
// TOIL_BENCH_CPU_PROF_DIR.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TOIL_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post("Profiler.stop", (err, result) => {
      if (err || !result) return;
      const role = (process.argv[1] ?? "node").split("/").slice(-3).join("_").replace(/[^\w.-]/g, "_");
      writeFileSync(join(dir, `CPU.${process.pid}.${role}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on("exit", write);
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      write();
      process.exit(128 + (sig === "SIGTERM" ? 15 : 2));
    });
  }
}
