#!/usr/bin/python3
"""Render the chat-template test corpus with Python jinja2, exactly as Hugging Face
transformers renders ``tokenizer.apply_chat_template(conversation, tokenize=False, ...)``.

Run (from the repository root, with Debian's python3 and its python3-jinja2 3.1.2)::

    /usr/bin/python3 tools/render_chat_templates.py            # (re)write every expected/ file
    /usr/bin/python3 tools/render_chat_templates.py --check    # compare only, exit 1 on any difference
    /usr/bin/python3 tools/render_chat_templates.py --import-tokenizer-config \
        path/to/tokenizer_config.json NAME                      # add a template folder from a HF config

The corpus lives in ``src/test/resources/chat-templates/`` (override with ``--corpus DIR``):

* ``conversations.json``: ``[{"name", "messages": [{"role", "content"}...], "add_generation_prompt"}]``
* ``<template>/template.jinja``: the chat_template string, byte for byte (UTF-8, no newline added)
* ``<template>/special_tokens.json``: the keyword arguments passed to ``render`` besides the fixed ones
* ``<template>/expected/<conversation>.txt``: the exact UTF-8 bytes the render returned, or
  ``<template>/expected/<conversation>.error``: ``<ExceptionClassName>: <message>`` (UTF-8, no newline)
  when rendering raised. The class name is the bare Python class name (``TemplateError``,
  ``UndefinedError``, ``TypeError``...).

Regeneration is idempotent: each expected/ folder is emptied of .txt/.error files and rewritten.

What this mirrors (transformers ``utils/chat_template_utils.py``; checked once against transformers
4.57.6 and 5.17.0 with jinja2 3.1.6, ``datetime.now()`` patched to the fixed date: identical output
for every template and conversation of the corpus):

``_compile_jinja_template(chat_template)``::

    jinja_env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    jinja_env.filters["tojson"] = tojson          # json.dumps(x, ensure_ascii=False, indent=None,
                                                  #            separators=None, sort_keys=False)
    jinja_env.globals["raise_exception"] = raise_exception   # raises jinja2.exceptions.TemplateError(msg)
    jinja_env.globals["strftime_now"] = strftime_now         # datetime.now().strftime(fmt)
    return jinja_env.from_string(chat_template)

All other environment settings are jinja2 defaults, notably: ``keep_trailing_newline=False`` (one
trailing "\\n" of the template source is dropped), ``autoescape=False``, ``undefined=Undefined``
(an undefined name prints as "" and is falsy; attribute access on it raises UndefinedError),
``finalize=None``, newline ``\\n``.

``AssistantTracker`` is transformers' extension for ``{% generation %}...{% endgeneration %}``:
outside ``return_assistant_tokens_mask=True`` it renders its body unchanged. ``GenerationTag``
below is that behaviour (no index tracking: we never request the mask).

``render_jinja_template(...)`` / ``apply_chat_template(...)`` end in::

    compiled_template.render(messages=chat, tools=None, documents=None,
                             add_generation_prompt=add_generation_prompt,
                             **self.special_tokens_map)

``special_tokens_map`` holds, for each of bos_token, eos_token, unk_token, sep_token, pad_token,
cls_token, mask_token, additional_special_tokens (plus the keys of ``extra_special_tokens``,
which transformers >= 4.50 adds as model-specific special tokens) whose value is truthy, the
string content (an AddedToken ``{"content": ...}`` gives its content; additional_special_tokens
is a list of strings). ``None``/absent/empty entries are not passed. ``--import-tokenizer-config``
builds special_tokens.json by that rule; this renderer just passes special_tokens.json as-is.

The one deliberate difference from transformers: ``strftime_now`` formats a FIXED datetime,
2026-11-27 10:00:00 (naive, a Friday), instead of ``datetime.now()``, so expected files are
stable. The Java renderer under test must be given the same clock. Python's LC_TIME is the
"C" locale here (Python never calls setlocale(LC_TIME, "")), so ``%b`` is "Nov", ``%A`` "Friday".
"""

import argparse
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_DATETIME = datetime.datetime(2026, 11, 27, 10, 0, 0)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(REPO_ROOT, "src", "test", "resources", "chat-templates")

# transformers' SpecialTokensMixin.SPECIAL_TOKENS_ATTRIBUTES, in its order.
SPECIAL_TOKENS_ATTRIBUTES = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
    "additional_special_tokens",
]


