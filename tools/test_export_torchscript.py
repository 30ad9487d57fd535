#!/usr/bin/env python3
"""Tests of tools/export_torchscript.py that need only torch (and jinja2): everything but loading a
Hugging Face model. The demo model and tokenizer stand in for transformers' objects through the adapters
of tools/make_export_fixtures.py.

  /usr/bin/python3 -m unittest discover -s tools -p 'test_*.py'
"""
import io
import json
import os
import shutil
import sys
import tempfile
import types
import unittest
import warnings
from contextlib import redirect_stdout

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import decode_cache as dc  # noqa: E402
import export_torchscript as ex  # noqa: E402
import make_export_fixtures as mf  # noqa: E402

PROMPTS = ["Hi", "How do I bake bread at home?", "Write a story about a robot who learns to paint.",
           "Tell me how to pick my neighbour's lock."]


def quiet_export(*args, **kwargs):
    with redirect_stdout(io.StringIO()) as out:
        manifest = ex.export(*args, **kwargs)
    return manifest, out.getvalue()


# ----------------------------------------------------------------------------- a tiny Hugging Face-like decoder
class TinyCache:
    """The two things of transformers' DynamicCache (>= 4.56, 5.x) the decode wrapper uses:
    update(keys, values, layer_idx), which appends along the sequence and returns the whole layer, and
    layers[l].keys / .values."""

    class Layer:
        def __init__(self):
            self.keys = self.values = None

    def __init__(self):
        self.layers = []

    def update(self, keys, values, layer_idx):
        while len(self.layers) <= layer_idx:
            self.layers.append(TinyCache.Layer())
        layer = self.layers[layer_idx]
        layer.keys = keys if layer.keys is None else torch.cat([layer.keys, keys], dim=-2)
        layer.values = values if layer.values is None else torch.cat([layer.values, values], dim=-2)
        return layer.keys, layer.values


class TinyLegacyCache:
    """DynamicCache of transformers 4.44-4.55: the layers as lists key_cache / value_cache."""

    def __init__(self):
        self.key_cache, self.value_cache = [], []

    def update(self, keys, values, layer_idx):
        if len(self.key_cache) <= layer_idx:
            self.key_cache.append(keys)
            self.value_cache.append(values)
        else:
            self.key_cache[layer_idx] = torch.cat([self.key_cache[layer_idx], keys], dim=-2)
            self.value_cache[layer_idx] = torch.cat([self.value_cache[layer_idx], values], dim=-2)
        return self.key_cache[layer_idx], self.value_cache[layer_idx]


