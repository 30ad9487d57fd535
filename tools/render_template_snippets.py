#!/usr/bin/env python3
"""Renders the jinja2 snippets of src/test/resources/jinja-snippets/snippets.json with Python jinja2
configured exactly as Hugging Face configures it (the environment of tools/render_chat_templates.py)
and writes expected.json next to it: {name: {"output": text} | {"error": "Class: message"}}.

The snippets pin Python semantics one feature at a time (whitespace control, number printing,
string methods, slicing, filters, tests, scoping, tojson); ChatTemplateSnippetsTest compares the
Java renderer against expected.json. Run with Debian's python3-jinja2:

    /usr/bin/python3 tools/render_template_snippets.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render_chat_templates import compile_template  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "src", "test", "resources", "jinja-snippets")


def main():
    with open(os.path.join(FOLDER, "snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)
    expected = {}
    for s in snippets:
        try:
            out = compile_template(s["template"]).render(**s.get("vars", {}))
            expected[s["name"]] = {"output": out}
        except Exception as e:  # the class name and message are the expectation
            expected[s["name"]] = {"error": f"{type(e).__name__}: {e}"}
    with open(os.path.join(FOLDER, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(expected)} snippets rendered")


if __name__ == "__main__":
    main()
