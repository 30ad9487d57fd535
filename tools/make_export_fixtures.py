#!/usr/bin/env python3
"""Test fixtures for the two output layouts of model.pt and for the job's checks on a model's output.

  /usr/bin/python3 tools/make_export_fixtures.py        (Debian's python3-torch and python3-jinja2)

Writes (all under src/test/resources/fixtures/):

  demo-categories-full/   the demo model models/demo-categories with the SAME weights, exported by
                          tools/export_torchscript.py's own export() with --output full: model.pt returns
                          the logits at every position [B,T,V] instead of the last real token's [B,V].
                          Also its tokenizer files, refusal_tokens.json and expected_logprobs.json (Python's
                          log-probabilities of the control tokens, each prompt alone, T = 1) for the 8 prompts
                          of demo-categories-expected.json. The weights are not retrained: they are read back
                          from models/demo-categories/model.pt (torch.jit.load -> state_dict -> the TinyLM
                          of tools/train_demo_models.py, every key matched), and the script checks that the
                          rebuilt model reproduces that file's logits exactly before exporting.
                          The causal-mask buffer (a constant lower-triangular 256x256 matrix, not a weight)
                          is stored as bool instead of float32 to save 192 KB; its values are the same.
                          The file is still ~1.1 MB: the fp32 weights alone are 1.01 MB (2137 x 64 tied
                          embedding), so the same weights cannot be smaller.
  model-shapes/*.pt       tiny TorchScript files (a few KB) whose output the job must refuse or convert:
                          rank1.pt [B*V], rank4.pt [B,T,1,V], first-row.pt [1,V] whatever B,
                          short-t.pt [B,T-1,V], small-vocab.pt [B,100] (an embedding of 100 rows: real
                          prompts' ids crash it, which is why the job probes with id 0), and
                          bag.pt / bag-bf16.pt: a valid [B,V] model (V = 2137, the demo tokenizer's size)
                          in fp32 and the same returning bfloat16 logits.

The adapters below (DemoTokenizer, DemoCausalLM) give the demo tokenizer and TinyLM the few methods of
Hugging Face's tokenizer and causal-LM call that export_torchscript.export() uses; tools/
test_export_torchscript.py uses them too. Deterministic (fixed seeds) except the export time in the
manifest.
"""
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_torchscript as ex  # noqa: E402
import train_demo_models as demo  # noqa: E402

ROOT = os.path.dirname(HERE)
DEMO = os.path.join(ROOT, "models", "demo-categories")
FIXTURES = os.path.join(ROOT, "src", "test", "resources", "fixtures")
FULL_DIR = os.path.join(FIXTURES, "demo-categories-full")
SHAPES_DIR = os.path.join(FIXTURES, "model-shapes")


class DemoTokenizer:
    """The demo tokenizer (tools/train_demo_models.WordTokenizer, read from a folder's tokenizer.json)
    behind the Hugging Face tokenizer methods export() calls; the chat template is rendered by jinja2
    configured as transformers configures it (trim_blocks, lstrip_blocks)."""

    def __init__(self, folder):
        with open(os.path.join(folder, ex.TOKENIZER_JSON), encoding="utf-8") as f:
            tj = json.load(f)
        with open(os.path.join(folder, ex.TOKENIZER_CONFIG), encoding="utf-8") as f:
            self.config = json.load(f)
        self.tok = demo.WordTokenizer([t["content"] for t in tj["added_tokens"]], tj["model"]["vocab"])
        self.special_ids = {int(t["id"]) for t in tj["added_tokens"] if t.get("special")}
        self.chat_template = self.config.get("chat_template")
        self.model_max_length = self.config.get("model_max_length")
        self.pad_token_id = self.tok.vocab.get(self.config.get("pad_token"))

    def apply_chat_template(self, messages, tokenize=True, add_generation_prompt=False):
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        text = env.from_string(self.chat_template).render(
            messages=messages, add_generation_prompt=add_generation_prompt,
            bos_token=self.config.get("bos_token") or "", eos_token=self.config.get("eos_token") or "")
        return self.encode(text) if tokenize else text

    def encode(self, text, add_special_tokens=True):
        return self.tok.encode(text)  # no post-processor: nothing is added either way

    def decode(self, ids, skip_special_tokens=False):
        """WordLevel without a decoder: the tokens joined with spaces (special ones left out on request)."""
        return " ".join(self.tok.inv[int(i)] for i in ids
                        if not (skip_special_tokens and int(i) in self.special_ids))

    def convert_ids_to_tokens(self, ids):
        return [self.tok.inv[int(i)] for i in ids]

    def get_vocab(self):
        return dict(self.tok.vocab)

    def __len__(self):
        return len(self.tok.vocab)


