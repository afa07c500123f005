/**
 * DockerRequirement: running a tool in a container. Which engine (Docker, Podman, or Singularity /
 * Apptainer, as Slurm sites have), how the image is obtained (pull, load, build, import), and the
 * engine's command line: the output directory and a temporary directory mounted read-write, the
 * staged inputs read-only, the tool's environment, its working directory, the network off unless
 * NetworkAccess allows it, the container removed afterwards, and the caller's user id.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { UnsupportedCwlFeatureError } from "../errors.js";
import { findRequirement, type FoundRequirement, type Requirement } from "../model.js";

/** Requirements and hints of a process (as `RequirementHolder` of requirements.ts). */
type Holder = { requirements: Requirement[]; hints: Requirement[] };
import type { BindMount } from "./initial-workdir.js";

/** A container engine toil-ts can drive. */
export type ContainerEngine = "docker" | "podman" | "singularity" | "apptainer";

/** Every engine, in the order they are tried. */
export const CONTAINER_ENGINES: readonly ContainerEngine[] = ["docker", "podman", "singularity", "apptainer"];

/** Environment variable that names the engine to use (skipping detection). */
export const CONTAINER_ENGINE_ENV = "TOIL_CWL_CONTAINER_ENGINE";

/** Where a container sees its output directory, unless `dockerOutputDirectory` says otherwise. */
export const CONTAINER_OUTDIR = "/var/spool/cwl";
/** Where a container sees its temporary directory. */
export const CONTAINER_TMPDIR = "/tmp";
/** Where a container sees the staged inputs (read-only). */
export const CONTAINER_INPUTS = "/var/lib/cwl";

/** Which engine answers here, and what was tried. */
export interface EngineDetection {
  /** The first engine that answers, if any. */
  engine?: ContainerEngine;
  /** What was tried and what each said (for messages). */
  reason: string;
}

let detected: EngineDetection | undefined;

/**
 * The container engine of this machine: the one `TOIL_CWL_CONTAINER_ENGINE` names, else the first of
 * Docker and Podman whose daemon answers (`docker info`), else Singularity or Apptainer if it runs.
 * Cached for the life of the process.
 */
export function detectContainerEngine(env: NodeJS.ProcessEnv = process.env): EngineDetection {
  const forced = env[CONTAINER_ENGINE_ENV];
  if (forced !== undefined && forced !== "") {
    if (!(CONTAINER_ENGINES as readonly string[]).includes(forced)) {
      return { reason: `${CONTAINER_ENGINE_ENV}=${forced} is not one of ${CONTAINER_ENGINES.join(", ")}` };
    }
    return { engine: forced as ContainerEngine, reason: `${CONTAINER_ENGINE_ENV}=${forced}` };
  }
  if (detected) return detected;
  const tried: string[] = [];
  for (const engine of CONTAINER_ENGINES) {
    const args = engine === "docker" || engine === "podman" ? ["info"] : ["--version"];
    const r = spawnSync(engine, args, { stdio: "ignore", timeout: 20_000 });
    tried.push(`${engine} ${args[0]}: ${r.error ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : `exit ${r.status}`}`);
    if (r.status === 0) {
      detected = { engine, reason: `${engine} answers` };
      return detected;
    }
  }
  detected = { reason: `no container engine answers (${tried.join("; ")})` };
  return detected;
}

/** The DockerRequirement in effect for a tool (requirement or hint), if any. */
export function dockerRequirement(p: Holder): FoundRequirement | undefined {
  return findRequirement(p, "DockerRequirement");
}

/** The image a DockerRequirement runs: `dockerImageId`, else `dockerPull`, else a name derived from `dockerFile`. */
export function imageName(req: Requirement): string {
  if (typeof req.dockerImageId === "string" && req.dockerImageId !== "") return req.dockerImageId;
  if (typeof req.dockerPull === "string" && req.dockerPull !== "") return req.dockerPull;
  if (typeof req.dockerFile === "string") return `toil-cwl-${createHash("sha256").update(req.dockerFile).digest("hex").slice(0, 16)}`;
  throw new UnsupportedCwlFeatureError("DockerRequirement", "DockerRequirement names no image: give dockerPull, dockerImageId, dockerFile, dockerLoad or dockerImport.");
}

/** A step of getting an image: a command, and what it reads on standard input. */
export interface ImageCommand {
  /** The command and its arguments. */
  argv: string[];
  /** Text for its standard input (a Dockerfile for `docker build -`). */
  stdin?: string;
}

/**
 * The commands that make the image of `req` available to `engine`, given whether it is already
 * there (`docker image inspect` succeeded). `loadFile` is the local path of a `dockerLoad` archive.
 * Singularity and Apptainer run `docker://` images directly (and cache them), so they need none;
 * they cannot build a Dockerfile or load an archive.
 */
export function imageCommands(engine: ContainerEngine, req: Requirement, present: boolean, loadFile?: string): ImageCommand[] {
  const image = imageName(req);
  if (engine === "singularity" || engine === "apptainer") {
    if (typeof req.dockerFile === "string" || typeof req.dockerLoad === "string" || typeof req.dockerImport === "string") {
      const field = typeof req.dockerFile === "string" ? "dockerFile" : typeof req.dockerLoad === "string" ? "dockerLoad" : "dockerImport";
      throw new UnsupportedCwlFeatureError("DockerRequirement", `DockerRequirement.${field} cannot be used with ${engine}; give dockerPull (a registry image) instead, or use Docker or Podman.`);
    }
    return [];
  }
  if (present) return [];
  if (typeof req.dockerPull === "string" && req.dockerPull !== "") return [{ argv: [engine, "pull", req.dockerPull] }];
  if (typeof req.dockerLoad === "string") {
    if (loadFile === undefined) throw new UnsupportedCwlFeatureError("DockerRequirement", `DockerRequirement.dockerLoad ${req.dockerLoad}: the archive could not be fetched.`);
    return [{ argv: [engine, "load", "-i", loadFile] }];
  }
  if (typeof req.dockerFile === "string") return [{ argv: [engine, "build", `--tag=${image}`, "-"], stdin: req.dockerFile }];
  if (typeof req.dockerImport === "string") return [{ argv: [engine, "import", req.dockerImport, image] }];
  // Only dockerImageId: it must be there already.
  throw new UnsupportedCwlFeatureError("DockerRequirement", `Image ${image} is not available to ${engine} and DockerRequirement says nowhere to get it from (dockerPull, dockerLoad, dockerFile or dockerImport).`);
}