class TinyDecoderLM(torch.nn.Module):
    """A decoder-only LM called as transformers calls one: grouped-query attention (4 heads, 2 key-value
    heads), learned absolute positions read from position_ids (so a wrong position changes the output),
    a 2-D padding mask (no cache) or a 4-D additive mask used as given, and past_key_values.update per
    layer. Random weights; `cached_drift` adds an error on the cached path only (a broken model)."""

    def __init__(self, vocab, hidden=32, layers=2, heads=4, kv_heads=2, positions=512, seed=0, cached_drift=0.0):
        super().__init__()
        torch.manual_seed(seed)
        self.config = types.SimpleNamespace(num_hidden_layers=layers, num_attention_heads=heads,
                                            num_key_value_heads=kv_heads, hidden_size=hidden,
                                            head_dim=hidden // heads, model_type="tiny")
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.embed = torch.nn.Embedding(vocab, hidden)
        self.position = torch.nn.Embedding(positions, hidden)
        self.blocks = torch.nn.ModuleList(torch.nn.ModuleDict({
            "norm": torch.nn.LayerNorm(hidden), "q": torch.nn.Linear(hidden, hidden),
            "k": torch.nn.Linear(hidden, kv_heads * self.head_dim),
            "v": torch.nn.Linear(hidden, kv_heads * self.head_dim), "o": torch.nn.Linear(hidden, hidden),
            "mlp": torch.nn.Sequential(torch.nn.LayerNorm(hidden), torch.nn.Linear(hidden, 2 * hidden),
                                       torch.nn.GELU(), torch.nn.Linear(2 * hidden, hidden))})
            for _ in range(layers))
        self.head = torch.nn.Linear(hidden, vocab)
        with torch.no_grad():
            self.head.weight.mul_(8.0)  # spread the logits: varied greedy tokens
        self.cached_drift = cached_drift

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=False,
                return_dict=False, cache_position=None):
        b, s = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(s).unsqueeze(0).expand(b, s)
        h = self.embed(input_ids) + self.position(position_ids)
        if past_key_values is not None and self.cached_drift:
            h = h * (1.0 + self.cached_drift)
        if attention_mask.dim() == 4:
            bias = attention_mask
        else:
            allowed = torch.ones((s, s), dtype=torch.bool).tril().unsqueeze(0) & attention_mask.bool().unsqueeze(1)
            bias = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(h.dtype).min).unsqueeze(1)
        for i, block in enumerate(self.blocks):
            x = block["norm"](h)
            q = block["q"](x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
            k = block["k"](x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
            v = block["v"](x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
            if past_key_values is not None:
                k, v = past_key_values.update(k, v, i)
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
            weights = torch.softmax(q @ k.transpose(-1, -2) / self.head_dim ** 0.5 + bias.to(q.dtype), dim=-1)
            h = h + block["o"]((weights @ v).transpose(1, 2).reshape(b, s, -1))
            h = h + block["mlp"](h)
        return self.head(h), past_key_values


class ExportTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.model, cls.original = mf.DemoCausalLM.from_demo_folder(mf.DEMO)
        cls.tokenizer = mf.DemoTokenizer(mf.DEMO)
        cls.rows = [ids for _, _, ids in ex.encode_prompts(cls.tokenizer, PROMPTS)]

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, model=None, **kwargs):
        kwargs.setdefault("check_prompts", PROMPTS)
        return quiet_export(model or self.model, self.tokenizer, self.out, tokenizer_dir=mf.DEMO,
                            source_name="demo-categories", **kwargs)

    def test_control_tokens_must_be_one_token_each(self):
        ids = ex.control_token_ids(self.tokenizer, ex.DEFAULT_RESPOND_TOKEN, ex.DEFAULT_REFUSAL_TOKENS)
        self.assertEqual(list(ids), [ex.DEFAULT_RESPOND_TOKEN] + ex.DEFAULT_REFUSAL_TOKENS)
        self.assertEqual(len(set(ids.values())), 6)
        with self.assertRaisesRegex(ex.ExportError, r"'\[refuse\]' is not one vocabulary token: .* into 3"):
            ex.control_token_ids(self.tokenizer, "[respond]", ["[refuse]"])  # never its last piece
        with self.assertRaisesRegex(ex.ExportError, "not to the token itself"):
            ex.control_token_ids(self.tokenizer, "[respond]", ["zzzqqqxxyy"])  # the unknown token
        with self.assertRaisesRegex(ex.ExportError, "repeat"):
            ex.control_token_ids(self.tokenizer, "[respond]", ["[respond]"])
        self.assertEqual(ex.tokenizer_vocab_size(self.tokenizer), 2137)

    def test_last_output_reproduces_the_demo_file_and_writes_the_folder(self):
        manifest, printed = self.export()
        self.assertIn("self-check", printed)
        traced = torch.jit.load(os.path.join(self.out, ex.MODEL_FILE))
        for rows in (self.rows, self.rows[:1], self.rows[::-1]):
            ids, mask = ex.pad_right(rows, 0)
            got = traced(ids, mask)
            self.assertEqual(tuple(got.shape), (len(rows), 2137))
            self.assertLessEqual(float((got - self.original(ids, mask)).abs().max()), 1e-5)
        self.assertEqual(sorted(os.listdir(self.out)), sorted(
            [ex.EXPECTED_FILE, ex.CONTINUATIONS_FILE, ex.MANIFEST_FILE, ex.MODEL_FILE, ex.TOKENIZER_CONFIG,
             ex.TOKENIZER_JSON]))
        with open(os.path.join(self.out, ex.MANIFEST_FILE), encoding="utf-8") as f:
            written = json.load(f)
        self.assertEqual(written, manifest)
        self.assertNotIn("decode", written)
        self.assertEqual(written["model_file"], "model.pt")
        self.assertEqual(written["respond_token"], "[respond]")
        self.assertEqual(written["refusal_tokens"], ex.DEFAULT_REFUSAL_TOKENS)
        self.assertEqual((written["output"], written["vocab_size"], written["max_length"]), ("last", 2137, 256))
        info = written["export"]
        self.assertEqual(info["model_sha256"], ex.sha256_of(os.path.join(self.out, ex.MODEL_FILE)))
        self.assertEqual((info["source"], info["dtype"], info["device"], info["output"]),
                         ("demo-categories", "fp32", "cpu", "last"))
        self.assertEqual(info["self_check"]["status"], "passed")
        self.assertLessEqual(info["self_check"]["max_abs_diff"], 1e-4)
        for name in (ex.TOKENIZER_JSON, ex.TOKENIZER_CONFIG):  # copied verbatim: the template is there
            with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(mf.DEMO, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_expected_logprobs_are_the_files_own_on_each_prompt_alone(self):
        self.export()
        with open(os.path.join(self.out, ex.EXPECTED_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(len(doc["cases"]), len(PROMPTS))
        control = ex.control_token_ids(self.tokenizer, ex.DEFAULT_RESPOND_TOKEN, ex.DEFAULT_REFUSAL_TOKENS)
        for case, row in zip(doc["cases"], self.rows):
            self.assertEqual(case["input_ids"], row)
            self.assertEqual(case["rendered"], "<|user|>\n" + case["prompt"] + "<|end|>\n<|assistant|>\n")
            logp = torch.log_softmax(self.original(*ex.pad_right([row], 0))[0].double(), -1)
            for token, value in case["log_softmax"].items():
                self.assertAlmostEqual(value, float(logp[control[token]]), delta=1e-5)
            self.assertNotIn(case["max_other_id"], control.values())

    def test_full_output_returns_every_position(self):
        manifest, _ = self.export(output="full")
        self.assertEqual(manifest["output"], "full")
        traced = torch.jit.load(os.path.join(self.out, ex.MODEL_FILE))
        ids, mask = ex.pad_right(self.rows, 0, extra=3)
        got = traced(ids, mask)
        self.assertEqual(tuple(got.shape), (len(self.rows), ids.shape[1], 2137))
        last = got[torch.arange(len(self.rows)), mask.sum(1) - 1]
        self.assertLessEqual(float((last - self.original(ids, mask)).abs().max()), 1e-5)

    def test_a_model_whose_scores_move_with_padding_fails_the_self_check_in_fp32(self):
        broken, _ = mf.DemoCausalLM.from_demo_folder(mf.DEMO, pad_sensitive=True)
        with self.assertRaisesRegex(ex.CheckFailed, r"self-check failed: max \|d log p\| = .* in fp32"):
            self.export(broken)
        self.assertFalse(os.path.exists(os.path.join(self.out, ex.MANIFEST_FILE)))
        self.assertFalse(os.path.exists(os.path.join(self.out, ex.MODEL_FILE)))
        self.assertTrue(os.path.exists(os.path.join(self.out, ex.MODEL_FILE + ".rejected")))

    def test_in_half_precision_the_same_model_only_warns(self):
        broken, _ = mf.DemoCausalLM.from_demo_folder(mf.DEMO, pad_sensitive=True)
        manifest, printed = self.export(broken, dtype_name="bf16")
        self.assertEqual(manifest["export"]["self_check"]["status"], "warning")
        self.assertGreater(manifest["export"]["self_check"]["max_abs_diff"], 1e-4)
        self.assertIn("WARNING: max |d log p|", printed)
        self.assertTrue(os.path.exists(os.path.join(self.out, ex.MODEL_FILE)))

    def test_a_model_with_fewer_logits_than_tokenizer_ids_is_refused(self):
        class Truncated(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, use_cache=False, return_dict=False):
                return (self.inner(input_ids, attention_mask)[0][..., :2000],)

        with self.assertRaisesRegex(ex.CheckFailed, "returns 2000 logits per row but the tokenizer has 2137"):
            self.export(Truncated(self.model))
        self.assertFalse(os.path.exists(os.path.join(self.out, ex.MODEL_FILE)))

    def test_half_precision_logits_stay_in_their_dtype(self):
        class Bf16Logits(torch.nn.Module):  # the demo's ops are fp32-only: its logits cast to bf16
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, use_cache=False, return_dict=False):
                return (self.inner(input_ids, attention_mask)[0].to(torch.bfloat16),)

        manifest, _ = self.export(Bf16Logits(self.model), dtype_name="bf16")
        self.assertEqual(manifest["export"]["dtype"], "bf16")
        traced = torch.jit.load(os.path.join(self.out, ex.MODEL_FILE))
        self.assertEqual(traced(*ex.pad_right(self.rows, 0)).dtype, torch.bfloat16)
        with open(os.path.join(self.out, ex.EXPECTED_FILE), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["tolerance"], 5e-2)

    def test_a_chat_template_kept_elsewhere_is_written_into_tokenizer_config(self):
        src = os.path.join(self.tmp.name, "src")
        os.makedirs(src)
        with open(os.path.join(mf.DEMO, ex.TOKENIZER_CONFIG), encoding="utf-8") as f:
            config = json.load(f)
        template = config.pop("chat_template")
        ex.write_json(os.path.join(src, ex.TOKENIZER_CONFIG), config)
        with open(os.path.join(mf.DEMO, ex.TOKENIZER_JSON), encoding="utf-8") as f:
            tj = f.read()
        with open(os.path.join(src, ex.TOKENIZER_JSON), "w", encoding="utf-8") as f:
            f.write(tj)
        with open(os.path.join(src, "chat_template.jinja"), "w", encoding="utf-8") as f:
            f.write(template)
        manifest, _ = quiet_export(self.model, self.tokenizer, self.out, tokenizer_dir=src, source_name="src",
                                   check_prompts=PROMPTS)
        with open(os.path.join(self.out, ex.TOKENIZER_CONFIG), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["chat_template"], template)
        self.assertTrue(os.path.exists(os.path.join(self.out, "chat_template.jinja")))
        self.assertIn("from the tokenizer", manifest["export"]["chat_template_from"])

    def test_continuations_of_the_demo_model_are_its_greedy_responses_after_each_forced_token(self):
        self.export()
        with open(os.path.join(self.out, ex.CONTINUATIONS_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        end = self.tokenizer.encode("<|end|>")[0]
        self.assertEqual((doc["model"], doc["max_new_tokens"], doc["eos_ids"]), ("out", 32, [end]))
        self.assertIn("re-running the eager model", doc["reference"])
        forced = [ex.DEFAULT_RESPOND_TOKEN] + ex.DEFAULT_REFUSAL_TOKENS[:2]
        self.assertEqual([(c["prompt"], c["forced_token"]) for c in doc["cases"]],
                         [(p, t) for p in PROMPTS for t in forced])
        control = ex.control_token_ids(self.tokenizer, ex.DEFAULT_RESPOND_TOKEN, ex.DEFAULT_REFUSAL_TOKENS)
        for case in doc["cases"]:
            self.assertEqual(case["prompt_ids"], self.rows[PROMPTS.index(case["prompt"])])
            self.assertEqual(case["forced_id"], control[case["forced_token"]])
            # independently: argmax of the demo file's own [B,V] logits, token by token
            row, new = case["prompt_ids"] + [case["forced_id"]], []
            while len(new) < 32:
                token = int(self.original(*ex.pad_right([row], 0))[0].argmax())
                if token == end:
                    break
                new.append(token)
                row.append(token)
            self.assertEqual(case["new_token_ids"], new)
            self.assertEqual(case["finish_reason"], "eos" if len(new) < 32 else "length")
            self.assertEqual(case["text"], " ".join(self.tokenizer.convert_ids_to_tokens(new)))
        # the trained demo writes one of its canned texts (or nothing) after the forced token and ends at <|end|>;
        # which one depends on the token and the prompt (it was trained on some inconsistent pairs)
        with open(os.path.join(HERE, "..", "models", "demo-categories", "refusal_tokens.json")) as f:
            canned = json.load(f)["training"]["canned_responses"].values()
        texts = {" ".join(self.tokenizer.convert_ids_to_tokens(self.tokenizer.encode(t))) for t in canned}
        texts.add("")  # the retrained model sometimes ends at once: an empty response
        self.assertTrue(all(c["finish_reason"] == "eos" for c in doc["cases"]))
        self.assertTrue(all(c["text"] in texts for c in doc["cases"]), [c["text"] for c in doc["cases"]])
        self.assertGreater(len({c["text"] for c in doc["cases"]}), 1)

    def test_continuation_length_is_checked_against_the_window(self):
        with self.assertRaisesRegex(ex.ExportError, r"--check-new-tokens 0: give at least 1"):
            self.export(check_new_tokens=0)
        with self.assertRaisesRegex(ex.ExportError, r"--check-new-tokens 300 needs \d+ positions, more than the "
                                                    r"model window 256"):
            self.export(check_new_tokens=300)

    def test_decode_cache_needs_a_config_that_names_the_cache_geometry(self):
        with self.assertRaisesRegex(ex.ExportError, "--decode-cache needs a model with a config"):
            self.export(decode_cache=True)  # the demo adapter has none
        self.assertFalse(os.path.exists(os.path.join(self.out, ex.MANIFEST_FILE)))

    def test_command_line_defaults_are_the_papers(self):
        a = ex.parse_args(["src", "out"])
        self.assertEqual((a.output, a.dtype, a.device, a.tolerance), ("last", "fp32", "cpu", 1e-4))
        self.assertEqual((a.respond_token, a.refusal_tokens), ("[respond]", ex.DEFAULT_REFUSAL_TOKENS))
        a = ex.parse_args(["src", "out", "--refusal-tokens", "[refuse]", "--output", "full", "--dtype", "bf16"])
        self.assertEqual((a.refusal_tokens, a.output, a.dtype), (["[refuse]"], "full", "bf16"))


class DecodeCacheTest(unittest.TestCase):
    """decode.pt's wrapper, traced and run on shapes other than its trace example, against recomputing the
    whole sequence, with a tiny transformers-like model and cache (no transformers here)."""

    ROWS = [[5, 6, 7, 8, 9, 10, 11], [12, 13], [14, 15, 16, 17], [18]]

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.model = TinyDecoderLM(2137).eval()
        cls.geometry = ex.decode_geometry(cls.model)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def traced(self, cache_factory=TinyCache, decoder=None):
        decoder = decoder or dc.CachedDecoder(self.model, self.geometry, cache_factory)
        path = os.path.join(self.tmp.name, "decode.pt")
        ex.trace_decoder(decoder, self.ROWS, 0, self.geometry, torch.float32, "cpu").save(path)
        return torch.jit.load(path)

    def test_geometry_is_the_key_value_heads_of_a_grouped_query_model(self):
        self.assertEqual(self.geometry, (2, 2, 8))  # 4 attention heads, 2 cached
        config = types.SimpleNamespace(num_hidden_layers=3, num_attention_heads=8, hidden_size=64)
        self.assertEqual(ex.decode_geometry(types.SimpleNamespace(config=config)), (3, 8, 8))
        with self.assertRaisesRegex(ex.ExportError, "lacks"):
            ex.decode_geometry(types.SimpleNamespace(config=types.SimpleNamespace(num_attention_heads=8)))

    def test_attention_bias_is_causal_over_cache_slots_and_masks_padded_slots(self):
        mask = torch.tensor([[1, 1, 0, 1, 1], [1, 0, 0, 1, 0]])  # P = 3 past slots, S = 2 new
        for dtype in (torch.float32, torch.bfloat16):
            bias = dc.attention_bias(mask, dc.new_slots(torch.zeros((2, 2), dtype=torch.long), 3), dtype)
            self.assertEqual((tuple(bias.shape), bias.dtype), ((2, 1, 2, 5), dtype))
            allowed = torch.tensor([[[1, 1, 0, 1, 0], [1, 1, 0, 1, 1]],
                                    [[1, 0, 0, 1, 0], [1, 0, 0, 1, 0]]], dtype=torch.bool)
            self.assertTrue(torch.equal(bias[:, 0] == 0, allowed))
            self.assertTrue(torch.equal(bias[:, 0][~allowed], torch.full((int((~allowed).sum()),),
                                                                         torch.finfo(dtype).min, dtype=dtype)))

    def test_the_past_goes_into_the_cache_and_comes_back_stacked_in_both_cache_layouts(self):
        past_keys, past_values = torch.randn(2, 3, 2, 4, 8), torch.randn(2, 3, 2, 4, 8)
        new_keys = torch.randn(3, 2, 1, 8)
        for factory in (TinyCache, TinyLegacyCache):
            cache = dc.fill_cache(factory(), past_keys, past_values, 2)
            for layer in range(2):
                cache.update(new_keys + layer, new_keys - layer, layer)
            keys, values = dc.stacked_cache(cache, 2)
            self.assertEqual(tuple(keys.shape), (2, 3, 2, 5, 8))
            self.assertTrue(torch.equal(keys[:, :, :, :4], past_keys))
            self.assertTrue(torch.equal(values[1, :, :, 4], (new_keys - 1)[:, :, 0]))
            empty = dc.empty_past(self.geometry, 3, torch.float32, "cpu")
            keys, _ = dc.stacked_cache(dc.fill_cache(factory(), empty, empty, 2), 2)
            self.assertEqual(tuple(keys.shape), (2, 3, 2, 0, 8))

    def test_the_trace_example_is_a_step_with_a_padded_past(self):
        decoder = dc.CachedDecoder(self.model, self.geometry, TinyCache)
        ids, mask, positions, last, keys, _ = ex.decode_trace_example(decoder, self.ROWS, 0, self.geometry,
                                                                      torch.float32, "cpu")
        self.assertEqual((tuple(ids.shape), tuple(keys.shape)), ((2, 2), (2, 2, 2, 7, 8)))
        self.assertEqual(mask.tolist(), [[1] * 9, [1, 1, 0, 0, 0, 0, 0, 1, 1]])
        self.assertEqual(positions.tolist(), [[7, 8], [2, 3]])  # each row's real length, not its slot
        self.assertEqual(last.tolist(), [1, 0])

    def test_traced_module_on_other_batch_sizes_and_lengths_equals_recomputing_the_sequence(self):
        prefixes = [r + [3] for r in self.ROWS] + [self.ROWS[0] * 2]
        want = [dc.greedy_recompute(self.model, p, 24, [], "cpu") for p in prefixes]
        for factory in (TinyCache, TinyLegacyCache):
            loaded = self.traced(factory)
            diffs = ex.decode_logit_check(loaded, self.model, self.ROWS, 3, 0, self.geometry, torch.float32, "cpu")
            self.assertLessEqual(max(diffs.values()), 1e-5, diffs)
            got = dc.greedy_cached(loaded, prefixes, 24, [], 0, self.geometry, torch.float32, "cpu")
            self.assertEqual(got, want)
            self.assertEqual(dc.agreement(got, want)["token_agreement"], 1.0)
            # and batch by batch of one (B = 1 was never traced either)
            self.assertEqual([dc.greedy_cached(loaded, [p], 24, [], 0, self.geometry, torch.float32, "cpu")[0]
                              for p in prefixes[:2]], want[:2])
        self.assertEqual(len({tuple(c.new_token_ids[:4]) for c in want}), len(want))  # varied, not one token

    def test_rows_stop_at_their_own_end_of_sequence_id_and_the_others_go_on(self):
        prefixes = [r + [3] for r in self.ROWS]
        free = [dc.greedy_recompute(self.model, p, 24, [], "cpu") for p in prefixes]
        ids = free[1].new_token_ids
        eos = next(t for k, t in enumerate(ids) if k >= 3 and t not in ids[:k])  # first seen at step k >= 3
        want = [dc.greedy_recompute(self.model, p, 24, [eos], "cpu") for p in prefixes]
        self.assertEqual(want[1], dc.Continuation(ids[:ids.index(eos)], "eos"))
        got = dc.greedy_cached(self.traced(), prefixes, 24, [eos], 0, self.geometry, torch.float32, "cpu")
        self.assertEqual(got, want)
        self.assertIn("length", [c.finish_reason for c in got])
        self.assertEqual(dc.finished([4, 9], {9}, 5), dc.Continuation([4], "eos"))
        self.assertEqual(dc.finished([4, 9], {7}, 2), dc.Continuation([4, 9], "length"))
        self.assertIsNone(dc.finished([4], {7}, 2))

    def test_the_hugging_face_reference_is_plain_greedy_search_whatever_the_checkpoint_configures(self):
        class GenerationConfig:  # stands in for transformers.GenerationConfig: records its arguments
            def __init__(self, **kwargs):
                self.kwargs = kwargs

        class Generating:  # generate() as transformers answers it: the prefix, then the new ids
            def __init__(self, new):
                self.generation_config = GenerationConfig(do_sample=True, repetition_penalty=1.3)
                self.new, self.calls = new, []

            def generate(self, input_ids, attention_mask, generation_config):
                self.calls.append((input_ids.tolist(), attention_mask.tolist(), generation_config.kwargs,
                                   self.generation_config.kwargs))
                return torch.cat([input_ids, torch.tensor([self.new])], dim=1)

        stub = types.ModuleType("transformers")
        stub.GenerationConfig = GenerationConfig
        saved = sys.modules.get("transformers")
        sys.modules["transformers"] = stub
        try:
            model = Generating([7, 8, 5])
            own = model.generation_config
            self.assertEqual(dc.hf_generate(model, [1, 2], 4, [5, 6], 0, "cpu"), dc.Continuation([7, 8], "eos"))
            self.assertIs(model.generation_config, own)  # put back
            ids, mask, passed, during = model.calls[0]
            self.assertEqual((ids, mask), ([[1, 2]], [[1, 1]]))
            self.assertEqual(passed, {"do_sample": False, "num_beams": 1, "max_new_tokens": 4,
                                      "eos_token_id": [5, 6], "pad_token_id": 0})
            self.assertEqual(during, {})  # the checkpoint's sampling and penalty were set aside
            self.assertEqual(dc.hf_generate(Generating([7, 8, 9]), [1], 3, [5], 0, "cpu"),
                             dc.Continuation([7, 8, 9], "length"))
            with self.assertRaisesRegex(RuntimeError, "returned 2 new tokens for max_new_tokens=3"):
                dc.hf_generate(Generating([7, 8]), [1], 3, [5], 0, "cpu")
            name, runs = ex.reference_continuations(Generating([4, 6]), [[1], [2]], 2, [6], 0, "cpu")
            self.assertIn("transformers generate", name)
            self.assertEqual(runs, [dc.Continuation([4], "eos")] * 2)
        finally:
            if saved is None:
                del sys.modules["transformers"]
            else:
                sys.modules["transformers"] = saved

    def test_a_length_frozen_into_the_trace_is_caught(self):
        class FrozenPast(dc.CachedDecoder):  # the past length read as a Python int: a constant of the trace
            def forward(self, input_ids, attention_mask, position_ids, last_index, past_keys, past_values):
                cache = dc.fill_cache(self.cache_factory(), past_keys, past_values, self.layers)
                slots = dc.new_slots(input_ids, int(past_keys.size(3)))
                logits = self.model(input_ids=input_ids, position_ids=position_ids, past_key_values=cache,
                                    attention_mask=dc.attention_bias(attention_mask, slots, past_keys.dtype))[0]
                keys, values = dc.stacked_cache(cache, self.layers)
                return dc.gather_positions(logits, last_index), keys, values

        class FrozenLength(dc.CachedDecoder):  # both lengths frozen: fails with a shape error on others
            def forward(self, input_ids, attention_mask, position_ids, last_index, past_keys, past_values):
                cache = dc.fill_cache(self.cache_factory(), past_keys, past_values, self.layers)
                slots = torch.arange(int(input_ids.size(1))) + int(past_keys.size(3))
                logits = self.model(input_ids=input_ids, position_ids=position_ids, past_key_values=cache,
                                    attention_mask=dc.attention_bias(attention_mask, slots, past_keys.dtype))[0]
                keys, values = dc.stacked_cache(cache, self.layers)
                return dc.gather_positions(logits, last_index), keys, values

        prefixes = [r + [3] for r in self.ROWS]
        want = [dc.greedy_recompute(self.model, p, 8, [], "cpu") for p in prefixes]
        for broken, message in ((FrozenPast, r"decode check failed in fp32: max \|d log p\|"),
                                (FrozenLength, "fails on batch sizes and lengths other than its trace example")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the TracerWarning these provoke
                loaded = self.traced(decoder=broken(self.model, self.geometry, TinyCache))
            with redirect_stdout(io.StringIO()), self.assertRaisesRegex(ex.CheckFailed, message):
                ex.decode_self_check(loaded, self.model, self.ROWS, prefixes, want, forced_id=3, max_new_tokens=8,
                                     eos_ids=[], pad_id=0, geometry=self.geometry, dtype=torch.float32,
                                     dtype_name="fp32", device="cpu", tolerance=1e-4)

    def export(self, model, source=mf.DEMO, **kwargs):
        out = os.path.join(self.tmp.name, "out")
        manifest, printed = quiet_export(model, mf.DemoTokenizer(mf.DEMO), out, tokenizer_dir=source,
                                         source_name="tiny", check_prompts=PROMPTS, decode_cache=True,
                                         cache_factory=TinyCache, **kwargs)
        return out, manifest, printed

    def test_export_writes_decode_pt_its_manifest_entry_and_the_continuations(self):
        src = os.path.join(self.tmp.name, "src")  # the demo tokenizer plus a generation_config.json
        os.makedirs(src)
        for name in (ex.TOKENIZER_JSON, ex.TOKENIZER_CONFIG):
            shutil.copyfile(os.path.join(mf.DEMO, name), os.path.join(src, name))
        ex.write_json(os.path.join(src, ex.GENERATION_CONFIG), {"eos_token_id": [5, 1234]})
        out, manifest, printed = self.export(self.model, src, check_new_tokens=12)
        self.assertIn("decode check", printed)
        self.assertEqual(manifest["decode"], {"file": "decode.pt", "layers": 2, "kv_heads": 2, "head_dim": 8,
                                              "dtype": "fp32"})
        info = manifest["export"]
        self.assertEqual(info["decode_sha256"], ex.sha256_of(os.path.join(out, ex.DECODE_FILE)))
        self.assertEqual(info["decode_check"]["status"], "passed")
        self.assertTrue(info["decode_cache_position"])
        self.assertEqual(info["decode_check"]["greedy"]["cases_equal"], len(PROMPTS) * 3)
        self.assertLessEqual(info["decode_check"]["max_abs_diff"], 1e-4)
        self.assertEqual(sorted(os.listdir(out)), sorted(
            [ex.DECODE_FILE, ex.EXPECTED_FILE, ex.CONTINUATIONS_FILE, ex.GENERATION_CONFIG, ex.MANIFEST_FILE,
             ex.MODEL_FILE, ex.TOKENIZER_CONFIG, ex.TOKENIZER_JSON]))
        with open(os.path.join(out, ex.CONTINUATIONS_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual((doc["max_new_tokens"], doc["eos_ids"], len(doc["cases"])), (12, [5, 1234], 12))
        self.assertEqual(set(doc["cases"][0]), {"prompt", "prompt_ids", "forced_token", "forced_id",
                                                "new_token_ids", "finish_reason", "text"})
        # the file the job loads, run by the job's loop on all cases at once, gives the recorded ids
        loaded = torch.jit.load(os.path.join(out, ex.DECODE_FILE))
        prefixes = [c["prompt_ids"] + [c["forced_id"]] for c in doc["cases"]]
        got = dc.greedy_cached(loaded, prefixes, 12, doc["eos_ids"], 0, self.geometry, torch.float32, "cpu")
        self.assertEqual([list(c.new_token_ids) for c in got], [c["new_token_ids"] for c in doc["cases"]])
        self.assertEqual([c.finish_reason for c in got], [c["finish_reason"] for c in doc["cases"]])
        for case in doc["cases"]:
            self.assertNotIn(5, case["new_token_ids"])
            self.assertEqual(case["text"], mf.DemoTokenizer(mf.DEMO).decode(case["new_token_ids"],
                                                                            skip_special_tokens=True))

    def test_a_model_whose_cached_path_drifts_fails_in_fp32_and_only_warns_in_bf16(self):
        drifting = TinyDecoderLM(2137, cached_drift=0.05).eval()
        with self.assertRaisesRegex(ex.CheckFailed, "decode check failed in fp32"):
            self.export(drifting)
        out = os.path.join(self.tmp.name, "out")
        self.assertTrue(os.path.exists(os.path.join(out, ex.DECODE_FILE + ".rejected")))
        for name in (ex.DECODE_FILE, ex.MANIFEST_FILE, ex.CONTINUATIONS_FILE):
            self.assertFalse(os.path.exists(os.path.join(out, name)), name)
        out, manifest, printed = self.export(drifting.to(torch.bfloat16), dtype_name="bf16")
        check = manifest["export"]["decode_check"]
        self.assertEqual((check["status"], manifest["decode"]["dtype"]), ("warning", "bf16"))
        self.assertLess(check["greedy"]["cases_equal"], check["greedy"]["cases"])
        self.assertIn("WARNING: in bf16 decode.pt's greedy continuations agree", printed)
        self.assertTrue(os.path.exists(os.path.join(out, ex.DECODE_FILE)))

    def test_a_model_computing_in_another_dtype_than_the_export_is_refused(self):
        with self.assertRaisesRegex(ex.CheckFailed, "cache is torch.float32, not the export dtype torch.bfloat16"):
            self.export(self.model, dtype_name="bf16")

    def test_attention_the_full_causal_mask_does_not_reproduce_is_refused(self):
        def model(**config):
            return types.SimpleNamespace(config=types.SimpleNamespace(**config))

        with self.assertRaisesRegex(ex.ExportError, "sliding window of 16 tokens, shorter than the window the job "
                                                    "uses \\(256\\)"):
            ex.check_decode_supported(model(sliding_window=16), 256)
        ex.check_decode_supported(model(sliding_window=4096), 256)  # never reached
        ex.check_decode_supported(model(sliding_window=16, use_sliding_window=False), 256)  # Qwen2's way
        with self.assertRaisesRegex(ex.ExportError, "mixes attention kinds"):
            ex.check_decode_supported(model(layer_types=["full_attention", "sliding_attention"]), 256)
        with self.assertRaisesRegex(ex.ExportError, "use --attn-implementation sdpa"):
            ex.check_decode_supported(model(_attn_implementation="flash_attention_2"), 256)
        ex.check_decode_supported(model(_attn_implementation="sdpa", layer_types=["full_attention"]), 256)

    def test_command_line_options(self):
        a = ex.parse_args(["src", "out"])
        self.assertEqual((a.decode_cache, a.check_new_tokens), (False, 32))
        a = ex.parse_args(["src", "out", "--decode-cache", "--check-new-tokens", "64"])
        self.assertEqual((a.decode_cache, a.check_new_tokens), (True, 64))


if __name__ == "__main__":
    unittest.main()