class DemoCausalLM(nn.Module):
    """TinyLM called like a Hugging Face causal LM: (input_ids, attention_mask, use_cache, return_dict)
    -> a tuple whose first element is the [B,T,V] logits."""

    def __init__(self, lm, pad_sensitive=False):
        super().__init__()
        self.lm = lm
        self.pad_sensitive = pad_sensitive  # a broken model, for the self-check tests

    def forward(self, input_ids, attention_mask, use_cache=False, return_dict=False):
        logits = self.lm.all_logits(input_ids, attention_mask)
        if self.pad_sensitive:  # scales the logits with the padded length T: padding changes the scores
            t = torch.ones_like(attention_mask).sum(1).view(-1, 1, 1).to(logits.dtype)
            logits = logits * (1.0 + 0.01 * t)
        return (logits,)

    @staticmethod
    def from_demo_folder(folder, pad_sensitive=False):
        """The weights of folder/model.pt in a fresh TinyLM (eval mode, dropout 0)."""
        traced = torch.jit.load(os.path.join(folder, ex.MODEL_FILE))
        state = {k: v for k, v in traced.state_dict().items() if k != "causal"}  # a constant, not a weight
        lm = demo.TinyLM(state["tok.weight"].shape[0], 0.0)
        lm.load_state_dict(state, strict=True)
        lm.causal = lm.causal.bool()  # same 0/1 values; 64 KB instead of 256 KB in the traced file
        return DemoCausalLM(lm.eval(), pad_sensitive), traced


def fixture_prompts():
    with open(os.path.join(FIXTURES, "demo-categories-expected.json"), encoding="utf-8") as f:
        return [c["prompt"] for c in json.load(f)["cases"]]


def max_logit_diff(a, b, rows, pad_id, a_output, b_output):
    alone = max(float((ex.last_logits(a, [r], pad_id, a_output, "cpu")
                       - ex.last_logits(b, [r], pad_id, b_output, "cpu")).abs().max()) for r in rows)
    batch = float((ex.last_logits(a, rows, pad_id, a_output, "cpu")
                   - ex.last_logits(b, rows, pad_id, b_output, "cpu")).abs().max())
    return max(alone, batch)


def make_full_variant():
    model, original = DemoCausalLM.from_demo_folder(DEMO)
    tokenizer = DemoTokenizer(DEMO)
    prompts = fixture_prompts()
    rows = [ids for _, _, ids in ex.encode_prompts(tokenizer, prompts)]
    pad_id = tokenizer.pad_token_id
    # the same weights: TinyLM.forward (the computation traced into the demo file) reproduces it exactly
    d = max_logit_diff(model.lm, original, rows, pad_id, "last", "last")
    print(f"rebuilt TinyLM.forward vs models/demo-categories/model.pt: max |d logit| = {d:.1e}")
    assert d == 0.0, d
    # all positions then gather (the full layout) vs gather then the head: float rounding only
    d = max_logit_diff(ex.LastTokenLogits(model), original, rows, pad_id, "last", "last")
    print(f"rebuilt TinyLM, all positions then gather vs the demo file: max |d logit| = {d:.1e}")
    assert d <= 1e-5, d
    manifest = ex.export(model, tokenizer, FULL_DIR, tokenizer_dir=DEMO, source_name="demo-categories",
                         output="full", check_prompts=prompts, provenance={
                             "transformers": None,
                             "weights": "models/demo-categories/model.pt, read back with torch.jit.load + "
                                        "state_dict into tools/train_demo_models.TinyLM (not retrained)",
                             "made_by": "tools/make_export_fixtures.py (a test fixture)"})
    full = torch.jit.load(os.path.join(FULL_DIR, ex.MODEL_FILE))
    d = max_logit_diff(full, original, rows, pad_id, "full", "last")
    print(f"{os.path.relpath(FULL_DIR, ROOT)}/model.pt [B,T,V] at the last real token vs the demo's [B,V] "
          f"file: max |d logit| = {d:.1e} ({os.path.getsize(os.path.join(FULL_DIR, ex.MODEL_FILE)):,} B)")
    assert d <= 1e-5, d
    print(f"    self-check: {manifest['export']['self_check']}")


