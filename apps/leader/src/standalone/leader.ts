// The standalone bundle serves `@toil/leader` to user workflows from this file: it must be the whole package, as is.
export * from "../index.js";
