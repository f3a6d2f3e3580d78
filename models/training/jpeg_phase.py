#!/usr/bin/python3
"""Experiment (not part of the recipe): does telling the network where JPEG's 8x8 block
grid lies help it on the realistic protocol?

In the realistic protocol (and for most photos a user shows) JPEG compresses the LR image
itself, so its block edges fall where x mod 8 = 0 and y mod 8 = 0. A convolutional
network cannot see that phase away from the image border. Here every chosen layer gets a
per-phase bias: a C x 64 table indexed by (y mod 8, x mod 8) of the LR pixel, added after
the convolution (on a GPU: one fetch from an 8x8 repeating texture per pass, no MACs).
The tables start at zero, so the run starts exactly as the shipped model, and it
fine-tunes both with the recipe's data (realistic LR made from a flipped or rotated photo,
so the grid stays at the origin of what the network sees).

  /usr/bin/python3 models/training/jpeg_phase.py --model models/uprez-x2.json --layers 0 \
      --steps 3000 --out /tmp/phase.pt            (--layers all: a table on every layer;
                                                   --steps 0: only measure the model)

It prints the Y-PSNR of both protocols (evaluate.py's measurement, with the tables'
forward in float64) every --eval-every steps. Nothing here is exported or shipped.
"""
import argparse
import json
import math
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import degrade
import evaluate
import srnet
import train


def flip_rotate(a, k):
    """One of the 8 flips/rotations of an HxW(xC) array (a view)."""
    if k & 4:
        a = np.swapaxes(a, 0, 1)
    return np.rot90(a, k & 3, axes=(0, 1))


def phase_map(y, x, height, width):
    """(y mod 8) * 8 + (x mod 8) for a height x width window whose top-left is (y, x)."""
    return ((y + np.arange(height))[:, None] % 8 * 8 + (x + np.arange(width))[None, :] % 8).astype(np.int64)


class GridPhotos(train.TrainingPhotos):
    """The recipe's data, but a realistic LR version is made from a flipped or rotated photo
    and its patches are not flipped again, so the JPEG grid stays at the LR origin."""

    def refresh(self):
        self.realistic = []
        for rgb in self.rgb:
            versions = []
            for _ in range(self.realistic_versions):
                k = self.rng.randrange(8)
                photo = Image.fromarray(np.ascontiguousarray(flip_rotate(np.asarray(rgb), k)))
                versions.append((k, degrade.luma_bytes(np.asarray(degrade.realistic(photo, self.rng)[0]))))
            self.realistic.append(versions)

    def batch(self, size, patch, p_clean):
        lrs, hrs, phases = [], [], []
        cumulative = np.cumsum(self.weights)
        for _ in range(size):
            i = min(int(np.searchsorted(cumulative, self.rng.random())), len(self.hr) - 1)
            if self.rng.random() < p_clean:  # no grid: flip the patch itself
                lr_full, hr_full, k_patch = self.clean[i], self.hr[i], self.rng.randrange(8)
            else:
                k, lr_full = self.rng.choice(self.realistic[i])
                hr_full, k_patch = flip_rotate(self.hr[i], k), 0
            h, w = lr_full.shape
            y, x = self.rng.randrange(h - patch + 1), self.rng.randrange(w - patch + 1)
            lrs.append(np.ascontiguousarray(flip_rotate(lr_full[y:y + patch, x:x + patch], k_patch)))
            hrs.append(np.ascontiguousarray(flip_rotate(hr_full[2 * y:2 * (y + patch), 2 * x:2 * (x + patch)], k_patch)))
            phases.append(phase_map(y, x, patch, patch))
        lr = torch.from_numpy(np.stack(lrs)[:, None].astype(np.float32) / 255.0)
        return lr, torch.from_numpy(np.stack(hrs)[:, None]), torch.from_numpy(np.stack(phases))


