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
    print("| model | layers | MAC / input px | params | bicubic protocol: Y-PSNR (gain over bicubic) "
          "| realistic protocol: Y-PSNR (gain over bicubic) | vs baseline (bicubic / realistic) |")
    print("|---|---|---|---|---|---|---|")
    for m in models:
        met = m["metrics"]
        b, r = met["bicubicProtocol"], met["realisticProtocol"]
        vs = "—"
        if base is not None and m is not base:
            bb, br = base["metrics"]["bicubicProtocol"], base["metrics"]["realisticProtocol"]
            vs = f"{b['yPsnr'] - bb['yPsnr']:+.2f} / {r['yPsnr'] - br['yPsnr']:+.2f} dB"
        print(f"| {m['name']} | {len(m['layers'])} | {met['macsPerInputPixel']:,} | {met['params']:,} "
              f"| {b['yPsnr']:.2f} dB ({b['gainOverBicubic']:+.2f}) | {r['yPsnr']:.2f} dB ({r['gainOverBicubic']:+.2f}) | {vs} |")
    if models:
        met = models[0]["metrics"]
        print(f"\nBicubic upscaling alone: {met['bicubicProtocol']['bicubicYPsnr']:.2f} dB (bicubic protocol), "
              f"{met['realisticProtocol']['bicubicYPsnr']:.2f} dB (realistic protocol).")


if __name__ == "__main__":
    main()
