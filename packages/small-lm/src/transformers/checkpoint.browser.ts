import { BadRequestError } from "@lmcot/core";
import type * as node from "./checkpoint";

// Browsers: Hugging Face checkpoints (safetensors) are read, saved and exported on Node, where the
// files are; a page loads the exported ONNX folder through TransformersRationaleModel.
const nodeOnly = (what: string) => () =>
  Promise.reject(
    new BadRequestError(
      `${what} needs Node (it reads and writes model folders on disk); in a browser, load a folder exported with \`lmcot export onnx\``,
    ),
  );

export const resolveCheckpoint: typeof node.resolveCheckpoint = nodeOnly("resolveCheckpoint");
export const readT5CheckpointFrom: typeof node.readT5CheckpointFrom = nodeOnly("readT5CheckpointFrom");
export const exportT5OnnxFrom: typeof node.exportT5OnnxFrom = nodeOnly("exportT5OnnxFrom");
