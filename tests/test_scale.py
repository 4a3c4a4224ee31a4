"""Scale-out and efficient training (docs/distributed.md), all on CPU.

* ``UniFormerOptimWrapperConstructor``: layer ids, lr multipliers, no weight
  decay rule, registries of both scopes, fused AdamW and its fallback;
* bf16 autocast close to fp32 for both families; activation checkpointing
  through the config switch gives the same gradients; EMA with BatchNorm
  buffers; ``RepeatAugSampler`` in a video (mmaction2) config;
* SyncBatchNorm on CPU processes (gloo) equals BatchNorm on the whole batch;
* exact resume (``ExactResumeHook``): tools/train.py straight vs. resumed
  from a mid-epoch checkpoint, with ``--amp`` (bf16 + loss scaler) and with
  2 data loader workers; a control run without the hook differs;
* ``tools/dist_train.sh CONFIG 2`` (torchrun, gloo): DDP with SyncBN on
  UniFormer V1 and FSDP (FlexibleRunner) on UniFormerV2 against one process
  with the same global batch;
* ``compile`` config switch (dynamo, ``aot_eager``; inductor on request).

The training runs use the tiny video models of ``tests/configs/`` on 8
generated videos (``make_video_demo``: 2 per class, 8 frames of 32x32).
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import uniformer_mm  # noqa: F401  (registries, compat fixes)
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN = osp.join(ROOT, 'tools', 'train.py')
DIST_TRAIN = osp.join(ROOT, 'tools', 'dist_train.sh')
CONFIGS = osp.join(ROOT, 'tests', 'configs')
SCALE_CFG = osp.join(CONFIGS, 'uniformer_tiny_video_scale.py')
DDP_CFG = osp.join(CONFIGS, 'uniformer_tiny_video_ddp.py')
V2_CFG = osp.join(CONFIGS, 'uniformerv2_tiny_video_scale.py')
FSDP_CFG = osp.join(CONFIGS, 'uniformerv2_tiny_video_fsdp.py')
TIMEOUT = 900

V1_TINY = dict(embed_dims=[16, 32, 64, 64], depths=[1, 2, 1, 1], head_dim=16)
V2_TINY = dict(input_resolution=32, patch_size=16, width=32, layers=3,
               heads=2)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def build_action(cfg):
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def v1_recognizer(**backbone):
    return build_action(dict(
        type='Recognizer3D',
        backbone=dict(type='UniFormerVideo', arch=V1_TINY, **backbone),
        cls_head=dict(type='I3DHead', in_channels=64, num_classes=4,
                      dropout_ratio=0.),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW')))


def v2_recognizer(**backbone):
    kwargs = dict(arch=V2_TINY, return_list=[1, 2], t_size=4,
                  mlp_dropout=0., no_lmhra=False, double_lmhra=True)
    kwargs.update(backbone)
    return build_action(dict(
        type='Recognizer3D',
        backbone=dict(type='UniFormerV2Video', **kwargs),
        cls_head=dict(type='UniFormerV2Head', in_channels=32, num_classes=4,
                      dropout_ratio=0.),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW')))


def build_optim(model, scope='mmaction', **paramwise):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    optimizer = paramwise.pop('optimizer', dict(
        type='AdamW', lr=1e-3, weight_decay=0.05))
    with DefaultScope.overwrite_default_scope(scope):
        return build_optim_wrapper(model, dict(
            constructor='UniFormerOptimWrapperConstructor',
            optimizer=optimizer, paramwise_cfg=paramwise))


def lr_wd_by_name(optim_wrapper):
    out = {}
    for group in optim_wrapper.optimizer.param_groups:
        for name in group['param_names']:
            assert name not in out, f'{name} in two groups'
            out[name] = (group['lr'], group['weight_decay'],
                         group['layer_id'])
    return out


def run(args, cwd, env=None, timeout=TIMEOUT):
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, (' '.join(map(str, args)) + '\n' +
                                  proc.stdout[-4000:] + proc.stderr[-4000:])
    return proc.stdout + proc.stderr


def scalars(work_dir):
    """Per-iteration training losses ``{step: loss}`` from the json log."""
    (run_dir, ) = [d for d in os.listdir(work_dir)
                   if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                          'scalars.json'))]
    losses = {}
    with open(osp.join(work_dir, run_dir, 'vis_data', 'scalars.json')) as f:
        for line in f:
            record = json.loads(line)
            if 'loss' in record:
                losses[record['step']] = record['loss']
    return losses


def load(path):
    return torch.load(path, map_location='cpu')


def max_diff(a, b):
    assert sorted(a) == sorted(b)
    return max((a[k].double() - b[k].double()).abs().max().item()
               for k in a if a[k].numel())


@pytest.fixture(scope='module')
def video_data(tmp_path_factory):
    from uniformer_mm.datasets.demo_data import make_video_demo
    root = str(tmp_path_factory.mktemp('videos'))
    make_video_demo(root, num_train_per_class=2, num_val_per_class=1,
                    num_frames=8, size=32)
    return root


def data_options(root, val=True):
    opts = [f'train_dataloader.dataset.ann_file={root}/train_list.txt',
            f'train_dataloader.dataset.data_prefix.video={root}']
    if val:
        for split in ('val', 'test'):
            opts += [f'{split}_dataloader.dataset.ann_file={root}/'
                     'val_list.txt',
                     f'{split}_dataloader.dataset.data_prefix.video={root}']
    return opts


# --------------------------------------------------------------------------
# optimizer constructor
# --------------------------------------------------------------------------
def test_layer_ids_v1():
    from uniformer_mm.engine.optim_constructor import (get_layer_id,
                                                       num_layer_ids)
    model = v1_recognizer()
    bb = model.backbone
    assert num_layer_ids(bb) == 1 + 5 + 1  # stem, 5 blocks, last
    expected = {
        'backbone.patch_embed1.proj.weight': 0,
        'backbone.blocks1.0.conv1.weight': 1,
        'backbone.patch_embed2.proj.weight': 2,  # with the next block
        'backbone.blocks2.0.norm1.weight': 2,
        'backbone.blocks2.1.mlp.fc1.weight': 3,
        'backbone.patch_embed3.norm.weight': 4,
        'backbone.blocks3.0.attn.qkv.weight': 4,
        'backbone.patch_embed4.proj.bias': 5,
        'backbone.blocks4.0.norm2.bias': 5,
        'backbone.norm.weight': 6,
        'cls_head.fc_cls.weight': 6,
    }
    names = dict(model.named_parameters())
    for name, layer in expected.items():
        assert name in names, name
        assert get_layer_id(name, bb) == layer, name
    # light models: the class token joins stage 3, its upsampling stage 4
    light = build_action(dict(
        type='Recognizer3D',
        backbone=dict(type='UniFormerVideo',
                      arch=dict(V1_TINY, light=True, conv_stem=True)),
        cls_head=dict(type='UniFormerLightHead', in_channels=64,
                      num_classes=4)))
    assert get_layer_id('backbone.cls_token', light.backbone) == 4
    assert get_layer_id('backbone.cls_upsample.weight', light.backbone) == 5


def test_layer_ids_v2():
    from uniformer_mm.engine.optim_constructor import (get_layer_id,
                                                       num_layer_ids)
    model = v2_recognizer()
    bb = model.backbone
    assert num_layer_ids(bb) == 3 + 2
    for name in ('conv1.weight', 'class_embedding', 'positional_embedding',
                 'ln_pre.weight'):
        assert get_layer_id('backbone.' + name, bb) == 0
    for i in range(3):
        assert get_layer_id(f'backbone.transformer.resblocks.{i}.attn.'
                            'in_proj_weight', bb) == i + 1
        assert get_layer_id(f'backbone.transformer.resblocks.{i}.lmhra1.'
                            'pos_embed.1.weight', bb) == i + 1
    for name in ('transformer.dpe.0.weight', 'transformer.dec.1.ln_1.weight',
                 'transformer.temporal_cls_token', 'transformer.balance',
                 'transformer.norm.bias'):
        assert get_layer_id('backbone.' + name, bb) == 4
    assert get_layer_id('cls_head.fc_cls.weight', bb) == 4


def test_constructor_v2_lr_and_weight_decay():
    model = v2_recognizer()
    rate, mult = 0.5, 10.
    ow = build_optim(model, layer_decay_rate=rate, new_param_lr_mult=mult)
    got = lr_wd_by_name(ow)
    params = dict(model.named_parameters())
    assert set(got) == set(params)  # every parameter exactly once
    last = 4

    def expect(name, layer, new, decay):
        lr, wd, layer_id = got[name]
        assert layer_id == layer, name
        assert lr == pytest.approx(1e-3 * rate**(last - layer) *
                                   (mult if new else 1.)), name
        assert wd == (0.05 if decay else 0.), name

    expect('backbone.conv1.weight', 0, False, True)
    expect('backbone.class_embedding', 0, False, False)
    expect('backbone.positional_embedding', 0, False, False)  # 2-D, by name
    expect('backbone.ln_pre.weight', 0, False, False)
    expect('backbone.transformer.resblocks.1.attn.in_proj_weight', 2, False,
           True)
    expect('backbone.transformer.resblocks.1.attn.in_proj_bias', 2, False,
           False)
    # LMHRA is not in CLIP: new, in its block's layer
    expect('backbone.transformer.resblocks.1.lmhra2.pos_embed.1.weight', 2,
           True, True)
    expect('backbone.transformer.resblocks.1.lmhra2.pos_embed.0.weight', 2,
           True, False)  # its BatchNorm
    expect('backbone.transformer.temporal_cls_token', last, True, False)
    expect('backbone.transformer.balance', last, True, False)
    expect('backbone.transformer.dec.0.attn.in_proj_weight', last, True,
           True)
    expect('backbone.transformer.dpe.1.bias', last, True, False)
    expect('cls_head.fc_cls.weight', last, True, True)
    # the first group has the largest lr (logged by mmengine as `lr`)
    assert ow.optimizer.param_groups[0]['lr'] == pytest.approx(1e-3 * mult)


def test_constructor_v1_image_scope_and_custom_keys():
    """mmpretrain scope (image classifier), explicit new-parameter keys and
    DefaultOptimWrapperConstructor options combined multiplicatively."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type='UniFormer', arch=V1_TINY, frozen_stages=0),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=64)))
    ow = build_optim(
        model, scope='mmpretrain', layer_decay_rate=0.8,
        new_param_lr_mult=2., new_param_keys=['head.'],
        custom_keys={'backbone.blocks3': dict(lr_mult=0.5)})
    got = lr_wd_by_name(ow)
    # frozen stem (frozen_stages=0 freezes patch_embed1) is not optimised
    assert not any(n.startswith('backbone.patch_embed1') for n in got)
    assert set(got) == {n for n, p in model.named_parameters()
                        if p.requires_grad}
    lr, wd, layer = got['backbone.blocks3.0.attn.qkv.weight']
    assert layer == 4 and wd == 0.05
    assert lr == pytest.approx(1e-3 * 0.5 * 0.8**(6 - 4))
    lr, wd, layer = got['head.fc.weight']
    assert (layer, wd) == (6, 0.05) and lr == pytest.approx(2e-3)
    lr, wd, _ = got['backbone.blocks1.0.norm1.weight']  # BN: no decay
    assert wd == 0. and lr == pytest.approx(1e-3 * 0.8**5)
    assert got['backbone.blocks1.0.conv1.bias'][1] == 0.


