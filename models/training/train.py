#!/usr/bin/python3
"""Train an uprez x2 model with 8-bit quantization simulated, export it as uprez-sr/1.

  full run:  nice -n 15 /usr/bin/python3 models/training/train.py --arch uprez-x2
             (needs models/training/fetch_data.py first; checkpoints and log in
             models/training/runs/<arch>/, the model in models/<arch>.json)
  CI check:  /usr/bin/python3 models/training/train.py --quick --out /tmp/uprez-quick.json
             (a few steps on tiny data, under a minute; the exported test vector is what
             the engine must reproduce)
  export:    train.py --arch uprez-x2 --export-only   (from the latest checkpoint)

Training data: HR patches from the training photos (already downscaled by fetch_data.py),
LR made on the fly from the whole photo by either plain antialiased bicubic x0.5 or the
realistic mix (random bilinear/bicubic/Lanczos/area, then JPEG q75-95), luma rounded
to 8 bits like the engine's input texture. Loss: Charbonnier on full-range luma
(--loss mse for the squared error).
"""
import argparse
import json
import math
import os
import random
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

import architectures
import degrade
import evaluate
import srnet

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.dirname(HERE)


class TrainingPhotos:
    """HR luma planes of the training photos and a pool of LR versions of each."""

    def __init__(self, photos, realistic_versions, rng):
        self.rng = rng
        self.realistic_versions = realistic_versions
        self.rgb = [degrade.even_crop(p) for p in photos]
        self.hr = [degrade.luma_full(np.asarray(p)).astype(np.float32) for p in self.rgb]
        self.clean = [degrade.luma_bytes(np.asarray(degrade.downscale(p, "bicubic"))) for p in self.rgb]
        area = np.array([h.size for h in self.hr], dtype=np.float64)
        self.weights = area / area.sum()
        self.refresh()

    def refresh(self):
        """New random realistic degradations, so the network sees many over a run."""
        self.realistic = [[degrade.luma_bytes(np.asarray(degrade.realistic(p, self.rng)[0]))
                           for _ in range(self.realistic_versions)] for p in self.rgb]

    def batch(self, size, patch, p_clean):
        lrs, hrs = [], []
        for _ in range(size):
            i = int(np.searchsorted(np.cumsum(self.weights), self.rng.random()))
            i = min(i, len(self.hr) - 1)
            lr_full = self.clean[i] if self.rng.random() < p_clean else self.rng.choice(self.realistic[i])
            h, w = lr_full.shape
            y, x = self.rng.randrange(h - patch + 1), self.rng.randrange(w - patch + 1)
            lr = lr_full[y:y + patch, x:x + patch]
            hr = self.hr[i][2 * y:2 * y + 2 * patch, 2 * x:2 * x + 2 * patch]
            k = self.rng.randrange(8)  # one of the 8 flips/rotations, the same for both
            if k & 4:
                lr, hr = lr.T, hr.T
            lr, hr = np.rot90(lr, k & 3), np.rot90(hr, k & 3)
            lrs.append(np.ascontiguousarray(lr))
            hrs.append(np.ascontiguousarray(hr))
        lr = torch.from_numpy(np.stack(lrs)[:, None].astype(np.float32) / 255.0)
        hr = torch.from_numpy(np.stack(hrs)[:, None])
        return lr, hr


def training_folder(data_dir, name):
    """Where fetch_data.py puts a training set: the Debian photos in train/, the others in sets/NAME/."""
    return os.path.join(data_dir, "train") if name == "debian" else os.path.join(data_dir, "sets", name)


def load_training_photos(data_dir, sets=("debian",), limit=None):
    photos = []
    for name in sets:
        folder = training_folder(data_dir, name)
        if not os.path.isdir(folder):
            raise SystemExit(f"no training photos in {folder}: run /usr/bin/python3 models/training/fetch_data.py "
                             f"--sets {name} first")
        names = sorted(f for f in os.listdir(folder) if f.endswith(".png"))[:limit]
        photos += [Image.open(os.path.join(folder, n)).convert("RGB") for n in names]
    return photos