class GenerationTag(jinja2.ext.Extension):
    """``{% generation %}body{% endgeneration %}`` renders ``body`` unchanged (transformers'
    AssistantTracker when the assistant-token mask is not requested)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(
            self.call_method("_generation_support"), [], [], body
        ).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def strftime_now(format):
    return FIXED_DATETIME.strftime(format)


def compile_template(chat_template):
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[GenerationTag, jinja2.ext.loopcontrols],
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(chat_template)


def render(chat_template, messages, add_generation_prompt, special_tokens):
    """Returns ("txt", text) or ("error", "ClassName: message")."""
    try:
        template = compile_template(chat_template)
        text = template.render(
            messages=messages,
            tools=None,
            documents=None,
            add_generation_prompt=add_generation_prompt,
            **special_tokens,
        )
        return "txt", text
    except Exception as e:  # noqa: BLE001 - any exception is an expected outcome to record
        return "error", "%s: %s" % (type(e).__name__, e)


def _token_content(value):
    if isinstance(value, dict):
        return value.get("content")
    return value


def special_tokens_from_config(config):
    """transformers' ``special_tokens_map`` computed from a tokenizer_config.json dict."""
    attributes = list(SPECIAL_TOKENS_ATTRIBUTES)
    extra = config.get("extra_special_tokens")
    if isinstance(extra, dict):
        attributes += [k for k in extra if k not in attributes]
    out = {}
    for attr in attributes:
        value = config.get(attr)
        if value is None and isinstance(extra, dict):
            value = extra.get(attr)
        if attr == "additional_special_tokens":
            value = [_token_content(v) for v in (value or [])]
        else:
            value = _token_content(value)
        if value:  # transformers: `if attr_value:`
            out[attr] = value
    return out


def templates_from_config(config):
    """[(suffix, template)]: a plain chat_template gives [("", t)]; a list of named
    templates gives one entry per name (transformers stores them as {"name", "template"})."""
    ct = config.get("chat_template")
    if ct is None:
        return []
    if isinstance(ct, str):
        return [("", ct)]
    if isinstance(ct, dict):
        return list(ct.items())
    return [(item["name"], item["template"]) for item in ct]


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def import_tokenizer_config(corpus, config_path, name):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    templates = templates_from_config(config)
    if not templates:
        sys.exit("%s has no chat_template" % config_path)
    special = special_tokens_from_config(config)
    for suffix, template in templates:
        folder_name = name if suffix in ("", "default") else "%s_%s" % (name, suffix)
        folder = os.path.join(corpus, folder_name)
        os.makedirs(folder, exist_ok=True)
        write_bytes(os.path.join(folder, "template.jinja"), template.encode("utf-8"))
        write_bytes(os.path.join(folder, "special_tokens.json"), dump_json(special))
        print("imported %s" % folder_name)


def dump_json(obj):
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def template_dirs(corpus):
    for entry in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, entry)
        if os.path.isfile(os.path.join(folder, "template.jinja")):
            yield entry, folder


def expected_outputs(corpus):
    """{(template, file name): bytes} for the whole corpus."""
    with open(os.path.join(corpus, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    names = [c["name"] for c in conversations]
    if len(set(names)) != len(names):
        sys.exit("duplicate conversation names in conversations.json")
    out = {}
    for tname, folder in template_dirs(corpus):
        with open(os.path.join(folder, "template.jinja"), "rb") as f:
            chat_template = f.read().decode("utf-8")
        special_path = os.path.join(folder, "special_tokens.json")
        special = {}
        if os.path.exists(special_path):
            with open(special_path, encoding="utf-8") as f:
                special = json.load(f)
        for conv in conversations:
            kind, text = render(chat_template, conv["messages"], conv["add_generation_prompt"], special)
            out[(tname, "%s.%s" % (conv["name"], kind))] = text.encode("utf-8")
    return out


def existing_outputs(corpus):
    out = {}
    for tname, folder in template_dirs(corpus):
        exp = os.path.join(folder, "expected")
        if not os.path.isdir(exp):
            continue
        for fn in sorted(os.listdir(exp)):
            if fn.endswith(".txt") or fn.endswith(".error"):
                with open(os.path.join(exp, fn), "rb") as f:
                    out[(tname, fn)] = f.read()
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    ap.add_argument("--import-tokenizer-config", nargs=2, metavar=("TOKENIZER_CONFIG_JSON", "NAME"))
    args = ap.parse_args(argv)

    if jinja2.__version__ != "3.1.2":
        print("warning: jinja2 %s, the corpus was made with 3.1.2" % jinja2.__version__, file=sys.stderr)

    if args.import_tokenizer_config:
        import_tokenizer_config(args.corpus, *args.import_tokenizer_config)
        return 0

    want = expected_outputs(args.corpus)
    have = existing_outputs(args.corpus)
    if args.check:
        bad = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
        for tname, fn in bad:
            state = "missing" if (tname, fn) not in have else ("stale" if (tname, fn) not in want else "differs")
            print("%s: %s/expected/%s" % (state, tname, fn))
        n_txt = sum(1 for _, fn in want if fn.endswith(".txt"))
        print("%d expected files (%d .txt, %d .error), %d differences" % (len(want), n_txt, len(want) - n_txt, len(bad)))
        return 1 if bad else 0

    for tname, fn in have:
        if (tname, fn) not in want:
            os.remove(os.path.join(args.corpus, tname, "expected", fn))
    for (tname, fn), data in sorted(want.items()):
        exp = os.path.join(args.corpus, tname, "expected")
        os.makedirs(exp, exist_ok=True)
        if have.get((tname, fn)) != data:
            write_bytes(os.path.join(exp, fn), data)
    n_txt = sum(1 for _, fn in want if fn.endswith(".txt"))
    print("wrote %d expected files (%d .txt, %d .error)" % (len(want), n_txt, len(want) - n_txt))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