def test_constructor_without_decay_is_default_grouping():
    """No layer decay and no multipliers: same lr everywhere and the
    official no-decay rule only."""
    model = v1_recognizer()
    got = lr_wd_by_name(build_optim(model))
    assert {lr for lr, _, _ in got.values()} == {1e-3}
    for name, p in model.named_parameters():
        assert got[name][1] == (0. if p.ndim <= 1 else 0.05), name


def test_fused_adamw_on_cpu_and_fallback(monkeypatch):
    from uniformer_mm.engine import optim_constructor
    torch.manual_seed(0)
    model = v2_recognizer()
    fused = build_optim(model, layer_decay_rate=0.7, optimizer=dict(
        type='AdamW', lr=1e-2, weight_decay=0.05, fused=True))
    assert fused.optimizer.defaults['fused'] is True  # torch 2.13 on CPU
    model2 = v2_recognizer()
    model2.load_state_dict(model.state_dict())
    plain = build_optim(model2, layer_decay_rate=0.7, optimizer=dict(
        type='AdamW', lr=1e-2, weight_decay=0.05))
    x = torch.randn(2, 3, 4, 32, 32)
    for m, ow in ((model, fused), (model2, plain)):
        m.train()
        m.cls_head(m.backbone(x)).square().mean().backward()
        ow.step()
    for (name, a), b in zip(model.named_parameters(), model2.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    # an optimizer without fused kernels: built without `fused`, logged
    logs = []
    monkeypatch.setattr(optim_constructor, 'print_log',
                        lambda msg, *a, **k: logs.append(msg))
    ow = build_optim(model, optimizer=dict(type='RMSprop', lr=1e-3,
                                           fused=True))
    assert type(ow.optimizer).__name__ == 'RMSprop'
    assert any('fused=True) is not supported' in m and 'non-fused' in m
               for m in logs), logs
    with pytest.raises(TypeError, match='fused'):
        build_optim(model, fused_fallback=False, optimizer=dict(
            type='RMSprop', lr=1e-3, fused=True))


def test_layer_decay_needs_a_uniformer_backbone():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match='UniFormer'):
        build_optim(model, layer_decay_rate=0.5)
    build_optim(model, new_param_lr_mult=1.)  # no decay: fine


