/**
 * Helpers of the registry suite: a local npm registry (Verdaccio) on 127.0.0.1 with its storage
 * in a temp dir, a copy of the workspace to publish (and version) from, and child processes run
 * with a clean environment, as a user's shell would run them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { collect } from "@toil/test-support";
import { REPO_ROOT } from "../../src/toil.js";

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: this process's, without what the test runner and the
 * package manager running it add (vitest's markers, npm_config_* settings, NODE_OPTIONS).
 */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(VITEST|npm_|NPM_CONFIG_|PNPM_|NODE_OPTIONS$|NODE_PATH$|NODE_ENV$|TEST$|TINYPOOL|TOIL_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", ...extra };
}

/** Run a command to its end (killed after `timeoutMs`), collecting its output. */
export async function run(cmd: string, args: readonly string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  const { code, signal, stdout, stderr } = await collect(child, opts.timeoutMs ?? 300_000);
  return { code, signal, stdout, stderr };
}

/** Run a command that must succeed; a failure throws with its output. */
export async function mustRun(cmd: string, args: readonly string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `\`${cmd} ${args.join(" ")}\` in ${opts.cwd} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-6000)}`,
    );
  }
  return r;
}

/** A port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface LocalRegistry {
  url: string;
  /** An npmrc with the registry and a publish token for it. */
  npmrc: string;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Start Verdaccio on a free 127.0.0.1 port with its storage under `dir`. Packages `@toil/*` and
 * `toil-batch-*` live only here (published by the test, never fetched elsewhere); every other
 * package is proxied from the registry npm is configured with, so consumers get third-party
 * dependencies as usual. Publishing needs a user: one is created and its token written to an npmrc.
 */
