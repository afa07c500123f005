import { describe, expect, it } from "vitest";
import {
  UnsupportedCwlFeatureError,
  checkSupported,
  containerCommand,
  detectContainerEngine,
  imageCommands,
  imagePresentCommand,
  localBackend,
  runCommandLineTool,
  type ContainerRun,
} from "../src/index.js";
import { loadTool, tempDir } from "./helpers.js";

const base: ContainerRun = {
  engine: "docker",
  image: "docker.io/debian:stable-slim",
  argv: ["cat", "/var/lib/cwl/stg0/in.txt"],
  outdir: "/work/job/out",
  containerOutdir: "/var/spool/cwl",
  tmpdir: "/work/job/tmp",
  mounts: [
    { source: "/work/job/stage", target: "/var/lib/cwl", readonly: true },
    { source: "/work/job/stage/stg1/ref.fa", target: "/var/spool/cwl/ref.fa", readonly: true },
  ],
  env: { TMPDIR: "/tmp", HOME: "/var/spool/cwl", GREETING: "hello world" },
  networkAccess: false,
  uid: 1000,
  gid: 1001,
  name: "toil-cwl-abc",
};

describe("the container command line", () => {
  it("Docker: output and tmp dirs read-write, inputs read-only, user, env, workdir, no network, removed afterwards", () => {
    const { argv, env } = containerCommand(base);
    expect(argv).toEqual([
      "docker",
      "run",
      "-i",
      "--rm",
      "--name=toil-cwl-abc",
      "--mount=type=bind,source=/work/job/out,target=/var/spool/cwl",
      "--mount=type=bind,source=/work/job/tmp,target=/tmp",
      "--mount=type=bind,source=/work/job/stage,target=/var/lib/cwl,readonly",
      "--mount=type=bind,source=/work/job/stage/stg1/ref.fa,target=/var/spool/cwl/ref.fa,readonly",
      "--workdir=/var/spool/cwl",
      "--read-only=true",
      "--log-driver=none",
      "--net=none",
      "--user=1000:1001",
      "--env=GREETING=hello world",
      "--env=HOME=/var/spool/cwl",
      "--env=TMPDIR=/tmp",
      "docker.io/debian:stable-slim",
      "cat",
      "/var/lib/cwl/stg0/in.txt",
    ]);
    expect(env).toEqual({});
  });

  it("NetworkAccess: true leaves the network on; dockerOutputDirectory moves the working directory", () => {
    const { argv } = containerCommand({ ...base, networkAccess: true, containerOutdir: "/output" });
    expect(argv).not.toContain("--net=none");
    expect(argv).toContain("--workdir=/output");
    expect(argv).toContain("--mount=type=bind,source=/work/job/out,target=/output");
  });

  it("Podman runs rootless as the caller (keep-id) instead of --user", () => {
    const { argv } = containerCommand({ ...base, engine: "podman" });
    expect(argv[0]).toBe("podman");
    expect(argv).toContain("--userns=keep-id");
    expect(argv.some((a) => a.startsWith("--user="))).toBe(false);
  });

  it("Singularity and Apptainer: binds, a contained clean environment given through *ENV_ variables, docker:// images", () => {
    const s = containerCommand({ ...base, engine: "singularity" });
    expect(s.argv).toEqual([
      "singularity",
      "--quiet",
      "exec",
      "--contain",
      "--ipc",
      "--cleanenv",
      "--pid",
      "--home",
      "/work/job/out:/var/spool/cwl",
      "--bind",
      "/work/job/tmp:/tmp",
      "--bind",
      "/work/job/stage:/var/lib/cwl:ro",
      "--bind",
      "/work/job/stage/stg1/ref.fa:/var/spool/cwl/ref.fa:ro",
      "--pwd",
      "/var/spool/cwl",
      "--net",
      "--network",
      "none",
      "docker://docker.io/debian:stable-slim",
      "cat",
      "/var/lib/cwl/stg0/in.txt",
    ]);
    expect(s.env).toEqual({ SINGULARITYENV_GREETING: "hello world", SINGULARITYENV_TMPDIR: "/tmp" });
    const a = containerCommand({ ...base, engine: "apptainer", image: "/images/tool.sif", networkAccess: true });
    expect(a.argv[0]).toBe("apptainer");
    expect(a.argv).toContain("/images/tool.sif");
    expect(a.argv).not.toContain("--net");
    expect(Object.keys(a.env)).toContain("APPTAINERENV_GREETING");
  });
});

