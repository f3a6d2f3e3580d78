"""The uprez-sr/1 network in PyTorch, with the exact inference semantics of the GPU engine.

Semantics (issue 3, "model file"), simulated here both for training and for export:
  - input: luma bytes / 255 (Y = 0.299 R + 0.587 G + 0.114 B, rounded to k/255);
  - each layer: conv2d "same" size with edge-replicate padding, groups, bias,
    bounded ReLU min(max(x, 0), 1), then rounding to the nearest k/255 (an RGBA8
    render target); in training the rounding uses a straight-through estimator;
  - output: depth-to-space in PixelShuffle order (channel = dy*2 + dx); with a
    residual, out = clamp(base(Y) + gain * (v - offset), 0, 1), base being
    F.interpolate(mode='bicubic' or 'bilinear', align_corners=False) of the input;
  - output bytes = round(out * 255).
Rounding is always to nearest with ties up, floor(x * 255 + 0.5), as in the engines.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "uprez-sr/1"
SCALE = 2


def round8(x):
    """x (in [0,1]) rounded to the nearest k/255, ties up: floor(x * 255 + 0.5) / 255,
    the rule of the engines (src/sr/SEMANTICS.md)."""
    return torch.floor(x * 255.0 + 0.5) / 255.0


def quantize8(x):
    """round8 in the forward pass, identity gradient (straight-through estimator)."""
    return x + (round8(x) - x).detach()


def upsample_base(luma, base):
    n, c, h, w = luma.shape
    return F.interpolate(luma, size=(h * SCALE, w * SCALE), mode=base, align_corners=False)


class SRNet(nn.Module):
    """layers: list of dicts {in, out, kernel, groups}; residual: None or {base, offset, gain}."""

    def __init__(self, layers, residual=None, name="uprez"):
        super().__init__()
        self.name = name
        self.spec = [dict(l) for l in layers]
        self.residual = dict(residual) if residual else None
        check_spec(self.spec)
        self.convs = nn.ModuleList(
            nn.Conv2d(l["in"], l["out"], l["kernel"], groups=l["groups"], bias=True) for l in self.spec)
        self.reset_parameters()

    def reset_parameters(self):
        for i, conv in enumerate(self.convs):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.constant_(conv.bias, 0.02)
        # The last layer starts near a flat 0.5: mid-range, so its bounded ReLU passes
        # gradients (a last layer stuck at 0 or 1 never learns). With a residual this is
        # v = offset, i.e. plain upsampling, and the detail grows from there.
        last = self.convs[-1]
        last.weight.data.mul_(0.1)
        nn.init.constant_(last.bias, self.residual["offset"] if self.residual else 0.5)

    def forward(self, luma, quantize=True):
        x = luma
        for conv, l in zip(self.convs, self.spec):
            pad = l["kernel"] // 2
            if pad:
                x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
            x = torch.clamp(conv(x), 0.0, 1.0)
            if quantize:
                x = quantize8(x)
        v = F.pixel_shuffle(x, SCALE)
        if not self.residual:
            return v
        r = self.residual
        return torch.clamp(upsample_base(luma, r["base"]) + r["gain"] * (v - r["offset"]), 0.0, 1.0)

    def macs_per_input_pixel(self):
        return sum(l["out"] * (l["in"] // l["groups"]) * l["kernel"] ** 2 for l in self.spec)

    def params(self):
        return sum(p.numel() for p in self.parameters())

    def halo(self):
        """LR pixels of context each output needs on every side (network only)."""
        return sum(l["kernel"] // 2 for l in self.spec)


def check_spec(layers):
    """The shape rules of a GLES2 pass: 4 channels per RGBA8 texture."""
    prev = 1
    for i, l in enumerate(layers):
        assert l["in"] == prev, f"layer {i}: in={l['in']} but the previous layer gives {prev}"
        assert l["kernel"] % 2 == 1, f"layer {i}: kernel must be odd"
        assert l["out"] % 4 == 0 and (l["in"] == 1 or l["in"] % 4 == 0), f"layer {i}: channels must be multiples of 4"
        g = l["groups"]
        assert l["in"] % g == 0 and l["out"] % g == 0, f"layer {i}: groups must divide in and out"
        if g > 1:
            assert (l["in"] // g) % 4 == 0 and (l["out"] // g) % 4 == 0, f"layer {i}: in/groups and out/groups must be multiples of 4"
        prev = l["out"]
    assert prev == SCALE * SCALE, "the last layer must give scale*scale = 4 channels"


def to_json_dict(net, test=None, metrics=None):
    layers = []
    for conv, l in zip(net.convs, net.spec):
        w = conv.weight.detach().to("cpu", torch.float32).flatten().tolist()  # [out][in/groups][ky][kx]
        b = conv.bias.detach().to("cpu", torch.float32).tolist()
        layers.append({"op": "conv2d", "in": l["in"], "out": l["out"], "kernel": l["kernel"], "groups": l["groups"],
                       "activation": "brelu", "weights": [float("%.9g" % v) for v in w],
                       "bias": [float("%.9g" % v) for v in b]})
    model = {"format": FORMAT, "name": net.name, "scale": SCALE, "input": "luma", "layers": layers,
             "output": {"op": "depthToSpace", "block": SCALE, "residual": net.residual}}
    if test is not None:
        model["test"] = test
    base_metrics = {"params": net.params(), "macsPerInputPixel": net.macs_per_input_pixel()}
    base_metrics.update(metrics or {})
    model["metrics"] = base_metrics
    return model


def from_json_dict(model, dtype=torch.float64):
    assert model["format"] == FORMAT, f"not a {FORMAT} model"
    spec = [{k: l[k] for k in ("in", "out", "kernel", "groups")} for l in model["layers"]]
    net = SRNet(spec, model["output"]["residual"], model.get("name", "uprez")).to(dtype)
    with torch.no_grad():
        for conv, l in zip(net.convs, model["layers"]):
            # The weights are float32 values (what the engines upload); keep exactly those.
            conv.weight.copy_(torch.tensor(l["weights"], dtype=torch.float32).to(dtype).view_as(conv.weight))
            conv.bias.copy_(torch.tensor(l["bias"], dtype=torch.float32).to(dtype))
    return net.eval()


def load_json(path, dtype=torch.float64):
    with open(path) as f:
        return from_json_dict(json.load(f), dtype)


def write_json(model, path):
    """One layer per line keeps diffs and greps readable without bloating the file."""
    with open(path, "w") as f:
        f.write(json.dumps(model, separators=(",", ":")) + "\n")


@torch.no_grad()
def upscale_bytes(net, luma_bytes, dtype=torch.float64):
    """uint8 HxW luma -> uint8 2Hx2W luma, exactly as the engine computes it.

    The residual is added in byte units: base(bytes) is exact in float64 (the x2 bicubic
    and bilinear weights are short binary fractions), and so is gain * (k - offset * 255)
    for the stored byte k with gain and offset 0.5, so ties round up exactly as in the
    engines' reference instead of wherever float error puts them. Weights and stored
    activations are float32 values (as on the GPU); the sums are in `dtype`."""
    net = net.to(dtype)
    luma = torch.as_tensor(luma_bytes).to(dtype)[None, None]

    def texel(v):  # what sampling an RGBA8 texture returns: k/255 as a float32
        return v.to(torch.float32).to(dtype)

    x = texel(luma / 255.0)
    for conv, l in zip(net.convs, net.spec):
        pad = l["kernel"] // 2
        if pad:
            x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
        x = texel(round8(torch.clamp(conv(x), 0.0, 1.0)))
    stored = torch.floor(F.pixel_shuffle(x, SCALE) * 255.0 + 0.5)  # the bytes of the last texture
    if net.residual:
        r = net.residual
        out = torch.clamp(upsample_base(luma, r["base"]) + r["gain"] * (stored - r["offset"] * 255.0), 0.0, 255.0)
        stored = torch.floor(out + 0.5)
    return stored[0, 0].to(torch.uint8).numpy()
