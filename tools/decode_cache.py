"""The KV-cache decode module of tools/export_torchscript.py (--decode-cache) and the greedy loops that check it.

The contract of decode.pt (the job's Java generator calls it so):

  forward(input_ids      int64[B,S]        the S new tokens of each row
          attention_mask int64[B,P+S]      1 = a real key slot, 0 = a padded one, over past + new
          position_ids   int64[B,S]        the position of each new token (a row's real tokens so far)
          last_index     int64[B]          which of the S new positions gives the row's logits
          past_keys      float[L,B,H,P,D]  the cache returned by the previous call (P = 0: empty, prefill)
          past_values    float[L,B,H,P,D])
    -> (logits [B,V] at position last_index[b] among the S new ones,
        keys   [L,B,H,P+S,D],
        values [L,B,H,P+S,D])

L = layers, H = key-value heads (fewer than the attention heads in grouped-query models), D = head size;
the cache is in the export dtype. The prefill is right padded: a row's padded slots stay in the cache and
stay masked (attention_mask 0) for every later step, so each row's cache slot differs from its position
once rows have different lengths; that is why positions are an input, not derived from slots.

Inside, the wrapper owns the cache layout: it builds a fresh cache object (transformers' DynamicCache,
or any class with the same `update(keys, values, layer_idx)`), fills layer l with past_keys[l] /
past_values[l] through `update`, calls the model with past_key_values=that cache, a 4-D additive mask it
builds itself (0 where a new token may attend a key slot, the dtype's most negative value elsewhere:
causal over slots, padded slots masked) and explicit position ids (and cache positions P..P+S-1 where
the model's forward takes them), then reads the grown cache back and stacks it. Every length comes from
a tensor's size or a cumulative sum, never from a Python int, so one trace serves every B, S and P.

Also here: the greedy loop the job runs (prefill, then one token per row per step) over any module in
that contract, a full-recompute greedy loop over the plain model (the reference for models without
transformers' generate), transformers' generate as the reference for Hugging Face models, and the
expected_continuations.json cases. Needs only torch; transformers is imported where it is used.
"""
from __future__ import annotations

import inspect
from typing import NamedTuple

import torch

FINISH_EOS = "eos"
FINISH_LENGTH = "length"


class CacheGeometry(NamedTuple):
    """The cache's shape per row and position: layers, key-value heads, head size."""
    layers: int
    kv_heads: int
    head_dim: int


class Continuation(NamedTuple):
    """Generated ids (the forced token and the end-of-sequence id excluded) and why generation stopped."""
    new_token_ids: list
    finish_reason: str


# ----------------------------------------------------------------------------- tensor logic of the wrapper
def new_slots(input_ids, past_len):
    """int64 [S]: the cache slots P .. P+S-1 of the S new tokens (P = past_len, a traced size)."""
    return torch.ones_like(input_ids[0]).cumsum(0) - 1 + past_len


def attention_bias(attention_mask, query_slots, dtype):
    """[B,1,S,P+S] additive mask: 0 where new token i (slot query_slots[i]) may attend key slot j, i.e.
    j <= its own slot and attention_mask[b, j] == 1; the dtype's most negative value elsewhere.

    Every new token attends at least itself, so no row is fully masked (no NaN from softmax)."""
    key_slots = torch.ones_like(attention_mask[0]).cumsum(0) - 1
    causal = key_slots.unsqueeze(0) <= query_slots.unsqueeze(1)  # [S, P+S]
    allowed = causal.unsqueeze(0) & (attention_mask != 0).unsqueeze(1)  # [B, S, P+S]
    bias = torch.zeros_like(allowed, dtype=dtype)
    return bias.masked_fill(~allowed, torch.finfo(dtype).min).unsqueeze(1)


def fill_cache(cache, past_keys, past_values, layers):
    """Puts past_keys[l] / past_values[l] ([B,H,P,D]) into layer l of an empty cache through its update."""
    for layer in range(layers):
        cache.update(past_keys[layer], past_values[layer], layer)
    return cache


def stacked_cache(cache, layers):
    """The cache's tensors as [L,B,H,T,D] keys and values.

    transformers >= 4.56 (and 5.x) keep them as cache.layers[l].keys / .values; 4.44-4.55 as the lists
    cache.key_cache / cache.value_cache (removed in 5)."""
    if hasattr(cache, "layers"):
        keys = [cache.layers[layer].keys for layer in range(layers)]
        values = [cache.layers[layer].values for layer in range(layers)]
    else:
        keys = [cache.key_cache[layer] for layer in range(layers)]
        values = [cache.value_cache[layer] for layer in range(layers)]
    return torch.stack(keys), torch.stack(values)


