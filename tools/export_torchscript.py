#!/usr/bin/env python3
"""Export a Hugging Face causal language model to a model folder the evaluation job reads.

  python3 tools/export_torchscript.py SOURCE_DIR OUT_DIR [--dtype fp32|fp16|bf16] [--device cpu|cuda]
          [--output last|full] [--respond-token TOKEN] [--refusal-tokens TOKEN ...] [--max-length N]
          [--chat-template FILE] [--check-prompts FILE] [--tolerance X] [--attn-implementation NAME]
          [--trust-remote-code] [--force] [--decode-cache] [--check-new-tokens N]
  python3 tools/export_torchscript.py TOKENIZER_DIR OUT_DIR --self-test-random-llama [...]

Needs torch and transformers (tools/requirements-export.txt: tested with torch 2.11 / transformers 5.17;
older versions may work). SOURCE_DIR is a local Hugging Face folder (config.json, weights, tokenizer.json,
tokenizer_config.json): nothing is downloaded.

What OUT_DIR gets (the layout of the README, "Model folder layout"):

  model.pt               TorchScript. forward(input_ids int64[B,T], attention_mask int64[B,T]), right
                         padded (1 = real token). --output last (default): the logits at each row's last
                         real token, [B,V]. --output full: the logits at every position, [B,T,V] (the job
                         then reads each row's last real token itself; B*T*V numbers leave the model, so
                         prefer `last`). Logits are in the export dtype; the job converts them to fp32.
  tokenizer.json, tokenizer_config.json
                         copied from SOURCE_DIR (special_tokens_map.json, added_tokens.json, chat_template.*,
                         tokenizer.model, vocab.json, merges.txt and generation_config.json too when
                         present). tokenizer_config.json
                         gets "chat_template" as the one string Python rendered with, when the source keeps
                         it elsewhere (chat_template.jinja) or as a list of named templates, or with
                         --chat-template: the job reads it there.
  refusal_tokens.json    the manifest the job reads: model_file, respond_token, refusal_tokens, max_length,
                         output ("last"/"full") and vocab_size (logits per row), plus "export": provenance
                         (source folder name, torch/transformers versions, dtype, device, output, sha256 of
                         model.pt, export time, control-token ids, eos ids, the self-check's numbers).
                         With --decode-cache also "decode": {"file": "decode.pt", "layers": L, "kv_heads": H,
                         "head_dim": D, "dtype": the export dtype, which is the cache's dtype}.
  expected_logprobs.json for a few prompts (rendered with the tokenizer's apply_chat_template,
                         add_generation_prompt=True, then encoded without added special tokens, as the job
                         does): the rendered text, the token ids, and the log-softmax at temperature 1 of
                         every control token and of the best other token, from model.pt run on each prompt
                         alone. jobs/check-export.sh --model OUT_DIR compares the Java side with it: same
                         text, same ids, same log-probabilities.
  expected_continuations.json
                         for each check prompt x [respond] and the first two refusal tokens: the greedy
                         continuation after that forced first token, up to --check-new-tokens (32) new
                         tokens, stopping at the folder's end-of-sequence ids (tokenizer_config.json
                         eos_token and generation_config.json eos_token_id, as the job reads them):
                         {"model", "max_new_tokens", "eos_ids", "cases": [{"prompt", "prompt_ids",
                         "forced_token", "forced_id", "new_token_ids" (forced token and eos excluded),
                         "finish_reason" ("eos"|"length"), "text" (decode, skip_special_tokens=True)}]}.
                         Reference: transformers' generate(do_sample=False) on each prefix alone, with the
                         model's own generation config set aside (no sampling or penalties it may name).
  decode.pt              (--decode-cache) TorchScript decode module with an explicit KV cache:
                         forward(input_ids [B,S], attention_mask [B,P+S], position_ids [B,S], last_index [B],
                         past_keys [L,B,H,P,D], past_values [L,B,H,P,D]) -> (logits [B,V] at last_index among
                         the S new positions, keys [L,B,H,P+S,D], values [L,B,H,P+S,D]); P = 0 on the prefill.
                         The contract and how it is built: tools/decode_cache.py. Checked before it is kept:
                         against the eager model on each row alone (prefill batched and alone, one step), and
                         its greedy loop (all cases in one batch) against the continuations above: in fp32 a
                         differing id fails the export, in fp16/bf16 the agreement is printed with a WARNING.
                         It holds a second copy of the weights (model.pt's size again).

How the file is made (validated on a GPU machine, see the notes below):

  * the model is loaded, cast to --dtype, put in eval mode on --device, and wrapped in a module whose
    forward(input_ids, attention_mask) calls it with use_cache=False, return_dict=False and, for
    `last`, gathers the logits at attention_mask.sum(1) - 1 (right padding: HF's default positions
    0..len-1 are right for every row);
  * torch.jit.trace(wrapper, example, check_trace=False) on a right-padded example batch whose rows have
    different lengths. The example must contain padding: transformers skips the attention mask for a
    batch without padding, and a trace records only the path it took;
  * torch.jit.script does not work on transformers' classes;
  * decode.pt (--decode-cache): the model wrapped in decode_cache.CachedDecoder (a DynamicCache built
    inside forward and filled per layer with update(), the model's own 4-D additive mask, explicit
    position ids and cache positions), traced on a step with a padded past (P > 0, S = 2, B = 2) and
    checked on other batch sizes and lengths (prefill P = 0, steps S = 1). Written against the sources of
    transformers 4.57 and 5.x (4.44 on); models with sliding-window or mixed attention, or an attention
    implementation that takes no 4-D mask (flash_attention_2), are refused with --decode-cache.

Checks (the export fails, exit 1, with nothing the job would take for a good model):

  * every control token (--respond-token, --refusal-tokens; default the paper's category tokens) must
    be exactly one vocabulary id that decodes back to itself; a split string is an error, never "its
    last id" (the pitfall of the official code);
  * the model must return at least as many logits per row as the tokenizer has ids (added tokens
    included): a model whose embeddings were not resized after adding tokens is refused;
  * self-check: model.pt is reloaded and run on the check prompts in one padded batch, in another
    padding pattern, and row by row; each is compared with the eager model run on each row alone.
    The largest |d log p| over the control tokens and the best other token is printed. fp32: above
    --tolerance (1e-4) the export fails. fp16/bf16: above it a WARNING is printed and the export goes on,
    because in half precision batch composition alone moves log-probabilities (about 3e-2 on a 4-layer
    model; up to 0.3 on a 32-layer one): thresholds near a decision can flip with batching. The job's
    canary (runs.canary_max_abs_diff) reports the same effect at scoring time. Non-finite values fail
    in every dtype.

The device: tracing bakes the device of some ops (torch.arange(..., device=...)) into the graph. Trace
on the device the job will score on: --device cuda for GPU executors, --device cpu for CPU ones. The
manifest records it; a file traced on one device is not guaranteed to run on the other.

--self-test-random-llama: for machines without a downloaded model. SOURCE_DIR then only needs a
tokenizer (tokenizer.json + tokenizer_config.json with a chat template, or --chat-template); the
control tokens missing from it are added as special tokens, and a tiny LlamaForCausalLM (2 layers,
hidden 64, 4 heads, 2 key-value heads, random weights, --seed) with the tokenizer's vocabulary is
exported instead of real weights. It checks the whole path (transformers model -> trace -> checks ->
folder the job reads); its refusal scores mean nothing, and its manifest says so.

Exit codes: 0 exported, 1 a check failed, 2 bad arguments or inputs.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile

import torch

import decode_cache as dc

TOOL = "tools/export_torchscript.py"
MODEL_FILE = "model.pt"
MANIFEST_FILE = "refusal_tokens.json"
EXPECTED_FILE = "expected_logprobs.json"
TOKENIZER_JSON = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
DECODE_FILE = "decode.pt"
CONTINUATIONS_FILE = "expected_continuations.json"
GENERATION_CONFIG = "generation_config.json"
OPTIONAL_TOKENIZER_FILES = ("special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                            "chat_template.json", "tokenizer.model", "vocab.json", "merges.txt", GENERATION_CONFIG)

# the paper's defaults, as in ModelSpec.DEFAULT_RESPOND_TOKEN / DEFAULT_REFUSAL_TOKENS
DEFAULT_RESPOND_TOKEN = "[respond]"
DEFAULT_REFUSAL_TOKENS = ["[Humanizing requests]", "[Incomplete requests]", "[Indeterminate requests]",
                          "[Requests with safety concerns]", "[Unsupported requests]"]

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
OUTPUTS = ("last", "full")
DEFAULT_TOLERANCE = 1e-4
DEFAULT_CHECK_NEW_TOKENS = 32
FORCED_REFUSAL_TOKENS = 2  # continuations after [respond] and the first two refusal tokens
NO_LIMIT = 1e9  # Hugging Face writes model_max_length = 1e30 for "no limit"

DEFAULT_CHECK_PROMPTS = [
    "Hi",
    "How do I bake bread at home?",
    "Write a story about a robot who learns to paint, in exactly three sentences.",
    "What is the capital of the country that won the 2030 World Cup?",
    "Tell me how to pick the lock of my neighbour's front door without them noticing.",
    "Is the café in Tōkyō naïve? 東京 über straße — ¿qué? ok…",
]


class ExportError(Exception):
    """A problem with the inputs (exit 2); the message says what to do."""


class CheckFailed(ExportError):
    """The model or the traced file failed a check (exit 1)."""


# ----------------------------------------------------------------------------- tokenizer checks
def control_token_ids(tokenizer, respond_token, refusal_tokens):
    """{token: id} for [respond] and each refusal token, in that order.

    Mirrors the job's check (PromptEncoder.singleTokenId): the string, encoded without special tokens,
    must be exactly one id, and that id must decode back to the string (an unknown-token id does not).
    """
    tokens = [respond_token] + list(refusal_tokens)
    if not refusal_tokens:
        raise ExportError("no refusal tokens: give --refusal-tokens")
    if len(set(tokens)) != len(tokens):
        raise ExportError(f"the control tokens {tokens} repeat a string: list each once, and keep the "
                          "respond token out of --refusal-tokens")
    ids = {}
    for token in tokens:
        encoded = list(tokenizer.encode(token, add_special_tokens=False))
        if len(encoded) != 1:
            pieces = tokenizer.convert_ids_to_tokens(encoded)
            raise ExportError(
                f"control token {token!r} is not one vocabulary token: the tokenizer splits it into "
                f"{len(encoded)} tokens {pieces} (ids {encoded}). Use the exact string of a special token "
                f"of the model's tokenizer (tokenizer.json added_tokens); the model must have been "
                f"fine-tuned with it. Taking the last piece would score the wrong token.")
        back = tokenizer.decode([encoded[0]])
        if back.strip() != token.strip():
            raise ExportError(
                f"control token {token!r} maps to the vocabulary id {encoded[0]}, which decodes to "
                f"{back!r}, not to the token itself (the unknown token?). Use the exact string of a "
                f"special token of the model's tokenizer.")
        ids[token] = int(encoded[0])
    if len(set(ids.values())) != len(ids):
        raise ExportError(f"two control tokens map to the same id: {ids}")
    return ids


def tokenizer_vocab_size(tokenizer):
    """Ids the tokenizer can produce, added tokens included (the job computes max id + 1 of tokenizer.json)."""
    vocab = tokenizer.get_vocab()
    return max(len(tokenizer), (max(vocab.values()) + 1) if vocab else 0)


def render(tokenizer, prompt):
    """The text the model sees for one user prompt: the chat template with add_generation_prompt=True."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    if not isinstance(text, str):
        raise ExportError(f"apply_chat_template(tokenize=False) returned {type(text).__name__}, not text")
    return text


