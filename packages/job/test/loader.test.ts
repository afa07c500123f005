// What the loader makes of the namespaces `import()` gives for ES modules and CommonJS modules.
import { describe, expect, it } from "vitest";
import { unwrapCommonJsNamespace } from "@toil/job";

class Root {}

describe("unwrapCommonJsNamespace", () => {
  const main = () => 1;
  const step = () => 2;
  it("keeps an ES module's namespace, whatever its default export is", () => {
    const root = new Root();
    for (const ns of [{ default: main, step }, { default: root }, { step }, { default: { a: 1 }, step }]) {
      expect(unwrapCommonJsNamespace(ns)).toBe(ns);
    }
  });
  it("gives module.exports of a CommonJS module compiled from ES module syntax, with its default export", () => {
    const exports = { __esModule: true, default: main, step };
    expect(unwrapCommonJsNamespace({ default: exports, step })).toBe(exports);
    expect(unwrapCommonJsNamespace({ default: exports, "module.exports": exports })).toBe(exports);
  });
  it("gives module.exports of a CommonJS module whose names Node did not find", () => {
    const exports = { step };
    expect(unwrapCommonJsNamespace({ default: exports })).toBe(exports);
  });
  it("keeps a namespace whose other names are not copies of module.exports' properties", () => {
    const ns = { default: { default: main }, step };
    expect(unwrapCommonJsNamespace(ns)).toBe(ns);
  });
});
