#!/usr/bin/env node
// Writes src/test/resources/tokenizers/<name>/expected_ids.json: the token ids of every expected
// chat-template render of that model (src/test/resources/chat-templates/<name>/expected/*.txt),
// encoded WITHOUT special tokens (add_special_tokens=false, as transformers does after
// apply_chat_template(tokenize=False)). Added/special tokens written in the text (<|im_start|>...)
// are still matched as single tokens, as Hugging Face tokenizers do by default.
//
// The ids come from an implementation of Hugging Face tokenizers that shares no code with the
// Java one under test: @lenml/tokenizers (a fork of transformers.js' tokenizers). They are
// cross-checked against @huggingface/tokenizers (tokenizers.js) when that is installed too;
// any disagreement aborts. Both load the local tokenizer.json + tokenizer_config.json only
// (no network, no hub).
//
// Run from the repository root (node >= 18; the npm registry is needed once, for the install):
//
//   mkdir -p /tmp/chat-template-tokenizers && (cd /tmp/chat-template-tokenizers && npm init -y >/dev/null \
//       && npm install @lenml/tokenizers@3.7.2 @huggingface/tokenizers@0.2.0)
//   node tools/expected_token_ids.mjs [--modules /tmp/chat-template-tokenizers/node_modules] [qwen3 ...]
//
// With no model names it does every folder of src/test/resources/tokenizers/ that has a
// tokenizer.json and a chat-templates/<same name>/ folder. Output is deterministic (sorted by
// conversation name), so re-running on an unchanged corpus rewrites identical files.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tokenizersDir = path.join(repoRoot, "src", "test", "resources", "tokenizers");
const templatesDir = path.join(repoRoot, "src", "test", "resources", "chat-templates");

const args = process.argv.slice(2);
let modulesDir = process.env.TOKENIZER_JS_MODULES || "/tmp/chat-template-tokenizers/node_modules";
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--modules") modulesDir = args[++i];
  else names.push(args[i]);
}

const requireFrom = createRequire(path.join(path.resolve(modulesDir), "..", "noop.js"));
async function load(pkg) {
  try {
    // createRequire resolves the CommonJS entry; its exports arrive as the default export.
    const mod = await import(pathToFileURL(requireFrom.resolve(pkg)).href);
    return mod.default && typeof mod.default === "object" ? { ...mod.default, ...mod } : mod;
  } catch (e) {
    return null;
  }
}

const lenml = await load("@lenml/tokenizers");
if (!lenml) {
  console.error(`@lenml/tokenizers not found under ${modulesDir}; see the install line at the top of this file`);
  process.exit(2);
}
const hf = await load("@huggingface/tokenizers");
if (!hf) console.warn("@huggingface/tokenizers not installed: no cross-check");

const models = names.length
  ? names
  : fs.readdirSync(tokenizersDir).filter(
      (n) =>
        fs.existsSync(path.join(tokenizersDir, n, "tokenizer.json")) &&
        fs.existsSync(path.join(templatesDir, n, "expected")),
    ).sort();

for (const name of models) {
  const dir = path.join(tokenizersDir, name);
  const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const tokA = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  const tokB = hf ? new hf.Tokenizer(tokenizerJSON, tokenizerConfig) : null;

  const expectedDir = path.join(templatesDir, name, "expected");
  const files = fs.readdirSync(expectedDir).filter((f) => f.endsWith(".txt")).sort();
  const out = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(expectedDir, f), "utf8");
    const ids = Array.from(tokA.encode(text, { add_special_tokens: false }));
    if (tokB) {
      const other = Array.from(tokB.encode(text, { add_special_tokens: false }).ids);
      if (JSON.stringify(other) !== JSON.stringify(ids)) {
        console.error(`${name}/${f}: @lenml/tokenizers and @huggingface/tokenizers disagree`);
        console.error(JSON.stringify(ids));
        console.error(JSON.stringify(other));
        process.exit(1);
      }
    }
    const decoded = tokA.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    if (decoded !== text) {
      console.error(`${name}/${f}: decode(encode(text)) != text`);
      process.exit(1);
    }
    out.push({ conversation: f.slice(0, -".txt".length), text, ids });
  }
  // One entry per line keeps diffs readable while staying plain JSON.
  const body = "[\n" + out.map((e) => "  " + JSON.stringify(e)).join(",\n") + "\n]\n";
  fs.writeFileSync(path.join(dir, "expected_ids.json"), body);
  console.log(`${name}: ${out.length} renders encoded${tokB ? " (cross-checked)" : ""}`);
}
