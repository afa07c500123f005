/**
 * What the standalone bundle puts where the packages import `tsx/esm/api`: the bundle's module
 * hooks (hooks.ts, registered at start) already load TypeScript files, so `register` has nothing
 * left to do and `tsImport` is a plain dynamic import.
 */
export function register(): () => Promise<void> {
  return async () => {};
}

export async function tsImport(specifier: string, _parent?: string): Promise<unknown> {
  return import(specifier);
}
