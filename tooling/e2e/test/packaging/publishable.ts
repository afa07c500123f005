/**
 * The workspace directories published to npm, in dependency order. The packing suite and the
 * `npm init` suite both read this list, so a new package cannot be packed by one and missed by the other.
 */
export const PUBLISHABLE_DIRS = [
  "packages/bus",
  "packages/job",
  "packages/filestore",
  "packages/batch-core",
  "packages/batch-local",
  "packages/batch-slurm",
  "packages/cwl",
  "apps/worker",
  "apps/leader",
] as const;