class PhaseBiasNet(nn.Module):
    """An SRNet with a per-phase bias table on the chosen layers."""

    def __init__(self, net, layers):
        super().__init__()
        self.net, self.layers = net, list(layers)
        dtype = next(net.parameters()).dtype
        self.tables = nn.ParameterList(nn.Parameter(torch.zeros(net.spec[i]["out"], 64, dtype=dtype)) for i in self.layers)

    def forward(self, luma, phase):
        x = luma
        for i, (conv, spec) in enumerate(zip(self.net.convs, self.net.spec)):
            pad = spec["kernel"] // 2
            x = conv(F.pad(x, (pad,) * 4, mode="replicate") if pad else x)
            if i in self.layers:
                x = x + self.tables[self.layers.index(i)][:, phase].permute(1, 0, 2, 3)
            x = srnet.quantize8(torch.clamp(x, 0.0, 1.0))
        v = F.pixel_shuffle(x, srnet.SCALE)
        r = self.net.residual
        if not r:
            return v
        return torch.clamp(srnet.upsample_base(luma, r["base"]) + r["gain"] * (v - r["offset"]), 0.0, 1.0)


@torch.no_grad()
def measure(model, images, protocol):
    """Mean Y-PSNR as evaluate.py measures it, each LR image's grid at its origin."""
    scores = []
    for name, hr in images:
        target = degrade.studio_y_from_rgb(np.asarray(hr))
        for _, lr in evaluate.cases(name, hr, protocol):
            luma = degrade.luma_bytes(np.asarray(lr))
            x = torch.from_numpy(luma.astype(np.float64) / 255.0)[None, None]
            out = model(x, torch.from_numpy(phase_map(0, 0, *luma.shape))[None])[0, 0].numpy()
            out_bytes = np.clip(np.floor(out * 255.0 + 0.5), 0, 255)
            scores.append(degrade.psnr_y(degrade.studio_y_from_luma_bytes(out_bytes), target, evaluate.SHAVE))
    return float(np.mean(scores))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/uprez-x2.json")
    ap.add_argument("--layers", default="0", help="comma-separated layer indices, 'all' or 'none'")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=3e-4, help="the network's peak learning rate (cosine decay)")
    ap.add_argument("--table-lr", type=float, default=1e-3, help="the tables' peak learning rate")
    ap.add_argument("--p-clean", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=1500)
    ap.add_argument("--out", help="where to save the network and its tables (torch.save)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    with open(args.model) as f:
        net = srnet.from_json_dict(json.load(f), torch.float32)
    count = len(net.spec)
    named = {"none": [], "all": list(range(count))}
    layers = named[args.layers] if args.layers in named else [int(s) for s in args.layers.split(",")]
    model = PhaseBiasNet(net, layers)
    images = evaluate.load_validation()

    def report(step):
        twin = PhaseBiasNet(srnet.from_json_dict(srnet.to_json_dict(net), torch.float64), layers)
        with torch.no_grad():
            for table, copy in zip(model.tables, twin.tables):
                copy.copy_(table.double())
        print(f"{time.strftime('%H:%M:%S')} step {step}: bicubic protocol {measure(twin, images, 'bicubic'):.3f} dB, "
              f"realistic protocol {measure(twin, images, 'realistic'):.3f} dB", flush=True)
        if args.out:
            torch.save({"net": net.state_dict(), "tables": [t.detach() for t in model.tables], "layers": layers}, args.out)

    print(f"{args.model}: phase tables on layers {layers}, {args.steps} steps", flush=True)
    if args.steps == 0:
        report(0)
        return
    data = GridPhotos(train.load_training_photos(evaluate.DEFAULT_DATA), 3, rng)
    groups = [{"params": list(net.parameters()), "peak": args.lr}]
    if layers:
        groups.append({"params": list(model.tables.parameters()), "peak": args.table_lr})
    opt = torch.optim.Adam(groups, lr=args.lr)
    model.train()
    t0, running = time.time(), 0.0
    for step in range(1, args.steps + 1):
        decay = 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (step - 1) / args.steps))
        for group in opt.param_groups:
            group["lr"] = group["peak"] * decay
        lr, hr, phase = data.batch(16, 48, args.p_clean)
        loss = train.charbonnier(model(lr, phase), hr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        running += loss.item()
        if step % 100 == 0:
            print(f"step {step} loss {running / 100:.5f} {(time.time() - t0) / step:.3f} s/step", flush=True)
            running = 0.0
        if step % 1500 == 0:
            data.refresh()
        if step % args.eval_every == 0 or step == args.steps:
            report(step)


if __name__ == "__main__":
    main()
