"""The PyTorch side of bench/flan-vs-torch.ts: the same T5 steps on the same shapes and weights.

Plain torch T5 math (HF T5 v1.1 / FLAN-T5: RMSNorm, relative position bias from block 0, unscaled
attention, gated-gelu feed-forward, untied lm_head), reading config.json and model.safetensors of a
folder written by @lmcot/model-writer. One process runs `--steps` steps of one mode and prints one
JSON line: step seconds, tokens per step, peak RSS (ru_maxrss of this whole process).

  kd:  teacher-forced cross-entropy, backward, AdamW — batch B, S input and T target tokens.
  ppo: B rollouts of N sampled tokens (KV cache, last position's logits only), policy + frozen
       reference log-probs and value-head values, then one PPO epoch over 2 mini-batches
       (clipped surrogate + clipped value loss, backward, AdamW).

Run: /usr/bin/python3 bench/torch_t5_step.py --folder F --mode kd|ppo [--threads 2]
"""

import argparse
import json
import math
import resource
import struct
import time

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out


def bucket(rel, bidirectional, num_buckets, max_distance):
    ret = torch.zeros_like(rel)
    n = num_buckets
    if bidirectional:
        n //= 2
        ret += (rel > 0).long() * n
        rel = rel.abs()
    else:
        rel = -torch.clamp(rel, max=0)
    exact = n // 2
    large = exact + (
        torch.log(rel.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (n - exact)
    ).long()
    large = torch.clamp(large, max=n - 1)
    return ret + torch.where(rel < exact, rel, large)


class T5(torch.nn.Module):
    def __init__(self, config, weights, trainable=True):
        super().__init__()
        self.c = config
        self.p = torch.nn.ParameterDict(
            {k.replace(".", "/"): torch.nn.Parameter(v.clone(), requires_grad=trainable) for k, v in weights.items()}
        )

    def w(self, name):
        return self.p[name.replace(".", "/")]

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["layer_norm_epsilon"]) * self.w(name)

    def bias(self, stack, q, k, bidirectional, offset=0):
        rel = torch.arange(k)[None, :] - (torch.arange(q)[:, None] + offset)
        b = bucket(rel, bidirectional, self.c["relative_attention_num_buckets"], self.c["relative_attention_max_distance"])
        table = self.w(f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight")
        return table[b].permute(2, 0, 1)[None]

    def heads(self, x, name):
        b, n, _ = x.shape
        return F.linear(x, self.w(name)).view(b, n, self.c["num_heads"], self.c["d_kv"]).transpose(1, 2)

    def attend(self, xq, k, v, prefix, bias):
        q = self.heads(xq, f"{prefix}.q.weight")
        scores = q @ k.transpose(-1, -2) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(xq.shape[0], xq.shape[1], -1)
        return F.linear(ctx, self.w(f"{prefix}.o.weight"))

    def ff(self, h, layer):
        n = self.norm(h, f"{layer}.layer_norm.weight")
        pre = f"{layer}.DenseReluDense"
        inner = F.gelu(F.linear(n, self.w(f"{pre}.wi_0.weight")), approximate="tanh") * F.linear(
            n, self.w(f"{pre}.wi_1.weight")
        )
        return F.linear(inner, self.w(f"{pre}.wo.weight"))

    def encode(self, ids, mask):
        h = F.embedding(ids, self.w("shared.weight"))
        s = ids.shape[1]
        bias = self.bias("encoder", s, s, True) + (1 - mask[:, None, None, :].float()) * -1e9
        for i in range(self.c["num_layers"]):
            blk = f"encoder.block.{i}.layer"
            n = self.norm(h, f"{blk}.0.layer_norm.weight")
            pre = f"{blk}.0.SelfAttention"
            h = h + self.attend(n, self.heads(n, f"{pre}.k.weight"), self.heads(n, f"{pre}.v.weight"), pre, bias)
            h = h + self.ff(h, f"{blk}.1")
        return self.norm(h, "encoder.final_layer_norm.weight")

    def decode(self, ids, enc, enc_mask):
        """Teacher-forced: final hidden states and logits at every position."""
        h = F.embedding(ids, self.w("shared.weight"))
        t = ids.shape[1]
        causal = torch.triu(torch.full((t, t), -1e9), 1)
        self_bias = self.bias("decoder", t, t, False) + causal
        cross_bias = (1 - enc_mask[:, None, None, :].float()) * -1e9
        for i in range(self.c["num_decoder_layers"]):
            blk = f"decoder.block.{i}.layer"
            n = self.norm(h, f"{blk}.0.layer_norm.weight")
            pre = f"{blk}.0.SelfAttention"
            h = h + self.attend(n, self.heads(n, f"{pre}.k.weight"), self.heads(n, f"{pre}.v.weight"), pre, self_bias)
            m = self.norm(h, f"{blk}.1.layer_norm.weight")
            pre = f"{blk}.1.EncDecAttention"
            h = h + self.attend(m, self.heads(enc, f"{pre}.k.weight"), self.heads(enc, f"{pre}.v.weight"), pre, cross_bias)
            h = h + self.ff(h, f"{blk}.2")
        hidden = self.norm(h, "decoder.final_layer_norm.weight")
        return hidden, F.linear(hidden, self.w("lm_head.weight"))

    @torch.no_grad()
    def sample(self, ids, mask, new_tokens, generator):
        """KV-cached sampling at temperature 1: only the last position's logits each step."""
        enc = self.encode(ids, mask)
        layers = self.c["num_decoder_layers"]
        cross = [
            (
                self.heads(enc, f"decoder.block.{i}.layer.1.EncDecAttention.k.weight"),
                self.heads(enc, f"decoder.block.{i}.layer.1.EncDecAttention.v.weight"),
            )
            for i in range(layers)
        ]
        cross_bias = (1 - mask[:, None, None, :].float()) * -1e9
        cache = [None] * layers
        token = torch.zeros(ids.shape[0], 1, dtype=torch.long)
        out = []
        for t in range(new_tokens):
            h = F.embedding(token, self.w("shared.weight"))
            self_bias = self.bias("decoder", 1, t + 1, False, t)
            for i in range(layers):
                blk = f"decoder.block.{i}.layer"
                n = self.norm(h, f"{blk}.0.layer_norm.weight")
                pre = f"{blk}.0.SelfAttention"
                k, v = self.heads(n, f"{pre}.k.weight"), self.heads(n, f"{pre}.v.weight")
                if cache[i] is not None:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                h = h + self.attend(n, k, v, pre, self_bias)
                m = self.norm(h, f"{blk}.1.layer_norm.weight")
                pre = f"{blk}.1.EncDecAttention"
                h = h + self.attend(m, cross[i][0], cross[i][1], pre, cross_bias)
                h = h + self.ff(h, f"{blk}.2")
            logits = F.linear(self.norm(h, "decoder.final_layer_norm.weight"), self.w("lm_head.weight"))[:, -1]
            token = torch.multinomial(logits.softmax(-1), 1, generator=generator)
            out.append(token)
        return torch.cat(out, 1)


def token_logprobs(model, ids, mask, targets):
    start = torch.zeros(targets.shape[0], 1, dtype=torch.long)
    hidden, logits = model.decode(torch.cat([start, targets[:, :-1]], 1), model.encode(ids, mask), mask)
    return hidden, torch.gather(logits.log_softmax(-1), -1, targets[..., None])[..., 0], logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--mode", choices=["kd", "ppo"], required=True)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--input", type=int, default=256)
    ap.add_argument("--target", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = json.load(open(f"{a.folder}/config.json"))
    weights = read_safetensors(f"{a.folder}/model.safetensors")
    model = T5(config, weights)
    vocab = config["vocab_size"]
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, vocab, (a.batch, a.input), generator=g)
    mask = torch.ones_like(ids)
    times = []
    if a.mode == "kd":
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        targets = torch.randint(3, vocab, (a.batch, a.target), generator=g)
        tokens = a.batch * (a.input + a.target)
        for _ in range(a.steps):
            t0 = time.perf_counter()
            _, lp, _ = token_logprobs(model, ids, mask, targets)
            loss = -lp.mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            times.append(time.perf_counter() - t0)
    else:
        ref = T5(config, weights, trainable=False)
        del weights
        v_head = torch.nn.Linear(config["d_model"], 1)
        params = list(model.parameters()) + list(v_head.parameters())
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
        tokens = a.batch * a.new_tokens
        for _ in range(a.steps):
            t0 = time.perf_counter()
            responses = model.sample(ids, mask, a.new_tokens, g)
            with torch.no_grad():
                hidden, old, _ = token_logprobs(model, ids, mask, responses)
                _, ref_lp, _ = token_logprobs(ref, ids, mask, responses)
                values = v_head(hidden)[..., 0]
                rewards = -0.2 * (old - ref_lp)
                rewards[:, -1] += torch.rand(a.batch, generator=g)
                returns = rewards.flip(1).cumsum(1).flip(1)
                adv = returns - values
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            for mb in (slice(0, a.batch // 2), slice(a.batch // 2, a.batch)):
                hidden, lp, logits = token_logprobs(model, ids[mb], mask[mb], responses[mb])
                ratio = torch.exp(lp - old[mb])
                surrogate = torch.max(-adv[mb] * ratio, -adv[mb] * ratio.clamp(0.8, 1.2)).mean()
                v = v_head(hidden)[..., 0]
                vc = values[mb] + (v - values[mb]).clamp(-0.2, 0.2)
                v_loss = 0.5 * torch.max((v - returns[mb]) ** 2, (vc - returns[mb]) ** 2).mean()
                probs = logits.log_softmax(-1)
                entropy = -(probs.exp() * probs).sum(-1).mean()
                loss = surrogate + 0.1 * v_loss - 0.0 * entropy
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
            times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "side": "pytorch",
                "mode": a.mode,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "stepSeconds": times,
                "tokensPerStep": tokens,
                "peakRssMb": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
