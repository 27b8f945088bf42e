export {
  buildViewData,
  type CellDetail,
  FLAGS,
  type ItemDetail,
  type RewardSummary,
  type ViewColumn,
  type ViewData,
  type ViewIndex,
  type ViewItem,
  type ViewRun,
} from "./data";
export { buildView, matrixPayload, type ViewFiles, viewFiles } from "./page";
export { exportView, serveView } from "./serve";
