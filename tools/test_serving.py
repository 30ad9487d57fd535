#!/usr/bin/env python3
"""Tests of tools/serving/ (torch only): the first-token rule on hand-built logits, the Hugging Face
processor, the validation of operating_point.json, the vLLM processor's bookkeeping (against fakes of
the documented interface, not vLLM), and the proof scripts on the demo model.

  /usr/bin/python3 -m unittest discover -s tools -p 'test_*.py'

The end-to-end tests against a real export need REFUSAL_EVAL_EXPORT_DIR: a folder written by
`jobs/export-operating-point.sh ... --with-decisions --to FOLDER`, or a folder of such folders (each
one is checked). The model folder is the export's model.dir (relative to the repository root), or
REFUSAL_EVAL_MODEL_DIR.
"""
import hashlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import unittest
import warnings
from contextlib import redirect_stderr, redirect_stdout
from enum import Enum, auto
from types import SimpleNamespace

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "serving"))
import demo_first_tokens  # noqa: E402
import later_positions  # noqa: E402
import model_io  # noqa: E402
import refusal_operating_point as rop  # noqa: E402
import train_demo_models as tdm  # noqa: E402
import verify_decisions  # noqa: E402

DEMO = os.path.join(REPO, "models", "demo-categories")
SHA = "ab" * 32
V = 12  # hand-built vocabulary: 0..3 other tokens, 4 respond, 5..7 refusal (ids deliberately not in order)
RESPOND = 4
REFUSAL = [7, 5, 6]  # refusal_tokens order: the first listed has the highest id


def point(rule="threshold", temperature=1.0, thresholds=(0.5, 0.5, 0.5), biases=(0.0, 0.0, 0.0), **extra):
    tokens = []
    for i, tid in enumerate(REFUSAL):
        if rule == "threshold":
            tokens.append({"token": f"[r{i}]", "id": tid, "threshold": thresholds[i], "logit_bias": None,
                           "server_logit_bias": None})
        else:
            tokens.append({"token": f"[r{i}]", "id": tid, "threshold": None, "logit_bias": biases[i],
                           "server_logit_bias": biases[i] * temperature})
    data = {"format": rop.FORMAT, "name": "p", "rule": rule, "temperature": temperature, "feasible": True,
            "shortfall": 0.0, "infeasible_exported": False, "decision": "d",
            "respond_token": {"token": "[respond]", "id": RESPOND}, "refusal_tokens": tokens,
            "targets": {}, "achieved": {}, "model": {"dir": "m", "model_sha256": SHA}, "run": {},
            "measured": {"token": {}, "judged": None}}
    data.update(extra)
    return data


def op_of(data):
    return rop.OperatingPoint(data, source="test")


def logits(**values):
    """Logits of the hand-built vocabulary: -10 everywhere, then o0..o3, respond, r0..r2 as given."""
    z = torch.full((V,), -10.0)
    names = {f"o{i}": i for i in range(4)}
    names["respond"] = RESPOND
    names.update({f"r{i}": tid for i, tid in enumerate(REFUSAL)})
    for k, v in values.items():
        z[names[k]] = v
    return z


def reference(op, z):
    """An independent statement of the rule: probabilities (softmax in float64) and sorting."""
    p = torch.softmax(z.double() / op.temperature, dim=-1).tolist()
    order = sorted(range(len(REFUSAL)), key=lambda c: (-p[REFUSAL[c]], c))
    if op.rule == "threshold":
        c = order[0]
        if op.thresholds[c] is None:
            return None
        return REFUSAL[c] if p[REFUSAL[c]] >= op.thresholds[c] else RESPOND
    # logit_bias: biased log-probabilities; candidates with the documented tie order
    lp = [math.log(x) if x > 0 else -math.inf for x in p]
    biased = [(lp[tid] + op.logit_biases[c], c) for c, tid in enumerate(REFUSAL)]
    best_v, best_c = max(biased, key=lambda t: (t[0], -t[1]))
    others = [(lp[i], -i) for i in range(V) if i not in REFUSAL and i != RESPOND]
    other_v, neg_i = max(others)
    if other_v > lp[RESPOND] and other_v > best_v:
        return -neg_i
    return REFUSAL[best_c] if best_v > lp[RESPOND] else RESPOND