class Bag(nn.Module):
    """Logits from the mean id of each row's real tokens: [B, V], padding-invariant, 2 x V weights."""

    def __init__(self, vocab):
        super().__init__()
        g = torch.Generator().manual_seed(7)
        self.w = nn.Parameter(torch.randn(vocab, generator=g) * 2e-3)
        self.u = nn.Parameter(torch.randn(vocab, generator=g))

    def forward(self, input_ids, attention_mask):
        m = attention_mask.to(torch.float32)
        mean = (input_ids.to(torch.float32) * m).sum(1) / m.sum(1)
        return mean.unsqueeze(1) * self.w.unsqueeze(0) + self.u.unsqueeze(0)


class Reshaped(nn.Module):
    def __init__(self, kind, vocab):
        super().__init__()
        self.bag = Bag(vocab)
        self.kind = kind

    def forward(self, input_ids, attention_mask):
        logits = self.bag(input_ids, attention_mask)  # [B, V]
        t = input_ids.size(1)
        if self.kind == "rank1":
            return logits.reshape(-1)
        if self.kind == "rank4":
            return logits.unsqueeze(1).unsqueeze(1).expand(-1, t, 1, -1)
        if self.kind == "first-row":
            return logits[:1]
        if self.kind == "short-t":
            return logits.unsqueeze(1).expand(-1, t, -1)[:, : t - 1]
        if self.kind == "bf16":
            return logits.to(torch.bfloat16)
        return logits


class SmallVocab(nn.Module):
    """A real little LM head over 100 ids: an id >= 100 fails inside the forward pass."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(11)
        self.emb = nn.Embedding(100, 4)
        self.head = nn.Linear(4, 100)

    def forward(self, input_ids, attention_mask):
        m = attention_mask.to(torch.float32).unsqueeze(2)
        h = (self.emb(input_ids) * m).sum(1) / m.sum(1)
        return self.head(h)


def make_shape_fixtures():
    os.makedirs(SHAPES_DIR, exist_ok=True)
    vocab = len(DemoTokenizer(DEMO))
    ids, mask = ex.pad_right([[5, 6, 7], [5]], 0)
    modules = {f"{k}.pt": Reshaped(k, vocab) for k in ("rank1", "rank4", "first-row", "short-t")}
    modules["bag.pt"] = Reshaped("bag", vocab)
    modules["bag-bf16.pt"] = Reshaped("bf16", vocab)
    modules["small-vocab.pt"] = SmallVocab()
    for name, module in modules.items():
        with torch.no_grad():
            traced = torch.jit.trace(module.eval(), (ids, mask), check_trace=False)
        path = os.path.join(SHAPES_DIR, name)
        traced.save(path)
        out = torch.jit.load(path)(*ex.pad_right([[5, 6, 7, 8], [5], [9, 9]], 0))
        print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path):,} B, a batch of 3 x 4 -> "
              f"{tuple(out.shape)} {out.dtype}")


def main():
    torch.set_num_threads(1)
    make_full_variant()
    make_shape_fixtures()


if __name__ == "__main__":
    main()
