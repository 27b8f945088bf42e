export { type BenchCheck, type CheckOptions, checkBench } from "./check";
export {
  type BenchConfig,
  type BenchConfigInput,
  benchConfigSchema,
  defaultConfig,
  defaultLarge,
  defaultRunDir,
  isOffline,
  loadConfig,
  parseConfig,
  readConfigFile,
  readConfigValue,
  validateConfig,
} from "./config";
export { type ContextRecord, readContexts } from "./contexts";
export { type ExampleSource, type LoadExamplesOptions, loadExamples, openExamples } from "./data";
export { type CellEstimate, type Estimate, estimateBench, formatEstimate, totalEstimate } from "./estimate";
export { type BenchRecord, type Cell, cells } from "./grid";
export { fromFlagString, unknownKeys } from "./keys";
export { parseLarge, REASONING_EFFORTS } from "./large";
export {
  type CallLimits,
  callLimitsOf,
  defaultResolver,
  type ModelResolver,
} from "./models";
export { type Plan, readPlan } from "./plan";
export { ProgressDisplay, progressLine } from "./progress";
export {
  buildRationaleQuality,
  buildReport,
  buildReportData,
  type Claim,
  type Comparison,
  coverage,
  EXAMPLES_IN_REPORT,
  headlineTable,
  type RationaleQuality,
  type ReportData,
  renderHtml,
  renderMarkdown,
} from "./report/index";
export { type RunBenchOptions, type RunBenchResult, runBench } from "./run";
export { type RunInfo, readRunInfo } from "./run-info";
export {
  buildView,
  buildViewData,
  exportView,
  FLAGS,
  type ItemDetail,
  matrixPayload,
  serveView,
  type ViewData,
  type ViewFiles,
  type ViewIndex,
  viewFiles,
} from "./view/index";
