/**
 * @toil/job: the workflow author's API of toil-ts (jobs, edges, services, typed promises,
 * requirements) and the job descriptions the leader, worker and job store exchange.
 *
 * @module @toil/job
 */
export * from "./core.js";

// workflow configuration (owned by the leader app team): the schema and what validates with it
export {
  configSchema,
  sizeSchema,
  CLEAN_POLICIES,
  LOG_LEVELS,
  parseConfig,
  defaultConfig,
  configFromJSON,
  prepareStart,
  prepareRestart,
  PER_RUN_OPTIONS,
  parseOptionText,
  parseSetEnv,
  parseAcceleratorSpec,
  parsePluginOptions,
} from "./config/index.js";
