import { defineConfig, type Options } from "tsup";

/**
 * The build every workspace package shares: ES modules for Node 20 with declarations and source
 * maps, into a dist/ emptied first. A package's tsup.config.ts names only what differs (its entry
 * points, what it bundles or leaves external).
 */
export const packageBuild = {
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  sourcemap: true,
} satisfies Options;

/** A package's tsup config: {@link packageBuild} with the package's own settings over it. */
export function packageConfig(options: Options & { entry: NonNullable<Options["entry"]> }): ReturnType<typeof defineConfig> {
  return defineConfig({ ...packageBuild, ...options });
}
