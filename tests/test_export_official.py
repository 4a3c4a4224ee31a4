"""``tools/convert_checkpoint.py --to official``: the official layout and
container of every family, official -> ours -> official bit-exact, and our
trained demo model exported to the official layout, loaded strictly into a
re-statement of the official key layout.

The official files are made from perturbed tiny models by the generators of
``test_checkpoint.py`` (written independently of uniformer_mm.checkpoint).
"""
import ast
import copy
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from uniformer_mm.checkpoint import CheckpointError, load_checkpoint_file
from uniformer_mm.checkpoint.formats import (OFFICIAL_CONTAINERS,
                                             official_family, to_official)

from test_apis_tools import _demo_options  # noqa: I100
from test_checkpoint import (V1_VARIANTS, V2_VARIANTS,  # noqa: I100
                             assert_one_line_error, build, official_container,
                             perturb_, run_tool,
                             to_official_v1, to_official_v2, v1_model_cfg,
                             v2_model_cfg, write_cfg)
from test_uniformerv2 import module_with_params

REPO = Path(__file__).resolve().parents[1]
DEMO_CFG = REPO / 'configs' / 'demo' / 'uniformer_demo_video.py'

#: V1 variant -> the official family of its model
FAMILY = {'image': 'v1_image', 'tl': 'v1_tl', 'light_image':
          'v1_light_image', 'video': 'v1_video', 'light_video':
          'v1_light_video'}


def _official_v1(variant):
    arch, kind, _ = V1_VARIANTS[variant]
    cfg = v1_model_cfg(kind, arch)
    ref = perturb_(build(cfg))
    return cfg, official_container(kind, to_official_v1(ref.state_dict())), \
        kind


def _official_v2(variant):
    kwargs, container = V2_VARIANTS[variant]
    cfg = v2_model_cfg(**kwargs)
    sd = to_official_v2(perturb_(build(cfg)).state_dict())
    return cfg, ({'model_state': sd, 'epoch': 3}
                 if container == 'model_state' else sd)


def _weights(ckpt):
    """(container key or None, state dict) of an official checkpoint."""
    for key in ('model', 'state_dict', 'model_state'):
        if isinstance(ckpt.get(key), dict):
            return key, ckpt[key]
    return None, ckpt


def assert_bit_exact(a, b):
    assert list(a) == list(b)  # the same keys in the same order
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert torch.equal(a[k], b[k]), k


def _round_trip(tmp_path, cfg, official):
    src, ours, back = (tmp_path / n for n in ('official.pth', 'ours.pth',
                                              'back.pth'))
    torch.save(official, src)
    assert run_tool(src, ours, '--config', write_cfg(tmp_path / 'cfg.py',
                                                     cfg)) == 0
    assert run_tool(ours, back, '--to', 'official') == 0
    return torch.load(back, weights_only=True)


@pytest.mark.parametrize('variant', sorted(V1_VARIANTS))
def test_v1_round_trip_bit_exact(tmp_path, variant):
    cfg, official, kind = _official_v1(variant)
    back = _round_trip(tmp_path, cfg, official)
    container, sd = _weights(official)
    assert list(back) == [container]  # the container the file came in
    assert_bit_exact(sd, back[container])
    family = FAMILY['light_image' if kind == 'light_image' else
                    'light_video' if kind == 'light_video' else kind]
    assert official_family(torch.load(tmp_path / 'ours.pth', weights_only=True)
                           ['state_dict']) == family
    assert OFFICIAL_CONTAINERS[family] == container


@pytest.mark.parametrize('variant', sorted(V2_VARIANTS))
def test_v2_round_trip_bit_exact(tmp_path, variant):
    cfg, official = _official_v2(variant)
    back = _round_trip(tmp_path, cfg, official)
    container, sd = _weights(official)
    if container is None:
        assert not any(isinstance(v, dict) for v in back.values())
        assert_bit_exact(sd, back)
    else:
        assert list(back) == [container]
        assert_bit_exact(sd, back[container])


def test_family_containers_and_choices(tmp_path):
    """Ours without a record of its source: the family's container;
    --container overrides; a raw V2 state dict reads back as v2_official."""
    cfg = v2_model_cfg()
    model = perturb_(build(cfg))
    ours = tmp_path / 'ours.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ours)
    assert run_tool(ours, tmp_path / 'raw.pth', '--to', 'official') == 0
    raw = torch.load(tmp_path / 'raw.pth', weights_only=True)
    assert_bit_exact(raw, to_official_v2(model.state_dict()))
    assert run_tool(ours, tmp_path / 'ms.pth', '--to', 'official',
                    '--container', 'model_state') == 0
    assert list(torch.load(tmp_path / 'ms.pth', weights_only=True)) == [
        'model_state']
    for variant, (arch, kind, _) in V1_VARIANTS.items():
        model = build(v1_model_cfg(kind, arch))
        out, family = to_official(model.state_dict())
        expected = OFFICIAL_CONTAINERS[family]
        assert list(out) == [expected], variant


