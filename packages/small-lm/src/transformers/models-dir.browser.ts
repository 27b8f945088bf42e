/** Browsers: hub-id models are first looked for under the page's own `/models/` (transformers.js's default). */
export const defaultModelsDir = (dir: string | undefined): string => dir ?? "/models";
