export {
  type DistillFilter,
  type DistillOptions,
  type DistillResult,
  type DistillStats,
  distill,
  type KeptRationale,
  type TeacherRecord,
} from "./distill";
export {
  type ExportFormat,
  exportLine,
  exportSchemas,
  readKept,
  validateExport,
  writeExport,
} from "./export";