# ----------------------------------------------------------------------------- the rule
class ThresholdRuleTest(unittest.TestCase):
    def test_refuses_iff_p_reaches_tau(self):
        z = logits(respond=1.0, r1=1.0)  # p(r1) just under 1/2
        p = float(torch.softmax(z.double(), 0)[REFUSAL[1]])
        self.assertEqual(op_of(point(thresholds=(0.9, p - 1e-9, 0.9))).first_token(z), REFUSAL[1])
        self.assertEqual(op_of(point(thresholds=(0.0, p + 1e-9, 0.0))).first_token(z), RESPOND)

    def test_tau_zero_refuses_every_prompt_and_tau_one_only_a_certain_one(self):
        z = logits(respond=9.0, r0=-5.0)
        self.assertEqual(op_of(point(thresholds=(0.0, 0.0, 0.0))).first_token(z), REFUSAL[0])
        self.assertEqual(op_of(point(thresholds=(1.0, 1.0, 1.0))).first_token(logits(r0=5.0)), RESPOND)
        certain = torch.full((V,), -math.inf)
        certain[REFUSAL[2]] = 3.0
        self.assertEqual(op_of(point(thresholds=(1.0, 1.0, 1.0))).first_token(certain), REFUSAL[2])

    def test_temperature_changes_p(self):
        z = logits(respond=2.0, r0=2.5, o0=1.0)
        p1 = float(torch.softmax(z.double(), 0)[REFUSAL[0]])
        p_half = float(torch.softmax(z.double() / 0.5, 0)[REFUSAL[0]])
        tau = (p1 + p_half) / 2
        self.assertEqual(op_of(point(thresholds=(tau, 1, 1))).first_token(z), RESPOND)
        self.assertEqual(op_of(point(temperature=0.5, thresholds=(tau, 1, 1))).first_token(z), REFUSAL[0])

    def test_null_threshold_leaves_greedy_only_when_c_star_has_none(self):
        z = logits(respond=0.0, r1=1.0, r2=0.5)
        self.assertIsNone(op_of(point(thresholds=(0.0, None, 0.0))).first_token(z))
        # c* = r1 has a threshold; r0's null does not matter
        self.assertEqual(op_of(point(thresholds=(None, 0.99, None))).first_token(z), RESPOND)

    def test_tie_goes_to_the_earliest_refusal_token_not_the_lowest_id(self):
        z = logits(respond=0.0, r0=2.0, r1=2.0)  # r0 has id 7, r1 id 5
        self.assertEqual(op_of(point(thresholds=(0.0, 0.0, 0.0))).first_token(z), REFUSAL[0])
        self.assertIsNone(op_of(point(thresholds=(None, 0.0, 0.0))).first_token(z))

    def test_a_non_control_token_never_is_c_star(self):
        z = logits(o2=8.0, respond=1.0, r2=1.5)
        self.assertEqual(op_of(point(thresholds=(0.9, 0.9, 0.001))).first_token(z), REFUSAL[2])
        self.assertEqual(op_of(point(thresholds=(0.9, 0.9, 0.01))).first_token(z), RESPOND)

    def test_matches_the_reference_on_random_logits(self):
        g = torch.Generator().manual_seed(7)
        for t in (1.0, 0.7, 2.0):
            for taus in ((0.1, 0.3, None), (0.05, 0.05, 0.05), (None, None, 0.2)):
                op = op_of(point(temperature=t, thresholds=taus))
                for _ in range(200):
                    z = torch.randn(V, generator=g) * 3
                    self.assertEqual(op.first_token(z), reference(op, z))


