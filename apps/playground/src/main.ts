import { cot, type Example, type LanguageModel, lmGuided, type Prediction, standard } from "@lmcot/core";
import { loadSample } from "@lmcot/datasets";
import { contextText, exampleFrom } from "./example";
import { type LargeForm, largeModel, rememberedKey, rememberKey } from "./large";
import { card, METHODS, type MethodKey } from "./render";
import { type Device, LoadMeter, pickDevice, WorkerRationaleModel } from "./small";

const $ = <T extends HTMLElement = HTMLInputElement>(id: string) => document.getElementById(id) as T;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

let examples: Example[] = [];
let device: Device = "wasm";
let small: { spec: string; model: WorkerRationaleModel; ready: Promise<unknown> } | undefined;

async function showExamples(): Promise<void> {
  examples = await loadSample("hotpotqa");
  const select = $<HTMLSelectElement>("example");
  for (const [i, e] of examples.entries())
    select.append(
      new Option(`${e.question.length > 90 ? `${e.question.slice(0, 90)}…` : e.question}`, String(i)),
    );
  select.addEventListener("change", () => {
    const picked = examples[Number(select.value)];
    $<HTMLTextAreaElement>("question").value = picked?.question ?? "";
    $<HTMLTextAreaElement>("context").value = picked ? contextText(picked) : "";
    $("gold").value = picked?.answer ?? "";
    $("example-credit").hidden = !picked;
  });
}

/** Loads the small LM named in the form (once per name), the progress bar following its files. */
function loadSmall() {
  const spec = $("small-model").value.trim();
  if (small?.spec === spec) return small;
  const bar = $<HTMLProgressElement>("load-progress");
  const status = $("load-status");
  const meter = new LoadMeter();
  const started = performance.now();
  bar.removeAttribute("value");
  status.textContent = `loading ${spec} on ${device}…`;
  void small?.model.dispose();
  const model = new WorkerRationaleModel(spec, device, (event) => {
    const share = meter.update(event);
    if (share !== undefined) bar.value = share;
  });
  const ready = model.load().then(
    () => {
      bar.value = 1;
      const mb = meter.bytes ? `, ${(meter.bytes / 1e6).toFixed(1)} MB` : "";
      status.textContent = `${spec} ready on ${device} (${((performance.now() - started) / 1000).toFixed(1)} s${mb})`;
      document.body.dataset.small = "ready";
    },
    (error: unknown) => {
      bar.value = 0;
      status.textContent = `could not load ${spec}: ${messageOf(error)}`;
      small = undefined;
      throw error;
    },
  );
  small = { spec, model, ready };
  return small;
}

function largeForm(): LargeForm {
  return {
    provider: $<HTMLSelectElement>("provider").value as LargeForm["provider"],
    baseURL: $("base-url").value,
    model: $("large-model").value,
    apiKey: $("api-key").value,
  };
}

async function runAll(): Promise<void> {
  const results = $("results");
  const status = $("run-status");
  const example = exampleFrom(
    { question: $("question").value, context: $("context").value, gold: $("gold").value },
    examples[Number($<HTMLSelectElement>("example").value || Number.NaN)],
  );
  if (!example.question) {
    status.textContent = "write a question first";
    return;
  }
  let large: LanguageModel;
  try {
    large = largeModel(largeForm());
  } catch (error) {
    status.textContent = messageOf(error);
    return;
  }
  rememberKey($("api-key").value, $("remember-key").checked);
  const cards = new Map(METHODS.map((m) => [m.name, card(m.name, "running", example)]));
  results.replaceChildren(...cards.values());
  const show = (method: MethodKey, outcome: { prediction: Prediction } | { error: string }) => {
    const next = card(method, outcome, example);
    cards.get(method)?.replaceWith(next);
    cards.set(method, next);
  };
  const settle = (method: MethodKey, run: () => Promise<Prediction>) =>
    run().then(
      (prediction) => show(method, { prediction }),
      (error: unknown) => show(method, { error: messageOf(error) }),
    );
  status.textContent = "running…";
  document.body.dataset.run = "running";
  $<HTMLButtonElement>("run").disabled = true;
  const guided = async () => {
    const s = loadSmall();
    await s.ready;
    return lmGuided(example, { large, small: s.model }, { rationale: { maxNewTokens: 64 } });
  };
  await Promise.all([
    settle("standard", () => standard(example, { large })),
    settle("cot", () => cot(example, { large })),
    settle("lm-guided", guided),
  ]);
  $<HTMLButtonElement>("run").disabled = false;
  status.textContent = "done";
  document.body.dataset.run = "done";
}

async function start(): Promise<void> {
  const kept = rememberedKey();
  if (kept) [$("api-key").value, $("remember-key").checked] = [kept, true];
  $("remember-key").addEventListener("change", () =>
    rememberKey($("api-key").value, $("remember-key").checked),
  );
  $("load").addEventListener("click", () => loadSmall().ready.catch(() => undefined));
  $("run").addEventListener("click", () => void runAll());
  device = await pickDevice();
  $("device").textContent = device === "webgpu" ? "WebGPU" : "wasm (no WebGPU adapter in this browser)";
  await showExamples();
  document.body.dataset.ready = "true";
}

void start().catch((error: unknown) => {
  $("run-status").textContent = `the page could not start: ${messageOf(error)}`;
});
