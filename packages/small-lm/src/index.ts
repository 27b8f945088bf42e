export { ExtractiveSelector, selectRationale } from "./extractive";
