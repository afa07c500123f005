// The CWL job classes in the standalone bundle: workers import this file to rebuild CWL jobs
// (@toil/cwl's cwlJobModuleUrl() names `cwl-jobs.js` next to the bundled code).
export * from "@toil/cwl/jobs";