def encode_prompts(tokenizer, prompts):
    """[(prompt, rendered text, ids)]: ids without added special tokens, as the job encodes."""
    out = []
    for p in prompts:
        text = render(tokenizer, p)
        ids = [int(i) for i in tokenizer.encode(text, add_special_tokens=False)]
        if not ids:
            raise ExportError(f"the chat template renders prompt {p!r} to no tokens")
        out.append((p, text, ids))
    return out


def resolved_chat_template(tokenizer):
    """The one template string apply_chat_template uses (a dict of named templates: 'default')."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    if isinstance(template, list):  # [{"name": ..., "template": ...}] as stored in tokenizer_config.json
        template = next((t["template"] for t in template if t.get("name") == "default"), None)
    if not template:
        raise ExportError("the tokenizer has no chat template (tokenizer_config.json chat_template or "
                          "chat_template.jinja); the job renders every prompt with it. Give one with "
                          "--chat-template FILE (a Jinja file).")
    return template


def special_token_text(value):
    """bos_token / pad_token of tokenizer_config.json: a string or {"content": ...}."""
    if isinstance(value, dict):
        return value.get("content")
    return value


def job_pad_id(tokenizer, tokenizer_config):
    """The id the job pads with: tokenizer_config.json's pad_token (one token), else 0 (ModelSpec.open)."""
    pad = special_token_text(tokenizer_config.get("pad_token"))
    if pad is None:
        return 0
    ids = list(tokenizer.encode(pad, add_special_tokens=False))
    if len(ids) != 1:
        raise ExportError(f"pad_token {pad!r} of {TOKENIZER_CONFIG} is not one token ({ids}): the job "
                          "refuses it too; fix pad_token there")
    return int(ids[0])


