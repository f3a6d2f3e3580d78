"""Low-resolution images as uprez meets them, and the luma conversions of the evaluation.

Two ways to make the x0.5 LR image from an HR photo (PIL, RGB8 in and out):
  - "bicubic": antialiased bicubic downscaling (Keys a=-0.5, like MATLAB imresize),
    the academic standard;
  - "realistic": a random choice of bilinear, bicubic, Lanczos or area (box)
    downscaling, all antialiased, then JPEG at a quality between 75 and 95.
"""
import io
import random

import numpy as np
from PIL import Image

METHODS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "area": Image.BOX}
JPEG_QUALITY = (75, 95)


def even_crop(im):
    return im.crop((0, 0, im.width - im.width % 2, im.height - im.height % 2))


def downscale(hr, method):
    return hr.resize((hr.width // 2, hr.height // 2), METHODS[method])


def jpeg(im, quality):
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def realistic(hr, rng):
    """One random realistic degradation; returns (lr, description)."""
    method = rng.choice(sorted(METHODS))
    quality = rng.randint(*JPEG_QUALITY)
    return jpeg(downscale(hr, method), quality), f"{method}+jpeg{quality}"


def realistic_cases(name):
    """The realistic protocol's fixed cases for one validation photo: every downscaler once,
    each with a JPEG quality drawn from a generator seeded by the photo's name."""
    rng = random.Random("uprez-realistic-" + name)
    return [(method, rng.randint(*JPEG_QUALITY)) for method in sorted(METHODS)]


def luma_full(rgb):
    """Full-range luma in [0,1] (float64) of a uint8 RGB array, not rounded."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255.0


def luma_bytes(rgb):
    """What the engine feeds the network: luma rounded to k/255, as uint8."""
    return np.clip(np.floor(luma_full(rgb) * 255.0 + 0.5), 0, 255).astype(np.uint8)


def studio_y_from_rgb(rgb):
    """BT.601 studio-range luma 16 + 65.481 R + 128.553 G + 24.966 B, RGB in [0,1]."""
    rgb = np.asarray(rgb, dtype=np.float64) / 255.0
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def studio_y_from_luma_bytes(luma):
    """The same for a full-range luma plane (chroma does not change it): 16 + 219 Y."""
    return 16.0 + 219.0 * np.asarray(luma, dtype=np.float64) / 255.0


def psnr_y(a, b, shave=2):
    """Y-PSNR in dB between two studio-range luma planes, `shave` border pixels removed."""
    a = a[shave:-shave, shave:-shave]
    b = b[shave:-shave, shave:-shave]
    mse = np.mean((a - b) ** 2)
    return float(10.0 * np.log10(255.0 ** 2 / mse))
