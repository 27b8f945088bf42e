/// <reference lib="webworker" />
import { type TransformersModelOptions, TransformersRationaleModel } from "@lmcot/small-lm";
import type { WorkerReply, WorkerRequest } from "./small-protocol";

// The small LM runs here, off the page's thread: the page stays responsive while it decodes, and the
// large LM's calls are timed honestly beside it.
declare const self: DedicatedWorkerGlobalScope;
let model: TransformersRationaleModel | undefined;

const reply = (message: WorkerReply) => self.postMessage(message);

self.onmessage = async ({ data }: MessageEvent<WorkerRequest>) => {
  try {
    if (data.kind === "load") {
      const options: TransformersModelOptions = {
        ...data.options,
        onProgress: (progress) => reply({ progress }),
      };
      model = new TransformersRationaleModel(data.spec, options);
      await model.load();
      return reply({ id: data.id, value: undefined });
    }
    if (!model) throw new Error("the small LM is not loaded");
    const value =
      data.kind === "generate"
        ? await model.generate(data.inputs, data.options)
        : await model.scoreLogprobs(data.items);
    reply({ id: data.id, value });
  } catch (error) {
    reply({ id: data.id, error: error instanceof Error ? error.message : String(error) });
  }
};
