/**
 * @toil/cwl: the Common Workflow Language (CWL v1.2) on toil-ts. Loading and validating CWL
 * documents, the CWL type system, command-line binding, staging, output collection, expressions,
 * and the translation of a CWL process into toil-ts jobs.
 *
 * @module @toil/cwl
 */

// errors
export {
  CwlError,
  CwlDocumentError,
  CwlInputError,
  UnsupportedCwlFeatureError,
  CwlExpressionError,
  CwlOutputError,
  CwlPermanentFailureError,
  CwlTemporaryFailureError,
} from "./errors.js";

// the document model
export type {
  CwlType,
  CwlPrimitiveType,
  CwlArrayType,
  CwlRecordType,
  CwlRecordField,
  CwlEnumType,
  SecondaryFileSchema,
  CommandLineBinding,
  CommandOutputBinding,
  LoadListing,
  ParameterCommon,
  InputParameter,
  OutputParameter,
  Requirement,
  ProcessCommon,
  CommandLineTool,
  ExpressionTool,
  Operation,
  Workflow,
  WorkflowStep,
  WorkflowStepInput,
  Process,
  CwlFile,
  CwlDirectory,
  FoundRequirement,
} from "./model.js";
export { findRequirement } from "./model.js";

// loading
export { CwlLoader, loadProcess, processUrl, SUPPORTED_CWL_VERSIONS } from "./load/index.js";

// types and expressions
export { typeMismatch, matchingType, describeType, isOptional } from "./types/check.js";
export {
  type ExpressionContext,
  type ExpressionEngine,
  parameterReferenceEngine,
  evaluateExpressions,
  interpolationText,
} from "./expr/engine.js";
export { JavaScriptEngine, EXPRESSION_TIMEOUT_MS, EXPRESSION_MEMORY_LIMIT, EVAL_TIMEOUT_ENV, expressionTimeoutMs, loadJavaScriptEngine, loadJavaScriptEngineFor, usesJavaScript, javaScriptEngineLoaded } from "./expr/javascript.js";

// running tools
export { type FileBackend, localBackend } from "./tool/backend.js";
export { buildCommandLine, shellCommand, shellQuote, type CommandWord, type CommandLineContext } from "./tool/command-line.js";
export { runCommandLineTool, runExpressionTool, type ToolRunOptions, type ToolRunResult } from "./tool/run.js";
export {
  expressionEngineFor,
  evaluateResources,
  checkSupported,
  SUPPORTED_REQUIREMENTS,
  DEFAULT_RESOURCES,
  type ToolResources,
  type SupportOptions,
  type RequirementHolder,
} from "./tool/requirements.js";
export { LOAD_CONTENTS_LIMIT } from "./tool/inputs.js";
export {
  type ContainerEngine,
  type ContainerRun,
  type ContainerCommand,
  type EngineDetection,
  type ImageCommand,
  CONTAINER_ENGINES,
  CONTAINER_ENGINE_ENV,
  CONTAINER_OUTDIR,
  CONTAINER_TMPDIR,
  CONTAINER_INPUTS,
  containerCommand,
  detectContainerEngine,
  imageCommands,
  imagePresentCommand,
} from "./tool/container.js";
export type { BindMount } from "./tool/initial-workdir.js";

// runs on toil-ts
export { prepareCwlRun, importCwlFiles, cwlRootJob, type CwlRunRequest, type PreparedCwlRun, type FileImporter, type ImportWarning } from "./runner/prepare.js";
export { exportCwlOutputs, type FileExporter } from "./runner/export.js";
export { parseInputFlags, readJobOrder, type JobOrder } from "./runner/job-order.js";
export { cwlJobModuleUrl, registerCwlJobs } from "./jobs/location.js";
export { TOIL_FILE_SCHEME, toilFileLocation, fileIdOf, jobStoreDirectoryStates, INLINE_FILE_LIMIT, inlineFileLocation, inlineFileBytes } from "./jobs/file-store-backend.js";
export { type DirectoryStates, newDirectoryLocation, directoryIdentity, refreshDirectories } from "./tool/directory-state.js";
