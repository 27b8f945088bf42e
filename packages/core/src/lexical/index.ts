export * from "./rank";
export * from "./text";
