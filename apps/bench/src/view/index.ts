export {
  buildViewData,
  type CellDetail,
  FLAGS,
  type ItemDetail,
  type RewardSummary,
  type ViewColumn,
  type ViewData,
  type ViewItem,
  type ViewRun,
} from "./data";
export { buildView, viewFiles } from "./page";
export { exportView, serveView } from "./serve";
