// The browser and worker entry: readers over fetch and Web Streams (a URL, Response, Blob or
// ReadableStream instead of a path), the bundled samples by URL, and the platform-neutral helpers.
// The Node entry (index.ts) adds files, the dataset cache and downloader, run stores and locks.
export { DataFetchError } from "./data-errors";
export type { ReadOptions } from "./read-records";
export {
  detectFormat,
  exampleRecord,
  hotpotRecord,
  type RecordFormat,
  twoWikiRecord,
} from "./records";
export { BUILTIN_SOURCES, canonicalId, type DataDownload, type DataSource } from "./registry";
export { type ExampleFilter, filterExamples, sample, seededRandom, trainEvalSplit } from "./sample";
export type { SampleName } from "./sample-files";
export { type ReadSource, readAll, readDataset, readRawRecords } from "./web-read";
export { loadSample, sampleUrl } from "./web-samples";
