#!/usr/bin/python3
"""The same detail of one photo as each model shows it, through the GPU engine:
models/crops.png (bicubic, each model, the original), the bicubic protocol's LR.

  /usr/bin/python3 models/training/crops.py models/uprez-x2-fast.json models/uprez-x2.json models/uprez-x2-hq.json
      [--photo models/training/data/val/astronaut.png --box 280,300,376,396] [--zoom 3] [--out models/crops.png]

The photo defaults to scikit-image's astronaut (public domain, NASA; fetch_data.py puts it in
data/val/). The LR image is Pillow's BICUBIC x0.5 of it; each model's output comes from
`node bin/uprez upscale` (needs the TypeScript build).
"""
import argparse
import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

from plot import font

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--photo", default=os.path.join(HERE, "data", "val", "astronaut.png"))
    ap.add_argument("--box", default="280,300,376,396", help="left,top,right,bottom in the photo")
    ap.add_argument("--zoom", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "crops.png"))
    args = ap.parse_args()
    box = tuple(int(v) for v in args.box.split(","))
    hr = Image.open(args.photo).convert("RGB")
    hr = hr.crop((0, 0, hr.width - hr.width % 2, hr.height - hr.height % 2))
    lr = hr.resize((hr.width // 2, hr.height // 2), Image.BICUBIC)
    panels = [("bicubic", lr.resize(hr.size, Image.BICUBIC))]
    with tempfile.TemporaryDirectory() as tmp:
        lr_path = os.path.join(tmp, "lr.png")
        lr.save(lr_path)
        for model in args.models:
            out = os.path.join(tmp, os.path.basename(model))
            subprocess.run(["node", os.path.join(ROOT, "bin", "uprez"), "upscale", "--model", model, "--out", out, lr_path],
                           check=True, capture_output=True)
            panels.append((os.path.splitext(os.path.basename(model))[0], Image.open(os.path.join(out, "lr.png")).convert("RGB")))
    panels.append(("original", hr))
    w, h = (box[2] - box[0]) * args.zoom, (box[3] - box[1]) * args.zoom
    label_h, gap = 26, 6
    sheet = Image.new("RGB", (len(panels) * (w + gap) - gap, h + label_h), "white")
    d = ImageDraw.Draw(sheet)
    for i, (name, im) in enumerate(panels):
        x = i * (w + gap)
        sheet.paste(im.crop(box).resize((w, h), Image.NEAREST), (x, label_h))
        d.text((x + 4, 4), name, fill="black", font=font(15))
    sheet.save(args.out)
    print(f"wrote {args.out}: {', '.join(n for n, _ in panels)}")


if __name__ == "__main__":
    main()