def gather_positions(logits, index):
    """[B,S,V] -> [B,V]: row b's logits at position index[b]."""
    picked = index.view(-1, 1, 1).expand(-1, 1, logits.size(-1))
    return logits.gather(1, picked).squeeze(1)


def takes_cache_position(model):
    """Whether the model's forward names a cache_position argument (transformers 4.x and early 5.x do)."""
    try:
        return "cache_position" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def dynamic_cache_class():
    """transformers' DynamicCache, built empty (no config: every layer a full, growing cache)."""
    from transformers import DynamicCache
    return DynamicCache


class CachedDecoder(torch.nn.Module):
    """The decode.pt module (contract in this file's docstring) around a causal LM called the Hugging Face
    way: model(input_ids=, attention_mask=<4-D additive mask>, position_ids=, past_key_values=<cache>,
    use_cache=True, return_dict=False[, cache_position=]) whose first output is [B,S,V] logits and which
    grows the cache through cache.update(keys, values, layer_idx).

    cache_factory makes the empty cache object of each call (default transformers' DynamicCache)."""

    def __init__(self, model, geometry, cache_factory=None, pass_cache_position=None):
        super().__init__()
        self.model = model
        self.layers = int(geometry.layers)
        self.cache_factory = cache_factory or dynamic_cache_class()
        self.pass_cache_position = takes_cache_position(model) if pass_cache_position is None \
            else pass_cache_position

    def forward(self, input_ids, attention_mask, position_ids, last_index, past_keys, past_values):
        cache = fill_cache(self.cache_factory(), past_keys, past_values, self.layers)
        slots = new_slots(input_ids, past_keys.size(3))
        kwargs = {"input_ids": input_ids, "attention_mask": attention_bias(attention_mask, slots, past_keys.dtype),
                  "position_ids": position_ids, "past_key_values": cache, "use_cache": True,
                  "return_dict": False}
        if self.pass_cache_position:
            kwargs["cache_position"] = slots
        logits = self.model(**kwargs)[0]
        keys, values = stacked_cache(cache, self.layers)
        return gather_positions(logits, last_index), keys, values


def empty_past(geometry, batch, dtype, device):
    """[L,B,H,0,D]: the past of a prefill call."""
    return torch.zeros((geometry.layers, batch, geometry.kv_heads, 0, geometry.head_dim), dtype=dtype,
                       device=device)


# ----------------------------------------------------------------------------- greedy loops
def right_padded(rows, pad_id, device):
    """int64 [B,T] ids, mask and positions (0..T-1 on every row) of right-padded rows."""
    t = max(len(r) for r in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    positions = torch.arange(t, dtype=torch.long).unsqueeze(0).expand(len(rows), t).contiguous()
    return ids.to(device), mask.to(device), positions.to(device)


def finished(generated, eos_ids, max_new_tokens):
    """A Continuation from the ids generated so far, or None while the row goes on."""
    if generated and generated[-1] in eos_ids:
        return Continuation(generated[:-1], FINISH_EOS)
    if len(generated) >= max_new_tokens:
        return Continuation(list(generated), FINISH_LENGTH)
    return None


def greedy_cached(decoder, prefixes, max_new_tokens, eos_ids, pad_id, geometry, dtype, device):
    """Greedy continuations of all prefixes in one batch through a module in the decode.pt contract, as the
    job runs it: a right-padded prefill (P = 0), then one token per row per step with the returned cache.

    A finished row keeps being fed the pad id, its slot masked, and its outputs ignored. argmax ties go to
    the lowest id (torch.argmax, as transformers' greedy search). Returns [Continuation] in prefix order."""
    eos = set(int(i) for i in eos_ids)
    b = len(prefixes)
    ids, mask, positions = right_padded(prefixes, pad_id, device)
    lengths = mask.sum(1)
    past = empty_past(geometry, b, dtype, device)
    with torch.no_grad():
        logits, keys, values = decoder(ids, mask, positions, lengths - 1, past, past)
        generated = [[] for _ in range(b)]
        done = [None] * b
        for step in range(max_new_tokens):
            tokens = logits.float().argmax(-1).tolist()
            for row in range(b):
                if done[row] is None:
                    generated[row].append(int(tokens[row]))
                    done[row] = finished(generated[row], eos, max_new_tokens)
            if all(d is not None for d in done):
                break
            alive = torch.tensor([d is None for d in done], dtype=torch.long, device=device)
            fed = torch.tensor([t if d is None else pad_id for t, d in zip(tokens, done)], dtype=torch.long,
                               device=device).view(b, 1)
            mask = torch.cat([mask, alive.view(b, 1)], dim=1)
            step_positions = (lengths + step).view(b, 1)
            last = torch.zeros(b, dtype=torch.long, device=device)
            logits, keys, values = decoder(fed, mask, step_positions, last, keys, values)
    return done


def greedy_recompute(model, prefix, max_new_tokens, eos_ids, device):
    """Greedy continuation of one prefix by re-running the plain model (model(input_ids, attention_mask,
    use_cache=False, return_dict=False)[0] -> [1,T,V]) on the whole sequence at every step."""
    eos = set(int(i) for i in eos_ids)
    row = list(prefix)
    generated = []
    with torch.no_grad():
        while True:
            ids = torch.tensor([row], dtype=torch.long, device=device)
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False,
                           return_dict=False)[0]
            token = int(logits[0, -1].float().argmax())
            generated.append(token)
            row.append(token)
            done = finished(generated, eos, max_new_tokens)
            if done is not None:
                return done


