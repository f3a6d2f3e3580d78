#!/usr/bin/python3
"""Y-PSNR of uprez-sr/1 models on the validation photos, under both protocols.

  bicubic    HR cropped to even size, LR by antialiased bicubic x0.5
  realistic  LR by each of bilinear, bicubic, Lanczos and area downscaling, each
             followed by JPEG at a quality in 75..95 drawn from a generator seeded by
             the photo's name (so every run measures the same 4 cases per photo)

Y-PSNR is on BT.601 studio-range luma with `scale` (2) border pixels shaved; "bicubic"
is PIL's bicubic upscaling of the LR RGB image. The model runs exactly like the
engine: 8-bit luma in, 8-bit activations, 8-bit luma out (float64 here).

Usage: /usr/bin/python3 models/training/evaluate.py models/uprez-x2.json [...]
         [--protocol both|bicubic|realistic] [--per-image] [--write-metrics]
  (the realistic protocol also prints the mean gain for each downscaler)
"""
import argparse
import json
import os

import numpy as np
import torch
from PIL import Image

import degrade
import srnet

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "data")
SHAVE = srnet.SCALE


def load_validation(data_dir=DEFAULT_DATA, folder=None):
    """The validation photos (data/val/, or any folder of photos), cropped to even size."""
    folder = folder or os.path.join(data_dir, "val")
    if not os.path.isdir(folder):
        raise SystemExit(f"no validation photos in {folder}: run /usr/bin/python3 models/training/fetch_data.py first")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    return [(os.path.splitext(n)[0], degrade.even_crop(Image.open(os.path.join(folder, n)).convert("RGB"))) for n in names]


def cases(name, hr, protocol):
    """(label, LR image) pairs of one photo under one protocol."""
    if protocol == "bicubic":
        return [("bicubic", degrade.downscale(hr, "bicubic"))]
    return [(f"{m}+jpeg{q}", degrade.jpeg(degrade.downscale(hr, m), q)) for m, q in degrade.realistic_cases(name)]


def measure(net, images, protocol):
    """Mean and per-image Y-PSNR of the model (or None: bicubic only) and of bicubic upscaling."""
    rows = []
    for name, hr in images:
        target = degrade.studio_y_from_rgb(np.asarray(hr))
        for label, lr in cases(name, hr, protocol):
            bic = np.asarray(lr.resize(hr.size, Image.BICUBIC))
            row = {"image": name, "case": label, "bicubic": degrade.psnr_y(degrade.studio_y_from_rgb(bic), target, SHAVE)}
            if net is not None:
                out = srnet.upscale_bytes(net, degrade.luma_bytes(np.asarray(lr)))
                row["model"] = degrade.psnr_y(degrade.studio_y_from_luma_bytes(out), target, SHAVE)
            rows.append(row)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("bicubic", "model") if k in rows[0]}
    if "model" in mean:
        mean["gain"] = mean["model"] - mean["bicubic"]
    return {"mean": mean, "rows": rows}


def metrics_for(net, images, results=None):
    """The `metrics` entries of a model file (from `results[protocol]` when already measured)."""
    out = {"validation": "python3-skimage photos: " + ", ".join(n for n, _ in images), "shave": SHAVE}
    for protocol in ("bicubic", "realistic"):
        res = (results or {}).get(protocol) or measure(net, images, protocol)
        m = res["mean"]
        out[protocol + "Protocol"] = {"yPsnr": round(m["model"], 3), "bicubicYPsnr": round(m["bicubic"], 3),
                                      "gainOverBicubic": round(m["gain"], 3), "perPhoto": per_photo(res["rows"])}
    return out


def per_photo(rows):
    """Each photo's Y-PSNR of the model and of bicubic (mean over the photo's cases)."""
    photos = {}
    for r in rows:
        photos.setdefault(r["image"], []).append(r)
    return {name: {"yPsnr": round(float(np.mean([r["model"] for r in rs])), 3),
                   "bicubicYPsnr": round(float(np.mean([r["bicubic"] for r in rs])), 3)}
            for name, rs in photos.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--protocol", choices=["both", "bicubic", "realistic"], default="both")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--photos", help="measure on this folder of photos instead (e.g. data/bench/set5)")
    ap.add_argument("--per-image", action="store_true")
    ap.add_argument("--write-metrics", action="store_true", help="store the results in each model file's metrics")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.photos and args.write_metrics:
        ap.error("--write-metrics stores the validation photos' scores: not with --photos")
    torch.set_num_threads(args.threads)
    images = load_validation(args.data, args.photos)
    protocols = ["bicubic", "realistic"] if args.protocol == "both" else [args.protocol]
    for path in args.models:
        net = srnet.load_json(path)
        print(f"{path}: {net.name}, {net.params()} params, {net.macs_per_input_pixel()} MAC/px")
        results = {}
        for protocol in protocols:
            res = results[protocol] = measure(net, images, protocol)
            if args.per_image:
                for r in res["rows"]:
                    print(f"  {r['image']:18s} {r['case']:18s} model {r['model']:7.3f}  bicubic {r['bicubic']:7.3f}  gain {r['model'] - r['bicubic']:+.3f}")
            m = res["mean"]
            print(f"  {protocol:9s} protocol: model {m['model']:.3f} dB, bicubic {m['bicubic']:.3f} dB, gain {m['gain']:+.3f} dB")
            if protocol == "realistic":
                # Which downscaler (each then JPEG) costs the most gain.
                for method in sorted(degrade.METHODS):
                    gains = [r["model"] - r["bicubic"] for r in res["rows"] if r["case"].startswith(method + "+")]
                    print(f"    {method:8s} + JPEG: gain {np.mean(gains):+.3f} dB")
        if args.write_metrics:
            with open(path) as f:
                model = json.load(f)
            model["metrics"].update(metrics_for(net, images, results))
            srnet.write_json(model, path)
            print(f"  metrics written to {path}")


if __name__ == "__main__":
    main()
