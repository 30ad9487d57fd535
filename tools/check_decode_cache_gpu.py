#!/usr/bin/env python3
"""Check the exporter's KV-cache decode module against Hugging Face generate on a GPU, in fp32 and bf16.

  python3 tools/check_decode_cache_gpu.py [--tokenizer src/test/resources/tokenizers/qwen3] [--out DIR]
          [--layers 8] [--hidden 512] [--heads 8] [--kv-heads 2] [--new-tokens 128] [--rows 32]
          [--dtypes fp32 bf16] [--device cuda] [--attn-implementation sdpa]

Needs torch and transformers (tools/requirements-export.txt) and a GPU (--device cpu works, slowly).
For each dtype:

  1. builds a random-weight LlamaForCausalLM from a config (export_torchscript.random_llama: grouped-query,
     --kv-heads < --heads) over the tokenizer plus the control tokens, casts it and moves it to the device;
  2. exports it with decode_cache=True (the same export() as `export_torchscript.py --decode-cache`): the
     exporter's own checks run there (decode.pt against the eager model, and its greedy loop against
     transformers' generate on the check prompts, 32 new tokens);
  3. on --rows prefixes (the check prompts x [respond] and two refusal tokens, repeated), --new-tokens new
     tokens each, stopping at the folder's end-of-sequence ids:
       - transformers generate on each prefix alone: the reference;
       - decode.pt (torch.jit.load) run by the job's loop, all rows in one right-padded batch;
       - transformers generate on all rows at once (left padded, as transformers batches): speed only;
     and prints how many continuations equal the reference, the share of reference tokens matched before
     the first difference, and generated tokens/s of each.

Exit 0 when the fp32 continuations of decode.pt equal the reference (bf16 agreement is reported, not
required: half precision changes with the computation's shape), 1 otherwise. The model folders are left in
--out (default: a temporary folder, removed).
"""
import argparse
import os
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import decode_cache as dc  # noqa: E402
import export_torchscript as ex  # noqa: E402

ROOT = os.path.dirname(HERE)


def synchronize(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(device, fn):
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return result, time.perf_counter() - start


def generated_tokens(continuations):
    """New tokens each row computed: its ids, plus the end-of-sequence id where it stopped at one."""
    return sum(len(c.new_token_ids) + (c.finish_reason == dc.FINISH_EOS) for c in continuations)


def hf_generate_batched(model, prefixes, max_new_tokens, eos_ids, pad_id, device):
    """transformers generate on all prefixes at once, left padded (transformers' way for batches)."""
    width = max(len(p) for p in prefixes)
    ids = torch.full((len(prefixes), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prefixes), width), dtype=torch.long)
    for i, p in enumerate(prefixes):
        ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p):] = 1
    saved = model.generation_config
    from transformers import GenerationConfig
    model.generation_config = GenerationConfig()
    try:
        with torch.no_grad():
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                 generation_config=dc.neutral_generation_config(max_new_tokens, eos_ids, pad_id))
    finally:
        model.generation_config = saved
    eos = set(eos_ids)
    result = []
    for row in out[:, width:].tolist():
        new = []
        for t in row:
            new.append(int(t))
            done = dc.finished(new, eos, max_new_tokens)
            if done is not None:
                break
        result.append(done or dc.Continuation(new, dc.FINISH_LENGTH))
    return result


