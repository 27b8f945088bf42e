import { beforeAll, expect, test } from "vitest";
import { tf, useWasmBackend } from "../src/backend";
import { valueAndGrads } from "../src/optim";
import { t5ConfigFor } from "../src/t5/config";
import { crossEntropy } from "../src/t5/forward";
import { T5Model } from "../src/t5/model";

beforeAll(useWasmBackend);

test("backprop gradients match central finite differences for every parameter tensor", () => {
  const config = t5ConfigFor(
    {
      d_model: 16,
      d_kv: 4,
      d_ff: 24,
      num_heads: 2,
      num_layers: 2,
      relative_attention_num_buckets: 8,
      relative_attention_max_distance: 16,
    },
    12,
  );
  const model = T5Model.random(config, 5);
  // Scale weights down so float32 finite differences stay in the linear regime.
  for (const v of model.variables())
    if (!v.name.includes("layer_norm")) tf.tidy(() => v.assign(tf.mul(v, 0.5)));
  const inputs = [
    [3, 4, 5, 6, 7, 8, 9, 1],
    [5, 6, 1],
  ];
  const targets = [
    [7, 8, 9, 10, 11, 1],
    [4, 1],
  ];
  const loss = () => crossEntropy(model, inputs, targets);
  const { grads } = valueAndGrads(model.params, loss);
  expect(grads.size).toBe(model.params.size);
  const eps = 2e-3;
  let checked = 0;
  for (const [name, g] of grads) {
    const gd = g.dataSync();
    // The two largest-magnitude coordinates of each tensor.
    const picks = Array.from(gd.keys())
      .sort((a, b) => Math.abs(gd[b] as number) - Math.abs(gd[a] as number))
      .slice(0, 2);
    const v = model.p(name);
    for (const i of picks) {
      const base = v.dataSync().slice();
      const at = (delta: number) => {
        const data = base.slice();
        data[i] = (data[i] as number) + delta;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
        const l = loss();
        const x = l.dataSync()[0] as number;
        l.dispose();
        return x;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const analytic = gd[i] as number;
      expect(
        Math.abs(numeric - analytic),
        `${name}[${i}] analytic ${analytic} numeric ${numeric}`,
      ).toBeLessThan(1e-3 + 0.03 * Math.abs(analytic));
      checked++;
    }
  }
  expect(checked).toBe(2 * model.params.size);
  tf.dispose([...grads.values()]);
  model.dispose();
});