/** The command that tells whether an image is already available (exit 0: it is). */
export function imagePresentCommand(engine: ContainerEngine, image: string): string[] | undefined {
  return engine === "docker" || engine === "podman" ? [engine, "image", "inspect", image] : undefined;
}

/** What a container run needs. */
export interface ContainerRun {
  /** The engine. */
  engine: ContainerEngine;
  /** The image (a name for Docker/Podman; Singularity gets `docker://` prepended unless it is a file). */
  image: string;
  /** The tool's command line, as it runs inside the container. */
  argv: readonly string[];
  /** The output directory on the host, and where the container sees it. */
  outdir: string;
  /** The output directory inside the container. */
  containerOutdir: string;
  /** The temporary directory on the host (seen as /tmp). */
  tmpdir: string;
  /** More bind mounts: the staged inputs, read-only entries of the working directory. */
  mounts: readonly BindMount[];
  /** Environment variables the tool sees (HOME, TMPDIR, EnvVarRequirement's). */
  env: Readonly<Record<string, string>>;
  /** NetworkAccess: whether the tool may use the network (default false: none). */
  networkAccess: boolean;
  /** The user id to run as (Docker; Podman runs rootless as the caller). */
  uid: number;
  /** The group id to run as (Docker). */
  gid: number;
  /** A name for the container, so it can be stopped when the tool runs out of time. */
  name: string;
}

/** How a container run is started: the command, and environment variables for the engine itself. */
export interface ContainerCommand {
  /** The engine's command line. */
  argv: string[];
  /** Variables to add to the engine's environment (Singularity reads the tool's from `SINGULARITYENV_*`). */
  env: Record<string, string>;
}

/** The engine command line that runs a tool in a container. */
export function containerCommand(run: ContainerRun): ContainerCommand {
  if (run.engine === "singularity" || run.engine === "apptainer") return singularityCommand(run);
  const argv = [run.engine, "run", "-i", "--rm", `--name=${run.name}`];
  const mount = (m: BindMount): string => `--mount=type=bind,source=${m.source},target=${m.target}${m.readonly ? ",readonly" : ""}`;
  argv.push(mount({ source: run.outdir, target: run.containerOutdir, readonly: false }));
  argv.push(mount({ source: run.tmpdir, target: CONTAINER_TMPDIR, readonly: false }));
  for (const m of run.mounts) argv.push(mount(m));
  argv.push(`--workdir=${run.containerOutdir}`, "--read-only=true", "--log-driver=none");
  if (!run.networkAccess) argv.push("--net=none");
  if (run.engine === "docker") argv.push(`--user=${run.uid}:${run.gid}`);
  else if (run.uid !== 0) argv.push("--userns=keep-id");
  for (const [k, v] of Object.entries(run.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) argv.push(`--env=${k}=${v}`);
  argv.push(run.image, ...run.argv);
  return { argv, env: {} };
}

function singularityCommand(run: ContainerRun): ContainerCommand {
  const argv = [run.engine, "--quiet", "exec", "--contain", "--ipc", "--cleanenv", "--pid"];
  argv.push("--home", `${run.outdir}:${run.containerOutdir}`);
  argv.push("--bind", `${run.tmpdir}:${CONTAINER_TMPDIR}`);
  for (const m of run.mounts) argv.push("--bind", `${m.source}:${m.target}:${m.readonly ? "ro" : "rw"}`);
  argv.push("--pwd", run.containerOutdir);
  if (!run.networkAccess) argv.push("--net", "--network", "none");
  const image = run.image.startsWith("/") || run.image.endsWith(".sif") || /^[a-z]+:\/\//.test(run.image) ? run.image : `docker://${run.image}`;
  argv.push(image, ...run.argv);
  // With --cleanenv the tool sees only what SINGULARITYENV_*/APPTAINERENV_* give it.
  const prefix = run.engine === "apptainer" ? "APPTAINERENV_" : "SINGULARITYENV_";
  const env: Record<string, string> = {};
  // HOME comes from --home (Singularity refuses to have it set through the environment).
  for (const [k, v] of Object.entries(run.env)) if (k !== "HOME") env[`${prefix}${k}`] = v;
  return { argv, env };
}

/** The command that stops a running container by name (when the tool runs out of time). */
export function containerKillCommand(engine: ContainerEngine, name: string): string[] | undefined {
  return engine === "docker" || engine === "podman" ? [engine, "kill", name] : undefined;
}

/** NetworkAccess: whether the tool may reach the network (CWL default: no, when it can be enforced). */
export function networkAccess(p: Holder, evaluate: (v: string) => unknown): boolean {
  const found = findRequirement(p, "NetworkAccess");
  if (!found) return false;
  const raw = found.req.networkAccess;
  const v = typeof raw === "string" ? evaluate(raw) : raw;
  return v === true;
}
