#!/usr/bin/env python3
"""Times the official SQUID code (github.com/tiangexiang/SQUID, PyTorch) on the CPU.

One training iteration at batch 16, run as main.py's gan_train runs it, and scoring as eval.py's
test loop does it, at 1 and 16 images per call, on random inputs of the preset's shape (no data
sets). The model and discriminator are built from the official checkout given by --official,
with the official config file of the preset. One JSON line per measurement on stdout (medians
after warm-up); whatever the official code prints goes to stderr.

    python3 time_official.py --official /path/to/SQUID --preset digitanatomy --threads 2

Run by packages/squid/bench/model.bench.ts (--official DIR) next to squid in the same sitting.
References are to the official files at commit 1bb3b70 (file:line).
"""
import argparse
import contextlib
import importlib
import inspect
import json
import os
import statistics
import sys
import time
import types

# OpenMP and OpenBLAS read their thread counts when they load, with `import torch`.
_threads = argparse.ArgumentParser(add_help=False)
_threads.add_argument('--threads', type=int, default=2)
THREADS = _threads.parse_known_args()[0].threads
os.environ['OMP_NUM_THREADS'] = os.environ['OPENBLAS_NUM_THREADS'] = str(THREADS)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CONFIG_MODULE = {'digitanatomy': 'configs.digit_best', 'zhanglab': 'configs.zhang_best'}


def loaded_blas():
    """The libblas.so.3 this process loaded, e.g. openblas-openmp/libblas.so.3 (Debian's torch
    takes the system one; blas/libblas.so.3 is the slow reference implementation)."""
    with open('/proc/self/maps') as maps:
        paths = {line.split()[-1] for line in maps if line.rstrip().endswith('/libblas.so.3')}
    return ', '.join('/'.join(p.split('/')[-2:]) for p in sorted(paths)) or 'unknown'


def load_official(official_dir, preset):
    """Imports the official model code and the preset's Config() from the checkout."""
    # The official code runs on CUDA only (`.cuda()` in main.py:46, tools.py:52,
    # models/inpaint.py:51); here `.cuda()` leaves tensors and modules on the CPU.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    nn.Module.cuda = lambda self, *args, **kwargs: self
    sys.path.insert(0, official_dir)
    # The configs build their data loaders in Config() (digit_best.py:129-136,
    # zhang_best.py:191-198) and take `torch` from the loader module's star import; random
    # inputs replace the data, so the loader modules are stand-ins with a placeholder data set
    # (which also spares torchvision, PIL and matplotlib).
    class NoData(torch.utils.data.Dataset):
        def __init__(self, *args, **kwargs):
            pass

        def __len__(self):
            return 1

    for name in ('dataloader.dataloader_digit', 'dataloader.dataloader_zhang'):
        stub = types.ModuleType(name)
        stub.torch = torch
        stub.DigitAnatomy = stub.DigitAnatomyTest = stub.Zhang = NoData
        sys.modules[name] = stub
    memory = importlib.import_module('models.memory')
    # At upstream HEAD MemoryMatrixBlockV3 takes an unused first argument `in_channels`
    # (models/memory.py:277) that models/squid.py:52 does not pass, so the DigitAnatomy preset
    # cannot be built; as for the parity fixtures, the argument is dropped (it is never read).
    v3_init = memory.MemoryMatrixBlockV3.__init__
    if 'in_channels' in inspect.signature(v3_init).parameters:
        def init_without_in_channels(self, num_slots, slot_dim, **kwargs):
            v3_init(self, None, num_slots, slot_dim, **kwargs)

        memory.MemoryMatrixBlockV3.__init__ = init_without_in_channels
    config = importlib.import_module(CONFIG_MODULE[preset]).Config()
    squid = importlib.import_module('models.squid')
    discriminator_module = importlib.import_module('models.discriminator')
    return config, squid.AE, discriminator_module.SimpleDiscriminator, memory.MemoryQueue


