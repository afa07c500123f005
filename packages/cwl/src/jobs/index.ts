/**
 * The module workers import to rebuild CWL jobs (by its URL, `cwlJobModuleUrl()` of @toil/cwl): it exports
 * every job class of @toil/cwl and nothing else.
 *
 * @module @toil/cwl/jobs
 */
export { CwlToolJob, CwlStepJob, CwlScatterGatherJob, CwlWorkflowJob, CwlOutputsJob } from "./jobs.js";
