"""What the serving scripts share: the export folder's files, the model folder's TorchScript model.pt
run the way the job runs it (right-padded batches, the logits at each row's last real token), and the
demo's word-level tokenizer. torch (and jinja2 for the chat template) only.
"""

import hashlib
import json
import os
import re

import torch

import refusal_operating_point as rop

DECISIONS_FILE = "decisions.jsonl"


class UsageError(Exception):
    """Bad input a user must fix (the scripts exit 2 with the message)."""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_operating_point(export):
    """The export folder's operating point; a bad file is a UsageError."""
    try:
        return rop.OperatingPoint.load(export)
    except ValueError as e:
        raise UsageError(str(e)) from None


def check_model(op, model_dir):
    """Stops (UsageError) when MODEL_DIR/model.pt is not the model the operating point was measured with."""
    model_pt = os.path.join(model_dir, "model.pt")
    if not os.path.isfile(model_pt):
        raise UsageError(f"{model_pt}: no such file; --model takes a model folder with model.pt "
                         f"(the run's was {op.model.get('dir')!r})")
    actual = sha256_file(model_pt)
    expected = op.model["model_sha256"]
    if actual != expected:
        raise UsageError(f"{model_pt} has sha256 {actual}, but operating point {op.name!r} was measured with "
                         f"model.model_sha256 {expected} ({op.source}). Pass --model the run's model folder "
                         f"({op.model.get('dir')!r}), or evaluate this model and export its point again")
    return model_pt


def read_decisions(export):
    """decisions.jsonl as a list of dicts, each line checked."""
    path = os.path.join(os.fspath(export), DECISIONS_FILE)
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file; export the point with --with-decisions")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise UsageError(f"{path}:{n}: not valid JSON ({e})") from None
            for key, ok in (("prompt_id", lambda v: isinstance(v, str)),
                            ("input_ids", lambda v: isinstance(v, list) and v and all(rop._is_id(i) for i in v)),
                            ("first_token_id", rop._is_id),
                            ("should_refuse", lambda v: isinstance(v, bool)),
                            ("refusal", lambda v: isinstance(v, bool))):
                if key not in d or not ok(d[key]):
                    raise UsageError(f"{path}:{n}: field '{key}' is {d.get(key)!r}")
            rows.append(d)
    if not rows:
        raise UsageError(f"{path}: no decisions")
    return rows


def read_json(model_dir, name):
    with open(os.path.join(model_dir, name), encoding="utf-8") as f:
        return json.load(f)


def token_id(model_dir, token):
    """The id of a token string in MODEL_DIR/tokenizer.json (added tokens, then the vocabulary)."""
    tj = read_json(model_dir, "tokenizer.json")
    for a in tj.get("added_tokens", []):
        if a["content"] == token:
            return a["id"]
    vocab = tj.get("model", {}).get("vocab")
    if isinstance(vocab, dict) and token in vocab:
        return vocab[token]
    raise UsageError(f"{model_dir}/tokenizer.json has no token {token!r}")


def pad_id(model_dir):
    """The pad id the job pads with: tokenizer_config.json's pad_token (0 when there is none)."""
    pad = read_json(model_dir, "tokenizer_config.json").get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    return token_id(model_dir, pad) if pad else 0


def eos_id(model_dir):
    eos = read_json(model_dir, "tokenizer_config.json").get("eos_token")
    if isinstance(eos, dict):
        eos = eos.get("content")
    if not eos:
        raise UsageError(f"{model_dir}/tokenizer_config.json has no eos_token")
    return token_id(model_dir, eos)


def load_model(model_pt):
    model = torch.jit.load(model_pt, map_location="cpu")
    model.eval()
    return model


@torch.no_grad()
def last_logits(model, rows, pad):
    """One right-padded forward pass over token-id rows: the logits [B, V] at each row's last real token
    (model.pt's forward(input_ids, attention_mask) gives [B, V], or [B, T, V] for every position)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    out = model(ids, mask)
    if out.dim() == 3:
        last = mask.sum(1) - 1
        out = out[torch.arange(len(rows)), last]
    if out.dim() != 2 or out.shape[0] != len(rows):
        raise UsageError(f"model.pt returned logits of shape {tuple(out.shape)}; expected [B, V] or [B, T, V]")
    return out.to(torch.float32)


def batches_by_length(rows, batch_size):
    """Indices of rows sorted by length (the job sorts a window by length before cutting batches),
    cut into batches of at most batch_size."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


# ----------------------------------------------------------------------------- the demo tokenizer
WORD_RE = re.compile(r"\w+|[^\w\s]+")  # the Whitespace pre-tokenizer of Hugging Face tokenizers

AUTO_TOKENIZER_SNIPPET = """    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    ids = tok.apply_chat_template([{"role": "user", "content": prompt}],
                                  add_generation_prompt=True, tokenize=True)"""


class WordLevelTokenizer:
    """The demo models' tokenizer.json: added tokens matched first (exact, leftmost, longest), then a
    Lowercase normalizer, the Whitespace pre-tokenizer (\\w+|[^\\w\\s]+) and a WordLevel vocabulary with
    an unknown token. Any other tokenizer type is refused: use transformers' AutoTokenizer."""

    def __init__(self, model_dir):
        tj = read_json(model_dir, "tokenizer.json")
        model = tj.get("model") or {}
        kind = model.get("type")
        normalizer = (tj.get("normalizer") or {}).get("type")
        pre = (tj.get("pre_tokenizer") or {}).get("type")
        if kind != "WordLevel" or normalizer != "Lowercase" or pre != "Whitespace" or tj.get("post_processor"):
            raise UsageError(
                f"{model_dir}/tokenizer.json is a {kind} tokenizer (normalizer {normalizer}, pre-tokenizer {pre}); "
                "this torch-only script reads only the demo's WordLevel one. For a real model use transformers:\n"
                + AUTO_TOKENIZER_SNIPPET)
        self.vocab = dict(model["vocab"])
        self.unk = self.vocab[model["unk_token"]]
        self.added = [a["content"] for a in tj.get("added_tokens", [])]
        self.added_ids = {a["content"]: a["id"] for a in tj.get("added_tokens", [])}
        alternatives = sorted(self.added, key=len, reverse=True)
        self.added_re = re.compile("|".join(re.escape(t) for t in alternatives)) if alternatives else None
        self.inverse = {i: t for t, i in self.vocab.items()}
        self.inverse.update({i: t for t, i in self.added_ids.items()})

    def _words(self, text):
        return [self.vocab.get(w, self.unk) for w in WORD_RE.findall(text.lower())]

    def encode(self, text):
        ids, pos = [], 0
        if self.added_re is not None:
            for m in self.added_re.finditer(text):
                ids.extend(self._words(text[pos:m.start()]))
                ids.append(self.added_ids[m.group(0)])
                pos = m.end()
        ids.extend(self._words(text[pos:]))
        return ids

    def token(self, token_id):
        return self.inverse.get(token_id, f"<id {token_id}>")


def render_prompt(model_dir, prompt, system_prompt=None):
    """The chat template of MODEL_DIR/tokenizer_config.json on one user message, add_generation_prompt."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    config = read_json(model_dir, "tokenizer_config.json")
    template = config.get("chat_template")
    if not isinstance(template, str):
        raise UsageError(f"{model_dir}/tokenizer_config.json has no chat_template string")

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + \
        [{"role": "user", "content": prompt}]
    special = {k: (v.get("content") if isinstance(v, dict) else v) for k, v in config.items()
               if k.endswith("_token")}
    return env.from_string(template).render(messages=messages, add_generation_prompt=True, **special)
