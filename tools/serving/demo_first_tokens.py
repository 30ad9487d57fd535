#!/usr/bin/env python3
"""The first tokens an exported operating point makes the demo model emit, with torch only.

  python3 tools/serving/demo_first_tokens.py --export FOLDER --model models/demo-categories PROMPT...

The runnable twin of docs/deploying.md's Hugging Face snippet for the demo model: renders each prompt
with the model's chat template (tokenizer_config.json, add_generation_prompt), tokenizes it with the
demo's word-level tokenizer.json, runs model.pt, and passes the first-position logits through
RefusalTokenLogitsProcessor. Prints per prompt the token the processor emits, the model's own
(unprocessed) greedy token and p(c*), the probability of the most likely refusal token at the point's
temperature. Only the demo tokenizer type (WordLevel) is read here: for a real model use transformers'
AutoTokenizer (the snippet in docs/deploying.md). Exit 2 on bad input.
"""

import argparse
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_io  # noqa: E402
import refusal_operating_point as rop  # noqa: E402


def first_tokens(op, model_dir, prompts, system_prompt=None):
    """[(prompt, emitted id, greedy id, p(c*), c* id)] for each prompt, one prompt per forward pass."""
    tokenizer = model_io.WordLevelTokenizer(model_dir)
    model = model_io.load_model(model_io.check_model(op, model_dir))
    pad = model_io.pad_id(model_dir)
    out = []
    for prompt in prompts:
        ids = tokenizer.encode(model_io.render_prompt(model_dir, prompt, system_prompt))
        logits = model_io.last_logits(model, [ids], pad)
        input_ids = torch.tensor([ids], dtype=torch.long)
        processor = rop.RefusalTokenLogitsProcessor(op, prompt_length=len(ids))
        emitted = int(torch.argmax(processor(input_ids, logits)[0]))
        greedy = int(torch.argmax(logits[0]))
        lp = torch.log_softmax(logits[0].to(torch.float64) / op.temperature, dim=-1)
        refusal = [float(lp[i]) for i in op.refusal_ids]
        best = max(range(len(refusal)), key=lambda c: (refusal[c], -c))
        out.append((prompt, emitted, greedy, math.exp(refusal[best]), op.refusal_ids[best]))
    return out, tokenizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", required=True, help="the folder written by jobs/export-operating-point.sh")
    parser.add_argument("--model", required=True, help="the demo model folder, e.g. models/demo-categories")
    parser.add_argument("--system-prompt", default=None,
                        help="the run's system prompt (operating_point.json model.system_prompt when omitted)")
    parser.add_argument("prompts", nargs="+", metavar="PROMPT")
    args = parser.parse_args(argv)
    try:
        op = model_io.load_operating_point(args.export)
        system_prompt = args.system_prompt if args.system_prompt is not None else op.model.get("system_prompt")
        rows, tokenizer = first_tokens(op, args.model, args.prompts, system_prompt)
    except model_io.UsageError as e:
        print(f"demo_first_tokens: {e}", file=sys.stderr)
        return 2
    print(f"operating point {op.name!r} ({op.rule}, T={op.temperature})")
    for prompt, emitted, greedy, p, c in rows:
        print(f"{prompt!r}: first token {tokenizer.token(emitted)} (greedy {tokenizer.token(greedy)}, "
              f"p(c*) = {p:.4f}, c* = {tokenizer.token(c)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
