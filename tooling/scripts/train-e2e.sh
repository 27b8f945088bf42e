#!/usr/bin/env bash
# The whole method offline, on one CPU: distill rationales from the offline stand-in teacher on the
# bundled HotpotQA sample's training split, KD a small T5 on them, PPO it on the task reward (the
# stand-in large LM answers from the rationale), then bench standard / CoT / LM-guided(KD) /
# LM-guided(KD+RL) on the held-out split. Re-running resumes every stage.
#   tooling/scripts/train-e2e.sh [out-dir]      (default runs/train-e2e)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/train-e2e}
mkdir -p "$out"
lmcot() { node apps/cli/dist/cli.js "$@"; }

npx -y pnpm@10.34.9 turbo run build --filter=@lmcot/cli... --output-logs=errors-only

lmcot distill --teacher extractive:reader --out "$out/distill"
lmcot train kd --data "$out/distill" --out "$out/kd" --model tiny --epochs 80 --lr 3e-3 --seed 0
cat >"$out/ppo.yaml" <<'YAML'
steps: 40
batchSize: 8
miniBatchSize: 4
maxNewTokens: 48
temperature: 0.7
topK: 50
kl: { coef: 0.2, adaptive: true, target: 6 }
optimizer: { learningRate: 0.0002 }
YAML
lmcot train rl --policy "$out/kd" --out "$out/rl" --config "$out/ppo.yaml" \
  --large extractive:reader --preset task-only --metric f1 --seed 0
cat >"$out/bench.yaml" <<YAML
datasets: [{ name: hotpotqa, split: eval, evalSize: 20 }]
methods: [standard, cot, lm-guided]
large: [extractive:reader]
small:
  - { id: "transformers:$out/kd", label: kd }
  - { id: "transformers:$out/rl", label: kd+rl }
out: $out/bench
YAML
lmcot bench --config "$out/bench.yaml"
