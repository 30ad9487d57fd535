"""Check a model folder's TorchScript file on a device against the Python fixture.

  python3 tools/check_torchscript_device.py MODEL_DIR FIXTURE_JSON [--device cuda]

Loads MODEL_DIR/model.pt with torch.jit.load(map_location=device), scores the fixture's token ids
(each row alone, then all rows as one right-padded batch, then the batch reversed) and prints the
largest |d log p| of the control tokens and of the best other token against the fixture, which was
computed on the CPU by tools/train_demo_models.py. Exit 1 when anything differs by more than 1e-4.
Needs only torch. Used to check that a file traced on the CPU also runs on a GPU (tracing can bake the
tracing device into ops such as arange).
"""
import argparse
import json
import sys

import torch


def stats(logits, control_ids):
    logp = torch.log_softmax(logits.double(), dim=-1)
    mask = torch.zeros_like(logp, dtype=torch.bool)
    mask[:, control_ids] = True
    other = logp.masked_fill(mask, float("-inf")).max(dim=-1)
    return logp[:, control_ids], other.values, other.indices


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("fixture")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    fx = json.load(open(a.fixture))
    device = torch.device(a.device)
    model = torch.jit.load(f"{a.model_dir}/model.pt", map_location=device).eval()
    tokens = [fx["respond_token"]] + fx["refusal_tokens"]
    control_ids = None
    cases = fx["cases"]
    rows = [c["input_ids"] for c in cases]
    expected = torch.tensor([[c["log_softmax"][t] for t in tokens] for c in cases], dtype=torch.float64)
    expected_other = torch.tensor([c["max_other_log_softmax"] for c in cases], dtype=torch.float64)
    # control-token ids: read from the tokenizer.json added tokens
    vocab = json.load(open(f"{a.model_dir}/tokenizer.json"))["model"]["vocab"]
    control_ids = [vocab[t] for t in tokens]

    def run(batch_rows):
        t = max(len(r) for r in batch_rows)
        ids = torch.zeros(len(batch_rows), t, dtype=torch.long)
        mask = torch.zeros(len(batch_rows), t, dtype=torch.long)
        for i, r in enumerate(batch_rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        with torch.no_grad():
            return model(ids.to(device), mask.to(device)).cpu()

    worst = 0.0
    results = {}
    alone = torch.cat([run([r]) for r in rows])
    batched = run(rows)
    reversed_batch = run(rows[::-1]).flip(0)
    for name, logits in (("alone", alone), ("batched", batched), ("reversed batch", reversed_batch)):
        control, other, other_id = stats(logits, control_ids)
        d = max((control - expected).abs().max().item(), (other - expected_other).abs().max().item())
        ids_ok = all(int(i) == c["max_other_id"] for i, c in zip(other_id, cases))
        results[name] = {"max_abs_diff_vs_fixture": d, "other_ids_match": ids_ok}
        worst = max(worst, d if ids_ok else float("inf"))
    print(json.dumps({"model": a.model_dir, "device": str(device), "torch": torch.__version__,
                      "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
                      "results": results}, indent=1))
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
