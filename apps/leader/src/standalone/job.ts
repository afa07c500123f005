// The standalone bundle serves `@toil/job` to user workflows from this file: it must be the whole package, as is.
export * from "@toil/job";