def test_to_official_refuses_other_models(tmp_path, capsys):
    with pytest.raises(CheckpointError, match='not a UniFormer'):
        to_official({'backbone.conv1.weight': torch.zeros(1, 3, 7, 7)})
    dense = OrderedDict((k, torch.zeros(1)) for k in (
        'backbone.patch_embed1.proj.weight', 'backbone.blocks1.0.attn.weight',
        'backbone.norm4.weight'))
    with pytest.raises(CheckpointError, match='dense-prediction'):
        official_family(dense)
    # keys outside backbone + classifier have no official name
    arch, kind, _ = V1_VARIANTS['video']
    sd = build(v1_model_cfg(kind, arch)).state_dict()
    sd['neck.fc.weight'] = torch.zeros(2, 2)
    with pytest.raises(CheckpointError, match='neck.fc.weight has no place'):
        to_official(sd)
    src = tmp_path / 'ours.pth'
    torch.save({'state_dict': sd}, src)
    dst = tmp_path / 'out.pth'
    capsys.readouterr()
    assert run_tool(src, dst, '--to', 'official') == 2
    assert_one_line_error(capsys.readouterr().err,
                          'neck.fc.weight has no place')
    assert not dst.exists()
    assert run_tool(src, dst, '--container', 'raw') == 2
    assert_one_line_error(capsys.readouterr().err,
                          '--container is for --to official')


# ---------------------------------------------------------------------------
# our trained demo model -> official, strictly into the official key layout
# ---------------------------------------------------------------------------
def test_trained_demo_exports_to_the_official_layout(tmp_path):
    import importlib.util

    from uniformer_mm.apis import UniFormerInferencer, init_model
    spec = importlib.util.spec_from_file_location(
        '_train_for_export', REPO / 'tools' / 'train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = tmp_path / 'work'
    options = _demo_options(tmp_path / 'data') + [
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4']
    train.main([str(DEMO_CFG), '--work-dir', str(work), '--cfg-options'] +
               options)
    ckpt = work / 'epoch_1.pth'
    trained = load_checkpoint_file(str(ckpt))
    # the runner stored the class names (DemoVideoDataset.METAINFO)
    classes = trained['meta']['dataset_meta']['classes']
    assert classes == ['move_left', 'move_right', 'move_up', 'move_down']

    official = tmp_path / 'official.pth'
    assert run_tool(ckpt, official, '--to', 'official') == 0
    exported = torch.load(official, weights_only=True)
    assert list(exported) == ['model_state']  # SlowFast's container

    # the official key layout of this architecture, re-stated from our
    # model by the independent generator (as an nn.Module tree), takes the
    # file strictly, with the trained weights
    model_options = {o.split('=', 1)[0]: ast.literal_eval(o.split('=', 1)[1])
                     for o in options if o.startswith('model.')}
    built = init_model(str(DEMO_CFG), None, cfg_options=model_options)
    layout = to_official_v1(OrderedDict(
        (k, v) for k, v in built.state_dict().items()
        if not k.startswith('data_preprocessor.')))
    target = module_with_params(OrderedDict(
        (k, torch.zeros(v.shape)) for k, v in layout.items()))
    target.load_state_dict(exported['model_state'], strict=True)
    expected = to_official_v1(OrderedDict(
        (k, v) for k, v in trained['state_dict'].items()
        if not k.startswith('data_preprocessor.')))
    loaded = target.state_dict()
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key

    # and back: the official file predicts what the trained model predicts
    video = sorted((tmp_path / 'data').rglob('*.mp4'))[0]
    a = UniFormerInferencer(str(DEMO_CFG), pretrained=str(ckpt),
                            cfg_options=copy.deepcopy(model_options))
    b = UniFormerInferencer(str(DEMO_CFG), pretrained=str(official),
                            cfg_options=copy.deepcopy(model_options))
    (a, ), (b, ) = a(str(video)), b(str(video))
    assert a['pred_class'] in classes  # names from the checkpoint
    np.testing.assert_allclose(a['pred_scores'], b['pred_scores'],
                               atol=1e-6)


# ---------------------------------------------------------------------------
# class names in the checkpoints that training writes
# ---------------------------------------------------------------------------
def test_training_checkpoints_name_their_classes(tmp_path):
    """A data set without class names (mmaction2's VideoDataset): the
    AtomicCheckpointHook of our runtime stores the config's label map, and a
    resumed run does not see a changed data set."""
    from uniformer_mm.datasets.demo_data import make_video_demo
    root = tmp_path / 'data'
    info = make_video_demo(str(root), num_train_per_class=1,
                           num_val_per_class=1, num_frames=8)
    loader = '''dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='VideoDataset', ann_file=r'{ann}',
                 data_prefix=dict(video=r'{root}'),
                 pipeline={{{{_base_.{pipeline}}}}}))'''
    config = tmp_path / 'video_dataset.py'
    config.write_text('\n'.join([
        f"_base_ = [r'{DEMO_CFG}']",
        f"label_map = r'{info['label_map']}'",
        "default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', "
        "save_best=None))",
        'train_dataloader = ' + loader.format(
            ann=info['train_list'], root=root, pipeline='train_pipeline'),
        'val_dataloader = ' + loader.format(
            ann=info['val_list'], root=root, pipeline='val_pipeline'),
        'test_dataloader = val_dataloader', '']))
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        '_train_for_names', REPO / 'tools' / 'train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = tmp_path / 'work'
    options = ['train_cfg.max_epochs=1',
               'model.backbone.arch.embed_dims=[16,32,64,64]',
               'model.backbone.arch.depths=[1,1,1,1]',
               'model.backbone.arch.head_dim=16',
               'model.cls_head.in_channels=64']
    train.main([str(config), '--work-dir', str(work), '--cfg-options'] +
               options)
    meta = load_checkpoint_file(str(work / 'epoch_1.pth'))['meta']
    assert meta['dataset_meta']['classes'] == list(info['classes'])
    train.main([str(config), '--work-dir', str(work), '--resume',
                '--cfg-options'] + options)
    logs = sorted(work.glob('*/*.log'))
    text = logs[-1].read_text()
    assert len(logs) == 2 and 'resumed' in text.lower()
    assert 'dataset metainfo' not in text  # mmengine's check saw no change
