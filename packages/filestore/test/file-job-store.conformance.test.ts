import { describeJobStoreConformance } from "../src/testing/index.js";
import { FileJobStore } from "../src/index.js";

describeJobStoreConformance("FileJobStore", (location) => new FileJobStore(location));
describeJobStoreConformance("FileJobStore (durable: false)", (location) => new FileJobStore(location, { durable: false }));
