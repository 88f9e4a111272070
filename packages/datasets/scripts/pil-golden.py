#!/usr/bin/env python3
# Golden outputs of PIL's 8-bit BILINEAR resize for src/pil-resize.test.ts: the official DigitAnatomy
# cell (torchvision RandomResizedCrop(28, ratio=1) then Resize(32) on a PIL 'L' image = crop, resize
# to 28×28, resize to 32×32) for every crop side 22..28 and the whole-image fallback, the 16-px cell
# of the `tiny` preset, and a few other shapes (one axis only, strong shrink, enlargement).
#
# Made with Debian 12's Pillow 9.4.0, standard library only (no numpy), from the package folder:
#   apt-get install -y python3-pil
#   /usr/bin/python3 scripts/pil-golden.py > src/pil-resize.golden.json
# Same output on every run (seeded). The test reads the JSON; it needs no Python.
import base64
import json
import math
import random

import PIL
from PIL import Image

SIDE = 28
rng = random.Random(20230)


def digit_like():
    """A 28×28 'L' image of 1–3 thick strokes with graded edges on black, like an MNIST digit."""
    px = [0.0] * (SIDE * SIDE)
    for _ in range(rng.randint(1, 3)):
        x, y = rng.uniform(7, 21), rng.uniform(5, 23)
        radius = rng.uniform(1.0, 2.0)
        for _ in range(rng.randint(12, 30)):
            x = min(max(x + rng.uniform(-1.5, 1.5), 3), 24)
            y = min(max(y + rng.uniform(-1.5, 1.5), 3), 24)
            for yy in range(SIDE):
                for xx in range(SIDE):
                    d = math.hypot(xx - x, yy - y)
                    v = 1.0 if d <= radius else max(0.0, 1.0 - (d - radius) / 1.3)
                    px[yy * SIDE + xx] = max(px[yy * SIDE + xx], v)
    return bytes(round(255 * v) for v in px)


def noise():
    """Uniform random bytes: every rounding case, sharp edges."""
    return bytes(rng.randrange(256) for _ in range(SIDE * SIDE))


inputs = [digit_like() for _ in range(6)] + [noise()]
images = [Image.frombytes("L", (SIDE, SIDE), b) for b in inputs]
b64 = lambda im: base64.b64encode(im.tobytes()).decode()  # noqa: E731
cases = []


def case(index, crop, chain, **extra):
    """crop = (left, top, width, height); chain = sizes (width, height) resized in turn."""
    left, top, w, h = crop
    im = images[index].crop((left, top, left + w, top + h))
    outputs = []
    for size in chain:
        im = im.resize(size, Image.BILINEAR)
        outputs.append(b64(im))
    cases.append({"input": index, "crop": list(crop), "chain": [list(s) for s in chain], "outputs": outputs, **extra})


k = 0
for w in range(22, SIDE + 1):
    m = SIDE - w
    spots = [(0, 0), (m, m), (rng.randint(0, m), rng.randint(0, m)), (rng.randint(0, m), rng.randint(0, m))]
    for left, top in spots:
        case(k % len(inputs), (left, top, w, w), [(SIDE, SIDE), (32, 32)])
        k += 1
    left, top = rng.randint(0, m), rng.randint(0, m)
    case(k % len(inputs), (left, top, w, w), [(SIDE, SIDE), (16, 16)])
    k += 1
# RandomResizedCrop's fallback after 10 misses: the whole digit.
case(0, (0, 0, SIDE, SIDE), [(SIDE, SIDE), (32, 32)], fallback=True)
# Other shapes: vertical pass only, horizontal pass only, both axes non-square, strong shrink, enlargement.
case(1, (0, 0, 28, 28), [(28, 32)])
case(2, (0, 0, 28, 28), [(20, 28)])
case(3, (3, 5, 25, 20), [(13, 45)])
case(6, (1, 2, 26, 26), [(7, 7)])
case(4, (4, 4, 22, 22), [(61, 61)])

# One input or case per line, so a regenerated file diffs readably.
head = {"pillow": PIL.__version__, "side": SIDE}
lines = [json.dumps(head)[:-1] + ","]
lines.append(' "inputs": [\n  ' + ",\n  ".join(json.dumps(base64.b64encode(b).decode()) for b in inputs) + "\n ],")
lines.append(' "cases": [\n  ' + ",\n  ".join(json.dumps(c) for c in cases) + "\n ]\n}")
print("\n".join(lines))
