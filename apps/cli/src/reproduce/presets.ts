/**
 * The named configs of `lmcot reproduce --config <name>`; a file may start from one with
 * `extends: <name>` and change any key.
 */
export const PRESETS: Record<string, object> = {
  /**
   * The whole method offline on one CPU in minutes (tooling/scripts/train-e2e.sh's settings): the
   * offline stand-ins as teacher, large LM and judge, a tiny T5 trained from scratch on the bundled
   * HotpotQA sample's training split, the grid on its 20 held-out questions.
   */
  "paper-offline": {
    out: "runs/paper-offline",
    large: "extractive:reader",
    judge: "extractive:judge",
    distill: { input: "sample", dataset: "hotpotqa", evalSize: 20 },
    train: {
      engine: "ts",
      kd: { model: "tiny", epochs: 80, lr: 3e-3, seed: 0 },
      rl: {
        steps: 40,
        batchSize: 8,
        miniBatchSize: 4,
        maxNewTokens: 48,
        temperature: 0.7,
        topK: 50,
        kl: { coef: 0.2, adaptive: true, target: 6 },
        optimizer: { learningRate: 0.0002 },
        preset: "paper",
        metric: "f1",
        aspectWeight: 0.25,
        seed: 0,
      },
    },
    bench: {
      datasets: [{ name: "hotpotqa", split: "eval", evalSize: 20 }],
      methods: ["standard", "cot", "lm-guided"],
      selfConsistency: 3,
    },
    scores: { preset: "aspects-only" },
  },
  /**
   * The paper's recipe: FLAN-T5 small as the small LM, a gpt-4o-mini-class large LM as teacher,
   * answerer and judge, both full dev sets, the three methods, self-consistency. Our defaults where
   * the paper's settings are not known (PAPER.md): 2,000 training questions, 200 PPO steps, k = 5.
   */
  paper: {
    out: "runs/paper",
    large: "openai:gpt-4o-mini",
    judge: "openai:gpt-4o-mini",
    distill: { input: "hotpotqa:train:2000", dataset: "hotpotqa" },
    train: {
      engine: "ts",
      kd: { model: "google/flan-t5-small", epochs: 3, lr: 3e-4, seed: 0 },
      rl: { steps: 200, batchSize: 16, preset: "paper", metric: "em", seed: 0 },
    },
    bench: {
      datasets: [
        { name: "hotpotqa", source: "dev" },
        { name: "2wikimultihopqa", source: "dev" },
      ],
      methods: ["standard", "cot", "lm-guided"],
      selfConsistency: 5,
    },
    scores: { preset: "aspects-only" },
  },
};
