#!/usr/bin/python3
"""Scores of models through the real GPU engine (`uprez eval`), on Set5, Set14 and the
committed small set, under both protocols; writes models/training/engine-scores.json and prints
the model card's tables from it.

  /usr/bin/python3 models/training/engine_scores.py models/uprez-x2-fast.json models/uprez-x2.json ...
      [--sets set5,set14,card-check] [--out models/training/engine-scores.json] [--backend gpu]
  /usr/bin/python3 models/training/engine_scores.py --tables   (print the tables of the file only)

Set5 and Set14 come from fetch_data.py (models/training/data/bench/); card-check is
test/models/fixtures/card-check/ (committed, sources in card-check.md; test/models/card-scores.test.ts checks the
card's figures on it). Needs the TypeScript build (npx tsc -p .).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SETS = {
    "set5": os.path.join(HERE, "data", "bench", "set5"),
    "set14": os.path.join(HERE, "data", "bench", "set14"),
    "card-check": os.path.join(ROOT, "test", "models", "fixtures", "card-check"),
}
DEFAULT_OUT = os.path.join(HERE, "engine-scores.json")


def measure(model, folder, backend):
    cmd = ["node", os.path.join(ROOT, "bin", "uprez"), "eval", folder, "--model", model, "--protocol", "both",
           "--backend", backend, "--json"]
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    out = json.loads(res.stdout)
    print(f"  {os.path.basename(model)} on {os.path.basename(folder)}: "
          + ", ".join(f"{m['protocol']} {m['model']:.3f} (bicubic {m['bicubic']:.3f})" for m in out["means"])
          + f" [{time.time() - t0:.0f} s]", flush=True)
    return {m["protocol"]: {"model": round(m["model"], 3), "bicubic": round(m["bicubic"], 3), "cases": m["cases"]}
            for m in out["means"]}


def tables(scores):
    """The model card's tables, from the scores file."""
    first = next(iter(scores.values()))["sets"]
    print("| model | MAC / input px | params | Set5 bicubic protocol | Set14 bicubic protocol "
          "| Set5 realistic protocol | Set14 realistic protocol | training data |")
    print("|---|---|---|---|---|---|---|---|")
    ref = [first[s][p]["bicubic"] for p in ("bicubic", "realistic") for s in ("set5", "set14")]
    print("| bicubic | — | — | " + " | ".join(f"{v:.2f}" for v in ref) + " | — |")
    for name, v in scores.items():
        cells = [f"{v['sets'][s][p]['model']:.2f}" for p in ("bicubic", "realistic") for s in ("set5", "set14")]
        print(f"| {name} | {v['macs']:,} | {v['params']:,} | " + " | ".join(cells) + f" | {v['trainingSets']} |")
    print("\n### Check set\n")
    print("| model | bicubic protocol | realistic protocol |")
    print("|---|---|---|")
    check = first["card-check"]
    print(f"| bicubic | {check['bicubic']['bicubic']:.3f} | {check['realistic']['bicubic']:.3f} |")
    for name, v in scores.items():
        if not os.path.exists(os.path.join(ROOT, "models", name + ".json")):  # the test checks the shipped ones
            continue
        c = v["sets"]["card-check"]
        print(f"| {name} | {c['bicubic']['model']:.3f} | {c['realistic']['model']:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--sets", default="set5,set14,card-check")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--backend", default="gpu", choices=["gpu", "cpu"])
    ap.add_argument("--tables", action="store_true", help="only print the tables of --out")
    args = ap.parse_args()
    scores = json.load(open(args.out)) if os.path.exists(args.out) else {}
    if not args.tables:
        for path in args.models:
            with open(path) as f:
                model = json.load(f)
            name = os.path.splitext(os.path.basename(path))[0]
            entry = {"file": os.path.relpath(os.path.abspath(path), ROOT), "macs": model["metrics"]["macsPerInputPixel"],
                     "params": model["metrics"]["params"], "trainingSets": model["metrics"].get("trainingSets", "debian"),
                     "trainingSteps": model["metrics"].get("trainingSteps"), "sets": {}}
            for s in args.sets.split(","):
                entry["sets"][s] = measure(path, SETS[s], args.backend)
            scores[name] = entry
        with open(args.out, "w") as f:
            json.dump(scores, f, indent=1)
            f.write("\n")
    tables(scores)


if __name__ == "__main__":
    main()