def median_ms(fn, warmup, reps):
    """Median wall time of `reps` calls of fn after `warmup` calls, in ms."""
    times = []
    for r in range(warmup + reps):
        t0 = time.perf_counter()
        fn()
        if r >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official', required=True, help='checkout of github.com/tiangexiang/SQUID')
    parser.add_argument('--preset', required=True, choices=sorted(CONFIG_MODULE))
    parser.add_argument('--threads', type=int, default=THREADS, help='OpenMP and OpenBLAS threads')
    parser.add_argument('--reps', type=int, default=4, help='timed calls (training: n_critic cycles)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed calls (training: n_critic cycles)')
    parser.add_argument('--ops', default='train,infer', help='train, infer or both (comma-separated)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # Debian's torch calls the system BLAS (Linear layers, attention, the memories); the
    # reference libblas3 is several times slower than OpenBLAS and would flatter squid.
    blas = loaded_blas()
    if 'blas/libblas.so.3' in blas.split(', '):
        print('time_official: the reference BLAS is loaded; apt-get install libopenblas0-openmp', file=sys.stderr)

    with contextlib.redirect_stdout(sys.stderr):
        C, AE, SimpleDiscriminator, MemoryQueue = load_official(args.official, args.preset)
        # main.py:43-53; build_disc (tools.py:48-52) with discriminator_type 'basic'.
        model = AE(1, 32, C.shrink_thres, num_slots=C.num_slots, num_patch=C.num_patch, level=C.level,
                   ratio=C.mask_ratio, initial_combine=C.initial_combine, drop=C.drop,
                   dist=C.dist, memory_channel=C.memory_channel, mem_num_slots=C.mem_num_slots,
                   ops=C.ops, decoder_memory=C.decoder_memory)
        opt = C.opt(model.parameters(), lr=C.lr, eps=1e-7, betas=(0.5, 0.999), weight_decay=0.00001)
        assert C.discriminator_type == 'basic'
        discriminator = SimpleDiscriminator(size=C.size)
        opt_d = C.opt(discriminator.parameters(), betas=(0.5, 0.999), lr=C.gan_lr)
    ce = nn.BCEWithLogitsLoss()  # main.py:57-58
    recon_criterion = nn.MSELoss(reduction='mean')

    def train_discriminator(img):  # main.py:280-298
        opt_d.zero_grad()
        out = model(img)
        real_validity = discriminator(img)
        fake_validity = discriminator(out['recon'].detach())
        d_loss = ce(real_validity, torch.ones_like(real_validity))
        d_loss += ce(fake_validity, torch.zeros_like(fake_validity))
        d_loss *= C.d_w
        d_loss.backward()
        opt_d.step()
        return d_loss.item()

    def gan_train_iteration(i, img):  # the body of gan_train's loop, main.py:189-237
        train_discriminator(img)
        if i % C.n_critic == 0:
            opt.zero_grad()
            out = model(img)
            recon_loss = C.recon_w * recon_criterion(out['recon'], img)
            recon_loss.item()
            loss_all = recon_loss
            fake_validity = discriminator(out['recon'])
            g_loss = C.g_w * ce(fake_validity, torch.ones_like(fake_validity))
            g_loss.item()
            loss_all = loss_all + g_loss
            if C.dist and 'teacher_recon' in out and torch.is_tensor(out['teacher_recon']):
                t_recon_loss = C.t_w * recon_criterion(out['teacher_recon'], img)
                t_recon_loss.item()
                loss_all = loss_all + t_recon_loss
            if C.dist and 'dist_loss' in out and torch.is_tensor(out['dist_loss']):
                dist_loss = C.dist_w * out['dist_loss']
                dist_loss.item()
                loss_all = loss_all + dist_loss
            loss_all.item()
            loss_all.backward()
            opt.step()
            for module in model.modules():
                if isinstance(module, MemoryQueue):
                    module.update()

    def score(img):  # the body of eval.py's test loop, eval.py:100-111 (no torch.no_grad there)
        out = model(img)
        fake_v = discriminator(out['recon'])
        scores = list(fake_v.detach().cpu().numpy())
        reconstructed = list(out['recon'].detach().cpu().numpy())
        inputs = list(img.detach().cpu().numpy())
        return scores, reconstructed, inputs

    common = {'impl': 'official', 'preset': args.preset, 'torch': torch.__version__,
              'threads': torch.get_num_threads(), 'mkldnn': torch.backends.mkldnn.is_available(), 'blas': blas}
    emit = lambda line: print(json.dumps({**common, **line}), flush=True)
    S = C.img_size
    ops = args.ops.split(',')

    if 'train' in ops:
        batch = C.batch_size  # 16 in both configs
        img = torch.rand(batch, 1, S, S)
        model.train()  # main.py:174
        # gan_train runs the G step when i % n_critic == 0 (main.py:196): for zhanglab (n_critic 2)
        # every other iteration is D-only. Timed per n_critic cycle; the per-iteration figure is
        # the mean over the cycle: (G+D iteration + (n_critic-1) D-only iterations) / n_critic.
        times = {i: [] for i in range(C.n_critic)}
        for r in range(args.warmup + args.reps):
            for i in range(C.n_critic):
                t0 = time.perf_counter()
                gan_train_iteration(i, img)
                if r >= args.warmup:
                    times[i].append((time.perf_counter() - t0) * 1000)
        gd = statistics.median(times[0])
        d_only = statistics.median(times[1]) if C.n_critic > 1 else None
        ms = (gd + (C.n_critic - 1) * (d_only or 0)) / C.n_critic
        emit({'op': 'train', 'batch': batch, 'nCritic': C.n_critic, 'ms': round(ms, 1),
              'msPerImage': round(ms / batch, 2), 'msGeneratorIteration': round(gd, 1),
              'msDiscriminatorOnlyIteration': None if d_only is None else round(d_only, 1),
              'reps': args.reps, 'warmup': args.warmup})

    if 'infer' in ops:
        # eval.py:88 puts the generator in eval mode; the discriminator stays in training mode
        # (BatchNorm on the call's own batch statistics), as in eval.py and main.py's val.
        model.eval()
        # The official test loader gives 1 image per call (zhang_best.py:198, digit_best.py:136);
        # 16 per call is the same loop body on a batch of 16.
        for batch in (1, 16):
            img = torch.rand(batch, 1, S, S)
            ms = median_ms(lambda: score(img), args.warmup, args.reps)
            emit({'op': 'infer', 'batch': batch, 'ms': round(ms, 1), 'msPerImage': round(ms / batch, 2),
                  'reps': args.reps, 'warmup': args.warmup})


if __name__ == '__main__':
    main()
