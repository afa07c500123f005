/** Stores for tests that open one store from several instances, as separate processes would. */
import * as path from "node:path";
import { FileJobStore, type FileJobStoreOptions } from "../../src/index.js";
import { sampleConfig } from "../../src/testing/index.js";

/** `fresh()` creates a store under `dir()` (a new one each call); `open(root)` resumes another instance of it. */
export function storeOpener(dir: () => string, options: FileJobStoreOptions): { fresh: () => Promise<string>; open: (root: string) => Promise<FileJobStore> } {
  let n = 0;
  return {
    async fresh() {
      const root = path.join(dir(), `s${n++}`);
      await new FileJobStore(root, options).initialize(sampleConfig(root));
      return root;
    },
    async open(root) {
      const s = new FileJobStore(root, options);
      await s.resume();
      return s;
    },
  };
}
