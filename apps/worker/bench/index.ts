// `pnpm bench` for the worker: the per-job and the per-link costs (both read --quick from argv).
await import("./per-job.js");
await import("./chain.js");
