import { register } from "node:module";

/** Make `@toil/job` and `@toil/leader` in user code resolve to this bundle's copies. */
export function registerBundleResolution(): void {
  const here = new URL(".", import.meta.url);
  register(new URL("./hooks.js", here).href, {
    data: { urls: { "@toil/job": new URL("./job.js", here).href, "@toil/leader": new URL("./leader.js", here).href } },
  });
}
