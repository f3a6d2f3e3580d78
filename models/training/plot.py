#!/usr/bin/python3
"""Quality against cost for the model files: models/quality-vs-cost.png (drawn with PIL,
as matplotlib is not part of the recipe's dependencies).

Reads each model's metrics (params, macsPerInputPixel, both protocols' gain over bicubic).
Usage: /usr/bin/python3 models/training/plot.py models/*.json [--out models/quality-vs-cost.png]

With --scores models/training/engine-scores.json (engine_scores.py) it draws instead Set5 and
Set14 Y-PSNR under the bicubic protocol through the GPU engine against cost, with issue 18's
targets (hollow squares) and the published GLES2 network's own scores.
"""
import argparse
import json
import math
import os

from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
COLOURS = {"bicubic": (31, 119, 180), "realistic": (214, 39, 40)}


def font(size):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


# Issue 18: (MAC budget, Set5, Set14) each model must reach, and the published network's
# own weights as measured there (the same protocol).
TARGETS = {"uprez-x2-fast": (3000, 36.01, 31.76), "uprez-x2": (7216, 36.51, 32.26), "uprez-x2-hq": (25000, 37.00, 32.63)}
PUBLISHED = ("published GLES2 network", 7216, 36.01, 31.76)


def plot_scores(path, out):
    with open(path) as f:
        scores = json.load(f)
    W, H, L, R, T, B = 900, 620, 80, 30, 50, 70
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    f, fs = font(15), font(13)
    xmin, xmax = math.log10(1500), math.log10(40000)
    panels = (("set5", 1, 33.5, 37.5), ("set14", 2, 30.25, 33.0))
    ph = (H - T - B - 40) // 2
    for k, (name, col, ymin, ymax) in enumerate(panels):
        top = T + k * (ph + 40)

        def px(macs, y):
            return (L + (math.log10(macs) - xmin) / (xmax - xmin) * (W - L - R), top + (ymax - y) / (ymax - ymin) * ph)

        d.rectangle([L, top, W - R, top + ph], outline="black")
        d.text((L + 8, top + 6), f"{'Set5' if name == 'set5' else 'Set14'}, bicubic protocol, GPU engine", fill="black", font=f)
        for macs in (2000, 3000, 5000, 7216, 10000, 25000):
            x, _ = px(macs, ymin)
            d.line([x, top, x, top + ph], fill=(225, 225, 225))
            if k == 1:
                d.text((x - 18, top + ph + 6), f"{macs:,}", fill="black", font=fs)
        y = math.ceil(ymin * 2) / 2
        while y <= ymax:
            _, yy = px(xmin, y)
            d.line([L, yy, W - R, yy], fill=(225, 225, 225))
            d.text((L - 50, yy - 8), f"{y:.1f}", fill="black", font=fs)
            y += 0.5
        bic = next(iter(scores.values()))["sets"][name]["bicubic"]["bicubic"]
        _, yb = px(xmin, bic)
        d.line([L, yb, W - R, yb], fill=(120, 120, 120), width=2)
        d.text((W - R - 120, yb - 18), f"bicubic {bic:.2f}", fill=(90, 90, 90), font=fs)
        for budget, t5, t14 in TARGETS.values():
            x, y = px(budget, t5 if name == "set5" else t14)
            d.rectangle([x - 6, y - 6, x + 6, y + 6], outline=(214, 39, 40), width=2)
            d.text((x - 20, y + 8), "target", fill=(214, 39, 40), font=fs)
        label, macs, p5, p14 = PUBLISHED
        x, y = px(macs, p5 if name == "set5" else p14)
        d.polygon([(x, y - 7), (x - 7, y + 6), (x + 7, y + 6)], fill=(90, 90, 90))
        d.text((x + 9, y + 2), label, fill=(90, 90, 90), font=fs)
        for model, v in scores.items():
            if name not in v["sets"]:
                continue
            x, y = px(v["macs"], v["sets"][name]["bicubic"]["model"])
            colour = (31, 119, 180) if "debian" == v["trainingSets"] else (44, 160, 44)
            d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=colour)
            below = model.endswith("-round1")  # close to its successor: label under the point
            d.text((x + 8, y + 2 if below else y - 18), model, fill="black", font=fs)
    d.text((L + 180, H - 35), "multiply-accumulates per input pixel (log scale)", fill="black", font=f)
    d.text((10, 12), "Y-PSNR, dB (blue: trained on the Debian photos alone; green: with research-only sets)",
           fill="black", font=f)
    img.save(out)
    print(f"wrote {out} ({len(scores)} models)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "quality-vs-cost.png"))
    ap.add_argument("--scores", help="engine-scores.json: plot Set5/Set14 through the engine instead")
    args = ap.parse_args()
    if args.scores:
        plot_scores(args.scores, args.out)
        return
    points = []
    for path in args.models:
        with open(path) as f:
            m = json.load(f)
        met = m["metrics"]
        if "bicubicProtocol" not in met:
            continue
        points.append((m["name"], met["macsPerInputPixel"], met["bicubicProtocol"]["gainOverBicubic"],
                       met["realisticProtocol"]["gainOverBicubic"]))

    W, H, L, R, T, B = 900, 560, 90, 30, 50, 70
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    f, fs = font(15), font(13)
    xmin, xmax = math.log10(1500), math.log10(40000)
    gains = [g for p in points for g in p[2:]] + [0.0]
    ymin, ymax = math.floor(min(gains) * 4) / 4 - 0.25, math.ceil(max(gains) * 4) / 4 + 0.25

    def px(macs, gain):
        return (L + (math.log10(macs) - xmin) / (xmax - xmin) * (W - L - R),
                T + (ymax - gain) / (ymax - ymin) * (H - T - B))

    d.rectangle([L, T, W - R, H - B], outline="black")
    for macs in (2000, 3000, 5000, 7300, 10000, 25000):
        x, _ = px(macs, ymin)
        d.line([x, T, x, H - B], fill=(225, 225, 225))
        d.text((x - 18, H - B + 6), f"{macs:,}", fill="black", font=fs)
    g = ymin
    while g <= ymax + 1e-9:
        _, y = px(xmin, g)
        d.line([L, y, W - R, y], fill=(225, 225, 225))
        d.text((L - 50, y - 8), f"{g:+.2f}", fill="black", font=fs)
        g += 0.25
    d.text((L + 180, H - 35), "multiply-accumulates per input pixel (log scale)", fill="black", font=f)
    d.text((10, 12), "Y-PSNR gain over bicubic upscaling, dB (validation photos, x2)", fill="black", font=f)
    for i, (proto, colour) in enumerate(COLOURS.items()):
        d.ellipse([W - 230, T + 12 + 20 * i, W - 220, T + 22 + 20 * i], fill=colour)
        d.text((W - 212, T + 8 + 20 * i), f"{proto} protocol", fill="black", font=fs)
    _, y0 = px(xmin, 0.0)
    d.line([L, y0, W - R, y0], fill=(120, 120, 120), width=2)  # bicubic upscaling itself
    ours = sorted((p for p in points if p[0] != "baseline"), key=lambda p: p[1])
    for k, colour in ((2, COLOURS["bicubic"]), (3, COLOURS["realistic"])):
        d.line([px(p[1], p[k]) for p in ours], fill=colour, width=2) if len(ours) > 1 else None
    for name, macs, gb, gr in points:
        for gain, colour in ((gb, COLOURS["bicubic"]), (gr, COLOURS["realistic"])):
            x, y = px(macs, gain)
            if name == "baseline":
                d.rectangle([x - 5, y - 5, x + 5, y + 5], fill=colour)
            else:
                d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=colour)
        x, y = px(macs, max(gb, gr))
        label = "baseline (published architecture)" if name == "baseline" else name
        d.text((x + 8, y - 22), label, fill="black", font=fs)
    img.save(args.out)
    print(f"wrote {args.out} ({len(points)} models)")


if __name__ == "__main__":
    main()
