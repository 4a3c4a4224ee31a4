"""Peak training memory of UniFormer-B 16x224 and UniFormerV2-B/16 8x224.

Every configuration (model x activation checkpointing x bf16 autocast) runs
in a fresh subprocess: the recognizer (backbone + 400-class head) is built,
one random clip is made, then

1. ``baseline``: the resident set size (RSS) of the process; the kernel's
   peak RSS (``VmHWM``) is reset here (``/proc/self/clear_refs``; where
   that is not allowed ``ru_maxrss`` is used, which includes the peak of
   the imports and of building the model),
2. ``fwd+bwd``: the growth of the peak RSS over the baseline during one
   forward + backward pass (batch size 1, training mode, cross-entropy
   loss),
3. ``+AdamW``: the growth of the peak RSS over the baseline after a first
   AdamW step as well (its two state tensors per parameter included).

bf16 runs use ``torch.autocast(device, dtype=torch.bfloat16)`` around the
forward pass and the loss, as ``AmpOptimWrapper`` does, with V1's
``fp32_attention=True`` (V2 keeps its LayerNorms in float32 anyway).
Activation checkpointing: V1 ``with_cp=True`` (every block), V2
``with_cp=True`` (every ViT block, ``checkpoint_num=None``).

On a GPU (``--device cuda``) the same is measured with
``torch.cuda.max_memory_allocated`` instead of the RSS.

Usage::

    python tools/analysis/memory_benchmark.py [--models v1 v2]
        [--threads 2] [--device cpu] [--out results.json]

prints a Markdown table (docs/benchmarks.md, "Memory").
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

import _checkout  # noqa: F401  (uniformer_mm, also from a checkout)
from memory import reset_peak_rss

MODELS = {
    'v1': ('UniFormer-B 16x224', (1, 3, 16, 224, 224)),
    'v2': ('UniFormerV2-B/16 8x224', (1, 3, 8, 224, 224)),
}


def _rss_mib():
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def _peak_mib(reset_ok):
    if reset_ok:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(model, with_cp, bf16):
    import uniformer_mm  # noqa: F401
    from mmaction.registry import MODELS as REG
    from mmengine.registry import DefaultScope
    if model == 'v1':
        backbone = dict(type='UniFormerVideo', arch='base',
                        drop_path_rate=0.3, with_cp=with_cp,
                        fp32_attention=bf16)
        head = dict(type='I3DHead', num_classes=400, in_channels=512,
                    dropout_ratio=0., average_clips='prob')
    else:
        backbone = dict(type='UniFormerV2Video', arch='vit-b16', t_size=8,
                        with_cp=with_cp, backbone_drop_path_rate=0.)
        head = dict(type='UniFormerV2Head', num_classes=400,
                    in_channels=768, dropout_ratio=0.5)
    with DefaultScope.overwrite_default_scope('mmaction'):
        return REG.build(dict(type='Recognizer3D', backbone=backbone,
                              cls_head=head))


def worker(model, with_cp, bf16, threads, device):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = build(model, with_cp, bf16).to(device).train()
    x = torch.randn(MODELS[model][1], device=device)
    y = torch.tensor([3], device=device)
    params = sum(p.numel() for p in net.parameters())
    cuda = device.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    else:
        # the peak of the imports and of building must not hide the growth
        # measured below: reset it (or note where it could not be reset)
        reset_ok = reset_peak_rss()  # else ru_maxrss
        base = _rss_mib()
        start_peak = _peak_mib(reset_ok)
    t0 = time.time()
    with torch.autocast(device.split(':')[0], dtype=torch.bfloat16,
                        enabled=bf16):
        logits = net.cls_head(net.backbone(x))
        loss = F.cross_entropy(logits.float(), y)
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
        fwd_bwd = torch.cuda.max_memory_allocated() / 2**20 - base
    else:
        fwd_bwd = _peak_mib(reset_ok) - base
    t1 = time.time()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    opt.step()
    if cuda:
        torch.cuda.synchronize()
        total = torch.cuda.max_memory_allocated() / 2**20 - base
    else:
        total = _peak_mib(reset_ok) - base
    return dict(model=model, name=MODELS[model][0], with_cp=with_cp,
                bf16=bf16, params_m=params / 1e6, baseline_mib=base,
                start_peak_mib=None if cuda else start_peak,
                peak_reset=None if cuda else reset_ok,
                fwd_bwd_mib=fwd_bwd, with_adamw_mib=total,
                fwd_bwd_s=t1 - t0, loss=float(loss), device=device,
                threads=threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=['v1', 'v2'],
                        choices=sorted(MODELS))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--worker', nargs=3, metavar=('MODEL', 'CP', 'BF16'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        model, cp, bf16 = args.worker
        print('RESULT ' + json.dumps(worker(model, cp == '1', bf16 == '1',
                                            args.threads, args.device)))
        return
    results = []
    for model in args.models:
        for cp in (False, True):
            for bf16 in (False, True):
                load = os.getloadavg()
                cmd = [sys.executable, osp.abspath(__file__), '--threads',
                       str(args.threads), '--device', args.device,
                       '--worker', model, str(int(cp)), str(int(bf16))]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                lines = [ln for ln in proc.stdout.splitlines()
                         if ln.startswith('RESULT ')]
                if proc.returncode or not lines:
                    print(proc.stdout[-2000:] + proc.stderr[-3000:],
                          file=sys.stderr)
                    raise SystemExit(f'{" ".join(cmd)} failed')
                result = json.loads(lines[-1][len('RESULT '):])
                result['loadavg_before'] = load
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    unit = 'GPU max allocated' if args.device.startswith('cuda') else \
        'peak RSS growth'
    print(f'| model | act. checkpointing | bf16 autocast | fwd+bwd ({unit}, '
          'MiB) | + first AdamW step (MiB) | fwd+bwd time (s) |')
    print('|---|---|---|---:|---:|---:|')
    for r in results:
        print(f'| {r["name"]} ({r["params_m"]:.1f} M params) | '
              f'{"yes" if r["with_cp"] else "no"} | '
              f'{"yes" if r["bf16"] else "no"} | {r["fwd_bwd_mib"]:.0f} | '
              f'{r["with_adamw_mib"]:.0f} | {r["fwd_bwd_s"]:.1f} |')


if __name__ == '__main__':
    main()
