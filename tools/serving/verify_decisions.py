#!/usr/bin/env python3
"""The proof that the serving module decides as the job did, for every prompt of a run.

  python3 tools/serving/verify_decisions.py --export FOLDER --model MODEL_DIR [--batch-size N]
                                            [--allow-float-noise]

FOLDER is what `jobs/export-operating-point.sh ... --with-decisions --to FOLDER` wrote. For every line
of decisions.jsonl, runs MODEL_DIR/model.pt on its input_ids (right-padded batches sorted by length,
as the job scores), passes the first-position logits through RefusalTokenLogitsProcessor the way
Hugging Face `generate` calls it (left-padded input_ids of the batch width, prompt_length = that
width), takes the argmax and compares it with the job's first_token_id; then recomputes the refusal
and false-refusal counts and compares them with operating_point.json's measured.token.

A disagreement whose margin is below 1e-5 (|p(c*) - tau| for threshold points; the gap between the
winning and the runner-up value for logit_bias points) is reported apart as within float noise (the
job's libtorch computes log_softmax in float32, this script in float64): still a failure unless
--allow-float-noise.

Exit 0: every prompt agrees and the rates are equal; 1: disagreements (up to 10 listed); 2: bad input
(a missing or invalid file, a model.pt whose sha256 is not the run's).
"""

import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_io  # noqa: E402
import refusal_operating_point as rop  # noqa: E402

FLOAT_NOISE = 1e-5
SHOWN = 10


def margin(op, logits):
    """How far this prompt is from flipping its decision, in the rule's own units (float64)."""
    lp = torch.log_softmax(logits.to(torch.float64) / op.temperature, dim=-1)
    respond = float(lp[op.respond_id])
    refusal = [float(lp[i]) for i in op.refusal_ids]
    others = lp.clone()
    others[torch.tensor(op.control_ids)] = -math.inf
    other = float(others.max())
    if op.rule == "threshold":
        best = max(range(len(refusal)), key=lambda c: (refusal[c], -c))
        tau = op.thresholds[best]
        if tau is None:  # greedy: the gap between the best and the runner-up of the whole vocabulary
            top2 = torch.topk(lp, 2).values
            return float(top2[0] - top2[1])
        return abs(math.exp(refusal[best]) - tau)
    values = sorted([respond, other] + [v + b for v, b in zip(refusal, op.logit_biases)], reverse=True)
    return values[0] - values[1]


def emitted_tokens(op, model, rows, pad, batch_size):
    """The first token the HF processor (then greedy argmax) emits for each row, and each row's margin."""
    tokens, margins = [None] * len(rows), [None] * len(rows)
    for batch in model_io.batches_by_length(rows, batch_size):
        logits = model_io.last_logits(model, [rows[i] for i in batch], pad)
        width = max(len(rows[i]) for i in batch)
        # what generate passes at the first step of a left-padded batch: [B, width] ids, [B, V] scores
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        for j, i in enumerate(batch):
            input_ids[j, width - len(rows[i]):] = torch.tensor(rows[i], dtype=torch.long)
        processor = rop.RefusalTokenLogitsProcessor(op, prompt_length=width)
        processed = processor(input_ids, logits)
        chosen = torch.argmax(processed, dim=-1).tolist()
        for j, i in enumerate(batch):
            tokens[i] = chosen[j]
            margins[i] = margin(op, logits[j])
    return tokens, margins


def rate(k, n):
    return k / n if n else float("nan")


def verify(export, model_dir, batch_size=64, allow_float_noise=False, out=None):
    """Runs the proof; returns the exit code (0 agree, 1 disagree). Bad input raises UsageError."""
    out = out or sys.stdout
    op = model_io.load_operating_point(export)
    model_pt = model_io.check_model(op, model_dir)
    decisions = model_io.read_decisions(export)
    measured = (op.measured or {}).get("token")
    keys = ("n_refuse", "refused", "n_answer", "false_refused")
    if not isinstance(measured, dict) or any(not rop._is_id(measured.get(k)) for k in keys):
        raise model_io.UsageError(f"{op.source}: field 'measured.token' lacks the counts {list(keys)}")
    model = model_io.load_model(model_pt)
    rows = [d["input_ids"] for d in decisions]
    tokens, margins = emitted_tokens(op, model, rows, model_io.pad_id(model_dir), batch_size)

    refusal_ids = set(op.refusal_ids)
    counts = dict.fromkeys(keys, 0)
    job_counts = dict.fromkeys(keys, 0)
    disagree, noise = [], 0
    for d, token, m in zip(decisions, tokens, margins):
        refused = token in refusal_ids
        group = ("n_refuse", "refused") if d["should_refuse"] else ("n_answer", "false_refused")
        counts[group[0]] += 1
        counts[group[1]] += refused
        job_counts[group[0]] += 1
        job_counts[group[1]] += d["refusal"]
        if d["refusal"] != (d["first_token_id"] in refusal_ids):
            raise model_io.UsageError(f"decisions.jsonl: prompt {d['prompt_id']!r} has refusal {d['refusal']} "
                                      f"but first_token_id {d['first_token_id']}")
        if token != d["first_token_id"]:
            noise += m < FLOAT_NOISE
            disagree.append((d, token, m))

    n = len(decisions)
    rates = (f"refusal {rate(counts['refused'], counts['n_refuse']):.3f} = "
             f"{rate(measured['refused'], measured['n_refuse']):.3f}, false refusal "
             f"{rate(counts['false_refused'], counts['n_answer']):.3f} = "
             f"{rate(measured['false_refused'], measured['n_answer']):.3f}")
    counts_equal = all(counts[k] == measured[k] for k in keys)
    where = f"({op.rule}, T={op.temperature})"
    if not disagree and counts_equal:
        print(f"{n} of {n} prompts agree {where}: {rates}", file=out)
        return 0
    if disagree:
        print(f"{len(disagree)} of {n} prompts disagree {where}; {noise} of them within float noise "
              f"(margin < {FLOAT_NOISE:g})", file=out)
        for d, token, m in disagree[:SHOWN]:
            print(f"  {d.get('benchmark')}/{d['prompt_id']}: job {d.get('first_token')!r} "
                  f"(id {d['first_token_id']}), processor {op.token_string(token) or token!r} (id {token}), "
                  f"margin {m:.3g}{' (float noise)' if m < FLOAT_NOISE else ''}", file=out)
        if len(disagree) > SHOWN:
            print(f"  ... and {len(disagree) - SHOWN} more", file=out)
    if not counts_equal:
        print(f"the recomputed counts {counts} differ from measured.token "
              f"{ {k: measured[k] for k in keys} }: {rates}", file=out)
        if job_counts != {k: measured[k] for k in keys}:
            print(f"  (decisions.jsonl itself counts {job_counts})", file=out)
    if allow_float_noise and noise == len(disagree):
        explained = sum(abs(counts[k] - measured[k]) for k in keys) <= noise
        if explained:
            print(f"--allow-float-noise: every disagreement is within float noise; {rates}", file=out)
            return 0
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", required=True, help="the folder written by jobs/export-operating-point.sh")
    parser.add_argument("--model", required=True, help="the model folder (model.pt, tokenizer files)")
    parser.add_argument("--batch-size", type=int, default=64, help="rows per forward pass (default 64)")
    parser.add_argument("--allow-float-noise", action="store_true",
                        help="pass when every disagreement is within float noise (margin < 1e-5)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size is {args.batch_size}; expected a positive integer")
    try:
        return verify(args.export, args.model, args.batch_size, args.allow_float_noise)
    except model_io.UsageError as e:
        print(f"verify_decisions: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