class LogitBiasRuleTest(unittest.TestCase):
    def test_bias_sign(self):
        z = logits(respond=1.0, r0=0.5)
        self.assertEqual(op_of(point("logit_bias")).first_token(z), RESPOND)
        self.assertEqual(op_of(point("logit_bias", biases=(1.0, 0, 0))).first_token(z), REFUSAL[0])
        self.assertEqual(op_of(point("logit_bias", biases=(-1.0, 0, 0))).first_token(logits(respond=0.5, r0=1.0)),
                         RESPOND)

    def test_other_token_wins_even_over_a_refusal_token_the_bias_pushed_down(self):
        # unbiased, r0 is the argmax; biased by -3 it falls below o1: the rule emits o1, not r0
        z = logits(o1=2.0, respond=0.0, r0=3.0)
        self.assertEqual(op_of(point("logit_bias", biases=(-3.0, 0, 0))).first_token(z), 1)
        self.assertEqual(op_of(point("logit_bias", biases=(-0.5, 0, 0))).first_token(z), REFUSAL[0])

    def test_ties(self):
        # best biased refusal value equal to respond: respond; equal refusal values: the earliest
        z = logits(respond=1.0, r1=1.0, r2=0.0, o0=-1.0, o3=-1.0)
        self.assertEqual(op_of(point("logit_bias")).first_token(z), RESPOND)
        z = logits(respond=1.0, r1=0.0, r2=0.0, o0=-1.0, o3=-1.0)
        self.assertEqual(op_of(point("logit_bias", biases=(0, 2.0, 2.0))).first_token(z), REFUSAL[1])
        # other tied with respond: respond; two other tokens tied: the lowest id
        self.assertEqual(op_of(point("logit_bias")).first_token(logits(o2=1.0, respond=1.0)), RESPOND)
        self.assertEqual(op_of(point("logit_bias")).first_token(logits(o3=5.0, o1=5.0)), 1)

    def test_server_bias_on_raw_logits_is_the_same_argmax(self):
        g = torch.Generator().manual_seed(11)
        for t in (1.0, 0.5, 1.7):
            op = op_of(point("logit_bias", temperature=t, biases=(1.5, -2.0, 0.75)))
            self.assertEqual(op.server_logit_biases, [1.5 * t, -2.0 * t, 0.75 * t])
            for _ in range(300):
                z = torch.randn(V, generator=g, dtype=torch.float64) * 2
                raw = z.clone()
                raw[torch.tensor(REFUSAL)] += torch.tensor(op.server_logit_biases, dtype=torch.float64)
                self.assertEqual(op.first_token(z), int(torch.argmax(raw)))
                self.assertEqual(op.first_token(z), reference(op, z))

    def test_first_tokens_and_shape_errors(self):
        op = op_of(point("logit_bias", biases=(3, 0, 0)))
        z = torch.stack([logits(respond=1.0), logits(r0=0.0, respond=1.0), logits(o0=9.0)])
        self.assertEqual(op.first_tokens(z), [RESPOND, REFUSAL[0], 0])
        with self.assertRaisesRegex(ValueError, "1-D"):
            op.first_token(z)
        with self.assertRaisesRegex(ValueError, "control token id 7"):
            op.first_token(torch.zeros(6))
        with self.assertRaisesRegex(ValueError, "NaN"):
            op.first_token(torch.full((V,), math.nan))


# ----------------------------------------------------------------------------- the Hugging Face processor
class HfProcessorTest(unittest.TestCase):
    def test_acts_only_at_the_prompt_length_and_forces_one_token_per_row(self):
        op = op_of(point(thresholds=(0.0, 0.0, None)))
        scores = torch.stack([logits(respond=3.0, r0=1.0), logits(respond=3.0, r2=5.0), logits(o1=4.0)])
        before = scores.clone()
        proc = rop.RefusalTokenLogitsProcessor(op, prompt_length=5)
        for length in (4, 6, 9):
            out = proc(torch.zeros((3, length), dtype=torch.long), scores)
            self.assertTrue(torch.equal(out, before))
        out = proc(torch.zeros((3, 5), dtype=torch.long), scores)
        self.assertTrue(torch.equal(scores, before), "the input scores are not modified")
        # row 0: c* = r0 with tau 0 -> forced; row 1: c* = r2 with no threshold -> untouched
        # row 2: c* = r0 (all refusal logits equal, the earliest) with tau 0 -> forced
        self.assertEqual(torch.isfinite(out[0]).sum().item(), 1)
        self.assertEqual(int(torch.argmax(out[0])), REFUSAL[0])
        self.assertEqual(out[0, REFUSAL[0]].item(), before[0, REFUSAL[0]].item())
        self.assertTrue(torch.equal(out[1], before[1]))
        self.assertEqual(torch.isfinite(out[2]).sum().item(), 1)
        self.assertEqual(int(torch.argmax(out[2])), REFUSAL[0])

    def test_a_forced_token_whose_score_was_minus_inf_gets_a_finite_one(self):
        op = op_of(point(thresholds=(0.0, 0.0, 0.0)))
        scores = logits(r0=2.0)[None].clone()
        scores[0, REFUSAL[0]] = 2.0
        proc = rop.RefusalTokenLogitsProcessor(op, prompt_length=1)
        banned = scores.clone()
        banned[0, RESPOND] = -math.inf
        out = rop.RefusalTokenLogitsProcessor(op_of(point(thresholds=(1.0, 1.0, 1.0))), 1)(
            torch.zeros((1, 1), dtype=torch.long), banned)
        self.assertEqual(out[0, RESPOND].item(), 0.0)
        self.assertEqual(torch.isfinite(out[0]).sum().item(), 1)
        self.assertEqual(int(torch.argmax(proc(torch.zeros((1, 1), dtype=torch.long), scores)[0])), REFUSAL[0])

    def test_bad_prompt_length(self):
        with self.assertRaisesRegex(ValueError, "prompt_length"):
            rop.RefusalTokenLogitsProcessor(op_of(point()), 0)