# --------------------------------------------------------------------------
# mixed precision, activation checkpointing, EMA, samplers
# --------------------------------------------------------------------------
@pytest.mark.parametrize('family', ['v1', 'v2'])
def test_bf16_autocast_close_to_fp32(family):
    torch.manual_seed(0)
    if family == 'v1':  # numerically sensitive part kept in fp32
        model = v1_recognizer(fp32_attention=True)
    else:  # LayerNormFp32 in the ViT blocks
        model = v2_recognizer()
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        ref = model.cls_head(model.backbone(x))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = model.cls_head(model.backbone(x))
    assert out.dtype == torch.bfloat16
    out = out.float()
    assert torch.isfinite(out).all()
    rel = (out - ref).norm() / ref.norm()
    assert rel < 0.05, rel
    # and a training step: finite gradients
    model.train()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model.cls_head(model.backbone(x)).float().logsumexp(
            -1).mean()
    loss.backward()
    bad = [n for n, p in model.named_parameters()
           if p.grad is not None and not torch.isfinite(p.grad).all()]
    assert not bad, f'non-finite gradients (loss {loss.item()}): {bad}'


@pytest.mark.parametrize('family', ['v1', 'v2'])
def test_with_cp_config_switch_same_gradients(family):
    """``with_cp`` set in the model config (as users do) changes memory,
    not gradients, end to end through the recognizer and its loss."""
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    make = v1_recognizer if family == 'v1' else v2_recognizer
    ref, ckpt = make(with_cp=False), make(with_cp=True)
    ref.init_weights()
    ckpt.load_state_dict(ref.state_dict())
    inputs = [torch.randint(0, 255, (1, 3, 4, 32, 32)).float()
              for _ in range(2)]
    grads = []
    for model in (ref, ckpt):
        model.train()
        samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
        data = model.data_preprocessor(dict(inputs=inputs,
                                            data_samples=samples), True)
        model(**data, mode='loss')['loss_cls'].backward()
        grads.append({n: p.grad for n, p in model.named_parameters()
                      if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-6,
                              rtol=1e-5), name


def test_ema_averages_batchnorm_statistics():
    """mmengine's EMA with ``update_buffers=True`` on a model with BN:
    running statistics are averaged, integer buffers copied (mmengine
    skips them), nothing raises."""
    from mmengine.model import ExponentialMovingAverage
    torch.manual_seed(0)
    model = v1_recognizer()
    ema = ExponentialMovingAverage(model, momentum=0.5, update_buffers=True)
    bn = 'backbone.blocks1.0.norm1'
    states = []
    for _ in range(3):
        model.train()
        model.backbone(torch.randn(2, 3, 4, 32, 32))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01)
        ema.update_parameters(model)
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    got = ema.module.state_dict()
    mean = f'{bn}.running_mean'
    expected = states[0][mean]
    for s in states[1:]:
        expected = expected.lerp(s[mean], 0.5)
    assert torch.allclose(got[mean], expected)
    assert not torch.allclose(got[mean], states[-1][mean])
    assert got[f'{bn}.num_batches_tracked'].dtype == torch.int64