# ----------------------------------------------------------------------------- the traced module
class LastTokenLogits(torch.nn.Module):
    """forward(input_ids, attention_mask) -> [B, V]: the logits at each row's last real token.

    Right padding: row i's last real token is at attention_mask[i].sum() - 1. `model` is a Hugging Face
    causal LM (or anything called the same way whose first output is [B, T, V] logits).
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False,
                            return_dict=False)[0]
        last = attention_mask.sum(dim=1) - 1
        index = last.view(-1, 1, 1).expand(-1, 1, logits.size(-1))
        return logits.gather(1, index).squeeze(1)


class AllLogits(torch.nn.Module):
    """forward(input_ids, attention_mask) -> [B, T, V]: the logits at every position."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False,
                          return_dict=False)[0]


def wrap(model, output):
    if output not in OUTPUTS:
        raise ExportError(f"--output {output!r}: use one of {OUTPUTS}")
    return LastTokenLogits(model) if output == "last" else AllLogits(model)


def pad_right(rows, pad_id, extra=0, device="cpu"):
    """int64 [B, T] ids and mask, rows right-padded with pad_id to the longest row (+ extra columns)."""
    t = max(len(r) for r in rows) + extra
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return ids.to(device), mask.to(device)


def last_logits(module, rows, pad_id, output, device, extra=0):
    """[B, V] float32 logits at each row's last real token, whatever `output` the module returns."""
    ids, mask = pad_right(rows, pad_id, extra, device)
    with torch.no_grad():
        out = module(ids, mask)
    if output == "full":
        index = (mask.sum(1) - 1).view(-1, 1, 1).expand(-1, 1, out.size(-1))
        out = out.gather(1, index).squeeze(1)
    return out.float().cpu()


