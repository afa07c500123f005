// Import rules from the architecture: imports point down the layer picture, never up,
// never into an app, and never in a cycle (type-only imports included).
//   apps/leader -> cwl, batch-local, batch-slurm, filestore, bus, job, batch-core, and worker only for its entries
//   apps/worker -> filestore, job, bus (CWL job classes are loaded by module reference, never imported)
//   cwl -> filestore -> job -> bus
//   batch-local, batch-slurm -> batch-core -> job -> bus
const pkg = (name) => `^packages/${name}/`;
const upward = [
  { from: "bus", to: ["job", "filestore", "batch-core", "batch-local", "batch-slurm", "cwl"] },
  { from: "job", to: ["filestore", "batch-core", "batch-local", "batch-slurm", "cwl"] },
  { from: "filestore", to: ["batch-core", "batch-local", "batch-slurm", "cwl"] },
  { from: "batch-core", to: ["filestore", "batch-local", "batch-slurm", "cwl"] },
  { from: "batch-local", to: ["filestore", "batch-slurm", "cwl"] },
  { from: "batch-slurm", to: ["filestore", "batch-local", "cwl"] },
  { from: "cwl", to: ["batch-core", "batch-local", "batch-slurm"] },
];

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import cycles make layers inseparable; break them by declaring the interface in the user.",
      from: {},
      to: { circular: true },
    },
    ...upward.map(({ from, to }) => ({
      name: `no-upward-from-${from}`,
      severity: "error",
      comment: `@toil/${from} sits below ${to.join(", ")} in the architecture; it may not import them.`,
      from: { path: pkg(from) },
      to: { path: `^packages/(${to.join("|")})/` },
    })),
    {
      name: "no-package-imports-app",
      severity: "error",
      comment: "Packages never import an app.",
      from: { path: "^packages/" },
      to: { path: "^apps/" },
    },
    {
      name: "worker-stays-small",
      severity: "error",
      comment: "The worker runs jobs; it does not schedule them (no batch systems, no leader), and it loads CWL jobs by module reference.",
      from: { path: "^apps/worker/" },
      to: { path: "^(apps/leader|packages/batch-|packages/cwl/)" },
    },
    {
      name: "leader-runs-worker-only-as-entry",
      severity: "error",
      comment:
        "The leader reaches @toil/worker only to run a job itself (debug-job, --debugWorker) and for the worker entries it builds; " +
        "loading user modules, service flags, job results and worker directories come from @toil/job.",
      from: {
        path: "^apps/leader/src/",
        pathNot: "^apps/leader/src/(ops/debug-job|debug-worker|worker|standalone/worker|standalone/module-hooks)\\.ts$",
      },
      to: { path: "^apps/worker/" },
    },
    {
      name: "no-deep-imports",
      severity: "error",
      comment: "Reach another package through its name and exports map, never through a relative path into its files.",
      from: { path: "^(packages|apps|examples|tooling)/([^/]+)/" },
      to: { path: "^(packages|apps|examples|tooling)/", pathNot: "^$1/$2/", dependencyTypes: ["local"] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    // tsup writes tsup.config.bundled_*.mjs next to the config while a package builds, and turbo
    // runs a package's lint beside its build: the file can vanish while it is read.
    exclude: { path: "(^|/)(dist|node_modules|\\.turbo)/|tsup\\.config\\.bundled_" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["source", "import", "types", "default"],
      extensions: [".ts", ".js", ".mjs", ".json"],
    },
    includeOnly: "^(packages|apps)/",
  },
};
