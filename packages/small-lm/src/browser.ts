// The browser and worker entry: the same API; its build swaps load.ts and models-dir.ts for their .browser.ts siblings.
export * from "./index";
