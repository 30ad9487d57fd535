"""Serve a refusal-token operating point exported by refusal-eval (`jobs/export-operating-point.sh`).

Copy this one file next to your server. It reads the export folder's `operating_point.json` and decides
the FIRST response token exactly as the evaluation job did; later positions are never touched.

The rule (docs/deploying.md; the job's `decide/Rule.java`). Let z be the model's logits at the first
response position (right after the rendered prompt with the generation prompt) and
lp = log_softmax(z / T) over the whole vocabulary, in float64, T the point's `temperature`.

* threshold: c* = the refusal token with the highest lp (ties: the earliest in `refusal_tokens`).
  If c*'s threshold is null, the model's own greedy choice stands (the logits are left alone).
  Else emit c* iff exp(lp[c*]) >= threshold(c*), otherwise the respond token.
* logit_bias: v_c = lp[c] + logit_bias(c) (ties: the earliest); best = max v_c. If the best
  non-control token's lp is > lp[respond] and > best, emit that token (the lowest id on a tie);
  else emit the best refusal token if best > lp[respond]; else the respond token. This is the argmax
  after adding server_logit_bias = b*T to the raw logits of the refusal tokens.

Three ways to use it:

* `OperatingPoint.load(path).first_token(logits_1d)`: the decision itself (an id, or None = leave
  the model's greedy choice).
* Hugging Face transformers: `RefusalTokenLogitsProcessor(op, prompt_length)` in
  `model.generate(..., logits_processor=LogitsProcessorList([...]))`. It acts only on the step whose
  `input_ids` are exactly `prompt_length` long, so the batch must be LEFT-padded (the default for
  decoder-only generation; `tokenizer.padding_side = "left"`): with right padding the shorter rows'
  first generated position is not at `prompt_length` and they would be decided on a pad position.
* vLLM: `RefusalTokenVllmLogitsProcessor`, loaded with
  `vllm serve MODEL --logits-processors refusal_operating_point:RefusalTokenVllmLogitsProcessor`
  (the module on PYTHONPATH) and enabled per request with
  `SamplingParams(extra_args={"refusal_operating_point": "/path/to/export"})` offline, or
  `"vllm_xargs": {"refusal_operating_point": "/path/to/export"}` in an OpenAI-style request body.
  It follows the custom logits-processor interface of vLLM's V1 model runner,
  `vllm.v1.sample.logits_processor.LogitsProcessor`, as documented for vLLM v0.11.0 and later
  (docs/features/custom_logitsprocs.md; `interface.py`: `validate_params`,
  `__init__(vllm_config, device, is_pin_memory)`, `update_state(BatchUpdate | None)`,
  `apply(logits)`, `is_argmax_invariant()`; `BatchUpdate.added` rows are
  `(index, params, prompt_tok_ids, output_tok_ids)` with a live reference to the output list). The
  first generated position of a request is the step at which its output list is still empty; the
  class reads only that list's length, never its values, so it does not override the optional
  `needs_output_token_ids()` of later releases. vLLM's docs for the Model Runner V2 (v0.32) describe a
  different interface; there this class needs the legacy runner (`VLLM_USE_V2_MODEL_RUNNER=0`).
  vLLM rejects custom logits processors under speculative decoding. NOT run in this project (no vLLM
  here): the decision it applies is `OperatingPoint.first_token`, the code the tests and the proof
  (`verify_decisions.py`) run.

Dependencies: json, math, torch. transformers and vllm are optional: when importable, the processors
subclass their base classes (`transformers.LogitsProcessor`,
`vllm.v1.sample.logits_processor.LogitsProcessor`); else they are plain classes
(`transformers.LogitsProcessorList` calls any `(input_ids, scores) -> scores` callable).
"""

import json
import math
import os
import warnings

import torch

FORMAT = "refusal-eval-operating-point/1"
RULES = ("threshold", "logit_bias")
FILE_NAME = "operating_point.json"
VLLM_ARG = "refusal_operating_point"  # the SamplingParams.extra_args key of the vLLM processor

try:  # optional: a real transformers.LogitsProcessor where transformers is installed
    from transformers import LogitsProcessor as _HfLogitsProcessor
except ImportError:
    _HfLogitsProcessor = object

try:  # optional: vLLM's V1 custom logits-processor base class where vLLM is installed
    from vllm.v1.sample.logits_processor import LogitsProcessor as _VllmLogitsProcessor
except ImportError:
    _VllmLogitsProcessor = object