# ----------------------------------------------------------------------------- validation
class LoadTest(unittest.TestCase):
    def bad(self, field, mutate, rule="threshold"):
        data = point(rule)
        mutate(data)
        with self.assertRaises(ValueError) as e:
            op_of(data)
        self.assertIn(f"'{field}'", str(e.exception))
        return str(e.exception)

    def test_each_field(self):
        self.assertIn("refusal-eval-operating-point/1", self.bad("format", lambda d: d.update(format="x/2")))
        self.bad("format", lambda d: d.pop("format"))
        self.bad("name", lambda d: d.update(name=""))
        self.assertIn("['threshold', 'logit_bias']", self.bad("rule", lambda d: d.update(rule="argmax")))
        for t in (0, -1.0, "1", True, math.inf, None):
            self.bad("temperature", lambda d: d.update(temperature=t))
        self.bad("feasible", lambda d: d.update(feasible="yes"))
        self.bad("infeasible_exported", lambda d: d.update(feasible=False))
        self.bad("respond_token", lambda d: d.update(respond_token=6))
        self.bad("respond_token.id", lambda d: d["respond_token"].update(id=-1))
        self.bad("respond_token.id", lambda d: d["respond_token"].update(id=True))
        self.bad("respond_token.token", lambda d: d["respond_token"].pop("token"))
        self.bad("refusal_tokens", lambda d: d.update(refusal_tokens=[]))
        self.bad("refusal_tokens[1].id", lambda d: d["refusal_tokens"][1].update(id=RESPOND))
        self.bad("refusal_tokens[2].id", lambda d: d["refusal_tokens"][2].update(id=REFUSAL[0]))
        self.bad("refusal_tokens[0].threshold", lambda d: d["refusal_tokens"][0].update(threshold=1.5))
        self.bad("refusal_tokens[0].threshold", lambda d: d["refusal_tokens"][0].update(threshold=-0.1))
        self.bad("refusal_tokens[0].threshold", lambda d: d["refusal_tokens"][0].update(threshold="0.5"))
        self.bad("refusal_tokens[0].threshold", lambda d: d["refusal_tokens"][0].pop("threshold"))
        self.bad("refusal_tokens[1].logit_bias", lambda d: d["refusal_tokens"][1].update(logit_bias=1.0))
        self.bad("refusal_tokens[0].server_logit_bias",
                 lambda d: d["refusal_tokens"][0].update(server_logit_bias=0.0))
        self.bad("model", lambda d: d.pop("model"))
        self.bad("model.model_sha256", lambda d: d["model"].update(model_sha256="abc"))

    def test_logit_bias_fields(self):
        self.bad("refusal_tokens[0].threshold", lambda d: d["refusal_tokens"][0].update(threshold=0.5), "logit_bias")
        self.bad("refusal_tokens[1].logit_bias", lambda d: d["refusal_tokens"][1].update(logit_bias=None), "logit_bias")
        self.bad("refusal_tokens[2].server_logit_bias",
                 lambda d: d["refusal_tokens"][2].update(server_logit_bias=None), "logit_bias")
        data = point("logit_bias", temperature=2.0, biases=(1.0, -0.5, 0.0))
        self.assertEqual(op_of(data).server_logit_biases, [2.0, -1.0, 0.0])
        data["refusal_tokens"][0]["server_logit_bias"] = 1.0  # b, not b*T
        with self.assertRaisesRegex(ValueError, r"'refusal_tokens\[0\].server_logit_bias'.*temperature"):
            op_of(data)

    def test_infeasible_point_warns_and_says_so(self):
        data = point(feasible=False, infeasible_exported=True, shortfall=0.12)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            op = op_of(data)
        self.assertTrue(op.infeasible_exported)
        self.assertFalse(op.feasible)
        self.assertEqual(len(caught), 1)
        self.assertIs(caught[0].category, rop.InfeasibleOperatingPointWarning)
        self.assertIn("0.12", str(caught[0].message))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertFalse(op_of(point()).infeasible_exported)
        self.assertEqual(caught, [])

    def test_load_a_folder_or_the_file_and_file_errors(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "operating_point.json"), "w") as f:
                json.dump(point("logit_bias", biases=(1, 2, 3)), f)
            self.assertEqual(rop.OperatingPoint.load(d).logit_biases, [1.0, 2.0, 3.0])
            self.assertEqual(rop.OperatingPoint.load(os.path.join(d, "operating_point.json")).rule, "logit_bias")
            with self.assertRaisesRegex(ValueError, "no such file.*--to FOLDER"):
                rop.OperatingPoint.load(os.path.join(d, "nothing"))
            with open(os.path.join(d, "broken.json"), "w") as f:
                f.write("{")
            with self.assertRaisesRegex(ValueError, "broken.json: not valid JSON"):
                rop.OperatingPoint.load(os.path.join(d, "broken.json"))


