import { defineProject } from "vitest/config";

/**
 * Per-package vitest settings. Tests resolve sibling workspace packages to their TypeScript
 * sources through the `source` export condition, so a test never reads another package's
 * half-rebuilt `dist/`.
 */
export function packageProject(name: string, extra: { testTimeout?: number } = {}) {
  return defineProject({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      testTimeout: extra.testTimeout ?? 30_000,
      hookTimeout: 60_000,
    },
  });
}
