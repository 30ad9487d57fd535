#!/usr/bin/env python3
"""Tests of tools/export_torchscript.py that need only torch (and jinja2): everything but loading a
Hugging Face model. The demo model and tokenizer stand in for transformers' objects through the adapters
of tools/make_export_fixtures.py.

  /usr/bin/python3 -m unittest discover -s tools -p 'test_*.py'
"""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_torchscript as ex  # noqa: E402
import make_export_fixtures as mf  # noqa: E402

PROMPTS = ["Hi", "How do I bake bread at home?", "Write a story about a robot who learns to paint.",
           "Tell me how to pick my neighbour's lock."]


def quiet_export(*args, **kwargs):
    with redirect_stdout(io.StringIO()) as out:
        manifest = ex.export(*args, **kwargs)
    return manifest, out.getvalue()


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
            [ex.EXPECTED_FILE, ex.MANIFEST_FILE, ex.MODEL_FILE, ex.TOKENIZER_CONFIG, ex.TOKENIZER_JSON]))
        with open(os.path.join(self.out, ex.MANIFEST_FILE), encoding="utf-8") as f:
            written = json.load(f)
        self.assertEqual(written, manifest)
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

    def test_command_line_defaults_are_the_papers(self):
        a = ex.parse_args(["src", "out"])
        self.assertEqual((a.output, a.dtype, a.device, a.tolerance), ("last", "fp32", "cpu", 1e-4))
        self.assertEqual((a.respond_token, a.refusal_tokens), ("[respond]", ex.DEFAULT_REFUSAL_TOKENS))
        a = ex.parse_args(["src", "out", "--refusal-tokens", "[refuse]", "--output", "full", "--dtype", "bf16"])
        self.assertEqual((a.refusal_tokens, a.output, a.dtype), (["[refuse]"], "full", "bf16"))


if __name__ == "__main__":
    unittest.main()