# ----------------------------------------------------------------------------- vLLM bookkeeping
class FakeDirection(Enum):
    """The two members of vllm.v1.sample.logits_processor.MoveDirectionality."""
    UNIDIRECTIONAL = auto()
    SWAP = auto()


def fake_update(removed=(), added=(), moved=()):
    """A stand-in for vLLM's frozen BatchUpdate (batch_size, removed, added, moved)."""
    return SimpleNamespace(batch_size=0, removed=list(removed), added=list(added), moved=list(moved))


class VllmBookkeepingTest(unittest.TestCase):
    """The processor's own bookkeeping on the documented shape of vLLM's BatchUpdate; vLLM itself is
    not installed here, so this does not show that vLLM calls it this way."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        with open(os.path.join(self.dir, "operating_point.json"), "w") as f:
            json.dump(point(thresholds=(0.0, 0.0, 0.0)), f)  # tau 0: every first position refuses

    def tearDown(self):
        shutil.rmtree(self.dir)
        rop._VLLM_CACHE.clear()

    def params(self, path=True):
        return SimpleNamespace(extra_args={rop.VLLM_ARG: self.dir} if path else None)

    def test_only_first_positions_of_requests_that_ask(self):
        lp = rop.RefusalTokenVllmLogitsProcessor(None, torch.device("cpu"), False)
        self.assertFalse(lp.is_argmax_invariant())
        out0, out1, out2 = [], [], [3]
        lp.update_state(fake_update(added=[(0, self.params(), [1, 2], out0), (1, self.params(False), [1], out1),
                                           (2, self.params(), [1], out2)]))
        scores = torch.stack([logits(respond=5.0)] * 3)
        out = lp.apply(scores.clone())
        self.assertEqual(int(torch.argmax(out[0])), REFUSAL[0])
        self.assertEqual(torch.isfinite(out[0]).sum().item(), 1)
        self.assertTrue(torch.equal(out[1], scores[1]), "a request without extra_args is untouched")
        self.assertTrue(torch.equal(out[2], scores[2]), "a request past its first token is untouched")
        out0.append(REFUSAL[0])  # vLLM appends the sampled token to the live list
        lp.update_state(None)
        self.assertTrue(torch.equal(lp.apply(scores.clone()), scores))

    def test_removed_added_moved(self):
        lp = rop.RefusalTokenVllmLogitsProcessor(None, torch.device("cpu"), False)
        lp.update_state(fake_update(added=[(0, self.params(), [1], []), (1, self.params(False), [1], [])]))
        lp.update_state(fake_update(moved=[(0, 1, FakeDirection.SWAP)]))
        self.assertEqual(sorted(lp.rows), [1])
        lp.update_state(fake_update(moved=[(1, 3, FakeDirection.UNIDIRECTIONAL)]))
        self.assertEqual(sorted(lp.rows), [3])
        scores = torch.stack([logits(respond=5.0)] * 4)
        out = lp.apply(scores.clone())
        self.assertEqual([int(torch.argmax(r)) for r in out], [RESPOND, RESPOND, RESPOND, REFUSAL[0]])
        # a removed slot reused by a request without the argument in the same update
        lp.update_state(fake_update(removed=[3], added=[(3, self.params(False), [1], [])]))
        self.assertEqual(lp.rows, {})

    def test_validate_params(self):
        rop.RefusalTokenVllmLogitsProcessor.validate_params(self.params(False))
        rop.RefusalTokenVllmLogitsProcessor.validate_params(self.params())
        with self.assertRaisesRegex(ValueError, "no such file"):
            rop.RefusalTokenVllmLogitsProcessor.validate_params(
                SimpleNamespace(extra_args={rop.VLLM_ARG: os.path.join(self.dir, "missing")}))
        with self.assertRaisesRegex(ValueError, "expected the path"):
            rop.RefusalTokenVllmLogitsProcessor.validate_params(SimpleNamespace(extra_args={rop.VLLM_ARG: 3}))


# ----------------------------------------------------------------------------- the scripts on the demo model
def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump_json(data, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def coconot_prompts():
    prompts = {}
    for name in ("coconot_eval.jsonl", "coconot_contrast_eval.jsonl"):
        with open(os.path.join(REPO, "data", "coconot", name), encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                prompts[row["id"]] = row
    return prompts


def run(main, argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


class DemoScriptsTest(unittest.TestCase):
    """verify_decisions, demo_first_tokens and later_positions on a small hand-made export of the demo
    model: 40 CoCoNot prompts tokenized by train_demo_models' own tokenizer mimic, decided by this
    test's reference rule (not the module's)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        tj = load_json(os.path.join(DEMO, "tokenizer.json"))
        spec = load_json(os.path.join(DEMO, "refusal_tokens.json"))
        added = [a["content"] for a in tj["added_tokens"]]
        tok = tdm.WordTokenizer(added, tj["model"]["vocab"])
        ids = tj["model"]["vocab"]
        cls.refusal_ids = [ids[t] for t in spec["refusal_tokens"]]
        cls.respond_id = ids[spec["respond_token"]]
        prompts = sorted(coconot_prompts().values(), key=lambda r: r["id"])[:40]
        cls.model = torch.jit.load(os.path.join(DEMO, "model.pt"))
        cls.exports = {}
        for rule, setting in (("threshold", (0.3, 0.2, 0.6, 0.5, 0.4)), ("logit_bias", (4.0, -2.0, 2.0, 0.0, 4.0))):
            data = {"format": rop.FORMAT, "name": rule, "rule": rule, "temperature": 1.0, "feasible": True,
                    "shortfall": 0.0, "infeasible_exported": False, "decision": "d",
                    "respond_token": {"token": spec["respond_token"], "id": cls.respond_id},
                    "refusal_tokens": [
                        {"token": t, "id": ids[t], "threshold": setting[c] if rule == "threshold" else None,
                         "logit_bias": None if rule == "threshold" else setting[c],
                         "server_logit_bias": None if rule == "threshold" else setting[c]}
                        for c, t in enumerate(spec["refusal_tokens"])],
                    "targets": {}, "achieved": {},
                    "model": {"dir": "models/demo-categories", "model_sha256": sha256(os.path.join(DEMO, "model.pt")),
                              "system_prompt": None}, "run": {}, "measured": None}
            counts = {"n_refuse": 0, "refused": 0, "n_answer": 0, "false_refused": 0}
            lines = []
            for row in prompts:
                input_ids = tok.encode(tdm.render(row["prompt"]))
                z = cls.model(torch.tensor([input_ids]), torch.ones(1, len(input_ids), dtype=torch.long))[0]
                token = cls.decide(rule, setting, z)
                should_refuse = row["id"] not in cls.contrast_ids()
                refused = token in cls.refusal_ids
                counts["n_refuse" if should_refuse else "n_answer"] += 1
                counts["refused" if should_refuse else "false_refused"] += refused
                lines.append({"benchmark": "coconot", "prompt_id": row["id"], "category": row.get("category"),
                              "should_refuse": should_refuse, "input_ids": input_ids, "first_token": str(token),
                              "first_token_id": token, "refusal": refused})
            data["measured"] = {"token": counts, "judged": None}
            folder = os.path.join(cls.tmp, rule)
            os.makedirs(folder)
            dump_json(data, os.path.join(folder, "operating_point.json"))
            with open(os.path.join(folder, "decisions.jsonl"), "w") as f:
                f.writelines(json.dumps(line) + "\n" for line in lines)
            cls.exports[rule] = folder

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    _contrast = None

    @classmethod
    def contrast_ids(cls):
        if cls._contrast is None:
            with open(os.path.join(REPO, "data", "coconot", "coconot_contrast_eval.jsonl")) as f:
                cls._contrast = {json.loads(line)["id"] for line in f}
        return cls._contrast

    @classmethod
    def decide(cls, rule, setting, z):
        """The job's rule written as Rule.java does, on log-probabilities."""
        lp = torch.log_softmax(z.double(), -1)
        respond = float(lp[cls.respond_id])
        refusal = [float(lp[i]) for i in cls.refusal_ids]
        masked = lp.clone()
        masked[[cls.respond_id] + cls.refusal_ids] = -math.inf
        other_id, other = int(torch.argmax(masked)), float(masked.max())
        if rule == "threshold":
            top = max(range(len(refusal)), key=lambda c: (refusal[c], -c))
            return cls.refusal_ids[top] if math.exp(refusal[top]) >= setting[top] else cls.respond_id
        values = [v + b for v, b in zip(refusal, setting)]
        best = max(range(len(values)), key=lambda c: (values[c], -c))
        if other > respond and other > values[best]:
            return other_id
        return cls.refusal_ids[best] if values[best] > respond else cls.respond_id

    def copy_export(self, rule):
        folder = tempfile.mkdtemp(dir=self.tmp)
        for name in os.listdir(self.exports[rule]):
            shutil.copy(os.path.join(self.exports[rule], name), folder)
        return folder

    def test_verify_agrees(self):
        for rule in ("threshold", "logit_bias"):
            code, out, _ = run(verify_decisions.main, ["--export", self.exports[rule], "--model", DEMO,
                                                       "--batch-size", "7"])
            self.assertEqual(code, 0, out)
            self.assertIn(f"40 of 40 prompts agree ({rule}, T=1.0)", out)

    def test_verify_reports_a_changed_decision(self):
        folder = self.copy_export("threshold")
        path = os.path.join(folder, "decisions.jsonl")
        lines = read_jsonl(path)
        flipped = lines[3]
        new_id = self.respond_id if flipped["first_token_id"] != self.respond_id else self.refusal_ids[0]
        flipped.update(first_token_id=new_id, refusal=new_id in self.refusal_ids)
        with open(path, "w") as f:
            f.writelines(json.dumps(line) + "\n" for line in lines)
        code, out, _ = run(verify_decisions.main, ["--export", folder, "--model", DEMO])
        self.assertEqual(code, 1)
        self.assertIn("1 of 40 prompts disagree", out)
        self.assertIn(flipped["prompt_id"], out)
        self.assertNotIn("prompts agree", out)
        code, _, _ = run(verify_decisions.main, ["--export", folder, "--model", DEMO, "--allow-float-noise"])
        self.assertEqual(code, 1, "a clear disagreement is not float noise")

    def test_verify_reports_changed_rates(self):
        folder = self.copy_export("logit_bias")
        data = load_json(os.path.join(folder, "operating_point.json"))
        data["measured"]["token"]["refused"] += 1
        dump_json(data, os.path.join(folder, "operating_point.json"))
        code, out, _ = run(verify_decisions.main, ["--export", folder, "--model", DEMO])
        self.assertEqual(code, 1)
        self.assertIn("differ from measured.token", out)

    def test_bad_input_exits_2(self):
        code, _, err = run(verify_decisions.main, ["--export", self.exports["threshold"], "--model",
                                                   os.path.join(REPO, "models", "demo-single")])
        self.assertEqual(code, 2)
        self.assertIn("model.model_sha256", err)
        self.assertIn("Pass --model the run's model folder", err)
        folder = self.copy_export("threshold")
        os.remove(os.path.join(folder, "decisions.jsonl"))
        code, _, err = run(verify_decisions.main, ["--export", folder, "--model", DEMO])
        self.assertEqual(code, 2)
        self.assertIn("--with-decisions", err)
        code, _, err = run(later_positions.main, ["--export", self.exports["threshold"], "--model", DEMO])
        self.assertEqual(code, 2)
        self.assertIn("needs a logit_bias point", err)

    def test_demo_first_tokens_match_the_decisions(self):
        lines = read_jsonl(os.path.join(self.exports["threshold"], "decisions.jsonl"))
        prompts = coconot_prompts()
        picked = lines[:3]
        code, out, _ = run(demo_first_tokens.main, ["--export", self.exports["threshold"], "--model", DEMO]
                           + [prompts[d["prompt_id"]]["prompt"] for d in picked])
        self.assertEqual(code, 0)
        tok = model_io.WordLevelTokenizer(DEMO)
        got = [line for line in out.splitlines() if ": first token " in line]
        self.assertEqual(len(got), 3)
        for d, line in zip(picked, got):
            self.assertIn(f": first token {tok.token(d['first_token_id'])} (greedy", line)

    def test_demo_tokenizer_refuses_other_types(self):
        with tempfile.TemporaryDirectory() as d:
            tj = load_json(os.path.join(DEMO, "tokenizer.json"))
            tj["model"]["type"] = "BPE"
            dump_json(tj, os.path.join(d, "tokenizer.json"))
            with self.assertRaisesRegex(model_io.UsageError, "AutoTokenizer.from_pretrained"):
                model_io.WordLevelTokenizer(d)

    def test_demo_tokenizer_on_every_coconot_prompt(self):
        """The word-level tokenizer and chat template of model_io give train_demo_models' ids (its mimic
        was checked against the Rust tokenizers when the demo was trained)."""
        tj = load_json(os.path.join(DEMO, "tokenizer.json"))
        mimic = tdm.WordTokenizer([a["content"] for a in tj["added_tokens"]], tj["model"]["vocab"])
        tok = model_io.WordLevelTokenizer(DEMO)
        for row in coconot_prompts().values():
            rendered = model_io.render_prompt(DEMO, row["prompt"])
            self.assertEqual(rendered, tdm.render(row["prompt"]))
            self.assertEqual(tok.encode(rendered), mimic.encode(rendered), row["id"])

    def test_later_positions(self):
        a, b, differ = later_positions.evidence(self.exports["logit_bias"], DEMO, max_new=12, batch_size=16,
                                                out=io.StringIO())
        lines = read_jsonl(os.path.join(self.exports["logit_bias"], "decisions.jsonl"))
        eos = model_io.eos_id(DEMO)
        for i in (0, 5, 17):
            first = lines[i]["first_token_id"]
            self.assertEqual(a.new[i][0], first)
            self.assertEqual(b.new[i][0], first)
            rest, _, _ = tdm.greedy_recompute(self.model, lines[i]["input_ids"] + [first], {eos}, 11)
            self.assertEqual(a.new[i][1:], rest, "(a) continues greedily after the forced first token")
        self.assertEqual(differ, sum(x != y for x, y in zip(a.new, b.new)))
        self.assertGreater(a.later_positions, 0)
        self.assertLess(a.max_control_p, 1.0)


