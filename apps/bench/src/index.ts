export {
  type BenchConfig,
  type BenchConfigInput,
  benchConfigSchema,
  defaultConfig,
  defaultRunDir,
  isOffline,
  loadConfig,
  parseConfig,
  readConfigFile,
} from "./config";
export { loadExamples } from "./data";
export { type BenchRecord, type Cell, cells } from "./grid";
export {
  apiKeysInEnv,
  type CallLimits,
  callLimitsOf,
  defaultResolver,
  type ModelResolver,
} from "./models";
export { type Plan, readPlan } from "./plan";
export { ProgressDisplay, progressLine } from "./progress";
export {
  buildReport,
  buildReportData,
  type Claim,
  type Comparison,
  coverage,
  headlineTable,
  type ReportData,
  renderHtml,
  renderMarkdown,
} from "./report/index";
export { type CellEstimate, estimateBench, type RunBenchOptions, type RunBenchResult, runBench } from "./run";
