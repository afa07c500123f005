/**
 * Getting a container image before a tool runs: ask the engine whether it has it, else pull, load,
 * build or import it as the DockerRequirement says. Each image is prepared once per process.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CwlPermanentFailureError } from "../errors.js";
import { urlToPath } from "../load/uri.js";
import type { Requirement } from "../model.js";
import { imageCommands, imageName, imagePresentCommand, type ContainerEngine, type ImageCommand } from "./container.js";

function run(cmd: ImageCommand, log: (line: string) => void): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd.argv[0]!, cmd.argv.slice(1), { stdio: [cmd.stdin !== undefined ? "pipe" : "ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (d: Buffer): void => {
      output = (output + d.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    if (cmd.stdin !== undefined) child.stdin?.end(cmd.stdin);
    child.on("error", (err) => resolve({ code: 127, output: err.message }));
    child.on("close", (code) => {
      if (code !== 0) for (const l of output.trim().split("\n").slice(-5)) log(l);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** The local path of a `dockerLoad` archive: a `file:` URL or path as it is, an http(s) URL downloaded. */
async function loadArchive(location: string): Promise<string> {
  const local = urlToPath(location);
  if (local !== undefined) return local;
  if (!/^https?:/.test(location)) return location;
  const res = await fetch(location);
  if (!res.ok || !res.body) throw new CwlPermanentFailureError(`DockerRequirement.dockerLoad: cannot download ${location}: HTTP ${res.status}.`);
  const dest = path.join(await mkdtemp(path.join(tmpdir(), "toil-cwl-image-")), "image.tar");
  await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(dest));
  return dest;
}

const prepared = new Map<string, Promise<string>>();

/** Make the image of `req` available to `engine`; resolves to the image to run. */
export function ensureImage(engine: ContainerEngine, req: Requirement, log: (line: string) => void): Promise<string> {
  const image = imageName(req);
  const key = `${engine}\n${JSON.stringify(req)}`;
  let p = prepared.get(key);
  if (!p) {
    p = (async () => {
      const probe = imagePresentCommand(engine, image);
      const present = probe !== undefined && (await run({ argv: probe }, () => undefined)).code === 0;
      const loadFile = !present && typeof req.dockerLoad === "string" ? await loadArchive(req.dockerLoad) : undefined;
      for (const cmd of imageCommands(engine, req, present, loadFile)) {
        log(`Getting image ${image}: ${cmd.argv.join(" ")}`);
        const r = await run(cmd, log);
        if (r.code !== 0) {
          throw new CwlPermanentFailureError(`Cannot get container image ${image}: ${cmd.argv.join(" ")} exited with ${r.code}: ${r.output.trim().split("\n").slice(-3).join(" / ")}`);
        }
      }
      return image;
    })();
    p.catch(() => prepared.delete(key));
    prepared.set(key, p);
  }
  return p;
}
