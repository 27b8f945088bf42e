import { AbortError } from "@lmcot/core";
import { chooseToken, type SamplingSettings } from "./sampling";

export interface DecodeLoopOptions {
  rows: number;
  maxNewTokens: number;
  eosTokenId: number;
  padTokenId: number;
  settings: SamplingSettings;
  /** One random stream per row. */
  randoms: (() => number)[];
  signal?: AbortSignal;
  /**
   * Runs the model on the tokens chosen at the previous step (`undefined` on the first call) and
   * returns next-token logits [rows, vocab].
   */
  forward(previous: number[] | undefined): Promise<{ logits: Float32Array; vocab: number }>;
}

export interface DecodedRow {
  tokens: number[];
  logprobs: number[];
  finishReason: "stop" | "length";
}

/** Token-by-token decoding of a batch; rows that emitted EOS keep receiving padding until all stop. */
export async function decodeLoop(options: DecodeLoopOptions): Promise<DecodedRow[]> {
  const rows: DecodedRow[] = Array.from({ length: options.rows }, () => ({
    tokens: [],
    logprobs: [],
    finishReason: "length",
  }));
  const done = new Array<boolean>(options.rows).fill(false);
  let previous: number[] | undefined;
  for (let step = 0; step < options.maxNewTokens; step++) {
    if (options.signal?.aborted) throw new AbortError();
    const { logits, vocab } = await options.forward(previous);
    const chosen: number[] = [];
    for (let r = 0; r < options.rows; r++) {
      const row = rows[r] as DecodedRow;
      if (done[r]) {
        chosen.push(options.padTokenId);
        continue;
      }
      const { token, logprob } = chooseToken(
        logits,
        r * vocab,
        vocab,
        options.settings,
        options.randoms[r] as () => number,
      );
      row.tokens.push(token);
      row.logprobs.push(logprob);
      chosen.push(token);
      if (token === options.eosTokenId) {
        done[r] = true;
        row.finishReason = "stop";
      }
    }
    if (done.every(Boolean)) break;
    previous = chosen;
  }
  return rows;
}
