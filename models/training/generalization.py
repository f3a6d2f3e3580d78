#!/usr/bin/python3
"""How well models generalize: their Y-PSNR gains over bicubic on crops of training photos
(seen in training) beside the same measurement on the validation photos (never seen).
A model whose gain is much larger on the training crops has learned those photos rather
than super-resolution in general, so more or more varied training data would help it.

  /usr/bin/python3 models/training/generalization.py models/uprez-x2.json models/uprez-x2-hq.json
"""
import argparse
import json
import os

import torch

import degrade
import evaluate
import srnet
import train


def training_crops(data_dir, every=5, size=(640, 480)):
    """A centre crop (about a validation photo's size) of every `every`-th training photo."""
    w, h = size
    crops = []
    for i, photo in enumerate(train.load_training_photos(data_dir)[::every]):
        x, y = photo.width // 2 - w // 2, photo.height // 2 - h // 2
        crops.append((f"train{i * every}", degrade.even_crop(photo.crop((x, y, x + w, y + h)))))
    return crops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data", default=evaluate.DEFAULT_DATA)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sets = {"training crops": training_crops(args.data), "validation": evaluate.load_validation(args.data)}
    print("| model | photos | bicubic protocol: Y-PSNR (gain) | realistic protocol: Y-PSNR (gain) |")
    print("|---|---|---|---|")
    for path in args.models:
        with open(path) as f:
            net = srnet.from_json_dict(json.load(f))
        for label, images in sets.items():
            means = [evaluate.measure(net, images, p)["mean"] for p in ("bicubic", "realistic")]
            cells = " | ".join(f"{m['model']:.3f} dB ({m['gain']:+.3f})" for m in means)
            print(f"| {os.path.splitext(os.path.basename(path))[0]} | {label} ({len(images)}) | {cells} |", flush=True)


if __name__ == "__main__":
    main()
