/**
 * Services: a small key-value HTTP server runs as a service while the jobs that need it run.
 * The root job adds the service and two children; each child gets the server's URL (the value
 * `start()` returns, as a promise) and stores a value. A follow-on of the root (it runs after both
 * children) reads everything back. The service is stopped after the root's children and
 * follow-ons finish.
 *
 *   toil run flow.ts --jobStore ./js          # prints {"a":"1","b":"2"}
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Job, Service, type JobFunctionWrappingJob } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

let server: http.Server | undefined;

export class KeyValueService extends Service<string> {
  constructor() {
    super({ memory: "64Mi", cores: 0.1, disk: "1Mi" });
  }
  async start(): Promise<string> {
    const data = new Map<string, string>();
    server = http.createServer((req, res) => {
      const key = decodeURIComponent((req.url ?? "/").slice(1));
      if (req.method === "PUT") {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          data.set(key, body);
          res.end("ok");
        });
      } else if (key === "") {
        res.end(JSON.stringify(Object.fromEntries(data)));
      } else {
        res.end(data.get(key) ?? "");
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  }
}

export async function put(url: string, key: string, value: string): Promise<void> {
  const res = await fetch(`${url}/${encodeURIComponent(key)}`, { method: "PUT", body: value });
  if (!res.ok) throw new Error(`PUT ${key} failed: ${res.status}`);
}

export async function readAll(url: string): Promise<Record<string, string>> {
  return (await (await fetch(`${url}/`)).json()) as Record<string, string>;
}

export function useService(job: JobFunctionWrappingJob): unknown {
  const url = job.addService(new KeyValueService());
  job.addChildFn(put, url, "a", "1");
  job.addChildFn(put, url, "b", "2");
  return job.addFollowOnFn(readAll, url).rv();
}

export default function main(_ctx: WorkflowContext) {
  return Job.wrapJobFn(useService);
}