describe("getting the image", () => {
  it("pulls a dockerPull image only when the engine does not have it", () => {
    const req = { class: "DockerRequirement", dockerPull: "docker.io/python:3-slim" };
    expect(imagePresentCommand("docker", "docker.io/python:3-slim")).toEqual(["docker", "image", "inspect", "docker.io/python:3-slim"]);
    expect(imageCommands("docker", req, true)).toEqual([]);
    expect(imageCommands("docker", req, false)).toEqual([{ argv: ["docker", "pull", "docker.io/python:3-slim"] }]);
    expect(imageCommands("podman", req, false)).toEqual([{ argv: ["podman", "pull", "docker.io/python:3-slim"] }]);
    expect(imageCommands("singularity", req, false)).toEqual([]);
  });

  it("loads an archive, builds a Dockerfile (fed on stdin) and imports a tarball under dockerImageId", () => {
    expect(imageCommands("docker", { class: "DockerRequirement", dockerLoad: "https://example.org/i.tar", dockerImageId: "mine:1" }, false, "/tmp/i.tar")).toEqual([
      { argv: ["docker", "load", "-i", "/tmp/i.tar"] },
    ]);
    const built = imageCommands("docker", { class: "DockerRequirement", dockerFile: "FROM debian:stable-slim\n", dockerImageId: "built:1" }, false);
    expect(built).toEqual([{ argv: ["docker", "build", "--tag=built:1", "-"], stdin: "FROM debian:stable-slim\n" }]);
    const unnamed = imageCommands("docker", { class: "DockerRequirement", dockerFile: "FROM debian:stable-slim\n" }, false);
    expect(unnamed[0]!.argv[2]).toMatch(/^--tag=toil-cwl-[0-9a-f]{16}$/);
    expect(imageCommands("docker", { class: "DockerRequirement", dockerImport: "https://example.org/fs.tar.gz", dockerImageId: "imp:1" }, false)).toEqual([
      { argv: ["docker", "import", "https://example.org/fs.tar.gz", "imp:1"] },
    ]);
  });

  it("says what is wrong when an image cannot be had", () => {
    expect(() => imageCommands("docker", { class: "DockerRequirement", dockerImageId: "local-only:1" }, false)).toThrow(/nowhere to get it from/);
    expect(imageCommands("docker", { class: "DockerRequirement", dockerImageId: "local-only:1" }, true)).toEqual([]);
    expect(() => imageCommands("singularity", { class: "DockerRequirement", dockerFile: "FROM x" }, false)).toThrow(/dockerFile cannot be used with singularity/);
  });
});

describe("choosing an engine", () => {
  it("TOIL_CWL_CONTAINER_ENGINE names the engine, and an unknown name is reported", () => {
    expect(detectContainerEngine({ TOIL_CWL_CONTAINER_ENGINE: "podman" }).engine).toBe("podman");
    const bad = detectContainerEngine({ TOIL_CWL_CONTAINER_ENGINE: "lxc" });
    expect(bad.engine).toBeUndefined();
    expect(bad.reason).toMatch(/not one of docker, podman, singularity, apptainer/);
  });

  it("a DockerRequirement with no engine is unsupported (exit 33) with the reason, unless --no-container", async () => {
    const t = await loadTool("requirements:\n  DockerRequirement: {dockerPull: docker.io/debian:stable-slim}\ninputs: []\noutputs: []\nbaseCommand: 'true'\n");
    const none = () => ({ reason: "no container engine answers (docker info: exit 1)" });
    expect(() => checkSupported(t, { containerEngine: none })).toThrow(UnsupportedCwlFeatureError);
    expect(() => checkSupported(t, { containerEngine: none })).toThrow(/docker info: exit 1.*--no-container/);
    expect(() => checkSupported(t, { containerEngine: none, noContainer: true })).not.toThrow();
    expect(() => checkSupported(t, { containerEngine: () => ({ engine: "docker", reason: "docker answers" }) })).not.toThrow();
  });

  const here = detectContainerEngine();

  it.skipIf(here.engine !== undefined)(`with no engine here, a DockerRequirement hint is ignored with a warning and the tool runs on this host (${here.reason})`, async () => {
    const t = await loadTool("hints:\n  DockerRequirement: {dockerPull: docker.io/debian:stable-slim}\ninputs: []\noutputs:\n  out: stdout\nstdout: o.txt\nbaseCommand: [echo, on-host]\n");
    const lines: string[] = [];
    const { outputs } = await runCommandLineTool(t, {}, { workDir: tempDir(), backend: localBackend, log: (l) => lines.push(l) });
    expect((outputs.out as { size: number }).size).toBe("on-host\n".length);
    expect(lines.some((l) => /warning: .*DockerRequirement hint is ignored/.test(l))).toBe(true);
  });

  it.skipIf(here.engine === undefined)(`runs a tool in a container of the engine that answers (${here.reason})`, async () => {
    const t = await loadTool(
      "requirements:\n  DockerRequirement: {dockerPull: docker.io/debian:stable-slim}\ninputs: []\noutputs:\n  out: stdout\nstdout: o.txt\nbaseCommand: [sh, -c, 'echo $HOME; pwd']\n",
    );
    const { outputs } = await runCommandLineTool(t, {}, { workDir: tempDir(), backend: localBackend });
    expect((outputs.out as { size: number }).size).toBe("/var/spool/cwl\n/var/spool/cwl\n".length);
  }, 600_000);
});