def check_dtype(a, dtype_name, tokenizer_dir, out_dir):
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    control = [ex.DEFAULT_RESPOND_TOKEN] + ex.DEFAULT_REFUSAL_TOKENS
    tokenizer, model = ex.random_llama(tokenizer, control, a.window, a.seed, a.attn_implementation,
                                       layers=a.layers, hidden=a.hidden, heads=a.heads, kv_heads=a.kv_heads,
                                       intermediate=4 * a.hidden)
    saved_tokenizer = os.path.join(out_dir, f"tokenizer-{dtype_name}")
    tokenizer.save_pretrained(saved_tokenizer)
    model = model.to(device=a.device, dtype=ex.DTYPES[dtype_name]).eval()
    folder = os.path.join(out_dir, f"random-llama-{dtype_name}")
    print(f"== {dtype_name}: random LlamaForCausalLM, {a.layers} layers, hidden {a.hidden}, {a.heads} heads, "
          f"{a.kv_heads} key-value heads, vocabulary {model.config.vocab_size}, attention "
          f"{getattr(model.config, '_attn_implementation', None)}, on {a.device}")
    try:
        manifest = ex.export(model, tokenizer, folder, tokenizer_dir=saved_tokenizer, source_name="random-llama",
                             dtype_name=dtype_name, device=a.device, max_length=a.window, decode_cache=True,
                             provenance={"self_test_random_weights": True, "seed": a.seed})
    except ex.ExportError as e:
        print(f"{dtype_name}: export failed: {e}")
        return False
    print(f"{dtype_name}: exported {folder}; the exporter's decode check: "
          f"{manifest['export']['decode_check']['status']}")

    cases = ex.encode_prompts(tokenizer, ex.DEFAULT_CHECK_PROMPTS)
    control_ids = ex.control_token_ids(tokenizer, ex.DEFAULT_RESPOND_TOKEN, ex.DEFAULT_REFUSAL_TOKENS)
    plan = ex.continuation_plan(cases, control_ids)
    prefixes = [ids + [forced] for _, ids, _, forced in plan]
    prefixes = (prefixes * (a.rows // len(prefixes) + 1))[:a.rows]
    eos_ids = manifest["export"]["eos_ids"]
    pad_id = manifest["export"]["pad_id"]
    geometry = dc.CacheGeometry(manifest["decode"]["layers"], manifest["decode"]["kv_heads"],
                                manifest["decode"]["head_dim"])
    decoder = torch.jit.load(os.path.join(folder, ex.DECODE_FILE), map_location=a.device).eval()
    dtype = ex.DTYPES[dtype_name]

    dc.greedy_cached(decoder, prefixes[:2], 2, eos_ids, pad_id, geometry, dtype, a.device)  # warm-up
    reference, t_ref = timed(a.device, lambda: [dc.hf_generate(model, p, a.new_tokens, eos_ids, pad_id, a.device)
                                                for p in prefixes])
    cached, t_cached = timed(a.device, lambda: dc.greedy_cached(decoder, prefixes, a.new_tokens, eos_ids, pad_id,
                                                                geometry, dtype, a.device))
    batched, t_batched = timed(a.device, lambda: hf_generate_batched(model, prefixes, a.new_tokens, eos_ids,
                                                                     pad_id, a.device))
    agree = dc.agreement(cached, reference)
    agree_batched = dc.agreement(batched, reference)
    print(f"{dtype_name}: {len(prefixes)} prefixes, up to {a.new_tokens} new tokens each")
    for name, runs, seconds in (("HF generate, each prefix alone (reference)", reference, t_ref),
                                ("decode.pt, one right-padded batch", cached, t_cached),
                                ("HF generate, one left-padded batch", batched, t_batched)):
        n = generated_tokens(runs)
        print(f"    {name:<44} {n:>7} tokens {seconds:8.2f} s {n / seconds:10.1f} tokens/s")
    for name, g in (("decode.pt", agree), ("HF batched", agree_batched)):
        print(f"    {name:<11} vs reference: {g['cases_equal']}/{g['cases']} continuations equal, "
              f"{g['token_agreement']:.1%} of reference tokens matched before the first difference"
              + (f"; first differences {g['differences'][:2]}" if g["differences"] else ""))
    return agree["cases_equal"] == agree["cases"] or dtype_name != "fp32"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check decode.pt against transformers' generate (see the docstring).")
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "src", "test", "resources", "tokenizers", "qwen3"))
    ap.add_argument("--out", help="keep the exported folders here (default: a temporary folder)")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--window", type=int, default=2048)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--dtypes", nargs="+", choices=list(ex.DTYPES), default=["fp32", "bf16"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--attn-implementation", default="sdpa")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args(argv)
    import transformers
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, device {a.device}"
          + (f" ({torch.cuda.get_device_name(0)})" if str(a.device).startswith("cuda") else ""))
    with tempfile.TemporaryDirectory() as tmp:
        out = a.out or tmp
        os.makedirs(out, exist_ok=True)
        ok = [check_dtype(a, d, a.tokenizer, out) for d in a.dtypes]
    print("PASSED" if all(ok) else "FAILED: decode.pt's fp32 continuations differ from transformers' generate")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
