#!/usr/bin/python3
"""Fetch the training and validation photographs: Debian packages and git snapshots.

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

and, from public git repositories pinned at a commit (SNAPSHOT_SETS below), each file
checked against the sha256 in snapshot-files.sha256 (committed):

  data/sets/t91/*.png         T91 (Yang et al. 2010), training
  data/sets/bsd200/*.png      the 200 BSDS300 training images, training
  data/sets/div2k-grey/*.png  181 greyscale DIV2K-like photos (igv/FSRCNN-TensorFlow), training
  data/bench/set5, set14      Set5 and Set14: validation, for measuring only, never training
  data/snapshots.json         every file: repository, commit, path, sha256, licence

BSD100 (dcscn's data/bsd100) is never fetched: it stays held out.

A snapshot is read with `git --git-dir=DIR archive COMMIT PATH`. DIR is a git directory
given with --snapshot OWNER/NAME=DIR (e.g. a mirror already on the machine); without one
the repository is cloned from GitHub into data/git/ and the pinned commit is checked.

Usage: /usr/bin/python3 models/training/fetch_data.py [--data DIR] [--sets debian,t91,bsd200,set5,set14]
         [--snapshot jiny2001/dcscn-super-resolution=/path/to/git-dir] [--write-checksums]
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

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


DCSCN = ("jiny2001/dcscn-super-resolution", "d382bc30d41c94ac72f8cb148d61cc4864b3b380")
FSRCNN_TF = ("igv/FSRCNN-TensorFlow", "7497ae69414751bee8132af3f1fe397dc536a2e9")
RESEARCH_ONLY = "research only: no licence for commercial use"
# name: (repository, commit, folder in it, use, licence as the sources state it)
SNAPSHOT_SETS = {
    "t91": DCSCN + ("data/yang91", "train",
                    "no licence stated (Yang et al. 2010, 'Image super-resolution via sparse representation'); "
                    + RESEARCH_ONLY),
    "bsd200": DCSCN + ("data/bsd200", "train",
                       "BSDS300 (Corel images): 'free for non-commercial research and educational purposes'"),
    "div2k-grey": FSRCNN_TF + ("Train", "train",
                               "DIV2K training photos (converted to greyscale upstream): 'academic research purposes only'"),
    "set5": DCSCN + ("data/set5", "bench", "no licence stated (Bevilacqua et al. 2012); " + RESEARCH_ONLY),
    "set14": DCSCN + ("data/set14", "bench", "no licence stated (Zeyde et al. 2010); " + RESEARCH_ONLY),
}
CHECKSUMS = os.path.join(HERE, "snapshot-files.sha256")


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


def snapshot_git_dir(repo, commit, data, given):
    """A git directory holding `commit` of `repo`: the one given, else a clone in data/git/."""
    git_dir = given.get(repo)
    if not git_dir:
        git_dir = os.path.join(data, "git", repo.replace("/", "+") + ".git")
        if not os.path.isdir(git_dir):
            run(["git", "clone", "--bare", f"https://github.com/{repo}", git_dir], data)
    found = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "-t", commit], capture_output=True, text=True)
    if found.stdout.strip() != "commit":
        sys.exit(f"fetch_data: {git_dir} does not hold commit {commit} of {repo}")
    return git_dir


def read_checksums():
    sums = {}
    if os.path.exists(CHECKSUMS):
        for line in open(CHECKSUMS):
            digest, name = line.split()
            sums[name] = digest
    return sums


def fetch_snapshot_set(name, data, given, sums, write_checksums):
    """Extract one set from its pinned commit, check each file's sha256, write RGB PNGs."""
    repo, commit, folder, use, licence = SNAPSHOT_SETS[name]
    git_dir = snapshot_git_dir(repo, commit, data, given)
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", commit, folder], capture_output=True, check=True).stdout
    out_dir = os.path.join(data, "bench" if use == "bench" else "sets", name)
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
            raw = tar.extractfile(member).read()
            digest = hashlib.sha256(raw).hexdigest()
            key = f"{name}/{member.name}"
            if write_checksums:
                sums[key] = digest
            elif sums.get(key) != digest:
                sys.exit(f"fetch_data: {repo}@{commit[:7]} {member.name}: sha256 {digest}, "
                         f"expected {sums.get(key, 'nothing (not in ' + CHECKSUMS + ')')}")
            im = Image.open(io.BytesIO(raw)).convert("RGB")  # greyscale files become R = G = B
            out = os.path.join(out_dir, os.path.splitext(os.path.basename(member.name))[0] + ".png")
            im.save(out)
            entries.append({"file": os.path.relpath(out, data), "repository": f"https://github.com/{repo}",
                            "commit": commit, "path": member.name, "sha256": digest, "licence": licence,
                            "size": list(im.size)})
    print(f"{name}: {len(entries)} files from {repo}@{commit[:7]}:{folder} -> {out_dir}", flush=True)
    return entries


def fetch_snapshots(data, names, given, write_checksums):
    sums = read_checksums()
    manifest = {name: fetch_snapshot_set(name, data, given, sums, write_checksums) for name in names}
    if write_checksums:
        with open(CHECKSUMS, "w") as f:
            for key in sorted(sums):
                f.write(f"{sums[key]}  {key}\n")
        print(f"checksums written to {CHECKSUMS}")
    path = os.path.join(data, "snapshots.json")
    old = json.load(open(path)) if os.path.exists(path) else {}
    old.update(manifest)
    with open(path, "w") as f:
        json.dump(old, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--sets", default="debian,t91,bsd200,set5,set14",
                    help="debian (the Debian photos and the skimage validation photos) and/or " + ", ".join(SNAPSHOT_SETS))
    ap.add_argument("--snapshot", action="append", default=[], metavar="OWNER/NAME=GIT_DIR",
                    help="read that repository from this git directory instead of cloning it")
    ap.add_argument("--write-checksums", action="store_true", help="record the files' sha256 instead of checking them")
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    os.makedirs(data, exist_ok=True)
    names = [n for n in args.sets.split(",") if n]
    unknown = [n for n in names if n != "debian" and n not in SNAPSHOT_SETS]
    if unknown:
        sys.exit(f"fetch_data: unknown set(s) {', '.join(unknown)}; known: debian, {', '.join(SNAPSHOT_SETS)}")
    given = dict(s.split("=", 1) for s in args.snapshot)
    fetch_snapshots(data, [n for n in names if n != "debian"], given, args.write_checksums)
    if "debian" in names:
        fetch_debian(data)


def fetch_debian(data):
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
