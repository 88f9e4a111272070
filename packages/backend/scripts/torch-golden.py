#!/usr/bin/python3
# Golden values for src/torch-generator.test.ts, made with Debian's PyTorch
# (`apt-get install python3-torch`, then `/usr/bin/python3 scripts/torch-golden.py`; torch 1.13).
# Prints JSON: per case, the float32 bit patterns of the first values and an FNV-1a hash over all of them.
import json
import struct

import torch


def fnv1a(words):
    h = 0x811C9DC5
    for w in words:
        for b in struct.pack('<I', w):
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


cases = []
for seed, n, lo, hi in [
    (0, 2000, -1.0, 1.0),
    (1234, 1500, -0.3, 0.7),
    (1, 700, -0.17677669529663687, 0.17677669529663687),
    (2**32 + 5, 10, 0.0, 1.0),
]:
    torch.manual_seed(seed)
    t = torch.empty(n).uniform_(lo, hi)
    bits = [struct.unpack('<I', struct.pack('<f', v))[0] for v in t.tolist()]
    cases.append({'seed': seed, 'n': n, 'from': lo, 'to': hi, 'first': bits[:8], 'fnv1a': fnv1a(bits)})
# Several fills in a row continue one stream (as a model's layers do).
torch.manual_seed(7)
a = torch.empty(3).uniform_(-0.5, 0.5)
b = torch.empty(630).uniform_(-2.0, 3.0)
cases.append({
    'seed': 7,
    'sequence': [
        {'n': 3, 'from': -0.5, 'to': 0.5, 'bits': [struct.unpack('<I', struct.pack('<f', v))[0] for v in a.tolist()]},
        {'n': 630, 'from': -2.0, 'to': 3.0, 'fnv1a': fnv1a([struct.unpack('<I', struct.pack('<f', v))[0] for v in b.tolist()])},
    ],
})
print(json.dumps({'torch': torch.__version__, 'cases': cases}))
