import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { KnipConfig } from "knip";

// Unused files, exports and dependencies across the workspace (run by `pnpm lint`).
// Entry points marked `!` are production code: `knip --production` (an audit run, not part of
// lint) follows only those, which finds what only tests use. The packages' exports maps, bins and
// their vitest and tsup configs are entry points through knip's package.json, vitest and tsup
// handling; the entries below are the rest: scripts other processes start by path (runtime/,
// fixtures/), benchmarks and tooling scripts.
type Exports = Record<string, string | Record<string, string>>;

/**
 * Each workspace package's entry points by import specifier, read from the `source` condition of
 * its exports map: knip's resolver does not know that condition, and without it an import of
 * `@toil/job` in another package would count as a use of dist/, not of packages/job/src/.
 */
function sourceEntries(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const group of ["packages", "apps", "examples", "tooling"]) {
    for (const dir of readdirSync(group, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      let manifest: { name?: string; exports?: Exports };
      try {
        manifest = JSON.parse(readFileSync(path.join(group, dir.name, "package.json"), "utf8"));
      } catch {
        continue;
      }
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        if (typeof target !== "object" || target.source === undefined) continue;
        entries.set(`${manifest.name}${subpath.slice(1)}`, path.join(group, dir.name, target.source));
      }
    }
  }
  return entries;
}

const sources = sourceEntries();

/** The `paths` of a workspace: every package specifier mapped to its source entry, relative to the workspace. */
function sourcePaths(workspace: string): Record<string, string[]> {
  return Object.fromEntries([...sources].map(([specifier, file]) => [specifier, [path.relative(workspace, file)]]));
}

const workspaces: NonNullable<KnipConfig["workspaces"]> = {
    ".": {
      entry: ["tooling/scripts/*.mjs", "docs/*.mjs", "tooling/*.ts"],
      // tooling/scripts/check-clones.mjs runs jscpd's launcher by path (require.resolve), which knip does not follow.
      ignoreDependencies: ["jscpd"],
      project: ["*.ts", "tooling/*.ts", "tooling/scripts/**", "docs/*.mjs"],
    },
    "packages/bus": {
      entry: ["test/fixtures/*.mjs"],
      project: ["src/**/*.ts!", "test/**/*.{ts,mjs}", "bench/**"],
    },
    "packages/job": {
      project: ["src/**/*.ts!", "test/**/*.ts"],
    },
    "packages/filestore": {
      entry: ["test/fixtures/*.{ts,mjs}"],
      project: ["src/**/*.ts!", "test/**/*.{ts,mjs}", "bench/**"],
    },
    "packages/batch-core": {
      // The conformance kit starts this script as the job of every kit test.
      entry: ["fixtures/*.mjs!"],
      project: ["src/**/*.ts!", "fixtures/**!", "test/**/*.ts"],
    },
    "packages/batch-local": {
      // The warm host is started by path in a child process.
      entry: ["runtime/*.mjs!"],
      project: ["src/**/*.ts!", "runtime/**!", "test/**/*.ts", "bench/**"],
    },
    "packages/batch-slurm": {
      // The pack runner is started by path on the compute node.
      entry: ["runtime/*.mjs!", "test/fixtures/*.mjs"],
      project: ["src/**/*.ts!", "runtime/**!", "test/**/*.{ts,mjs}", "bench/**"],
    },
    "packages/cwl": {
      entry: ["scripts/*.ts"],
      project: ["src/**/*.ts!", "test/**/*.ts", "scripts/**"],
    },
    "apps/leader": {
      // The standalone bundle's entries are built by tsup.config.ts; the ops fixture is run by path.
      entry: ["src/standalone/*.ts!", "bench/*.{ts,mjs}", "test/fixtures/**", "test/ops-fixtures/**"],
      project: ["src/**/*.ts!", "test/**/*.{ts,mjs}", "bench/**"],
    },
    "apps/worker": {
      // Test workflows: the worker loads their jobs by module path and export name.
      entry: ["test/fixtures/**"],
      project: ["src/**/*.ts!", "test/**/*.ts", "bench/**"],
    },
    "tooling/bench": {
      entry: ["src/cpu-prof-preload.mjs", "workflows/**"],
      project: ["src/**", "workflows/**"],
    },
    "tooling/e2e": {
      entry: ["fixtures/**"],
      project: ["src/**", "test/**", "fixtures/**"],
    },
    "tooling/cwl-conformance": {
      project: ["src/**", "test/**"],
    },
    "examples/*": {
      entry: ["flow.ts"],
      project: ["*.ts"],
    },
    "examples/batch-plugin-example": {
      project: ["src/**!", "test/**"],
    },
    "examples/toil-batch-echo": {
      project: ["src/**!", "test/**"],
    },
};

const config: KnipConfig = {
  // Built output: a fresh clone has none, and knip must find the same there as after a build.
  // (Lint runs with --no-config-hints: with dist/ present, knip reads the declarations its exports
  // maps name and calls this entry and batch-slurm's ignoreDependencies redundant. Run plain
  // `npx knip` after changing this file to see its hints.)
  ignore: ["**/dist/**"],
  // System programs the code and tests run (Slurm, GPU probes, mount, cwltool): not npm packages.
  ignoreBinaries: ["sbatch", "squeue", "scontrol", "scancel", "nvidia-smi", "rocm-smi", "flock", "mount", "umount", "cwltool", "sinfo"],
  rules: {
    // The `testing` entries import vitest, an optional peer: only a user who runs the kits has it.
    optionalPeerDependencies: "off",
  },
  ignoreIssues: {
    // Batch-system plugins are loaded by their module's default export; the named export is the API.
    "packages/batch-local/src/index.ts": ["duplicates"],
    "packages/batch-slurm/src/index.ts": ["duplicates"],
    // Revisited after the commit-log/Slurm-hosts merge (these modules are being rewritten there).
    "packages/filestore/src/ids.ts": ["exports"],
    "packages/filestore/src/internal/fsx.ts": ["exports"],
    "packages/filestore/src/internal/process-info.ts": ["exports"],
    "packages/filestore/src/file-store/caching.ts": ["exports"],
    "apps/worker/src/user-stack.ts": ["exports"],
    "apps/worker/src/worker.ts": ["exports"],
    "packages/filestore/src/commit-log/record.ts": ["exports", "types"],
    "packages/filestore/src/file-job-store/file-checksums.ts": ["exports"],
    "packages/filestore/src/file-job-store/folded-files.ts": ["exports"],
    "packages/filestore/src/file-job-store/fold.ts": ["types"],
    "packages/batch-slurm/src/slurm-commands.ts": ["exports"],
    "packages/batch-slurm/src/worker-hosts/*.ts": ["exports"],
  },
  workspaces: Object.fromEntries(Object.entries(workspaces).map(([name, ws]) => [name, { ...ws, paths: sourcePaths(name) }])),
};

export default config;
