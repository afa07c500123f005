import { expect, test } from "vitest";
import { BUS_LOG_FORMAT_VERSION } from "../src/index.js";
test("format version", () => { expect(BUS_LOG_FORMAT_VERSION).toBe(1); });