export async function startRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const upstream = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8", env: userEnv() }).stdout.trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(path.join(dir, "storage"))}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(path.join(dir, "htpasswd"))}`,
      "    max_users: 10",
      "uplinks:",
      "  upstream:",
      `    url: ${JSON.stringify(upstream)}`,
      "    timeout: 60s",
      // Metadata fetched once is good for the whole suite (npm asks again at every install and update).
      "    maxage: 30m",
      "packages:",
      "  '@toil/*':",
      "    access: $all",
      "    publish: $authenticated",
      "  'toil-batch-*':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    publish: $nobody",
      "    proxy: upstream",
      "web:",
      "  enable: false",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve("verdaccio/package.json")), "bin", "verdaccio");
  const child: ChildProcess = spawn(process.execPath, [bin, "--config", config, "--listen", `127.0.0.1:${port}`], {
    cwd: dir,
    env: userEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  // Never outlive the test process.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    process.off("exit", killOnExit);
  };
  // Wait until it answers (bounded: 60 tries).
  let up = false;
  for (let i = 0; i < 120 && !up; i++) {
    if (child.exitCode !== null) throw new Error(`Verdaccio exited at start:\n${output}`);
    try {
      up = (await fetch(`${url}-/ping`)).ok;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  if (!up) {
    await stop();
    throw new Error(`Verdaccio did not answer on ${url}:\n${output}`);
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:toil-e2e`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "toil-e2e", password: `pw-${process.pid}-${Date.now()}` }),
  });
  const token = ((await res.json()) as { token?: string }).token;
  if (!token) {
    await stop();
    throw new Error(`Could not create a user on the local registry (HTTP ${res.status}):\n${output}`);
  }
  const npmrc = path.join(dir, "publish.npmrc");
  writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { url, npmrc, stop, log: () => output };
}

export interface WorkspacePackage {
  name: string;
  dir: string;
  private: boolean;
}

function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Every package of the workspace (the globs of pnpm-workspace.yaml, one level deep). */
function workspacePackages(root = REPO_ROOT): WorkspacePackage[] {
  const yaml = readFileSync(path.join(root, "pnpm-workspace.yaml"), "utf8");
  const globs = [...yaml.matchAll(/^\s+-\s+["']?([^"'\n]+?)\/\*["']?\s*$/gm)].map((m) => m[1] as string);
  const out: WorkspacePackage[] = [];
  for (const g of globs) {
    const base = path.join(root, g);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base)) {
      const manifest = path.join(base, d, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = readJson<{ name: string; private?: boolean }>(manifest);
      out.push({ name: pkg.name, dir: path.join(g, d), private: pkg.private === true });
    }
  }
  return out;
}

const DEP_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const;

/** Names of the workspace packages a manifest refers to with the `workspace:` protocol. */
export function workspaceRefs(manifest: Record<string, unknown>, fields: readonly string[] = DEP_FIELDS): string[] {
  const out: string[] = [];
  for (const f of fields) {
    for (const [name, range] of Object.entries((manifest[f] as Record<string, string> | undefined) ?? {})) {
      if (range.startsWith("workspace:")) out.push(name);
    }
  }
  return out;
}

/**
 * Copy the publishable packages (every non-private package, with its built dist) and the
 * workspace packages they refer to into `dest`, with the root manifest, the workspace file,
 * the lockfile and the changesets config (no pending changesets), as a git repository on
 * `main`; link it with a pnpm install that prefers the store (it already holds every dependency).
 */
export async function copyWorkspace(dest: string): Promise<WorkspacePackage[]> {
  const all = workspacePackages();
  const byName = new Map(all.map((p) => [p.name, p]));
  const keep = new Set(all.filter((p) => !p.private).map((p) => p.name));
  const stack = [...keep];
  while (stack.length > 0) {
    const p = byName.get(stack.pop() as string) as WorkspacePackage;
    for (const ref of workspaceRefs(readJson(path.join(REPO_ROOT, p.dir, "package.json")))) {
      if (!keep.has(ref) && byName.has(ref)) {
        keep.add(ref);
        stack.push(ref);
      }
    }
  }
  mkdirSync(path.join(dest, ".changeset"), { recursive: true });
  for (const f of ["package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml"]) cpSync(path.join(REPO_ROOT, f), path.join(dest, f));
  cpSync(path.join(REPO_ROOT, ".changeset", "config.json"), path.join(dest, ".changeset", "config.json"));
  const copied = all.filter((p) => keep.has(p.name));
  for (const p of copied) {
    cpSync(path.join(REPO_ROOT, p.dir), path.join(dest, p.dir), {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|\.turbo|coverage)$/.test(src),
    });
  }
  const env = userEnv();
  await mustRun("pnpm", ["install", "--prefer-offline", "--ignore-scripts", "--no-frozen-lockfile"], { cwd: dest, env, timeoutMs: 180_000 });
  await mustRun("git", ["init", "-q", "-b", "main"], { cwd: dest, env });
  writeFileSync(path.join(dest, ".gitignore"), "node_modules/\n");
  await mustRun("git", ["add", "-A"], { cwd: dest, env });
  await mustRun("git", ["-c", "user.name=toil-e2e", "-c", "user.email=toil-e2e@localhost", "commit", "-q", "-m", "workspace copy"], { cwd: dest, env });
  return copied;
}

/** `name -> version` of every package installed under a project's node_modules (from npm's lockfile). */
export function installedPackages(project: string): Map<string, string[]> {
  const lock = readJson<{ packages: Record<string, { version?: string; resolved?: string; link?: boolean }> }>(path.join(project, "package-lock.json"));
  const out = new Map<string, string[]>();
  for (const [where, info] of Object.entries(lock.packages)) {
    if (where === "") continue;
    const name = where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
    out.set(name, [...(out.get(name) ?? []), info.version ?? "?"]);
  }
  return out;
}

/** The integrity npm's lockfile records for each copy of a package. */
export function installedIntegrity(project: string, name: string): string[] {
  const lock = readJson<{ packages: Record<string, { integrity?: string }> }>(path.join(project, "package-lock.json"));
  return Object.entries(lock.packages)
    .filter(([where]) => where === `node_modules/${name}` || where.endsWith(`/node_modules/${name}`))
    .map(([, info]) => info.integrity ?? "");
}
