#!/usr/bin/python3
"""Fetch the training and validation photographs from Debian packages.

Downloads four .deb files with `apt-get download` (nothing is installed),
unpacks them with `dpkg-deb -x`, picks the photographs listed below
(resolving symlinks, so a file that several wallpaper sizes point to is used once),
and prepares:

  data/train/*.png  training photos, downscaled with an antialiasing Lanczos filter
                    (1/2 or 1/3) so that JPEG artefacts of the originals are not
                    learned as detail; cropped to even size
  data/val/*.png    validation photos from scikit-image (lossless originals, except
                    rocket which is a JPEG upstream), never used for training
  data/manifest.json  every file used: source path, package, licence, sizes

Usage: /usr/bin/python3 models/training/fetch_data.py [--data DIR]
"""
import argparse
import json
import os
import subprocess
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

PACKAGES = ["lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers", "python3-skimage"]

# lomiri-wallpapers-16.04: every photograph (analogpattern and umang are abstract art).
LOMIRI = {
    "aitzgorri_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "Bridge_by_Sander_Klootwijk.jpg": "CC-BY-SA-4.0",
    "Dragonfly_by_Bolly.jpg": "CC-BY-SA-4.0",
    "free_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0",
    "friends_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "greentock_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0",
    "life_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "Picture_0B_by_freespace.jpg": "CC-BY-4.0",
    "Picture_1A_by_freespace.jpg": "CC-BY-4.0",
    "seeding_by_Clements_Engelhardt.jpg": "CC0-1.0",
    "sunset_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "Wine_by_Jakkub_Mede.jpg": "CC-BY-4.0",
}
# mate-backgrounds: the nature/ folder, all photographs, GPL-2+ (debian/copyright).
MATE = ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
        "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower"]
# plasma-workspace-wallpapers: the photographic ones (the others are rendered art,
# Volna included). Licence from each wallpaper's metadata.json: LGPLv3.
PLASMA = ["BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
          "Grey", "Kite", "OneStandsOut", "Path", "summer_1am"]
# python3-skimage data folder: the true photographs (licences from skimage/data/_fetchers.py).
SKIMAGE = {
    "astronaut.png": "public domain (NASA)",
    "camera.png": "CC0 (Lav Varshney)",
    "chelsea.png": "CC0 (Stefan van der Walt)",
    "coffee.png": "CC0 (Rachel Michetti)",
    "motorcycle_left.png": "Middlebury 2014 stereo dataset (skimage BSD-3-Clause distribution)",
    "motorcycle_right.png": "Middlebury 2014 stereo dataset (skimage BSD-3-Clause distribution)",
    "rocket.jpg": "public domain (SpaceX)",
}


def run(cmd, cwd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def fetch_packages(data):
    debs = os.path.join(data, "debs")
    os.makedirs(debs, exist_ok=True)
    have = os.listdir(debs)
    missing = [p for p in PACKAGES if not any(f.startswith(p + "_") and f.endswith(".deb") for f in have)]
    if missing:
        try:
            run(["apt-get", "download"] + missing, debs)
        except (subprocess.CalledProcessError, FileNotFoundError) as err:
            sys.exit(f"fetch_data: `apt-get download {' '.join(missing)}` failed ({err}). "
                     "It needs Debian's archive (try `apt-get update` first).")
    roots = {}
    for p in PACKAGES:
        deb = sorted(f for f in os.listdir(debs) if f.startswith(p + "_") and f.endswith(".deb"))[-1]
        root = os.path.join(data, "extract", p)
        if not os.path.isdir(root):
            os.makedirs(root)
            run(["dpkg-deb", "-x", os.path.join(debs, deb), root], data)
        roots[p] = (root, deb)
    return roots


def largest_image(folder):
    """A plasma wallpaper ships one file per screen size: use the largest."""
    files = [f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".png"))]
    return os.path.join(folder, max(files, key=lambda f: int(f.split("x")[0]) * int(f.split("x")[1].split(".")[0])))


def training_sources(roots):
    src = []
    root = roots["lomiri-wallpapers-16.04"][0]
    for name, lic in sorted(LOMIRI.items()):
        src.append(("lomiri-wallpapers-16.04", os.path.join(root, "usr/share/backgrounds", name), lic))
    root = roots["mate-backgrounds"][0]
    for name in MATE:
        src.append(("mate-backgrounds", os.path.join(root, "usr/share/backgrounds/mate/nature", name + ".jpg"), "GPL-2+"))
    root = roots["plasma-workspace-wallpapers"][0]
    for name in PLASMA:
        folder = os.path.join(root, "usr/share/wallpapers", name, "contents/images")
        src.append(("plasma-workspace-wallpapers", largest_image(folder), "LGPL-3"))
    return src


def even_crop(im):
    return im.crop((0, 0, im.width - im.width % 2, im.height - im.height % 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    roots = fetch_packages(data)
    manifest = {"train": [], "val": []}
    seen = set()

    os.makedirs(os.path.join(data, "train"), exist_ok=True)
    for package, path, lic in training_sources(roots):
        real = os.path.realpath(path)
        if real in seen:  # several names for one file
            continue
        seen.add(real)
        im = Image.open(real).convert("RGB")
        factor = 3 if max(im.size) > 4000 else 2
        small = even_crop(im.resize((im.width // factor, im.height // factor), Image.LANCZOS))
        stem = os.path.splitext(os.path.basename(real))[0]
        if package == "plasma-workspace-wallpapers":
            stem = real.split("/wallpapers/")[1].split("/")[0]
        out = os.path.join("train", f"{package}__{stem}.png")
        small.save(os.path.join(data, out))
        manifest["train"].append({"file": out, "package": package, "licence": lic,
                                  "source": os.path.relpath(real, roots[package][0]), "deb": roots[package][1],
                                  "original": list(im.size), "downscale": factor, "size": list(small.size)})
        print(f"train {out} {im.size} -> {small.size}", flush=True)

    os.makedirs(os.path.join(data, "val"), exist_ok=True)
    folder = os.path.join(roots["python3-skimage"][0], "usr/lib/python3/dist-packages/skimage/data")
    for name, lic in sorted(SKIMAGE.items()):
        im = Image.open(os.path.join(folder, name)).convert("RGB")
        out = os.path.join("val", os.path.splitext(name)[0] + ".png")
        im.save(os.path.join(data, out))
        manifest["val"].append({"file": out, "package": "python3-skimage", "licence": lic,
                                "source": "usr/lib/python3/dist-packages/skimage/data/" + name,
                                "deb": roots["python3-skimage"][1], "size": list(im.size)})
        print(f"val {out} {im.size}", flush=True)

    with open(os.path.join(data, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest['train'])} training and {len(manifest['val'])} validation photos in {data}")


if __name__ == "__main__":
    main()
