/**
 * Module resolution hook of the standalone bundle: workflow files import `@toil/job` (and
 * `@toil/leader` for types); both resolve to the copies inside the bundle, so the jobs a workflow
 * builds are the bundle's own jobs.
 */
let urls: Record<string, string> = {};

export async function initialize(data: { urls: Record<string, string> }): Promise<void> {
  urls = data.urls;
}

export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<{ url: string }>,
): Promise<{ url: string; shortCircuit?: boolean }> {
  const url = urls[specifier];
  if (url) return { url, shortCircuit: true };
  return next(specifier, context);
}