def synthetic_photo(seed=1, size=(192, 160)):
    """A procedural image with edges, gradients and texture, for runs without data."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for _ in range(6):
        f, a, c = rng.uniform(0.02, 0.4), rng.uniform(0, np.pi), rng.uniform(0.1, 0.3, 3)
        img += c * np.sin(f * (xx * np.cos(a) + yy * np.sin(a)))[..., None]
    for _ in range(12):
        x0, y0 = rng.integers(0, w - 8), rng.integers(0, h - 8)
        img[y0:y0 + rng.integers(4, 60), x0:x0 + rng.integers(4, 60)] += rng.uniform(-0.5, 0.5, 3)
    img = (img - img.min()) / (img.max() - img.min())
    return Image.fromarray(np.round(img * 255).astype(np.uint8))


def set_identity(conv):
    """Make a C->C convolution (grouped 3x3 or 1x1) pass its input through unchanged: with
    inputs already in [0,1] and on k/255, the bounded ReLU and the rounding keep them too."""
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        per_group = conv.weight.shape[1]
        centre = conv.weight.shape[2] // 2
        for o in range(conv.weight.shape[0]):
            conv.weight[o, o % per_group, centre, centre] = 1.0


def embed_kernel(small, big):
    """big (a k x k convolution) becomes small (a smaller kernel, same channels) with a ring
    of zero taps around it: with edge-replicate padding the outputs are the same."""
    k, s = big.shape[-1], small.shape[-1]
    assert big.shape[:2] == small.shape[:2] and k > s and (k - s) % 2 == 0, \
        f"cannot embed {tuple(small.shape)} in {tuple(big.shape)}"
    o = (k - s) // 2
    big.zero_()
    big[..., o:o + s, o:o + s] = small


def grow(net, state, log):
    """Load a trained network of the same width into this one, which starts as exactly
    the trained network and trains on from there: its blocks keep their weights, new
    blocks (if any) go in before the last one as identities, and a larger first kernel
    gets the trained one in its centre with zeros around it. The same shape is a plain
    continuation (a second learning-rate cycle from a shipped model)."""
    old = []  # the trained network's weight shapes, layer by layer
    while f"convs.{len(old)}.weight" in state:
        old.append(state[f"convs.{len(old)}.weight"].shape)
    extra = len(net.convs) - len(old)
    assert extra >= 0 and extra % 2 == 0, f"cannot grow {len(old)} layers into {len(net.convs)}"
    new_index = list(range(len(old) - 2)) + [len(net.convs) - 2, len(net.convs) - 1]
    wider_first = net.convs[0].weight.shape[-1] > old[0][-1]
    with torch.no_grad():
        for i, j in enumerate(new_index):
            weight = net.convs[j].weight
            if j == 0 and wider_first:
                embed_kernel(state["convs.0.weight"], weight)
            else:
                assert weight.shape == old[i], f"layer {i}: {tuple(old[i])} does not fit layer {j}"
                weight.copy_(state[f"convs.{i}.weight"])
            net.convs[j].bias.copy_(state[f"convs.{i}.bias"])
    for j in range(len(old) - 2, len(net.convs) - 2):
        set_identity(net.convs[j])
    if extra:
        log(f"grown from {len(old)} to {len(net.convs)} layers: identity blocks at layers {len(old) - 2}..{len(net.convs) - 3}")
    if not extra and not wider_first:
        log(f"continues from the trained network ({len(old)} layers, the same shape)")
    if wider_first:
        log(f"first kernel grown from {old[0][-1]}x{old[0][-1]} to {net.convs[0].weight.shape[-1]}x{net.convs[0].weight.shape[-1]}")


def trained_start(path, device):
    """What --grow-from starts from: a run's checkpoint (weights, step, random state) or a
    shipped model file (its exact float32 weights and metrics.trainingSteps)."""
    if path.endswith(".json"):
        with open(path) as f:
            model = json.load(f)
        state = srnet.from_json_dict(model, torch.float32).state_dict()
        return {"net": state, "step": int(model["metrics"].get("trainingSteps", 0)), "rng": None,
                "sets": model["metrics"].get("trainingSets", "debian")}
    return torch.load(path, map_location=device)


def union_of_sets(*lists):
    """The training sets a model has seen, over every stage ("debian,t91" + "t91,bsd200")."""
    seen = []
    for sets in lists:
        seen += [s for s in sets.split(",") if s and s not in seen]
    return ",".join(seen)


def charbonnier(a, b, eps=1e-3):
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


# --loss: Charbonnier is the recipe's (robust to outliers); mse is what PSNR measures.
LOSSES = {"charbonnier": charbonnier, "mse": lambda a, b: ((a - b) ** 2).mean()}


def test_vector(net_json, luma, width=16, height=12):
    """A width x height window of an LR luma plane (the most textured on a coarse grid)
    and the bytes our float64 forward produces for it; also how float32 differs."""
    h, w = luma.shape
    best, where = -1.0, (0, 0)
    for y in range(0, h - height + 1, max(1, height // 2)):
        for x in range(0, w - width + 1, max(1, width // 2)):
            s = float(luma[y:y + height, x:x + width].std())
            if s > best:
                best, where = s, (y, x)
    y, x = where
    patch = np.ascontiguousarray(luma[y:y + height, x:x + width])
    out64 = srnet.upscale_bytes(srnet.from_json_dict(net_json, torch.float64), patch, torch.float64)
    out32 = srnet.upscale_bytes(srnet.from_json_dict(net_json, torch.float32), patch, torch.float32)
    diff = np.abs(out64.astype(int) - out32.astype(int))
    test = {"input": {"width": width, "height": height, "luma": patch.flatten().tolist()},
            "output": {"width": 2 * width, "height": 2 * height, "luma": out64.flatten().tolist()}}
    return test, {"float32BytesDiffering": int((diff > 0).sum()), "float32MaxDiff": int(diff.max())}


def export(net, path, test_luma, images, log, extra=None):
    model = srnet.to_json_dict(net)
    model["test"], agreement = test_vector(model, test_luma)
    metrics = dict(extra or {})
    if images:
        metrics.update(evaluate.metrics_for(srnet.from_json_dict(model), images))
    model["metrics"].update(metrics)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    srnet.write_json(model, path)
    log(f"exported {path}: {json.dumps(model['metrics'])}; test vector float32 vs float64: {agreement}")
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="uprez-x2", choices=sorted(architectures.ARCHITECTURES))
    ap.add_argument("--quick", action="store_true", help="a few steps on tiny data, export to --out (CI)")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=48, help="LR patch side")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--loss", choices=sorted(LOSSES), default="charbonnier")
    ap.add_argument("--p-clean", type=float, default=0.4, help="share of plain bicubic LR (the rest: realistic mix)")
    ap.add_argument("--realistic-versions", type=int, default=3)
    ap.add_argument("--refresh-every", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=evaluate.DEFAULT_DATA)
    ap.add_argument("--sets", default="debian",
                    help="training sets, comma-separated: debian (redistributable), t91, bsd200, div2k-grey "
                         "(research-only; fetch_data.py --sets ...)")
    ap.add_argument("--run-dir", help="checkpoints and log (default models/training/runs/<arch>)")
    ap.add_argument("--out", help="model file (default models/<arch>.json; --quick: a temp file)")
    ap.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    ap.add_argument("--export-only", action="store_true", help="export the run's checkpoint and stop")
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--new-cycle", action="store_true",
                    help="with --resume: a new cosine cycle from --lr, from the checkpoint's step to --steps")
    ap.add_argument("--grow-from", metavar="CHECKPOINT|MODEL.json",
                    help="start from a trained network of the same width, the same or a smaller stack "
                         "(identity blocks added, a larger first kernel zero-padded), a run's checkpoint or a model file, "
                         "counting its steps; the cosine cycle runs from there to --steps")
    args = ap.parse_args()

    if args.quick:
        args.steps, args.batch, args.patch, args.refresh_every = 40, 4, 24, 10 ** 9
        args.out = args.out or os.path.join(tempfile.gettempdir(), f"uprez-quick-{args.arch}.json")
        args.run_dir = args.run_dir or tempfile.mkdtemp(prefix="uprez-quick-run-")
    args.run_dir = args.run_dir or os.path.join(HERE, "runs", args.arch)
    args.out = args.out or os.path.join(MODELS_DIR, f"{args.arch}.json")
    os.makedirs(args.run_dir, exist_ok=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log_file = open(os.path.join(args.run_dir, "train.log"), "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    have_data = os.path.isdir(training_folder(args.data, "debian"))
    if args.quick:
        # Two small photos when fetched, else a procedural image: CI needs no download.
        photos = load_training_photos(args.data)[:2] if have_data else [synthetic_photo(1), synthetic_photo(2)]
        if have_data:
            photos = [p.resize((p.width // 4, p.height // 4), Image.LANCZOS) for p in photos]
        images = []  # no PSNR in the quick run
    else:
        photos = load_training_photos(args.data, args.sets.split(","))
        images = evaluate.load_validation(args.data)
    have_val = os.path.isdir(os.path.join(args.data, "val"))
    test_source = evaluate.load_validation(args.data)[0][1] if have_val else synthetic_photo(3)
    test_luma = degrade.luma_bytes(np.asarray(degrade.downscale(degrade.even_crop(test_source), "bicubic")))

    arch = architectures.ARCHITECTURES[args.arch]
    net = srnet.SRNet(arch["layers"], arch["residual"], args.arch).to(device)
    limit = architectures.LIMITS.get(args.arch)
    if limit and net.macs_per_input_pixel() > limit:
        sys.exit(f"{args.arch}: {net.macs_per_input_pixel()} MAC per input pixel, but its limit is {limit}")
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, cycle_start = 0, 0  # cycle_start: where the learning-rate cycle began
    seen_sets = args.sets  # every set the network has trained on, earlier stages included
    ckpt_path = os.path.join(args.run_dir, "checkpoint.pt")
    if (args.resume or args.export_only) and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device)
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["opt"])
        step = ckpt["step"]
        rng.setstate(ckpt["rng"])
        cycle_start = step if args.new_cycle else ckpt.get("cycleStart", 0)
        seen_sets = union_of_sets(ckpt.get("sets", "debian"), args.sets)
        log(f"resumed {ckpt_path} at step {step}")
    elif args.export_only:
        sys.exit(f"no checkpoint at {ckpt_path}")
    elif args.grow_from:
        start = trained_start(args.grow_from, device)
        grow(net, start["net"], log)
        step = cycle_start = start["step"]
        seen_sets = union_of_sets(start.get("sets", "debian"), args.sets)
        if start["rng"] is not None:
            rng.setstate(start["rng"])
    extra = {"trainingSteps": step, "trainingSets": seen_sets}
    if args.export_only:
        export(net.cpu(), args.out, test_luma, images, log, extra)
        return

    small = [p for p in photos if min(p.size) // 2 < args.patch]
    if small:  # a few T91 images are under 96 px: no room for a patch
        photos = [p for p in photos if min(p.size) // 2 >= args.patch]
        log(f"{len(small)} photos smaller than 2 x {args.patch} px left out")
    log(f"{args.arch}: {net.params()} params, {net.macs_per_input_pixel()} MAC/px, {len(photos)} photos, "
        f"sets {args.sets}, device {device}, {args.steps} steps of {args.batch}x{args.patch}^2")
    data = TrainingPhotos(photos, args.realistic_versions, rng)
    net.train()
    t0, running, first_step = time.time(), 0.0, step
    while step < args.steps:
        # Cosine decay from lr to lr/50.
        t = (step - cycle_start) / (args.steps - cycle_start)
        lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
        for group in opt.param_groups:
            group["lr"] = lr
        lr_batch, hr_batch = data.batch(args.batch, args.patch, args.p_clean)
        out = net(lr_batch.to(device))
        loss = LOSSES[args.loss](out, hr_batch.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        running += loss.item()
        if step % args.log_every == 0 or step == args.steps:
            n = args.log_every if step % args.log_every == 0 else step % args.log_every
            log(f"step {step} loss {running / n:.5f} lr {lr:.2e} {(time.time() - t0) / (step - first_step):.3f} s/step")
            running = 0.0
        if step % args.refresh_every == 0:
            data.refresh()
        if step % args.checkpoint_every == 0 or step == args.steps:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng.getstate(),
                        "arch": args.arch, "cycleStart": cycle_start, "sets": seen_sets}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    net.eval()
    extra["trainingSteps"] = step
    export(net.cpu(), args.out, test_luma, images, log, extra)


if __name__ == "__main__":
    main()
