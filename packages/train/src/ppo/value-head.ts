import type { WeightTensor } from "@lmcot/model-writer";
import { type TF, tf } from "../backend";
import { linear } from "../ops";

/** TRL's value head: one linear layer from the decoder's final hidden state to a scalar value. */
export class ValueHead {
  readonly params: Map<string, TF.Variable>;

  constructor(dModel: number, saved?: Map<string, WeightTensor>) {
    const tensor = (name: string, shape: number[]) => {
      const w = saved?.get(name);
      if (saved !== undefined && w === undefined) throw new Error(`value head: missing ${name}`);
      return w === undefined ? tf.zeros(shape) : tf.tensor(w.data, shape);
    };
    this.params = new Map([
      [
        "v_head.summary.weight",
        tf.tidy(() => tf.variable(tensor("v_head.summary.weight", [1, dModel]), true)),
      ],
      ["v_head.summary.bias", tf.tidy(() => tf.variable(tensor("v_head.summary.bias", [1]), true))],
    ]);
  }

  /** Values [B, T] from hidden states [B, T, d_model]. */
  apply(hidden: TF.Tensor3D): TF.Tensor2D {
    const [b, t] = hidden.shape;
    const w = this.params.get("v_head.summary.weight") as TF.Variable;
    const bias = this.params.get("v_head.summary.bias") as TF.Variable;
    return tf.reshape(tf.add(linear(hidden, w), bias), [b, t]) as TF.Tensor2D;
  }

  weights(): Map<string, WeightTensor> {
    return new Map(
      [...this.params].map(([n, v]) => [n, { data: v.dataSync() as Float32Array, shape: [...v.shape] }]),
    );
  }

  dispose(): void {
    tf.dispose([...this.params.values()]);
  }
}