# ----------------------------------------------------------------------------- a real export (CI)
def export_folders():
    root = os.environ.get("REFUSAL_EVAL_EXPORT_DIR")
    if not root:
        return []
    if os.path.isfile(os.path.join(root, "operating_point.json")):
        return [root]
    return sorted(os.path.join(root, d) for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, "operating_point.json")))


@unittest.skipUnless(os.environ.get("REFUSAL_EVAL_EXPORT_DIR"), "set REFUSAL_EVAL_EXPORT_DIR to a folder written "
                     "by jobs/export-operating-point.sh --with-decisions")
class RealExportTest(unittest.TestCase):
    def model_dir(self, op):
        return os.environ.get("REFUSAL_EVAL_MODEL_DIR") or os.path.join(REPO, op.model["dir"])

    def test_every_prompt_agrees_with_the_job(self):
        folders = export_folders()
        self.assertTrue(folders, f"no operating_point.json in {os.environ['REFUSAL_EVAL_EXPORT_DIR']}")
        for folder in folders:
            op = rop.OperatingPoint.load(folder)
            code, out, err = run(verify_decisions.main, ["--export", folder, "--model", self.model_dir(op)])
            self.assertEqual(code, 0, out + err)
            self.assertIn("prompts agree", out)

    def test_demo_tokenization_is_the_jobs_for_every_coconot_prompt(self):
        prompts = coconot_prompts()
        for folder in export_folders():
            op = rop.OperatingPoint.load(folder)
            model_dir = self.model_dir(op)
            tok = model_io.WordLevelTokenizer(model_dir)
            checked = 0
            for d in model_io.read_decisions(folder):
                if d["prompt_id"] in prompts and str(d.get("benchmark", "")).startswith("coconot"):
                    rendered = model_io.render_prompt(model_dir, prompts[d["prompt_id"]]["prompt"],
                                                      op.model.get("system_prompt"))
                    self.assertEqual(tok.encode(rendered), d["input_ids"], d["prompt_id"])
                    checked += 1
            self.assertGreater(checked, 0, folder)


if __name__ == "__main__":
    unittest.main()