def neutral_generation_config(max_new_tokens, eos_ids, pad_id):
    """transformers' GenerationConfig for plain greedy search: no sampling, one beam, every other value at
    its default (no penalties, no minimum length), since the model's own config is set aside for the call."""
    from transformers import GenerationConfig
    return GenerationConfig(do_sample=False, num_beams=1, max_new_tokens=max_new_tokens,
                            eos_token_id=list(eos_ids) or None, pad_token_id=pad_id)


def hf_generate(model, prefix, max_new_tokens, eos_ids, pad_id, device):
    """The Hugging Face reference: model.generate(prefix, do_sample=False, max_new_tokens=N, eos ids, pad id)
    on the prefix alone (no padding).

    The model's own generation config is set aside for the call (a fresh one stands in), so that a
    checkpoint's generation_config.json (sampling, repetition_penalty, ...) cannot turn greedy search
    into something else: transformers 5 fills values a passed config leaves at their defaults from it."""
    from transformers import GenerationConfig
    eos = set(int(i) for i in eos_ids)
    ids = torch.tensor([list(prefix)], dtype=torch.long, device=device)
    saved = model.generation_config
    model.generation_config = GenerationConfig()
    try:
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 generation_config=neutral_generation_config(max_new_tokens, eos_ids, pad_id))
    finally:
        model.generation_config = saved
    new = [int(i) for i in out[0, ids.shape[1]:].tolist()]
    if new and new[-1] in eos:
        return Continuation(new[:-1], FINISH_EOS)
    if len(new) != max_new_tokens or any(i in eos for i in new):
        raise RuntimeError(f"generate returned {len(new)} new tokens for max_new_tokens={max_new_tokens} without "
                           f"ending at an end-of-sequence id: {new}")
    return Continuation(new, FINISH_LENGTH)


# ----------------------------------------------------------------------------- expected_continuations.json
def continuation_cases(cases, forced_tokens):
    """[(prompt, prompt ids, forced token, forced id)]: each check prompt with each forced first token."""
    return [(prompt, list(ids), token, int(token_id)) for prompt, ids in cases for token, token_id in forced_tokens]


def decode_text(tokenizer, ids):
    """The response text as the job shows it: tokenizer.decode(ids, skip_special_tokens=True)."""
    return tokenizer.decode(list(ids), skip_special_tokens=True)


def continuation_records(plan, continuations, tokenizer):
    """The "cases" of expected_continuations.json, in plan order."""
    out = []
    for (prompt, prompt_ids, token, token_id), c in zip(plan, continuations):
        out.append({
            "prompt": prompt,
            "prompt_ids": prompt_ids,
            "forced_token": token,
            "forced_id": token_id,
            "new_token_ids": list(c.new_token_ids),
            "finish_reason": c.finish_reason,
            "text": decode_text(tokenizer, c.new_token_ids),
        })
    return out


def agreement(got, want):
    """How far two lists of Continuations agree: equal cases, and tokens of the reference matched before the
    first difference (finish reasons compared too)."""
    equal = sum(1 for g, w in zip(got, want) if g == w)
    matched = total = 0
    first_diff = []
    for i, (g, w) in enumerate(zip(got, want)):
        total += len(w.new_token_ids)
        n = 0
        while n < min(len(g.new_token_ids), len(w.new_token_ids)) and g.new_token_ids[n] == w.new_token_ids[n]:
            n += 1
        matched += min(n, len(w.new_token_ids))
        if g != w:
            first_diff.append({"case": i, "at_token": n, "got": list(g.new_token_ids[n:n + 3]),
                               "want": list(w.new_token_ids[n:n + 3]), "got_finish": g.finish_reason,
                               "want_finish": w.finish_reason})
    return {"cases": len(want), "cases_equal": equal,
            "tokens_agreeing": matched, "reference_tokens": total,
            "token_agreement": (matched / total) if total else 1.0, "differences": first_diff[:5]}