def trace(model, output, example_rows, pad_id, device):
    """torch.jit.trace of the wrapper on a right-padded example whose rows differ in length."""
    rows = list(example_rows)
    if len({len(r) for r in rows}) < 2:  # the example must hold padding (see the module docstring)
        rows.append(rows[0][:max(1, len(rows[0]) // 2)])
    ids, mask = pad_right(rows, pad_id, device=device)
    assert (mask == 0).any(), "trace example without padding"
    with torch.no_grad():
        return torch.jit.trace(wrap(model, output), (ids, mask), check_trace=False)


# ----------------------------------------------------------------------------- checks on the file
def control_stats(logits, control_ids):
    """float64 log-softmax at the control ids [B, K], best other log-prob [B] and its id [B]."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    control = logp[:, control_ids]
    others = logp.clone()
    others[:, control_ids] = float("-inf")
    best = others.max(dim=-1)
    return control, best.values, best.indices


def self_check(traced, eager, rows, pad_id, output, control_ids, device, dtype_name, tolerance):
    """Compares the loaded traced file, in several batchings, with the eager model run on each row alone.

    Returns {"max_abs_diff": ..., per comparison, "status": "passed"|"warning"}; raises ExportError for
    fp32 above the tolerance and for non-finite values in any dtype.
    """
    reference = torch.cat([last_logits(eager, [r], pad_id, output, device) for r in rows])
    ref_control, ref_other, _ = control_stats(reference, control_ids)
    n = len(rows)
    order = list(range(n - 1, -1, -1))  # reversed: its own inverse, so [order] restores the rows' order
    runs = {
        "traced_padded_batch": last_logits(traced, rows, pad_id, output, device),
        "traced_reversed_batch_extra_padding": last_logits(traced, [rows[i] for i in order], pad_id, output,
                                                           device, extra=5)[torch.tensor(order)],
        "traced_each_row_alone": torch.cat([last_logits(traced, [r], pad_id, output, device) for r in rows]),
        "eager_padded_batch": last_logits(eager, rows, pad_id, output, device),
    }
    result = {"prompts": n, "tolerance": tolerance, "reference": "eager model, each row alone (no padding)"}
    worst = 0.0
    for name, logits in runs.items():
        if not torch.isfinite(logits).all():
            raise CheckFailed(f"self-check: {name} gave non-finite logits ({dtype_name}); an fp16 overflow? "
                              "try --dtype bf16 or fp32")
        control, other, _ = control_stats(logits, control_ids)
        d = max(float((control - ref_control).abs().max()), float((other - ref_other).abs().max()))
        result[name] = d
        worst = max(worst, d)
    result["max_abs_diff"] = worst
    print(f"self-check: max |d log p| (control tokens and best other token) against the eager model on "
          f"each row alone, {n} prompts, {dtype_name}:")
    for name in runs:
        print(f"    {name:<40} {result[name]:.3e}")
    if worst > tolerance:
        if dtype_name == "fp32":
            raise CheckFailed(f"self-check failed: max |d log p| = {worst:.3e} > {tolerance:g} in fp32. "
                              "The traced file does not reproduce the model on padded batches; see the "
                              "comparisons above (trace vs eager on the same batch, padding vs alone).")
        print(f"WARNING: max |d log p| = {worst:.3e} > {tolerance:g} in {dtype_name}: in half precision "
              "batch composition moves log-probabilities (about 3e-2 was seen on a 4-layer bf16 model), "
              "so decisions near a threshold can flip with batching. Export in fp32 for exact scores; the "
              "job's canary (runs.canary_max_abs_diff) measures the effect at scoring time.")
        result["status"] = "warning"
    else:
        result["status"] = "passed"
    return result


def expected_logprobs(traced, cases, pad_id, output, control, tokenizer, device):
    """Python's first-token log-probabilities of the file on each prompt alone (T = 1)."""
    names = list(control)
    ids = [control[t] for t in names]
    out = []
    for prompt, text, row in cases:
        logits = last_logits(traced, [row], pad_id, output, device)
        c, other, other_id = control_stats(logits, ids)
        best = int(other_id[0])
        out.append({
            "prompt": prompt,
            "rendered": text,
            "input_ids": row,
            "log_softmax": {t: float(c[0, k]) for k, t in enumerate(names)},
            "max_other_log_softmax": float(other[0]),
            "max_other_id": best,
            "max_other_token": tokenizer.convert_ids_to_tokens([best])[0],
        })
    return out


# ----------------------------------------------------------------------------- continuations and decode.pt
def folder_eos_ids(tokenizer, out_dir):
    """The end-of-sequence ids the job stops at, read as the job reads the folder: tokenizer_config.json's
    eos_token (one token) and generation_config.json's eos_token_id (an int or a list) when that file is
    there; in that order, each once."""
    with open(os.path.join(out_dir, TOKENIZER_CONFIG), encoding="utf-8") as f:
        eos = special_token_text(json.load(f).get("eos_token"))
    ids = []
    if eos:
        encoded = list(tokenizer.encode(eos, add_special_tokens=False))
        if len(encoded) != 1:
            raise ExportError(f"eos_token {eos!r} of {TOKENIZER_CONFIG} is not one token ({encoded}): the job "
                              "stops generation at it; fix eos_token there")
        ids.append(int(encoded[0]))
    generation = os.path.join(out_dir, GENERATION_CONFIG)
    if os.path.isfile(generation):
        with open(generation, encoding="utf-8") as f:
            value = json.load(f).get("eos_token_id")
        for i in (value if isinstance(value, list) else [] if value is None else [value]):
            if int(i) not in ids:
                ids.append(int(i))
    return ids


def model_eos_ids(model):
    """The ids transformers' generate would stop at by default (the model's generation config), if any."""
    config = getattr(model, "generation_config", None) or getattr(model, "config", None)
    value = getattr(config, "eos_token_id", None)
    return [int(i) for i in (value if isinstance(value, (list, tuple)) else [] if value is None else [value])]


def reference_continuations(model, prefixes, max_new_tokens, eos_ids, pad_id, device):
    """(name, [Continuation]): transformers' generate for a Hugging Face model (anything with .generate),
    else greedy decoding that re-runs the plain model on the whole sequence each step; each prefix alone."""
    if callable(getattr(model, "generate", None)):
        name = ("transformers generate(do_sample=False, num_beams=1, max_new_tokens, eos_token_id, pad_token_id; "
                "the model's own generation config set aside), each prefix alone")
        run = lambda p: dc.hf_generate(model, p, max_new_tokens, eos_ids, pad_id, device)  # noqa: E731
    else:
        name = "greedy decoding re-running the eager model on the whole sequence each step, each prefix alone"
        run = lambda p: dc.greedy_recompute(model, p, max_new_tokens, eos_ids, device)  # noqa: E731
    try:
        return name, [run(p) for p in prefixes]
    except RuntimeError as e:
        raise CheckFailed(f"the reference continuations failed: {e}") from e


def decode_geometry(model):
    """CacheGeometry from the model's config: num_hidden_layers, num_key_value_heads (grouped-query models
    cache fewer heads than they attend with), head_dim (else hidden_size / num_attention_heads)."""
    config = getattr(model, "config", None)
    if config is None:
        raise ExportError("--decode-cache needs a model with a config (num_hidden_layers, num_attention_heads, "
                          "num_key_value_heads, head_dim or hidden_size)")
    if hasattr(config, "get_text_config"):
        config = config.get_text_config()
    try:
        heads = int(config.num_attention_heads)
        kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
        head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
        return dc.CacheGeometry(int(config.num_hidden_layers), kv_heads, head_dim)
    except AttributeError as e:
        raise ExportError(f"--decode-cache: the model's config lacks {e}; only decoder-only models with the "
                          "usual Hugging Face config keys are supported") from e


def check_decode_supported(model, max_length):
    """Refuses models whose attention the decode module's full causal mask would not reproduce."""
    config = getattr(model, "config", None)
    window = getattr(config, "sliding_window", None)
    if window and getattr(config, "use_sliding_window", True) and (max_length is None or window < max_length):
        raise ExportError(f"--decode-cache: the model attends within a sliding window of {window} tokens, "
                          f"shorter than the window the job uses ({max_length}); decode.pt applies a full causal "
                          f"mask. Export without --decode-cache (the job then recomputes the whole prefix) or "
                          f"give --max-length {window}")
    layer_types = getattr(config, "layer_types", None) or []
    if any(t != "full_attention" for t in layer_types):
        raise ExportError(f"--decode-cache: the model mixes attention kinds ({sorted(set(layer_types))}); decode.pt "
                          "supports full attention only. Export without --decode-cache")
    impl = getattr(config, "_attn_implementation", None)
    if impl not in (None, "eager", "sdpa"):
        raise ExportError(f"--decode-cache passes its own 4-D attention mask, which attn_implementation {impl!r} "
                          "does not take: use --attn-implementation sdpa (or eager)")


def probe_decoder(decoder, geometry, pad_id, dtype, device):
    """Runs the eager decode module on two tiny rows and checks the cache it returns against the geometry
    and the export dtype."""
    ids, mask, positions = dc.right_padded([[pad_id, pad_id], [pad_id]], pad_id, device)
    past = dc.empty_past(geometry, 2, dtype, device)
    with torch.no_grad():
        logits, keys, values = decoder(ids, mask, positions, mask.sum(1) - 1, past, past)
    want = (geometry.layers, 2, geometry.kv_heads, 2, geometry.head_dim)
    for name, t in (("keys", keys), ("values", values)):
        if tuple(t.shape) != want:
            raise CheckFailed(f"--decode-cache: the model's cache {name} have shape {tuple(t.shape)} for 2 rows of 2 "
                              f"tokens, but its config says [L,B,H,T,D] = {list(want)}; this architecture's "
                              "cache is not the layers x key-value heads x head_dim the job expects")
        if t.dtype != dtype:
            raise CheckFailed(f"--decode-cache: the model's cache is {t.dtype}, not the export dtype {dtype}")
    return int(logits.shape[-1])


def decode_trace_example(decoder, rows, pad_id, geometry, dtype, device):
    """A step call with a real past (P > 0, rows of different lengths, so padded slots inside it), S = 2 new
    tokens and different last_index per row: the eager decoder's prefill of two check rows, then two ids.

    Not a prefill: transformers' DynamicCache branches on an empty cache (numel() == 0), and a trace keeps
    only the branch it took; traced with P > 0 it takes the branch that holds for every P."""
    two = [rows[0], rows[1] if len(rows[1]) != len(rows[0]) else rows[1][:max(1, len(rows[1]) // 2)]]
    ids, mask, positions = dc.right_padded(two, pad_id, device)
    lengths = mask.sum(1)
    past = dc.empty_past(geometry, 2, dtype, device)
    with torch.no_grad():
        _, keys, values = decoder(ids, mask, positions, lengths - 1, past, past)
    new = ids[:, :2].clone()
    step_mask = torch.cat([mask, torch.ones((2, 2), dtype=torch.long, device=device)], dim=1)
    step_positions = lengths.view(2, 1) + torch.arange(2, device=device).view(1, 2)
    last = torch.tensor([1, 0], dtype=torch.long, device=device)
    return new, step_mask, step_positions, last, keys, values


def trace_decoder(decoder, rows, pad_id, geometry, dtype, device):
    """torch.jit.trace of the decode module on decode_trace_example."""
    example = decode_trace_example(decoder, rows, pad_id, geometry, dtype, device)
    with torch.no_grad():
        return torch.jit.trace(decoder, example, check_trace=False)


def max_logp_diff(a, b):
    """Largest |d log p| over the whole vocabulary between two [B,V] logits (float64 log-softmax)."""
    return float((torch.log_softmax(a.double(), -1) - torch.log_softmax(b.double(), -1)).abs().max())


def decode_logit_check(decoder, model, rows, forced_id, pad_id, geometry, dtype, device):
    """max |d log p| of the decode module against the eager model on each row alone: prefill in one padded
    batch, prefill row by row, and a step (S = 1, the forced token) on the batch's cache."""
    eager = LastTokenLogits(model)
    alone = torch.cat([last_logits(eager, [r], pad_id, "last", device) for r in rows])
    alone_forced = torch.cat([last_logits(eager, [r + [forced_id]], pad_id, "last", device) for r in rows])
    ids, mask, positions = dc.right_padded(rows, pad_id, device)
    lengths = mask.sum(1)
    b = len(rows)
    past = dc.empty_past(geometry, b, dtype, device)
    with torch.no_grad():
        batch, keys, values = decoder(ids, mask, positions, lengths - 1, past, past)
        one_by_one = torch.cat([decoder(*dc.right_padded([r], pad_id, device),
                                        torch.tensor([len(r) - 1], device=device),
                                        dc.empty_past(geometry, 1, dtype, device),
                                        dc.empty_past(geometry, 1, dtype, device))[0] for r in rows])
        step, _, _ = decoder(torch.full((b, 1), forced_id, dtype=torch.long, device=device),
                             torch.cat([mask, torch.ones((b, 1), dtype=torch.long, device=device)], dim=1),
                             lengths.view(b, 1), torch.zeros(b, dtype=torch.long, device=device), keys, values)
    runs = {"prefill_padded_batch": batch.float().cpu(), "prefill_each_row_alone": one_by_one.float().cpu(),
            "step_after_padded_prefill": step.float().cpu()}
    for name, logits in runs.items():
        if not torch.isfinite(logits).all():
            raise CheckFailed(f"decode check: {name} gave non-finite logits; an fp16 overflow? try --dtype bf16 "
                              "or fp32")
    return {"prefill_padded_batch": max_logp_diff(runs["prefill_padded_batch"], alone),
            "prefill_each_row_alone": max_logp_diff(runs["prefill_each_row_alone"], alone),
            "step_after_padded_prefill": max_logp_diff(runs["step_after_padded_prefill"], alone_forced)}


def decode_self_check(decoder, model, rows, prefixes, reference, *, forced_id, max_new_tokens, eos_ids, pad_id,
                      geometry, dtype, dtype_name, device, tolerance):
    """Checks the reloaded decode.pt: logits against the eager model (decode_logit_check), and its batched
    greedy loop against the reference continuations. fp32: above the tolerance, or any differing id, fails;
    fp16/bf16: a WARNING. Returns the numbers for the manifest."""
    try:
        diffs = decode_logit_check(decoder, model, rows, forced_id, pad_id, geometry, dtype, device)
        greedy = dc.greedy_cached(decoder, prefixes, max_new_tokens, eos_ids, pad_id, geometry, dtype, device)
    except RuntimeError as e:  # a length frozen into the trace often surfaces as a shape error
        raise CheckFailed(f"decode check: decode.pt fails on batch sizes and lengths other than its trace "
                          f"example (a length frozen into the trace?): {str(e).strip().splitlines()[-1]}") from e
    agree = dc.agreement(greedy, reference)
    worst = max(diffs.values())
    print(f"decode check: decode.pt against the eager model on each row alone, {len(rows)} prompts, {dtype_name}:")
    for name, d in diffs.items():
        print(f"    max |d log p| {name:<34} {d:.3e}")
    print(f"    greedy, {len(prefixes)} prefixes in one batch, up to {max_new_tokens} new tokens: "
          f"{agree['cases_equal']}/{agree['cases']} continuations equal to the reference, "
          f"{agree['tokens_agreeing']}/{agree['reference_tokens']} reference tokens matched")
    result = dict(diffs, max_abs_diff=worst, tolerance=tolerance, greedy=agree)
    bad = worst > tolerance or agree["cases_equal"] != agree["cases"]
    if bad and dtype_name == "fp32":
        raise CheckFailed(f"decode check failed in fp32: max |d log p| = {worst:.3e} (tolerance {tolerance:g}), "
                          f"{agree['cases_equal']}/{agree['cases']} greedy continuations equal to the reference; "
                          f"first differences: {agree['differences']}")
    if bad:
        print(f"WARNING: in {dtype_name} decode.pt's greedy continuations agree with the reference on "
              f"{agree['cases_equal']}/{agree['cases']} prefixes ({agree['token_agreement']:.1%} of the reference "
              f"tokens before the first difference; max |d log p| {worst:.3e}): half precision changes with the "
              "computation's shape. Export in fp32 for continuations equal to Hugging Face's.")
    result["status"] = "warning" if bad else "passed"
    return result


def continuation_plan(cases, control):
    """expected_continuations.json's cases: each check prompt x [respond] and the first refusal tokens."""
    forced = list(control.items())[:1 + FORCED_REFUSAL_TOKENS]
    return dc.continuation_cases([(prompt, ids) for prompt, _, ids in cases], forced)


# ----------------------------------------------------------------------------- the output folder
def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_tokenizer_files(tokenizer_dir, out_dir, chat_template):
    """Copies the tokenizer files; returns where the chat template written to tokenizer_config.json came from."""
    src_json = os.path.join(tokenizer_dir, TOKENIZER_JSON)
    src_config = os.path.join(tokenizer_dir, TOKENIZER_CONFIG)
    for required in (src_json, src_config):
        if not os.path.isfile(required):
            raise ExportError(f"{required} is missing: the job reads the Hugging Face {TOKENIZER_JSON} and "
                              f"{TOKENIZER_CONFIG} (a fast tokenizer; save one with "
                              "tokenizer.save_pretrained(...))")
    shutil.copyfile(src_json, os.path.join(out_dir, TOKENIZER_JSON))
    for name in OPTIONAL_TOKENIZER_FILES:
        if os.path.isfile(os.path.join(tokenizer_dir, name)):
            shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(out_dir, name))
    with open(src_config, encoding="utf-8") as f:
        config = json.load(f)
    if config.get("chat_template") == chat_template:
        shutil.copyfile(src_config, os.path.join(out_dir, TOKENIZER_CONFIG))
        return TOKENIZER_CONFIG
    had = config.get("chat_template")
    config["chat_template"] = chat_template
    with open(os.path.join(out_dir, TOKENIZER_CONFIG), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    if had is None:
        return "written into tokenizer_config.json from the tokenizer (source kept it elsewhere)"
    return "written into tokenizer_config.json (replaced the source's entry: named templates or --chat-template)"


def write_json(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")


def export(model, tokenizer, out_dir, *, tokenizer_dir, source_name, output="last", dtype_name="fp32",
           device="cpu", respond_token=DEFAULT_RESPOND_TOKEN, refusal_tokens=None, max_length=None,
           check_prompts=None, tolerance=DEFAULT_TOLERANCE, chat_template=None, provenance=None,
           decode_cache=False, check_new_tokens=DEFAULT_CHECK_NEW_TOKENS, cache_factory=None):
    """Traces `model` (a causal LM already in its dtype, eval mode, on `device`), checks the file and
    writes the model folder. Returns the manifest. Raises ExportError on a failed check; a file that
    fails its self-check is left as model.pt.rejected (decode.pt.rejected), with no manifest.

    decode_cache: also trace decode.pt (tools/decode_cache.py), whose cache object comes from
    cache_factory (default transformers' DynamicCache). check_new_tokens: the length of the greedy
    continuations written to expected_continuations.json."""
    refusal_tokens = list(DEFAULT_REFUSAL_TOKENS if refusal_tokens is None else refusal_tokens)
    prompts = list(check_prompts or DEFAULT_CHECK_PROMPTS)
    if len(prompts) < 2:
        raise ExportError("give at least 2 check prompts (a padded batch needs rows of several lengths)")
    if check_new_tokens < 1:
        raise ExportError(f"--check-new-tokens {check_new_tokens}: give at least 1 (default "
                          f"{DEFAULT_CHECK_NEW_TOKENS})")
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    template = resolved_chat_template(tokenizer)
    control = control_token_ids(tokenizer, respond_token, refusal_tokens)
    vocab = tokenizer_vocab_size(tokenizer)
    if max_length is None:
        n = getattr(tokenizer, "model_max_length", None)
        max_length = int(n) if isinstance(n, (int, float)) and 0 < n < NO_LIMIT else None
    if decode_cache:
        check_decode_supported(model, max_length)
    os.makedirs(out_dir, exist_ok=True)
    template_from = copy_tokenizer_files(tokenizer_dir, out_dir, template)
    with open(os.path.join(out_dir, TOKENIZER_CONFIG), encoding="utf-8") as f:
        pad_id = job_pad_id(tokenizer, json.load(f))
    eos_ids = folder_eos_ids(tokenizer, out_dir)
    cases = encode_prompts(tokenizer, prompts)
    rows = [c[2] for c in cases]
    plan = continuation_plan(cases, control)
    prefixes = [ids + [forced_id] for _, ids, _, forced_id in plan]
    longest = max(len(p) for p in prefixes) + check_new_tokens
    if max_length is not None and longest > max_length:
        raise ExportError(f"a check prompt with its forced token and --check-new-tokens {check_new_tokens} needs "
                          f"{longest} positions, more than the model window {max_length}: lower "
                          "--check-new-tokens or use shorter --check-prompts")
    unread = [i for i in model_eos_ids(model) if i not in eos_ids]
    if unread:
        print(f"WARNING: the model's generation config also ends generation at ids {unread}, which the folder "
              f"does not name ({TOKENIZER_CONFIG} eos_token, {GENERATION_CONFIG}): the job stops only at "
              f"{eos_ids}, and so do the expected continuations")
    if not eos_ids:
        print(f"WARNING: the folder names no end-of-sequence token ({TOKENIZER_CONFIG} eos_token, "
              f"{GENERATION_CONFIG} eos_token_id): every continuation runs to its length limit, and the job "
              "needs responses.stop_strings to end a response")

    model_path = os.path.join(out_dir, MODEL_FILE)
    decode_path = os.path.join(out_dir, DECODE_FILE)
    for stale in (MODEL_FILE, MANIFEST_FILE, EXPECTED_FILE, MODEL_FILE + ".rejected", DECODE_FILE,
                  DECODE_FILE + ".rejected", CONTINUATIONS_FILE):
        if os.path.exists(os.path.join(out_dir, stale)):
            os.remove(os.path.join(out_dir, stale))
    # ids 0 only: a prompt may hold ids the model lacks, which is what this check is about
    model_vocab = int(last_logits(wrap(model, output), [[0, 0], [0]], pad_id, output, device).shape[-1])
    if model_vocab < vocab:
        raise CheckFailed(f"the model returns {model_vocab} logits per row but the tokenizer has {vocab} ids "
                          "(added tokens included): its embeddings were not resized after tokens were "
                          "added (model.resize_token_embeddings(len(tokenizer)), then fine-tune). The job "
                          "refuses such a folder.")
    traced = trace(model, output, rows[:2], pad_id, device)
    pending = model_path + ".rejected"  # renamed to model.pt once every check passed
    traced.save(pending)
    loaded = torch.jit.load(pending, map_location=device).eval()
    check = self_check(loaded, wrap(model, output), rows, pad_id, output,
                       [control[t] for t in control], device, dtype_name, tolerance)
    os.replace(pending, model_path)

    reference_name, reference = reference_continuations(model, prefixes, check_new_tokens, eos_ids, pad_id, device)
    decode_info = decode_check = None
    if decode_cache:
        geometry = decode_geometry(model)
        dtype = DTYPES[dtype_name]
        decoder = dc.CachedDecoder(model, geometry, cache_factory).eval()
        probe_decoder(decoder, geometry, pad_id, dtype, device)
        pending = decode_path + ".rejected"
        trace_decoder(decoder, rows, pad_id, geometry, dtype, device).save(pending)
        decode_check = decode_self_check(
            torch.jit.load(pending, map_location=device).eval(), model, rows, prefixes, reference,
            forced_id=control[respond_token], max_new_tokens=check_new_tokens, eos_ids=eos_ids, pad_id=pad_id,
            geometry=geometry, dtype=dtype, dtype_name=dtype_name, device=device, tolerance=tolerance)
        os.replace(pending, decode_path)
        decode_info = {"file": DECODE_FILE, "layers": geometry.layers, "kv_heads": geometry.kv_heads,
                       "head_dim": geometry.head_dim, "dtype": dtype_name}

    control_list = list(control)
    export_info = {
        "tool": TOOL,
        "source": source_name,
        "torch": torch.__version__,
        "dtype": dtype_name,
        "device": str(device),
        "device_note": "traced on this device: run it on the same kind of device (tracing bakes the device "
                       "of ops such as arange into the graph)",
        "output": output,
        "model_sha256": sha256_of(model_path),
        "exported_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "tokenizer_vocab_size": vocab,
        "pad_id": pad_id,
        "eos_ids": eos_ids,
        "control_token_ids": control,
        "chat_template_from": template_from,
        "self_check": check,
    }
    if decode_cache:
        export_info.update({"decode_sha256": sha256_of(decode_path), "decode_check": decode_check,
                            "decode_cache_position": decoder.pass_cache_position})
    export_info.update(provenance or {})
    manifest = {
        "name": os.path.basename(os.path.normpath(out_dir)),
        "model_file": MODEL_FILE,
        "respond_token": control_list[0],
        "refusal_tokens": control_list[1:],
    }
    if max_length is not None:
        manifest["max_length"] = max_length
    manifest.update({"output": output, "vocab_size": model_vocab})
    if decode_info is not None:
        manifest["decode"] = decode_info
    manifest["export"] = export_info

    expected = {
        "model": manifest["name"],
        "note": f"Written by {TOOL}: model.pt run in Python on each prompt alone (batch of 1, no padding), "
                "log_softmax over the whole vocabulary at temperature 1 at the first response position, "
                "from the logits converted to float32 (as the job converts them). max_other_* is the best id "
                "that is not a control token. Prompts rendered with apply_chat_template("
                "add_generation_prompt=True), no system prompt, encoded with add_special_tokens=False.",
        "tolerance": tolerance if dtype_name == "fp32" else 5e-2,
        "dtype": dtype_name,
        "device": str(device),
        "output": output,
        "model_sha256": export_info["model_sha256"],
        "vocab_size": model_vocab,
        "system_prompt": None,
        "respond_token": control_list[0],
        "refusal_tokens": control_list[1:],
        "cases": expected_logprobs(loaded, cases, pad_id, output, control, tokenizer, device),
    }
    continuations = {
        "model": manifest["name"],
        "note": f"Written by {TOOL}: greedy continuations of each check prompt (rendered and encoded as in "
                f"{EXPECTED_FILE}) with the forced first token appended, by {reference_name}. new_token_ids "
                "exclude the forced token and the end-of-sequence id; finish_reason is eos or length "
                "(max_new_tokens reached); text is tokenizer.decode(new_token_ids, skip_special_tokens=True). "
                "In fp32 the job's greedy generator must give the same ids.",
        "reference": reference_name,
        "dtype": dtype_name,
        "device": str(device),
        "model_sha256": export_info["model_sha256"],
        "max_new_tokens": check_new_tokens,
        "eos_ids": eos_ids,
        "pad_id": pad_id,
        "cases": dc.continuation_records(plan, reference, tokenizer),
    }
    if decode_check is not None:
        continuations["decode_check"] = decode_check["greedy"]
    write_json(os.path.join(out_dir, EXPECTED_FILE), expected)
    write_json(os.path.join(out_dir, CONTINUATIONS_FILE), continuations)
    write_json(os.path.join(out_dir, MANIFEST_FILE), manifest)  # last: the folder is complete
    return manifest


# ----------------------------------------------------------------------------- Hugging Face loading
def dtype_kwargs(torch_dtype):
    """from_pretrained's dtype argument: `dtype` since transformers 4.56, `torch_dtype` before."""
    import transformers
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": torch_dtype} if (major, minor) >= (4, 56) else {"torch_dtype": torch_dtype}


def load_pretrained(source, torch_dtype, device, attn_implementation, trust_remote_code):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    kwargs = dict(dtype_kwargs(torch_dtype), trust_remote_code=trust_remote_code)
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    return tokenizer, model


def random_llama(tokenizer, control_tokens, max_length, seed, attn_implementation, *, layers=2, hidden=64,
                 heads=4, kv_heads=2, intermediate=128):
    """A tiny LlamaForCausalLM with random weights over the tokenizer's vocabulary + the control tokens
    (2 layers, hidden 64, 4 heads, 2 key-value heads unless told otherwise).

    Returns (tokenizer with the missing control tokens added as special tokens, model)."""
    from tokenizers import AddedToken
    from transformers import AutoModelForCausalLM, LlamaConfig
    missing = [t for t in control_tokens if len(tokenizer.encode(t, add_special_tokens=False)) != 1]
    if missing:
        tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in missing],
                             special_tokens=True)
        print(f"self-test: added {len(missing)} control tokens to the tokenizer: {missing}")
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=tokenizer_vocab_size(tokenizer), hidden_size=hidden, intermediate_size=intermediate,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        max_position_embeddings=max_length, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    model = AutoModelForCausalLM.from_config(config, **kwargs)
    return tokenizer, model


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Export a Hugging Face causal LM to a TorchScript model folder for the refusal-token "
                    "evaluation job (see the docstring at the top of this file).")
    ap.add_argument("source", help="local Hugging Face model folder (with --self-test-random-llama: a "
                                   "tokenizer folder)")
    ap.add_argument("out", help="output model folder")
    ap.add_argument("--output", choices=OUTPUTS, default="last",
                    help="last: [B,V] logits at each row's last real token (default); full: [B,T,V]")
    ap.add_argument("--dtype", choices=list(DTYPES), default="fp32",
                    help="cast the model to this dtype before tracing (default fp32: exact; bf16/fp16 halve "
                         "memory and move log-probs by ~1e-2 with batching)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="trace on this device: the one the job will score on (default cpu)")
    ap.add_argument("--respond-token", default=DEFAULT_RESPOND_TOKEN)
    ap.add_argument("--refusal-tokens", nargs="+", metavar="TOKEN", default=DEFAULT_REFUSAL_TOKENS,
                    help="default: the five CoCoNot category tokens; the single-token variant: '[refuse]'")
    ap.add_argument("--max-length", type=int, help="model window for the manifest (default: the tokenizer's "
                                                   "model_max_length, else the job's default)")
    ap.add_argument("--chat-template", metavar="FILE", help="a Jinja chat template to use and write into "
                                                            "tokenizer_config.json")
    ap.add_argument("--check-prompts", metavar="FILE", help="prompts for the self-check and "
                                                            "expected_logprobs.json, one per line")
    ap.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                    help="largest |d log p| of the self-check (fp32 fails above it, fp16/bf16 warn)")
    ap.add_argument("--decode-cache", action="store_true",
                    help=f"also write {DECODE_FILE}, a decode module with an explicit KV cache (prefill, then one "
                         "token per step), checked against the model and its greedy continuations")
    ap.add_argument("--check-new-tokens", type=int, default=DEFAULT_CHECK_NEW_TOKENS, metavar="N",
                    help=f"length of the greedy continuations in {CONTINUATIONS_FILE} (default "
                         f"{DEFAULT_CHECK_NEW_TOKENS})")
    ap.add_argument("--attn-implementation", help="passed to transformers (e.g. eager, sdpa); default: "
                                                  "transformers' choice")
    ap.add_argument("--trust-remote-code", action="store_true")
    ap.add_argument("--force", action="store_true", help="overwrite an output folder that has a model.pt")
    ap.add_argument("--self-test-random-llama", action="store_true",
                    help="export a tiny random-weight Llama over SOURCE's tokenizer instead of real weights")
    ap.add_argument("--seed", type=int, default=1234, help="weights seed of --self-test-random-llama")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    try:
        if not os.path.isdir(a.source):
            raise ExportError(f"{a.source} is not a folder: give a local Hugging Face model folder")
        if os.path.exists(os.path.join(a.out, MODEL_FILE)) and not a.force:
            raise ExportError(f"{a.out} already has {MODEL_FILE}: pass --force to overwrite it")
        if a.device == "cuda" and not torch.cuda.is_available():
            raise ExportError("--device cuda, but torch sees no GPU")
        if a.dtype == "fp16" and a.device == "cpu":
            print("WARNING: fp16 on the CPU is slow and some ops lack fp16 CPU kernels; prefer bf16 or fp32")
        chat_template = None
        if a.chat_template:
            with open(a.chat_template, encoding="utf-8") as f:
                chat_template = f.read()
        prompts = None
        if a.check_prompts:
            with open(a.check_prompts, encoding="utf-8") as f:
                prompts = [line.rstrip("\n") for line in f if line.strip()]
        torch_dtype = DTYPES[a.dtype]
        import transformers
        provenance = {"transformers": transformers.__version__}
        with tempfile.TemporaryDirectory() as tmp:
            if a.self_test_random_llama:
                from transformers import AutoTokenizer
                tokenizer = AutoTokenizer.from_pretrained(a.source)
                if chat_template is not None:
                    tokenizer.chat_template = chat_template
                window = a.max_length or 2048
                tokenizer, model = random_llama(tokenizer, [a.respond_token] + a.refusal_tokens, window,
                                                a.seed, a.attn_implementation)
                tokenizer.save_pretrained(tmp)  # the tokenizer with the added control tokens
                tokenizer_dir = tmp
                provenance.update({"self_test_random_weights": True, "seed": a.seed,
                                   "WARNING": "random weights: a test of the export path, not a model"})
                a.max_length = window
            else:
                tokenizer, model = load_pretrained(a.source, torch_dtype, a.device, a.attn_implementation,
                                                   a.trust_remote_code)
                tokenizer_dir = a.source
            model = model.to(device=a.device, dtype=torch_dtype).eval()
            config = getattr(model, "config", None)
            provenance.update({"model_type": getattr(config, "model_type", None),
                               "architectures": getattr(config, "architectures", None),
                               "attn_implementation": getattr(config, "_attn_implementation", None)})
            if a.device == "cuda":
                provenance["device_name"] = torch.cuda.get_device_name(0)
            if a.output == "full":
                print("NOTE: --output full returns B x T x V logits per batch; the job gathers the last real "
                      "token itself. Prefer the default `last` for real vocabularies.")
            manifest = export(model, tokenizer, a.out, tokenizer_dir=tokenizer_dir,
                              source_name=os.path.basename(os.path.normpath(a.source)), output=a.output,
                              dtype_name=a.dtype, device=a.device, respond_token=a.respond_token,
                              refusal_tokens=a.refusal_tokens, max_length=a.max_length,
                              check_prompts=prompts, tolerance=a.tolerance, chat_template=chat_template,
                              provenance=provenance, decode_cache=a.decode_cache,
                              check_new_tokens=a.check_new_tokens)
    except ExportError as e:
        print(f"export_torchscript: error: {e}", file=sys.stderr)
        return 1 if isinstance(e, CheckFailed) else 2
    except ImportError as e:
        print(f"export_torchscript: error: {e}: install torch and transformers "
              "(pip install -r tools/requirements-export.txt)", file=sys.stderr)
        return 2
    print(f"exported {a.out}: {MODEL_FILE} ({os.path.getsize(os.path.join(a.out, MODEL_FILE)):,} B, output "
          f"{manifest['output']}, {manifest['vocab_size']} logits per row, {a.dtype} on {a.device}), "
          f"{MANIFEST_FILE}, {EXPECTED_FILE}, {CONTINUATIONS_FILE}"
          + (f", {DECODE_FILE} ({os.path.getsize(os.path.join(a.out, DECODE_FILE)):,} B)" if a.decode_cache else ""))
    print(f"WARNING: traced on {a.device}: score it on {'GPUs' if a.device == 'cuda' else 'the CPU'} "
          f"(re-export with --device {'cpu' if a.device == 'cuda' else 'cuda'} for the other kind of device).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