def test_repeat_aug_sampler_in_video_scope(video_data):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    dataset = dict(type='VideoDataset',
                   ann_file=f'{video_data}/train_list.txt',
                   data_prefix=dict(video=video_data), pipeline=[])
    for name in ('RepeatAugSampler', 'mmpretrain.RepeatAugSampler'):
        with DefaultScope.overwrite_default_scope('mmaction'):
            loader = Runner.build_dataloader(dict(
                batch_size=2, num_workers=0, dataset=dataset,
                sampler=dict(type=name, num_repeats=2, shuffle=True, seed=0),
                collate_fn=dict(type='pseudo_collate')))
        indices = list(loader.sampler)
        assert type(loader.sampler).__name__ == 'RepeatAugSampler'
        assert len(indices) == 8  # an epoch keeps len(dataset) samples
        assert indices[0::2] == indices[1::2]  # each index twice in a row


# --------------------------------------------------------------------------
# SyncBatchNorm on CPU processes
# --------------------------------------------------------------------------
def _sync_bn_worker(rank, world_size, init_file, x, out_dir):
    import torch.distributed as dist
    import uniformer_mm  # noqa: F401  (the CPU SyncBatchNorm)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world_size)
    torch.manual_seed(0)
    for sync in (True, False):
        bn = torch.nn.BatchNorm3d(3, momentum=0.3)
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
        if sync:
            bn = torch.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
        part = x[rank::world_size].clone().requires_grad_(True)
        unfixed = None
        forward = torch.nn.SyncBatchNorm.forward
        if sync and getattr(forward, '_uniformer_mm_cpu', False):
            try:  # torch's own forward, without the compat fix
                forward.__wrapped__(bn, part.detach())
            except ValueError as e:
                unfixed = str(e)
        y = bn(part)
        (y * torch.arange(y.numel()).reshape(y.shape).cos()).sum().backward()
        torch.save(dict(y=y.detach(), grad=part.grad,
                        wgrad=bn.weight.grad, mean=bn.running_mean,
                        var=bn.running_var, unfixed=unfixed),
                   osp.join(out_dir, f'{int(sync)}_{rank}.pth'))
    dist.destroy_process_group()


