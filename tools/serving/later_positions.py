#!/usr/bin/env python3
"""Evidence for the caveat of docs/deploying.md: a per-request logit_bias applies at every position.

  python3 tools/serving/later_positions.py --export FOLDER --model MODEL_DIR [--max-new-tokens 32]
                                           [--batch-size N]

FOLDER holds a logit_bias operating point exported --with-decisions. For every prompt of
decisions.jsonl, greedy-generates (full recompute per step, batch rows right-padded) with the point's
server_logit_bias on the refusal tokens' raw logits applied
  (a) at the first response position only (the job's rule, what the serving module does), and
  (b) at every position (what a stock OpenAI-compatible server does with a request's logit_bias),
stopping at the end-of-sequence token (tokenizer_config.json eos_token; not counted as generated),
at --max-new-tokens or at the model's window. Prints how many prompts' continuations differ between
(a) and (b), how many generated positions >= 2 are control tokens (the respond token or a refusal
token) in (a) and in (b), and the largest probability (softmax of the raw logits) of any control token
at positions >= 2 in (a). Exit 2 on bad input.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_io  # noqa: E402


class Generation:
    """What one variant generated: the new ids per prompt (first position included) and, over
    positions >= 2, the control tokens emitted and the largest control-token probability."""

    def __init__(self, n):
        self.new = [[] for _ in range(n)]
        self.later_positions = 0
        self.later_control = 0
        self.prompts_with_later_control = set()
        self.max_control_p = 0.0
        self.max_control_at = None  # (row, position, token id)
        self.min_gap = {}  # refusal token id -> smallest raw-logit gap from the greedy token to it


@torch.no_grad()
def generate(op, model, rows, pad, eos, max_new, max_len, every_position, batch_size):
    """Greedy continuations of rows; the point's bias at the first position, and at every later one
    when every_position."""
    control = torch.tensor(op.control_ids)
    refusal = torch.tensor(op.refusal_ids)
    bias = torch.tensor(op.server_logit_biases, dtype=torch.float32)
    g = Generation(len(rows))
    for batch in model_io.batches_by_length(rows, batch_size):
        seqs = {i: list(rows[i]) for i in batch}
        active = [i for i in batch if len(seqs[i]) < max_len]
        for step in range(max_new):
            if not active:
                break
            logits = model_io.last_logits(model, [seqs[i] for i in active], pad)
            still = []
            for j, i in enumerate(active):
                z = logits[j]
                if step == 0:
                    token = op.first_token(z)  # argmax of z + server_logit_bias (the logit_bias rule)
                else:
                    p = torch.softmax(z.to(torch.float64), dim=-1)[control]
                    k = int(torch.argmax(p))
                    if float(p[k]) > g.max_control_p:
                        g.max_control_p = float(p[k])
                        g.max_control_at = (i, step + 1, op.control_ids[k])
                    gaps = (z.max() - z[refusal]).tolist()
                    for tid, gap in zip(op.refusal_ids, gaps):
                        g.min_gap[tid] = min(g.min_gap.get(tid, float("inf")), gap)
                    if every_position:
                        z = z.clone()
                        z[refusal] += bias
                    token = int(torch.argmax(z))
                    if token != eos:
                        g.later_positions += 1
                        if token in op.control_ids:
                            g.later_control += 1
                            g.prompts_with_later_control.add(i)
                if token == eos:
                    continue
                g.new[i].append(token)
                seqs[i].append(token)
                if len(seqs[i]) < max_len:
                    still.append(i)
            active = still
    return g


def evidence(export, model_dir, max_new=32, batch_size=64, out=None):
    """Runs both variants and prints the evidence; returns (a, b, number of differing continuations)."""
    out = out or sys.stdout
    op = model_io.load_operating_point(export)
    if op.rule != "logit_bias":
        raise model_io.UsageError(f"{op.source}: rule is {op.rule!r}; this evidence needs a logit_bias point "
                                  "(export one with --rule logit_bias --with-decisions)")
    model = model_io.load_model(model_io.check_model(op, model_dir))
    decisions = model_io.read_decisions(export)
    rows = [d["input_ids"] for d in decisions]
    pad, eos = model_io.pad_id(model_dir), model_io.eos_id(model_dir)
    config = model_io.read_json(model_dir, "tokenizer_config.json")
    max_len = int(config.get("model_max_length") or 1 << 30)
    a = generate(op, model, rows, pad, eos, max_new, max_len, False, batch_size)
    b = generate(op, model, rows, pad, eos, max_new, max_len, True, batch_size)
    differ = sum(x != y for x, y in zip(a.new, b.new))
    biases = {t: s for t, s in zip(op.refusal_token_strings, op.server_logit_biases)}
    print(f"operating point {op.name!r} (logit_bias, T={op.temperature}), server_logit_bias {biases}", file=out)
    print(f"{len(rows)} prompts, greedy, at most {max_new} new tokens, stop at {config.get('eos_token')!r}", file=out)
    print(f"continuations that differ between (a) first position only and (b) every position: "
          f"{differ} of {len(rows)}", file=out)
    for name, g in (("(a) first position only", a), ("(b) every position", b)):
        print(f"{name}: {g.later_control} of {g.later_positions} generated positions >= 2 are control tokens "
              f"({len(g.prompts_with_later_control)} prompts)", file=out)
    where = ""
    if a.max_control_at is not None:
        row, pos, tid = a.max_control_at
        where = (f" ({op.token_string(tid)} at position {pos} of "
                 f"{decisions[row].get('benchmark')}/{decisions[row]['prompt_id']})")
    print(f"largest probability of any control token at positions >= 2 in (a): {a.max_control_p:.3g}{where}",
          file=out)
    if a.min_gap:
        gaps = ", ".join(f"{op.token_string(t)} {a.min_gap[t]:.2f}" for t in op.refusal_ids)
        print(f"smallest raw-logit gap from the greedy token to each refusal token at positions >= 2 in (a): "
              f"{gaps} (a server_logit_bias below a token's gap never makes it win a later position)", file=out)
    return a, b, differ


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", required=True, help="a logit_bias point exported --with-decisions")
    parser.add_argument("--model", required=True, help="the model folder (model.pt, tokenizer files)")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    if args.max_new_tokens < 1 or args.batch_size < 1:
        parser.error("--max-new-tokens and --batch-size take positive integers")
    try:
        evidence(args.export, args.model, args.max_new_tokens, args.batch_size)
    except model_io.UsageError as e:
        print(f"later_positions: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
