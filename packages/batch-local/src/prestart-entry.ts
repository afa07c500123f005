/**
 * `@toil/batch-local/prestart`: start the first warm worker host before the batch system exists
 * (see `prestartWarmHost`). Loads no other toil-ts package.
 *
 * @module @toil/batch-local/prestart
 */
export { discardPrestartedHost, prestartWarmHost } from "./prestart.js";