def test_sync_batchnorm_on_cpu_processes(tmp_path):
    import torch.multiprocessing as mp
    torch.manual_seed(1)
    x = torch.randn(4, 3, 2, 3, 3) * 2 + 1
    mp.start_processes(_sync_bn_worker, args=(2, str(tmp_path / 'init'), x,
                                              str(tmp_path)),
                       nprocs=2, start_method='spawn')  # fork: OpenMP hangs
    # reference: one BatchNorm on the whole batch, ranks' samples in order
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm3d(3, momentum=0.3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    order = torch.cat([torch.arange(0, 4, 2), torch.arange(1, 4, 2)])
    whole = x[order].clone().requires_grad_(True)
    y = bn(whole)
    weights = torch.cat([torch.arange(y[:2].numel()).reshape(y[:2].shape)
                         .cos()] * 2)
    (y * weights).sum().backward()
    for rank in range(2):
        got = torch.load(tmp_path / f'1_{rank}.pth')
        # the sync_bn_cpu fix of uniformer_mm.compat is applied where torch
        # refuses CPU tensors: without it, this very call fails
        if getattr(torch.nn.SyncBatchNorm.forward, '_uniformer_mm_cpu',
                   False):
            assert 'expected input tensor to be on GPU' in got['unfixed']
        rows = slice(2 * rank, 2 * rank + 2)
        assert torch.allclose(got['y'], y[rows], atol=1e-5)
        assert torch.allclose(got['grad'], whole.grad[rows], atol=1e-5)
        assert torch.allclose(got['mean'], bn.running_mean, atol=1e-6)
        assert torch.allclose(got['var'], bn.running_var, atol=1e-6)
    # DDP sums the weight gradients over ranks (then averages)
    wgrad = sum(torch.load(tmp_path / f'1_{r}.pth')['wgrad']
                for r in range(2))
    assert torch.allclose(wgrad, bn.weight.grad, atol=1e-5)
    # control: plain BatchNorm per rank does not match
    plain = torch.load(tmp_path / '0_0.pth')
    assert not torch.allclose(plain['y'], y[:2], atol=1e-3)


def test_resume_sampler_skips_and_signals():
    """The one-pass sampler wrapper of ExactResumeHook: drops (or passes)
    the indices trained before the checkpoint, signals right before the
    first new index is drawn (or at the end), then puts the sampler back."""
    from uniformer_mm.engine.hooks.exact_resume_hook import _ResumeSampler

    class BatchSampler:
        sampler = None

    events = []
    for drop, position, expected in ((True, 4, [4, 5]), (False, 4, range(6)),
                                     (True, 6, []), (False, 9, range(6))):
        owner = BatchSampler()
        wrapped = _ResumeSampler(owner, list(range(6)), position, drop,
                                 lambda: events.append('signal'))
        owner.sampler = wrapped
        assert len(wrapped) == 6
        got = []
        for index in wrapped:
            got.append(index)
            events.append(index)
        assert got == list(expected)
        assert owner.sampler == list(range(6))  # one pass only
        signal_at = events.index('signal')
        assert events[signal_at + 1:] == [i for i in expected
                                          if i >= position]
        events.clear()


# --------------------------------------------------------------------------
# exact resume through tools/train.py
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def resume_runs(video_data, tmp_path_factory):
    """For each variant: a straight 8-iteration run (2 epochs of 4 batches,
    checkpoints every 3 iterations) and a run resumed from its mid-epoch
    checkpoint iter_3.pth in another work dir."""
    cache = {}

    def get(variant):
        if variant in cache:
            return cache[variant]
        tmp = tmp_path_factory.mktemp(f'resume_{variant}')
        extra = []
        if variant == 'amp':
            extra = ['--amp']
        opts = data_options(video_data)
        if variant == 'workers2':
            opts.append('train_dataloader.num_workers=2')
        custom = []
        if variant == 'no_hook':  # mmengine alone, for the control
            custom = ['custom_hooks.1.skip=None',
                      'custom_hooks.1.restore_rng=False',
                      'custom_hooks.1.isolate_val=False']
            straight = get('workers0')[0]
        else:
            straight = str(tmp / 'straight')
            run([sys.executable, TRAIN, SCALE_CFG, '--work-dir', straight,
                 *extra, '--cfg-options', *opts], cwd=tmp)
        resumed = str(tmp / 'resumed')
        log = run([sys.executable, TRAIN, SCALE_CFG, '--work-dir', resumed,
                   '--resume', osp.join(straight, 'iter_3.pth'), *extra,
                   '--cfg-options', *opts, *custom], cwd=tmp)
        cache[variant] = (straight, resumed, log)
        return cache[variant]

    return get


@pytest.mark.slow
@pytest.mark.parametrize('variant', ['workers0', 'workers2', 'amp'])
def test_exact_resume(resume_runs, variant):
    """fp32, without data loader workers (trained indices dropped by the
    sampler) and with 2 workers (trained batches loaded and discarded): the
    resumed run reproduces the losses and weights bit for bit.

    bf16 autocast on CPU is not bitwise reproducible even between two
    identical uninterrupted runs here (their weights differed by 2.4e-3
    after 8 iterations), so with ``--amp`` (no workers) the losses are
    compared with a tolerance (the control without the hook is off by
    ~0.1) and the loss scaler state exactly."""
    straight, resumed, log = resume_runs(variant)
    assert 'resuming in the middle of epoch 1: its first 3 of 4 batches' \
        in log
    assert 'ExactResumeHook: RNG states restored' in log
    assert ('they are loaded and discarded' if variant == 'workers2' else
            'their indices are dropped by the sampler') in log
    a, b = scalars(straight), scalars(resumed)
    assert sorted(a) == list(range(1, 9))
    assert sorted(b) == list(range(4, 9))  # exactly the remaining ones
    end_a = load(osp.join(straight, 'iter_8.pth'))
    end_b = load(osp.join(resumed, 'iter_8.pth'))
    assert end_a['meta']['iter'] == end_b['meta']['iter'] == 8
    if variant == 'amp':
        assert 'bfloat16 autocast on CPU' in log
        for step in b:
            assert b[step] == pytest.approx(a[step], abs=1e-2), step
        scaler_a = end_a['optimizer']['loss_scaler']
        assert scaler_a == end_b['optimizer']['loss_scaler']
        assert scaler_a['_growth_tracker'] == 8  # continued from 3
        return
    assert {k: a[k] for k in b} == b  # the same losses, bit for bit
    # the model (here the EMA weights: EMAHook swaps them in) and the live
    # weights (in ema_state_dict)
    assert max_diff(end_a['state_dict'], end_b['state_dict']) <= 1e-6
    assert max_diff(end_a['ema_state_dict'], end_b['ema_state_dict']) <= 1e-6


@pytest.mark.slow
def test_resume_without_hook_differs(resume_runs):
    """Control: mmengine alone restarts the epoch (3 batches trained twice,
    11 iterations in all) with other random numbers."""
    straight, resumed, log = resume_runs('no_hook')
    a, b = scalars(straight), scalars(resumed)
    assert sorted(b) == list(range(4, 12))
    assert 'ExactResumeHook: RNG states restored' not in log
    # far beyond the bf16 tolerance of test_exact_resume[amp] too
    assert max(abs(a[k] - b[k]) for k in range(4, 9)) > 5e-2


# --------------------------------------------------------------------------
# 2 processes through tools/dist_train.sh (torchrun, gloo)
# --------------------------------------------------------------------------
def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def dist_train(config, work_dir, options, cwd, extra=()):
    """``bash tools/dist_train.sh CONFIG 2 ...`` as users run it."""
    port = free_port()
    return run(['bash', DIST_TRAIN, config, '2', '--work-dir', work_dir,
                '--no-validate', *extra, '--cfg-options', *options], cwd=cwd,
               env=dict(PYTHON=sys.executable, PORT=str(port),
                        TORCHRUN=f'{sys.executable} -m torch.distributed.run',
                        OMP_NUM_THREADS='1'))


@pytest.fixture(scope='module')
def single_v1(video_data, tmp_path_factory):
    """One process, batch 4 = the global batch of the 2-process runs."""
    tmp = tmp_path_factory.mktemp('single_v1')
    run([sys.executable, TRAIN, DDP_CFG, '--work-dir', str(tmp / 'wd'),
         '--no-validate', '--cfg-options', *data_options(video_data, False),
         'train_dataloader.batch_size=4', 'custom_hooks=[]'], cwd=tmp)
    return str(tmp / 'wd')


@pytest.mark.slow
def test_ddp_two_processes_match_one(video_data, single_v1, tmp_path):
    work_dir = str(tmp_path / 'ddp')
    log = dist_train(DDP_CFG, work_dir,
                     data_options(video_data, False), cwd=tmp_path)
    assert 'uniformer_mm.compat[sync_bn_cpu]' in log
    assert 'the 2 ranks hold identical weights and buffers' in log
    rank0 = load(osp.join(work_dir, 'rank0_state_dict.pth'))
    rank1 = load(osp.join(work_dir, 'rank1_state_dict.pth'))
    assert max_diff(rank0, rank1) == 0.
    ddp = load(osp.join(work_dir, 'iter_4.pth'))['state_dict']
    single = load(osp.join(single_v1, 'iter_4.pth'))['state_dict']
    assert max_diff(ddp, rank0) == 0.
    assert max_diff(ddp, single) <= 1e-5
    # resumed with 2 processes from the mid-epoch checkpoint (rank 0 alone
    # saves it: the RNG states of both ranks are gathered beforehand)
    ckpt = osp.join(work_dir, 'iter_3.pth')
    assert len(load(ckpt)['meta']['rng_states']) == 2
    resumed_dir = str(tmp_path / 'ddp_resumed')
    log = dist_train(DDP_CFG, resumed_dir,
                     data_options(video_data, False), cwd=tmp_path,
                     extra=['--resume', ckpt])
    assert 'its first 1 of 2 batches were trained' in log
    resumed = load(osp.join(resumed_dir, 'iter_4.pth'))['state_dict']
    assert max_diff(resumed, ddp) <= 1e-6


@pytest.mark.slow
def test_fsdp_two_processes_match_one(video_data, tmp_path):
    options = data_options(video_data, False)
    fsdp_dir, single_dir = str(tmp_path / 'fsdp'), str(tmp_path / 'single')
    log = dist_train(FSDP_CFG, fsdp_dir, options, cwd=tmp_path)
    assert 'FSDPStrategy' in log or 'FullyShardedDataParallel' in log
    run([sys.executable, TRAIN, V2_CFG, '--work-dir', single_dir,
         '--no-validate', '--cfg-options', *options,
         'train_dataloader.batch_size=4'], cwd=tmp_path)
    fsdp = load(osp.join(fsdp_dir, 'iter_4.pth'))['state_dict']
    single = load(osp.join(single_dir, 'iter_4.pth'))['state_dict']
    assert max_diff(fsdp, single) <= 1e-5


# --------------------------------------------------------------------------
# torch.compile through the config
# --------------------------------------------------------------------------
def compiled_run(video_data, tmp_path, backend):
    work_dir = str(tmp_path / backend)
    log = run([sys.executable, TRAIN, DDP_CFG, '--work-dir', work_dir,
               '--no-validate', '--cfg-options',
               *data_options(video_data, False),
               'train_dataloader.batch_size=4', 'custom_hooks=[]',
               f'compile.backend={backend}'], cwd=tmp_path)
    assert 'Model has been "compiled"' in log
    return work_dir


@pytest.mark.slow
def test_compile_config_switch(video_data, single_v1, tmp_path):
    """``compile=dict(backend='aot_eager')``: dynamo traces the train step
    (graph breaks at backward and the optimizer step) and AOTAutograd runs
    the captured graphs; same losses as the eager run."""
    work_dir = compiled_run(video_data, tmp_path, 'aot_eager')
    eager, compiled = scalars(single_v1), scalars(work_dir)
    assert sorted(compiled) == [1, 2, 3, 4]
    for step, loss in eager.items():
        assert compiled[step] == pytest.approx(loss, abs=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get('UNIFORMER_MM_TEST_INDUCTOR') != '1',
    reason='inductor compiles C++ kernels with gcc: the first iteration '
    'took 247 s (4 iterations: 5 min 18 s) on 2 busy CPU cores; set '
    'UNIFORMER_MM_TEST_INDUCTOR=1 to run it')
def test_compile_inductor(video_data, single_v1, tmp_path):
    work_dir = compiled_run(video_data, tmp_path, 'inductor')
    eager, compiled = scalars(single_v1), scalars(work_dir)
    for step, loss in eager.items():
        assert compiled[step] == pytest.approx(loss, abs=1e-4)


# --------------------------------------------------------------------------
# config snippets (configs/_base_/runtime, configs/_base_/strategies)
# --------------------------------------------------------------------------
V2_ROW = osp.join(ROOT, 'configs', 'uniformerv2',
                  'uniformerv2-base-p16-res224_clip-k710-pre_u8_'
                  'kinetics400-rgb.py')
SNIPPETS = osp.join(ROOT, 'configs', '_base_')


@pytest.mark.parametrize('snippet,extra', [
    ('runtime/ema.py', ''),
    ('runtime/exact_resume.py',
     'default_hooks = dict(checkpoint=_base_.iter_checkpoint)\n'),
    ('runtime/ema.py',
     "custom_hooks = [_base_.ema_hook, dict(type='ExactResumeHook')]\n"),
    ('strategies/fsdp.py', ''),
    ('strategies/deepspeed.py',
     "optim_wrapper = dict(_delete_=True, type='DeepSpeedOptimWrapper',\n"
     "    constructor='UniFormerOptimWrapperConstructor',\n"
     "    optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.05))\n"),
])
def test_config_snippets_combine_with_a_row(tmp_path, snippet, extra):
    from mmengine.config import Config
    if not osp.isfile(V2_ROW):
        pytest.skip(f'{V2_ROW} not in this checkout')
    path = tmp_path / 'child.py'
    path.write_text(f'_base_ = [{V2_ROW!r}, '
                    f'{osp.join(SNIPPETS, snippet)!r}]\n' + extra)
    cfg = knob_config(str(path))
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    if snippet.startswith('runtime/ema'):
        assert hooks[0] == 'EMAHook'
        assert cfg.custom_hooks[0]['update_buffers'] is True
    if 'ExactResumeHook' in extra or 'exact_resume' in snippet:
        assert hooks[-1] == 'ExactResumeHook'
    if 'exact_resume' in snippet:
        assert cfg.default_hooks.checkpoint.by_epoch is False
        assert cfg.randomness.deterministic is True
    if snippet.startswith('strategies/'):
        assert cfg.runner_type == 'FlexibleRunner'
        assert cfg.strategy.type in ('FSDPStrategy', 'DeepSpeedStrategy')
    if 'deepspeed' in snippet:
        assert set(cfg.optim_wrapper) == {'type', 'constructor', 'optimizer'}
