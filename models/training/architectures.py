"""The networks uprez ships, and the published baseline they are measured against.

All are x2, luma only. uprez models are a stack of GLES2-friendly passes: a first
k x k convolution from luma, then blocks of a grouped 3x3 convolution (4 channels per
group: each output texture reads one input texture) and a 1x1 convolution that mixes
the groups; the last 1x1 gives the 4 sub-pixels, which are a detail residual added
(with gain 0.5 around offset 0.5) to bicubic upsampling of the input luma.
"""


def conv(i, o, k, g=1):
    return {"in": i, "out": o, "kernel": k, "groups": g}


def grouped_stack(first_kernel, channels, blocks):
    layers = [conv(1, channels, first_kernel)]
    for b in range(blocks):
        layers.append(conv(channels, channels, 3, channels // 4))
        layers.append(conv(channels, 4 if b == blocks - 1 else channels, 1))
    return layers


RESIDUAL = {"base": "bicubic", "offset": 0.5, "gain": 0.5}

ARCHITECTURES = {
    # The published GLES2 network (7,216 MAC/px, 7,340 params), no residual.
    "baseline": {"layers": [conv(1, 48, 5), conv(48, 32, 3, 4), conv(32, 24, 1), conv(24, 16, 3, 2), conv(16, 4, 1)],
                 "residual": None},
    "uprez-x2-fast": {"layers": grouped_stack(5, 16, 3), "residual": RESIDUAL},
    "uprez-x2": {"layers": grouped_stack(5, 28, 4), "residual": RESIDUAL},
    # hq is trained in three stages (train.py --grow-from): 5 blocks, grown to 6, then its
    # first kernel grown from 5x5 to 7x7.
    "uprez-x2-hq-5": {"layers": grouped_stack(5, 48, 5), "residual": RESIDUAL},
    "uprez-x2-hq-6": {"layers": grouped_stack(5, 48, 6), "residual": RESIDUAL},
    "uprez-x2-hq": {"layers": grouped_stack(7, 48, 6), "residual": RESIDUAL},
}

# MAC per input pixel each shipped model may cost (issue 4): train.py refuses a larger network.
LIMITS = {"uprez-x2-fast": 3000, "uprez-x2": 7300, "uprez-x2-hq": 25000}