class InfeasibleOperatingPointWarning(UserWarning):
    """The operating point missed its targets and was exported with --allow-infeasible."""


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_id(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class OperatingPoint:
    """A validated `operating_point.json`: the rule, the temperature and the control tokens.

    Attributes: `name`, `rule` ("threshold" or "logit_bias"), `temperature`, `respond_id`,
    `respond_token`, `refusal_ids` / `refusal_token_strings` (the run's order), `thresholds`
    (threshold rule: tau or None per refusal token), `logit_biases` (logit_bias rule: b on z/T),
    `server_logit_biases` (b*T on the raw logits), `feasible`, `infeasible_exported`, `measured`,
    `model`, `run`, `targets`, `achieved` (as in the file), `source` (the file read) and `data` (the
    whole parsed file).
    """

    def __init__(self, data, source="operating point"):
        """Validates `data` (the parsed JSON); `source` names it in error messages."""
        self.source = source
        self.data = data
        if not isinstance(data, dict):
            raise self._error("", "is not a JSON object")
        self._check_format(data)
        self.name = self._string(data, "name")
        self.rule = self._get(data, "rule")
        if self.rule not in RULES:
            raise self._error("rule", f"is {self.rule!r}; expected one of {list(RULES)}")
        t = self._get(data, "temperature")
        if not _is_number(t) or t <= 0:
            raise self._error("temperature", f"is {t!r}; expected a finite number > 0")
        self.temperature = float(t)
        self.feasible = self._bool(data, "feasible")
        self.infeasible_exported = self._bool(data, "infeasible_exported")
        if not self.feasible and not self.infeasible_exported:
            raise self._error("infeasible_exported", "is false for a point whose feasible is false; "
                              "the exporter writes infeasible points only with --allow-infeasible")
        respond = self._get(data, "respond_token")
        self.respond_token, self.respond_id = self._token(respond, "respond_token")
        self._read_refusal_tokens(self._get(data, "refusal_tokens"))
        self.targets = data.get("targets")
        self.achieved = data.get("achieved")
        self.measured = data.get("measured")
        self.run = data.get("run")
        self.model = self._get(data, "model")
        if not isinstance(self.model, dict):
            raise self._error("model", "is not a JSON object")
        sha = self.model.get("model_sha256")
        if not isinstance(sha, str) or len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise self._error("model.model_sha256", f"is {sha!r}; expected 64 lower-case hex digits")
        self.control_ids = [self.respond_id] + self.refusal_ids
        if self.infeasible_exported:
            warnings.warn(f"{source}: operating point {self.name!r} is INFEASIBLE (it misses its targets by "
                          f"{data.get('shortfall')!r}; exported with --allow-infeasible)",
                          InfeasibleOperatingPointWarning, stacklevel=3)

    # ------------------------------------------------------------------ loading and validation
    @classmethod
    def load(cls, path):
        """Reads an export folder (its operating_point.json) or the json file itself."""
        path = os.fspath(path)
        file = os.path.join(path, FILE_NAME) if os.path.isdir(path) else path
        try:
            with open(file, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ValueError(f"{file}: no such file; pass the folder written by "
                             "jobs/export-operating-point.sh --to FOLDER, or its operating_point.json") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{file}: not valid JSON ({e})") from None
        return cls(data, source=file)

    def _error(self, field, problem):
        where = f"field '{field}' " if field else ""
        return ValueError(f"{self.source}: {where}{problem}")

    def _get(self, obj, key, prefix=""):
        if key not in obj:
            raise self._error(prefix + key, "is missing")
        return obj[key]

    def _string(self, obj, key, prefix=""):
        v = self._get(obj, key, prefix)
        if not isinstance(v, str) or not v:
            raise self._error(prefix + key, f"is {v!r}; expected a non-empty string")
        return v

    def _bool(self, obj, key):
        v = self._get(obj, key)
        if not isinstance(v, bool):
            raise self._error(key, f"is {v!r}; expected true or false")
        return v

    def _check_format(self, data):
        fmt = self._get(data, "format")
        if fmt != FORMAT:
            raise self._error("format", f"is {fmt!r}; this module reads {FORMAT!r} (re-export the point "
                              "with the job, or use the module of the job's version)")

    def _token(self, obj, where):
        if not isinstance(obj, dict):
            raise self._error(where, f"is {obj!r}; expected an object with 'token' and 'id'")
        token = self._string(obj, "token", where + ".")
        tid = self._get(obj, "id", where + ".")
        if not _is_id(tid):
            raise self._error(where + ".id", f"is {tid!r}; expected a vocabulary id (an integer >= 0)")
        return token, tid

    def _optional_number(self, obj, key, where):
        v = self._get(obj, key, where + ".")
        if v is not None and not _is_number(v):
            raise self._error(where + "." + key, f"is {v!r}; expected a finite number or null")
        return None if v is None else float(v)

    def _read_refusal_tokens(self, tokens):
        if not isinstance(tokens, list) or not tokens:
            raise self._error("refusal_tokens", f"is {tokens!r}; expected a non-empty list")
        self.refusal_token_strings, self.refusal_ids = [], []
        self.thresholds, self.logit_biases, self.server_logit_biases = [], [], []
        seen = {self.respond_id: "respond_token"}
        for i, tok in enumerate(tokens):
            where = f"refusal_tokens[{i}]"
            token, tid = self._token(tok, where)
            if tid in seen:
                raise self._error(where + ".id", f"is {tid}, the id of {seen[tid]} too; "
                                  "the control tokens must be distinct")
            seen[tid] = where
            tau = self._optional_number(tok, "threshold", where)
            bias = self._optional_number(tok, "logit_bias", where)
            server = self._optional_number(tok, "server_logit_bias", where)
            if self.rule == "threshold":
                if tau is not None and not 0.0 <= tau <= 1.0:
                    raise self._error(where + ".threshold", f"is {tau!r}; expected a probability in [0, 1] or null")
                for key, v in (("logit_bias", bias), ("server_logit_bias", server)):
                    if v is not None:
                        raise self._error(f"{where}.{key}", f"is {v!r}; a threshold point has null biases")
            else:
                if tau is not None:
                    raise self._error(where + ".threshold", f"is {tau!r}; a logit_bias point has null thresholds")
                if bias is None:
                    raise self._error(where + ".logit_bias", "is null; a logit_bias point gives a number "
                                      "(0.0 for a token it leaves alone)")
                if server is None:
                    raise self._error(where + ".server_logit_bias", "is null; a logit_bias point gives b*T")
                expected = bias * self.temperature
                if abs(server - expected) > 1e-9 * max(1.0, abs(expected)):
                    raise self._error(where + ".server_logit_bias",
                                      f"is {server!r}, not logit_bias * temperature = {expected!r}")
            self.refusal_token_strings.append(token)
            self.refusal_ids.append(tid)
            self.thresholds.append(tau)
            self.logit_biases.append(bias)
            self.server_logit_biases.append(server)

    # ------------------------------------------------------------------ the rule
    def token_string(self, token_id):
        """The control token string of an id, or None for a non-control id."""
        if token_id == self.respond_id:
            return self.respond_token
        if token_id in self.refusal_ids:
            return self.refusal_token_strings[self.refusal_ids.index(token_id)]
        return None

    def first_token(self, logits):
        """The first response token for one position's logits (1-D, the whole vocabulary): a token id,
        or None when the threshold rule leaves the model's greedy choice (c* has no threshold)."""
        z = torch.as_tensor(logits)
        if z.dim() != 1:
            raise ValueError(f"first_token takes the 1-D logits of one position, got shape {tuple(z.shape)}")
        vocab = z.shape[0]
        top_id = max(self.control_ids)
        if top_id >= vocab:
            raise ValueError(f"the logits have {vocab} entries but control token id {top_id} is in "
                             f"{self.source}: a different model or tokenizer?")
        z = z.detach().to(torch.float64)
        if torch.isnan(z).any():
            raise ValueError("the logits contain NaN")
        lp = torch.log_softmax(z / self.temperature, dim=-1)
        control = lp[torch.tensor(self.control_ids, device=lp.device)].tolist()
        respond, refusal = control[0], control[1:]
        if self.rule == "threshold":
            best = 0
            for c in range(1, len(refusal)):
                if refusal[c] > refusal[best]:
                    best = c
            tau = self.thresholds[best]
            if tau is None:
                return None
            return self.refusal_ids[best] if math.exp(refusal[best]) >= tau else self.respond_id
        best, best_value = 0, -math.inf
        for c, value in enumerate(refusal):
            v = value + self.logit_biases[c]
            if v > best_value:
                best, best_value = c, v
        others = lp.clone()
        others[torch.tensor(self.control_ids, device=lp.device)] = -math.inf
        other_id = int(torch.argmax(others))  # the first (lowest) id on a tie
        other = float(others[other_id])
        if other > respond and other > best_value:
            return other_id
        return self.refusal_ids[best] if best_value > respond else self.respond_id

    def first_tokens(self, logits):
        """`first_token` for each row of 2-D logits [B, V]; a list of ids or None."""
        z = torch.as_tensor(logits)
        if z.dim() != 2:
            raise ValueError(f"first_tokens takes 2-D logits [batch, vocab], got shape {tuple(z.shape)}")
        return [self.first_token(row) for row in z]


def force_token(row, token_id):
    """Sets every score of a 1-D row but `token_id` to -inf, in place (a score that is itself -inf
    becomes 0 so that the row stays a distribution)."""
    keep = row[token_id].clone()
    row.fill_(-math.inf)
    row[token_id] = keep if torch.isfinite(keep) else 0.0


class RefusalTokenLogitsProcessor(_HfLogitsProcessor):
    """Hugging Face `LogitsProcessor`: at the first generated position, forces each row's first
    response token by the operating point's rule; other positions pass through untouched.

    `prompt_length` is the width of the (left-padded) prompt batch, `inputs["input_ids"].shape[1]`:
    the processor acts on the step whose `input_ids` are exactly that long. Use a fresh processor per
    `generate` call. Rows the rule leaves greedy (a threshold point whose c* has no threshold) keep
    their scores.
    """

    def __init__(self, operating_point, prompt_length):
        if not isinstance(operating_point, OperatingPoint):
            operating_point = OperatingPoint.load(operating_point)
        if not isinstance(prompt_length, int) or prompt_length < 1:
            raise ValueError(f"prompt_length is {prompt_length!r}; pass inputs['input_ids'].shape[1]")
        self.operating_point = operating_point
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores):
        if input_ids.shape[-1] != self.prompt_length:
            return scores
        scores = scores.clone()
        for i, token in enumerate(self.operating_point.first_tokens(scores)):
            if token is not None:
                force_token(scores[i], token)
        return scores


_VLLM_CACHE = {}


def _vllm_operating_point(extra_args):
    """The operating point a vLLM request names in its extra_args (None when it names none); loaded
    once per path."""
    if not extra_args or extra_args.get(VLLM_ARG) is None:
        return None
    path = extra_args[VLLM_ARG]
    if not isinstance(path, str):
        raise ValueError(f"extra_args[{VLLM_ARG!r}] is {path!r}; expected the path of an export folder")
    if path not in _VLLM_CACHE:
        _VLLM_CACHE[path] = OperatingPoint.load(path)
    return _VLLM_CACHE[path]


def _is_swap(direction):
    return getattr(direction, "name", direction) == "SWAP"


class RefusalTokenVllmLogitsProcessor(_VllmLogitsProcessor):
    """vLLM (V1 model runner) custom logits processor: for each request whose
    `SamplingParams.extra_args["refusal_operating_point"]` names an export folder, forces the first
    response token by that point's rule; every later position, and every other request, is untouched.
    See the module docstring for the interface version and how to load it."""

    @classmethod
    def validate_params(cls, sampling_params):
        """Rejects a request whose operating point cannot be read (ValueError, as vLLM expects)."""
        _vllm_operating_point(getattr(sampling_params, "extra_args", None))

    def __init__(self, vllm_config=None, device=None, is_pin_memory=False):
        # batch row -> (operating point, the request's live output-token list)
        self.rows = {}

    def is_argmax_invariant(self):
        """False: forcing a first token changes the greedy choice."""
        return False

    def update_state(self, batch_update):
        """Follows the persistent batch: removed, then added, then moved rows."""
        if batch_update is not None:
            for index in batch_update.removed:
                self.rows.pop(index, None)
            for index, params, _prompt_ids, output_ids in batch_update.added:
                op = _vllm_operating_point(getattr(params, "extra_args", None))
                if op is None:
                    self.rows.pop(index, None)
                else:
                    self.rows[index] = (op, output_ids)
            for a, b, direction in batch_update.moved:
                entry_a = self.rows.pop(a, None)
                entry_b = self.rows.pop(b, None)
                if entry_a is not None:
                    self.rows[b] = entry_a
                if entry_b is not None and _is_swap(direction):
                    self.rows[a] = entry_b
        # a request past its first generated token needs nothing more
        for index in [i for i, (_, out) in self.rows.items() if len(out) > 0]:
            del self.rows[index]

    def apply(self, logits):
        """Forces the first token of the rows still at their first generated position."""
        for index, (op, output_ids) in self.rows.items():
            if len(output_ids) == 0 and index < logits.shape[0]:
                token = op.first_token(logits[index])
                if token is not None:
                    force_token(logits[index], token)
        return logits
