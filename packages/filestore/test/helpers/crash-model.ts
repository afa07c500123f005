/**
 * The crash test's model: what a store may hold after a writer was killed, replayed from the
 * writers' log (see ops-log.ts), and the check of a resumed store against it.
 */
import { isToilError } from "@toil/job";
import { expect } from "vitest";
import { FileJobStore, NoSuchJobError } from "../../src/index.js";
import { readEntries } from "./ops-log.js";

/** What the store may hold after a kill, by the writers' log. */
export interface Model {
  /** job id -> allowed data.n values; `null` in the set means "may be absent". */
  jobs: Map<string, Set<number | null>>;
  files: Map<string, Set<string>>;
  results: Map<string, Set<string | null>>;
  /** Jobs finished in one group (result + deletion): gone with their result, or there without it. */
  finished: Map<string, { value: string; done: boolean }>;
}

/**
 * Replay the writers' log: an operation logged done must be in the store; one whose done line is
 * missing (the kill came first) may be there or not, never half.
 */
export function replay(logFile: string): Model {
  const entries = readEntries(logFile);
  const m: Model = { jobs: new Map(), files: new Map(), results: new Map(), finished: new Map() };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.t !== "intent") continue;
    const done = entries[i + 1]?.t === "done" ? (entries[i + 1] as { id?: string }) : undefined;
    const apply = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
      if (done) map.set(key, new Set([value]));
      else map.set(key, new Set([...(map.get(key) ?? []), value]));
    };
    switch (e.op) {
      case "create":
        for (const [id, data] of e.jobs as [string, { n: number }][]) {
          if (!done) m.jobs.set(id, new Set([null]));
          apply(m.jobs, id, data.n);
        }
        break;
      case "update":
        apply(m.jobs, e.id as string, (e.data as { n: number }).n);
        break;
      case "delete":
        apply(m.jobs, e.id as string, null);
        m.results.delete(e.id as string);
        // (A finish cut by a kill left the job there, and a later writer deleted it.)
        m.finished.delete(e.id as string);
        break;
      case "writeFile":
        if (done?.id) m.files.set(done.id, new Set([e.content as string]));
        break;
      case "updateFile":
        apply(m.files, e.id as string, e.content as string);
        break;
      case "finish":
        apply(m.jobs, e.id as string, null);
        m.results.delete(e.id as string);
        m.finished.set(e.id as string, { value: e.value as string, done: done !== undefined });
        break;
      case "result":
        if (!m.results.has(e.id as string)) m.results.set(e.id as string, new Set([null]));
        apply(m.results, e.id as string, e.value as string);
        break;
    }
  }
  return m;
}

/** Resume the store at `storePath` and check it against the log; returns how many jobs and files were checked. */
export async function verify(storePath: string, logFile: string): Promise<number> {
  const store = new FileJobStore(storePath);
  await store.resume(); // must always succeed
  try {
    const model = replay(logFile);
    const present = new Set<string>();
    for await (const id of store.jobIds()) present.add(id);
    for (const [id, allowed] of model.jobs) {
      let n: number | null = null;
      try {
        n = ((await store.loadJob(id)).getBody().data as { n: number }).n;
      } catch (err) {
        // Absent only: a damaged description (a DamagedJobError is a NoSuchJobError too) is a failure.
        if (!isToilError(err) || err.code !== NoSuchJobError.code) throw err;
      }
      expect(allowed.has(n), `job ${id}: found ${n}, allowed ${[...allowed].join(",")}`).toBe(true);
      if (n !== null) expect(present.has(id)).toBe(true);
    }
    for (const [id, allowed] of model.files) {
      const chunks: Buffer[] = [];
      for await (const c of await store.readFileStream(id)) chunks.push(c as Buffer);
      const content = Buffer.concat(chunks).toString();
      expect(allowed.has(content), `file ${id}: found ${content.slice(0, 30)}`).toBe(true);
    }
    for (const [id, allowed] of model.results) {
      if (!model.jobs.has(id)) continue;
      const value = (await store.hasResult(id)) ? await store.readResult(id) : null;
      expect(allowed.has(value), `result of ${id}: ${value}`).toBe(true);
    }
    for (const [id, { value, done }] of model.finished) {
      const exists = await store.jobExists(id);
      const result = (await store.hasResult(id)) ? await store.readResult(id) : null;
      if (!exists) expect(result, `finished job ${id} is gone, so its result is there`).toBe(value);
      else expect(done, `finished job ${id} is still there after its commit was logged done`).toBe(false);
    }
    return model.jobs.size + model.files.size;
  } finally {
    // Its view holds a descriptor per log it read; a check per kill must not pile them up.
    await store.close();
  }
}
