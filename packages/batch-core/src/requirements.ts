/**
 * Requirement types a batch system needs. They are declared by `@toil/job`; this module
 * re-exports them so a batch plugin can depend on `@toil/batch-core` alone.
 */
export type { AcceleratorRequirement, Requirements } from "./requirements-shape.js";
