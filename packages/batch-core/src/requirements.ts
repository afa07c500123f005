/**
 * Requirement types a batch system needs, re-exported from `@toil/job` so a batch plugin can
 * depend on `@toil/batch-core` alone.
 */
export type { AcceleratorRequirement, Requirements } from "@toil/job";
