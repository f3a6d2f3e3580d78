#!/usr/bin/python3
"""Markdown tables for models/README.md from the model files' stored metrics.

Usage: /usr/bin/python3 models/training/tables.py models/baseline.json models/uprez-x2*.json
"""
import json
import sys


def main():
    models = []
    for path in sys.argv[1:]:
        with open(path) as f:
            models.append(json.load(f))
    base = next((m for m in models if m["name"] == "baseline"), None)
    print("| model | layers | MAC / input px | params | training steps | bicubic protocol: Y-PSNR (gain over bicubic) "
          "| realistic protocol: Y-PSNR (gain over bicubic) | vs baseline (bicubic / realistic) |")
    print("|---|---|---|---|---|---|---|---|")
    for m in models:
        met = m["metrics"]
        b, r = met["bicubicProtocol"], met["realisticProtocol"]
        vs = "—"
        if base is not None and m is not base:
            bb, br = base["metrics"]["bicubicProtocol"], base["metrics"]["realisticProtocol"]
            vs = f"{b['yPsnr'] - bb['yPsnr']:+.2f} / {r['yPsnr'] - br['yPsnr']:+.2f} dB"
        print(f"| {m['name']} | {len(m['layers'])} | {met['macsPerInputPixel']:,} | {met['params']:,} | {met.get('trainingSteps', 0):,} "
              f"| {b['yPsnr']:.2f} dB ({b['gainOverBicubic']:+.2f}) | {r['yPsnr']:.2f} dB ({r['gainOverBicubic']:+.2f}) | {vs} |")
    if models:
        met = models[0]["metrics"]
        print(f"\nBicubic upscaling alone: {met['bicubicProtocol']['bicubicYPsnr']:.2f} dB (bicubic protocol), "
              f"{met['realisticProtocol']['bicubicYPsnr']:.2f} dB (realistic protocol).")
    for protocol in ("bicubic", "realistic"):
        per_photo_table(models, protocol)


def per_photo_table(models, protocol):
    """Y-PSNR per validation photo (realistic: mean of its 4 cases), gain over bicubic in brackets."""
    key = protocol + "Protocol"
    with_photos = [m for m in models if "perPhoto" in m["metrics"].get(key, {})]
    if not with_photos:
        return
    photos = list(with_photos[0]["metrics"][key]["perPhoto"])
    print(f"\n{protocol} protocol, per photo: Y-PSNR in dB (gain over bicubic)\n")
    print("| photo | bicubic | " + " | ".join(m["name"] for m in with_photos) + " |")
    print("|---|---|" + "---|" * len(with_photos))
    for photo in photos:
        bic = with_photos[0]["metrics"][key]["perPhoto"][photo]["bicubicYPsnr"]
        cells = []
        for m in with_photos:
            v = m["metrics"][key]["perPhoto"][photo]["yPsnr"]
            cells.append(f"{v:.2f} ({v - bic:+.2f})")
        print(f"| {photo} | {bic:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
