export { ExtractiveSelector, selectRationale } from "./extractive";
export * from "./writer/index";
