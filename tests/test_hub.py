"""Models by name: ``list_models`` / ``get_model(pretrained=True)`` against
checkpoints of every format served by a real HTTP server on 127.0.0.1
(``tests/hub_server.py``), the download faults (wrong hash, truncated and
resumed, 404, connection refused, a web page instead of the file), mirrors,
sources, the cache, ``uniformer://NAME`` in mmengine's loader and the tools,
the inferencer against ``tools/test.py --dump``, and every name of the
repository's model index built on the meta device.

The zoo is generated here: tiny models of each family, their weights
written in the official / mmaction2 layouts by the independent generators
of ``test_checkpoint.py``, a model index in the OpenMMLab metafile schema
that points at the server. Each test gets its own ``TORCH_HOME``.
"""
import hashlib
import importlib.util
import io
import os
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.runner.checkpoint import load_checkpoint

import uniformer_mm
from uniformer_mm.apis import hub
from uniformer_mm.apis.hub import HubError
from uniformer_mm.apis.model_index import (INDEX_ENV, find_model_index,
                                           load_model_index, parse_hash)
from uniformer_mm.checkpoint import CheckpointError
from uniformer_mm.checkpoint.download import DownloadError, HashMismatchError

from hub_server import CheckpointServer, refused_url  # noqa: I100
from test_checkpoint import (LIGHT, TINY, assert_same, build, input_for,
                             logits, official_container, perturb_,
                             to_official_v1, to_official_v2, v1_model_cfg,
                             v2_model_cfg)

REPO = Path(__file__).resolve().parents[1]
VIDEO = REPO / 'tests' / 'data' / 'videos' / 'test.mp4'
CLASSES = ['abseiling', 'air drumming', 'answering questions', 'applauding',
           'applying cream']

VIDEO_TEST_PIPELINE = [
    dict(type='VideoInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2,
         test_mode=True),
    dict(type='VideoDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


def _bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _plain(sd):
    """A state dict without our ``_metadata`` (as mmaction2 saves it)."""
    return OrderedDict((k, v.clone()) for k, v in sd.items())


class Zoo:
    """The generated zoo: configs, metafile, index, server."""

    def __init__(self, root):
        self.root = root
        self.server = CheckpointServer()
        self.refused = refused_url()
        self.models, self.refs = [], {}
        (root / 'configs').mkdir()
        (root / 'labels.txt').write_text('\n'.join(CLASSES) + '\n')

    def config(self, name, model_cfg, extra=None, base=None):
        cfg = dict(model=model_cfg, label_map=str(self.root / 'labels.txt'),
                   custom_imports=dict(imports=['uniformer_mm'],
                                       allow_failed_imports=False))
        if model_cfg['type'] == 'Recognizer3D':
            cfg['model']['cls_head']['average_clips'] = 'prob'
            cfg['test_pipeline'] = VIDEO_TEST_PIPELINE
        cfg.update(extra or {})
        path = self.root / 'configs' / f'{name}.py'
        if base:
            path.write_text(f"_base_ = ['./{base}.py']\n")
        else:
            Config(cfg).dump(str(path))
        return f'configs/{name}.py'

    def serve(self, path, data, fault=None):
        self.server.files[path] = data
        if fault:
            self.server.faults[path] = fault
        return self.server.url + path

    def add(self, name, model_cfg, ref, files, alias_of=None, task=None,
            extra_cfg=None):
        config = self.config(name, model_cfg, extra_cfg, base=alias_of)
        entry = {'Name': name, 'In Collection': 'tiny', 'Config': config,
                 'Metadata': {'Input': '4x32x32' if model_cfg['type'] ==
                              'Recognizer3D' else '64x64'}}
        if task:
            entry['Results'] = [{'Task': task, 'Dataset': 'tiny',
                                 'Metrics': {'Top 1 Accuracy': 12.5}}]
        if alias_of:
            entry['Alias Of'] = alias_of
        if files:
            entry['Weight Files'] = files
            entry['Weights'] = files[0]['URL']
        self.models.append(entry)
        self.refs[name] = (ref, model_cfg)

    def write_index(self):
        meta = self.root / 'configs' / 'metafile.yml'
        meta.write_text(yaml.safe_dump(
            {'Collections': [{'Name': 'tiny'}], 'Models': self.models},
            sort_keys=False))
        index = self.root / 'model-index.yml'
        index.write_text(yaml.safe_dump({'Import': ['configs/metafile.yml']}))
        self.index = index


def weight(source, url, data=None, hash_mode='unknown', file=None,
           note=''):
    if hash_mode == 'full':
        digest = f'sha256:{_sha(data)}'
    elif hash_mode == 'prefix':
        digest = f'sha256:{_sha(data)[:8]}... (prefix in the file name)'
    elif hash_mode == 'wrong':
        digest = 'sha256:' + '0' * 64
    else:
        digest = 'unknown'
    return {'Source': source, 'URL': url,
            'File': file or 'unknown (Google Drive link)', 'Hash': digest,
            'Note': note}


@pytest.fixture(scope='module')
def zoo(tmp_path_factory):
    z = Zoo(tmp_path_factory.mktemp('zoo'))
    url = z.server.url
    # --- one row per format -------------------------------------------
    image_cfg = v1_model_cfg('image', TINY)
    image = perturb_(build(image_cfg), seed=1)
    data = _bytes(official_container('image', to_official_v1(
        image.state_dict())))
    z.add('tiny-image_in1k', image_cfg, image, [weight(
        'official', z.serve('/off/tiny_image_in1k.pth', data), data, 'full',
        'tiny_image_in1k.pth')], task='Image Classification')

    tl_cfg = v1_model_cfg('tl', TINY)
    tl = perturb_(build(tl_cfg), seed=2)
    data = _bytes(official_container('tl', to_official_v1(tl.state_dict())))
    z.add('tiny-tl_in1k', tl_cfg, tl, [weight(
        'official', z.serve('/off/tiny_tl_224.pth', data), data, 'unknown',
        'tiny_tl_224.pth')])

    light_cfg = v1_model_cfg('light_image', LIGHT)
    light = perturb_(build(light_cfg), seed=3)
    data = _bytes({'model': to_official_v1(light.state_dict())})
    z.add('tiny-light_in1k', light_cfg, light, [weight(  # a Drive-like link
        'official', z.serve('/drive/uc', data) + '?id=light&export=download')])

    video_cfg = v1_model_cfg('video', TINY)
    video = perturb_(build(video_cfg), seed=4)
    mm = _bytes({'state_dict': _plain(video.state_dict()), 'meta': {}})
    off = _bytes(official_container('video', to_official_v1(
        video.state_dict())))
    mm_name = f'tiny_k400_20240101-{_sha(mm)[:8]}.pth'
    video_files = [
        weight('mmaction2', z.serve('/mm/' + mm_name, mm), mm, 'prefix',
               mm_name),
        weight('official', z.serve('/off/tiny_k400_16x4.pth', off), off,
               'unknown', 'tiny_k400_16x4.pth')]
    z.add('tiny_k400', video_cfg, video, video_files,
          task='Action Recognition')
    z.add('tiny_short', video_cfg, video, video_files, alias_of='tiny_k400')
    z.add('tiny_bare', video_cfg, video, [], alias_of='tiny_k400')

    v2_cfg = v2_model_cfg()
    v2 = perturb_(build(v2_cfg), seed=5)
    data = _bytes(to_official_v2(v2.state_dict()))
    z.add('tinyv2_k400', v2_cfg, v2, [weight(
        'official', z.serve('/v2/k400_tinyv2_8x32.pyth', data), data, 'full',
        'k400_tinyv2_8x32.pyth')])
    data = _bytes({'state_dict': _plain(v2.state_dict())})
    name = f'tinyv2_mm_20240101-{_sha(data)[:8]}.pth'
    z.add('tinyv2-mm_k400', v2_cfg, v2, [weight(
        'mmaction2', z.serve('/mm/' + name, data), data, 'prefix', name)])

    z.add('tiny-noweights_in1k', image_cfg, image, [])

    # an official file whose classifier rows are in another class order
    # (reversed), which its Label Map names: rows re-ordered to the config's
    order = list(reversed(range(len(CLASSES))))
    (z.root / 'official_order.txt').write_text(
        '\n'.join(CLASSES[i] for i in order) + '\n')
    sd = to_official_v1(video.state_dict())
    for key in ('head.weight', 'head.bias'):
        sd[key] = sd[key][order].clone()
    data = _bytes(official_container('video', sd))
    z.add('tiny-order_k400', video_cfg, video, [dict(weight(
        'official', z.serve('/off/tiny_order.pth', data), data, 'full',
        'tiny_order.pth'), **{'Label Map': 'official_order.txt'})])

    # --- faults (the image model's file) -----------------------------
    good = _bytes(official_container('image', to_official_v1(
        image.state_dict())))
    faults = {
        'f-badhash': ('/off/f_badhash.pth', None, 'wrong'),
        'f-404': ('/off/nothing.pth', 'absent', 'full'),
        'f-truncated': ('/off/f_trunc.pth', 'truncate', 'full'),
        'f-truncated-once': ('/off/f_trunc1.pth', 'truncate_once', 'full'),
        'f-html': ('/off/f_html.pth', 'html', 'unknown'),
        'f-norange': ('/off/f_norange.pth', 'ignore_range', 'full'),
    }
    for name, (path, fault, mode) in faults.items():
        if fault == 'absent':
            link = url + path
        else:
            link = z.serve(path, good, fault)
        z.add(name, image_cfg, image, [weight(
            'official', link, good, mode, osp.basename(path))])
    z.add('f-refused', image_cfg, image, [weight(
        'official', z.refused + '/x/f_refused.pth', good, 'full',
        'f_refused.pth')])
    z.server.files['/zoo/f_mirror.pth'] = good
    z.add('f-mirror', image_cfg, image, [weight(
        'official', 'http://weights.invalid/zoo/f_mirror.pth', good, 'full',
        'f_mirror.pth')])
    z.add('f-fallback', image_cfg, image, [
        dict(weight('mmaction2', url + '/mm/gone_20240101-1234abcd.pth',
                    file='gone_20240101-1234abcd.pth'),
             Hash='sha256:1234abcd... (prefix in the file name)'),
        weight('official', z.serve('/off/f_fallback.pth', good), good,
               'full', 'f_fallback.pth')])

    # --- the inferencer / tools/test.py row: one video, 6 views -------
    ann = z.root / 'one_video.txt'
    ann.write_text('test.mp4 2\n')
    test_cfg = dict(
        default_scope='mmaction',
        test_dataloader=dict(
            batch_size=1, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='VideoDataset', ann_file=str(ann),
                         data_prefix=dict(video=str(VIDEO.parent)),
                         pipeline=VIDEO_TEST_PIPELINE, test_mode=True)),
        test_evaluator=dict(type='AccMetric'),
        test_cfg=dict(type='TestLoop'))
    z.add('tiny-test_k400', video_cfg, video, video_files,
          extra_cfg=test_cfg)
    z.write_index()
    yield z
    z.server.close()


@pytest.fixture
def env(zoo, tmp_path, monkeypatch):
    """Per test: a fresh TORCH_HOME and the zoo's index."""
    home = tmp_path / 'torch_home'
    monkeypatch.setenv('TORCH_HOME', str(home))
    monkeypatch.setenv(INDEX_ENV, str(zoo.index))
    monkeypatch.delenv('UNIFORMER_MM_MIRRORS', raising=False)
    return home


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob('*')
                  if p.is_file()) if Path(folder).is_dir() else []


def partial_files(home):
    return [f for f in files_under(home / 'hub' / 'uniformer_mm_partial')
            if f.endswith('.part')]


def assert_one_line(err, *needles):
    text = str(err)
    assert '\n' not in text, text
    for needle in needles:
        assert needle in text, (needle, text)


def assert_same_outputs(model, name, zoo):
    ref, cfg = zoo.refs[name]
    x = input_for(cfg)
    assert_same(logits(model, x), logits(ref, x))


# ---------------------------------------------------------------------------
# the index
# ---------------------------------------------------------------------------
def test_parse_hash():
    full = 'a' * 64
    assert parse_hash(f'sha256:{full}') == (full, None)
    assert parse_hash('sha256:82c01015... (prefix in the file name)') == (
        None, '82c01015')
    assert parse_hash('unknown') == (None, None)
    # without a Hash: OpenMMLab's file-name convention on its server only
    name = 'uniformer_small_in1k_20221219-fe0a7ae0.pth'
    assert parse_hash(None, name, 'https://download.openmmlab.com/x/' +
                      name) == (None, 'fe0a7ae0')
    other = parse_hash(None, name, 'https://example.org/' + name)
    assert other == (None, None)


def test_google_drive_links_and_mirror_rules():
    from uniformer_mm.checkpoint.download import (apply_mirrors, direct_url,
                                            parse_mirrors)
    direct = ('https://drive.usercontent.google.com/download?id=1-wT39Qaz_'
              'x&export=download&confirm=t')
    assert direct_url('https://drive.google.com/file/d/1-wT39Qaz_x/view?usp'
                      '=sharing') == direct
    assert direct_url('https://drive.google.com/open?id=1-wT39Qaz_x') == \
        direct
    assert direct_url('https://example.org/a.pth') == 'https://example.org/'\
        'a.pth'
    rules = 'https://a.org/x/=https://m.org/y/, https://folder.org/f/'
    assert parse_mirrors(rules) == [('https://a.org/x/', 'https://m.org/y/'),
                                    (None, 'https://folder.org/f/')]
    assert apply_mirrors('https://a.org/x/k.pth', None, rules) == \
        'https://m.org/y/k.pth'
    assert apply_mirrors('https://b.org/k.pth?dl=1', 'w.pth', rules) == \
        'https://folder.org/f/w.pth'
    assert apply_mirrors('https://b.org/k.pth', None, '') == \
        'https://b.org/k.pth'


def test_list_models(env, zoo):
    names = uniformer_mm.list_models()
    assert names == sorted(m['Name'] for m in zoo.models)
    assert 'tiny_short' in names and 'tiny-noweights_in1k' in names
    assert uniformer_mm.list_models('tinyv2*') == ['tinyv2-mm_k400',
                                                   'tinyv2_k400']
    assert uniformer_mm.list_models('K400') == [
        'tiny-order_k400', 'tiny-test_k400', 'tiny_k400', 'tinyv2-mm_k400',
        'tinyv2_k400']
    assert uniformer_mm.list_models('tiny_*') == ['tiny_bare', 'tiny_k400',
                                                  'tiny_short']
    video = uniformer_mm.list_models(task='video')
    assert 'tiny_k400' in video and 'tinyv2_k400' in video
    assert 'tiny-image_in1k' not in video
    assert uniformer_mm.list_models(task='Image Classification') == sorted(
        set(names) - set(video))
    assert 'tiny-noweights_in1k' not in uniformer_mm.list_models(
        pretrained=True)
    info = hub.model_info('tiny_short')
    assert info.alias_of == 'tiny_k400' and info.canonical == 'tiny_k400'
    assert info.sources == ['mmaction2', 'official']
    # an alias without weight files of its own has its model's
    assert 'tiny_bare' in uniformer_mm.list_models(pretrained=True)
    assert hub.fetch_checkpoint('tiny_bare@official', progress=False) == str(
        env / 'hub' / 'checkpoints' / 'uniformer_mm' /
        'tiny_k400.official.pth')
    assert hub.model_info('tiny_k400').top1 == 12.5
    with pytest.raises(HubError) as e:
        uniformer_mm.get_model('tiny_k4OO')
    assert_one_line(e.value, "unknown model 'tiny_k4OO'", 'did you mean',
                    'tiny_k400', 'list_models()')


def test_index_locations(zoo, monkeypatch, tmp_path):
    monkeypatch.setenv(INDEX_ENV, str(tmp_path / 'none.yml'))
    with pytest.raises(HubError, match='does not exist'):
        uniformer_mm.list_models()
    monkeypatch.delenv(INDEX_ENV)
    found = find_model_index()
    repo_index = REPO / 'model-index.yml'
    assert found == (str(repo_index) if repo_index.is_file() else None)
    bad = tmp_path / 'model-index.yml'
    bad.write_text('Import:\n  - missing/metafile.yml\n')
    with pytest.raises(Exception) as e:
        load_model_index(str(bad))
    assert_one_line(e.value, 'missing/metafile.yml', 'does not exist')


# ---------------------------------------------------------------------------
# every format: download, verify, convert, cache; no second download
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', [
    'tiny-image_in1k', 'tiny-tl_in1k', 'tiny-light_in1k', 'tiny_k400',
    'tiny_k400@official', 'tiny_short', 'tinyv2_k400', 'tinyv2-mm_k400',
    'tiny-order_k400'])
def test_get_model_every_format(env, zoo, name, capsys):
    server = zoo.server
    base, _, source = name.partition('@')
    info = hub.model_info(base)
    wf = next(w for w in info.weight_files if w.source == (source or
                                                           info.sources[0]))
    path = '/' + wf.url.split('/', 3)[3].split('?')[0]
    before = len(server.requests_for(path))

    model = uniformer_mm.get_model(name, pretrained=True)
    assert_same_outputs(model, base, zoo)
    assert model.dataset_meta['classes'] == CLASSES
    assert len(server.requests_for(path)) == before + 1
    assert 'uniformer_mm: downloading ' + wf.url in capsys.readouterr().err

    # the cache: the published file under its name, the converted one
    # under the row's (the alias resolves to its model), nothing partial
    raw_name = wf.file or f'{info.canonical}.{wf.source}.pth'
    converted = f'uniformer_mm/{info.canonical}.{wf.source}.pth'
    assert files_under(env / 'hub' / 'checkpoints') == sorted(
        [raw_name, converted])
    assert partial_files(env) == []
    raw = env / 'hub' / 'checkpoints' / raw_name
    ckpt = torch.load(env / 'hub' / 'checkpoints' / converted,
                      weights_only=True)
    record = ckpt['meta']['uniformer_hub']
    assert record['sha256'] == _sha(raw.read_bytes())
    assert record['url'] == wf.url and record['source'] == wf.source
    assert ckpt['meta']['dataset_meta']['classes'] == CLASSES

    # second call: no request; without the converted file: no request
    # either (the published file is verified again and converted)
    model = uniformer_mm.get_model(name, pretrained=True)
    assert_same_outputs(model, base, zoo)
    os.unlink(env / 'hub' / 'checkpoints' / converted)
    model = uniformer_mm.get_model(name, pretrained=True)
    assert_same_outputs(model, base, zoo)
    assert len(server.requests_for(path)) == before + 1


def test_no_weights_and_unknown_source(env):
    with pytest.raises(HubError) as e:
        uniformer_mm.get_model('tiny-noweights_in1k', pretrained=True)
    assert_one_line(e.value, 'has no released checkpoint', 'pretrained=PATH')
    with pytest.raises(HubError) as e:
        uniformer_mm.get_model('tiny_k400@hf', pretrained=True)
    assert_one_line(e.value, "no checkpoint from 'hf'", 'mmaction2, official')
    model = uniformer_mm.get_model('tiny-noweights_in1k')  # random weights
    assert model.task == 'image' and not model.training


# ---------------------------------------------------------------------------
# faults: one line each, nothing partial in the cache
# ---------------------------------------------------------------------------
def _raw_path(env, name):
    return str(env / 'hub' / 'checkpoints' / osp.basename(
        hub.model_info(name).weight_files[0].file))


def test_wrong_hash(env, zoo):
    with pytest.raises(HashMismatchError) as e:
        uniformer_mm.get_model('f-badhash', pretrained=True, progress=False)
    actual = _sha(zoo.server.files['/off/f_badhash.pth'])
    assert_one_line(e.value, zoo.server.url + '/off/f_badhash.pth',
                    'expected ' + '0' * 64, 'got ' + actual,
                    'place it at ' + _raw_path(env, 'f-badhash'))
    assert files_under(env / 'hub' / 'checkpoints') == []
    assert partial_files(env) == []


def test_404(env, zoo):
    with pytest.raises(DownloadError) as e:
        uniformer_mm.get_model('f-404', pretrained=True, progress=False)
    assert_one_line(e.value, zoo.server.url + '/off/nothing.pth', 'HTTP 404',
                    'place it at ' + _raw_path(env, 'f-404'), '(sha256 ')
    assert files_under(env / 'hub' / 'checkpoints') == []
    assert partial_files(env) == []


def test_connection_refused_then_placed_by_hand(env, zoo):
    with pytest.raises(DownloadError) as e:
        uniformer_mm.get_model('f-refused', pretrained=True, progress=False)
    place = _raw_path(env, 'f-refused')
    assert_one_line(e.value, zoo.refused + '/x/f_refused.pth',
                    'connection refused', 'place it at ' + place)
    assert files_under(env / 'hub' / 'checkpoints') == []
    assert partial_files(env) == []
    # the manual alternative: the file placed where the line says
    good = zoo.server.files['/off/f_trunc.pth']
    wrong = good[:100] + bytes([good[100] ^ 1]) + good[101:]
    Path(place).write_bytes(wrong)  # a wrong file first
    with pytest.raises(HubError) as e:
        uniformer_mm.get_model('f-refused', pretrained=True)
    assert_one_line(e.value, place, 'expected ' + _sha(good),
                    'got ' + _sha(wrong), 'Delete it')
    assert Path(place).is_file()  # never deleted: it was not ours
    Path(place).write_bytes(good)
    model = uniformer_mm.get_model('f-refused', pretrained=True)
    assert_same_outputs(model, 'f-refused', zoo)


def test_html_page_instead_of_the_file(env, zoo):
    with pytest.raises(DownloadError) as e:
        uniformer_mm.get_model('f-html', pretrained=True, progress=False)
    assert_one_line(e.value, '/off/f_html.pth', 'web page', 'Google Drive',
                    'place it at')
    assert files_under(env / 'hub' / 'checkpoints') == []
    assert partial_files(env) == []


def test_truncated_download_resumes(env, zoo, capsys):
    model = uniformer_mm.get_model('f-truncated-once', pretrained=True)
    assert_same_outputs(model, 'f-truncated-once', zoo)
    size = len(zoo.server.files['/off/f_trunc1.pth'])
    ranges = zoo.server.requests_for('/off/f_trunc1.pth')
    assert ranges == [None, f'bytes={size // 2}-']
    assert 'resuming from byte' in capsys.readouterr().err


def test_truncated_every_time_then_resumed_by_the_next_call(env, zoo):
    path = '/off/f_trunc.pth'
    data = zoo.server.files[path]
    with pytest.raises(DownloadError) as e:
        hub.fetch_checkpoint('f-truncated', retries=1, progress=False)
    got = len(data) // 2 + (len(data) - len(data) // 2) // 2
    assert_one_line(e.value, zoo.server.url + path, 'broke off 2 times',
                    f'{got} bytes kept', 'Run again to resume',
                    'place it at ' + _raw_path(env, 'f-truncated'))
    assert files_under(env / 'hub' / 'checkpoints') == []
    assert partial_files(env) == ['f_trunc.pth.part']
    zoo.server.faults.pop(path)
    try:
        model = uniformer_mm.get_model('f-truncated', pretrained=True)
    finally:
        zoo.server.faults[path] = 'truncate'
    assert_same_outputs(model, 'f-truncated', zoo)
    assert zoo.server.requests_for(path)[-1] == f'bytes={got}-'
    assert partial_files(env) == []


def test_http_load_from_uses_the_hub_downloader(env, zoo):
    """``load_from='http://...'`` (mmengine's CheckpointLoader, our URL
    loader) fetches with the hub's downloader: a transfer that breaks off
    is resumed where it stopped, the file lands in torch's hub cache and is
    read from there next time, a missing file is one line."""
    from mmengine.runner.checkpoint import CheckpointLoader
    weights = {'backbone.w': torch.arange(6.).reshape(2, 3)}
    buffer = io.BytesIO()
    torch.save({'state_dict': weights, 'meta': {}}, buffer)
    path = '/plain/http_load_from.pth'
    zoo.server.files[path] = data = buffer.getvalue()
    zoo.server.faults[path] = 'truncate_once'
    ckpt = CheckpointLoader.load_checkpoint(zoo.server.url + path, 'cpu')
    assert torch.equal(ckpt['state_dict']['backbone.w'], weights['backbone.w'])
    assert zoo.server.requests_for(path) == [None, f'bytes={len(data) // 2}-']
    assert files_under(env / 'hub' / 'checkpoints') == ['http_load_from.pth']
    assert partial_files(env) == []
    CheckpointLoader.load_checkpoint(zoo.server.url + path, 'cpu')
    assert len(zoo.server.requests_for(path)) == 2  # cached
    missing = zoo.server.url + '/plain/missing.pth'
    with pytest.raises(DownloadError) as e:
        CheckpointLoader.load_checkpoint(missing, 'cpu')
    assert_one_line(e.value, missing, 'HTTP 404', 'place it at ' + str(
        env / 'hub' / 'checkpoints' / 'missing.pth'))


def test_server_without_ranges_restarts(env, zoo):
    """A server that ignores Range gets the whole file again, not appended
    to the part."""
    part_dir = env / 'hub' / 'uniformer_mm_partial'
    part_dir.mkdir(parents=True)
    (part_dir / 'f_norange.pth.part').write_bytes(b'x' * 100)
    model = uniformer_mm.get_model('f-norange', pretrained=True)
    assert_same_outputs(model, 'f-norange', zoo)
    assert zoo.server.requests_for('/off/f_norange.pth')[-1] == 'bytes=100-'


def test_mirrors(env, zoo, monkeypatch):
    with pytest.raises(DownloadError):  # weights.invalid does not resolve
        uniformer_mm.get_model('f-mirror', pretrained=True, progress=False)
    model = uniformer_mm.get_model(
        'f-mirror', pretrained=True,
        mirrors={'http://weights.invalid/': zoo.server.url + '/'})
    assert_same_outputs(model, 'f-mirror', zoo)
    os.unlink(_raw_path(env, 'f-mirror'))
    hub_dir = env / 'hub' / 'checkpoints' / 'uniformer_mm'
    for f in hub_dir.iterdir():
        f.unlink()
    before = len(zoo.server.requests_for('/zoo/f_mirror.pth'))
    # the environment variable, folder form: <folder>/<file name>
    monkeypatch.setenv('UNIFORMER_MM_MIRRORS', zoo.server.url + '/zoo/')
    model = uniformer_mm.get_model('f-mirror', pretrained=True)
    assert_same_outputs(model, 'f-mirror', zoo)
    assert len(zoo.server.requests_for('/zoo/f_mirror.pth')) == before + 1
    monkeypatch.setenv('UNIFORMER_MM_MIRRORS', 'not a rule')
    with pytest.raises(DownloadError, match='mirror rule'):
        hub.fetch_checkpoint('f-mirror@official', progress=False)


def test_next_source_when_one_fails(env, zoo):
    model = uniformer_mm.get_model('f-fallback', pretrained=True,
                                   progress=False)
    assert_same_outputs(model, 'f-fallback', zoo)
    assert files_under(env / 'hub' / 'checkpoints') == [
        'f_fallback.pth', 'uniformer_mm/f-fallback.official.pth']
    with pytest.raises(DownloadError) as e:
        uniformer_mm.get_model('f-fallback@mmaction2', pretrained=True,
                               progress=False)
    assert_one_line(e.value, 'HTTP 404', 'gone_20240101-1234abcd.pth',
                    '(sha256 1234abcd... (prefix))')


# ---------------------------------------------------------------------------
# uniformer://NAME: configs and tools
# ---------------------------------------------------------------------------
def _load_tool(rel):
    path = REPO / rel
    spec = importlib.util.spec_from_file_location(
        '_hub_tool_' + re.sub(r'\W', '_', rel), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uniformer_scheme_names(env, zoo, tmp_path):
    from uniformer_mm.engine.config_checks import check_config
    ref, cfg = zoo.refs['tinyv2_k400']
    model = build(cfg).eval()
    load_checkpoint(model, 'uniformer://tinyv2_k400', strict=True)
    assert_same_outputs(model, 'tinyv2_k400', zoo)
    # a path still means the file
    raw = _raw_path(env, 'tinyv2_k400')
    model = build(cfg).eval()
    load_checkpoint(model, 'uniformer://' + raw, strict=True)
    assert_same_outputs(model, 'tinyv2_k400', zoo)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(model, 'uniformer://tinyv3_k400')
    assert_one_line(e.value, 'uniformer://tinyv3_k400', 'no model of that '
                    'name', 'list_models()')
    check_config(Config(dict(model=cfg, load_from='uniformer://tinyv2_k400')),
                 mode='test')
    with pytest.raises(ValueError, match='does not exist'):
        check_config(Config(dict(model=cfg,
                                 load_from='uniformer://nothing.pth')),
                     mode='test')


def test_tools_take_names(env, zoo, tmp_path, capsys):
    config = str(zoo.root / 'configs' / 'tiny_k400.py')
    out = tmp_path / 'infer.json'
    _load_tool('tools/infer.py').main([config, 'uniformer://tiny_k400',
                                       str(VIDEO), '--out', str(out),
                                       '--topk', '2'])
    printed = capsys.readouterr().out
    assert '(video, 6 views)' in printed
    feats = tmp_path / 'feats'
    _load_tool('tools/extract_features.py').main([
        config, 'uniformer://tiny_short', str(VIDEO.parent), '--out-dir',
        str(feats)])
    assert np.load(feats / 'test.npy').shape == (128, )
    pytest.importorskip('onnxruntime')
    diff = _load_tool('tools/export_onnx.py').main([
        config, 'uniformer://tiny_k400', '--out', str(tmp_path / 'm.onnx'),
        '--verify'])
    assert diff < 1e-4


def test_inferencer_matches_tools_test(env, zoo, tmp_path):
    """tools/test.py --dump on a one-video list and the inferencer, both
    by name, with the config's 2 clips x 3 crops: the same scores."""
    dump = tmp_path / 'dump.pkl'
    config = str(zoo.root / 'configs' / 'tiny-test_k400.py')
    _load_tool('tools/test.py').main([
        config, 'uniformer://tiny-test_k400', '--dump', str(dump),
        '--work-dir', str(tmp_path / 'work')])
    with open(dump, 'rb') as f:
        (sample, ) = pickle.load(f)
    expected = sample['pred_score'].numpy()

    inferencer = uniformer_mm.UniFormerInferencer('tiny-test_k400')
    (result, ) = inferencer(str(VIDEO), topk=3)
    assert result['num_views'] == 6
    np.testing.assert_allclose(result['pred_scores'], expected, rtol=1e-5,
                               atol=1e-6)
    assert abs(result['pred_scores'].sum() - 1) < 1e-5  # 'prob' fusion
    best = int(np.argmax(expected))
    assert result['pred_label'] == best
    assert result['pred_class'] == CLASSES[best]  # from the checkpoint
    assert [t['class'] for t in result['topk']] == [
        CLASSES[i] for i in np.argsort(-expected, kind='stable')[:3]]


# ---------------------------------------------------------------------------
# dense prediction: an official segmentation release served, converted
# (format v1_seg) and loaded by name; its test-time setting (w32) by name
# ---------------------------------------------------------------------------
SEG_ROW = ('configs/uniformer_seg/fpn_uniformer-small_in1k-pre_8xb4-80k_'
           'ade20k-512x512.py')
DENSE_TINY = dict(depths=[1, 1, 2, 1], embed_dims=[16, 32, 64, 64],
                  head_dim=16)
SEG_BODY = f'''
model = dict(
    backbone=dict(arch=dict(_delete_=True, **{DENSE_TINY!r}),
                  drop_path_rate=0., init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 64], out_channels=16),
    decode_head=dict(in_channels=[16, 16, 16, 16], channels=16,
                     num_classes=5))
'''


@pytest.fixture(scope='module')
def dense_zoo(tmp_path_factory):
    """A tiny Semantic FPN row derived from the repository's config, its
    official-layout file (regenerated: the official backbone names of
    test_uniformer_dense, random values, no meta, as the official
    segmentation releases were saved) on the server behind a
    Google-Drive-like link, and a w32 test-time row of the same weights."""
    pytest.importorskip('mmseg')
    from test_uniformer_dense import official_backbone_keys, regenerate
    root = tmp_path_factory.mktemp('dense_zoo')
    (root / 'configs').mkdir()
    (root / 'configs' / 'tiny-fpn_ade20k.py').write_text(
        f'_base_ = [{str(REPO / SEG_ROW)!r}]\n' + SEG_BODY)
    (root / 'configs' / 'tiny-fpn-w32_ade20k.py').write_text(
        "_base_ = ['./tiny-fpn_ade20k.py']\n"
        "model = dict(backbone=dict(stage3_attn='window', window_size=32))\n")
    model = uniformer_mm.get_model(
        str(root / 'configs' / 'tiny-fpn_ade20k.py'), device='meta')
    backbone = regenerate(official_backbone_keys(DENSE_TINY['depths'],
                                                 DENSE_TINY['embed_dims']))
    heads = regenerate(OrderedDict(
        (k, tuple(v.shape)) for k, v in model.state_dict().items()
        if not k.startswith(('backbone.', 'data_preprocessor.'))), seed=1)
    sd = OrderedDict([('backbone.' + k, v) for k, v in backbone.items()] +
                     list(heads.items()))
    data = _bytes({'state_dict': sd})
    server = CheckpointServer()
    # a Google-Drive-like link: no file name, no published hash
    url = server.url + '/drive/uc?id=fpn_global_tiny&export=download'
    server.files['/drive/uc'] = data
    files = [weight('official', url)]
    results = [{'Task': 'Semantic Segmentation', 'Dataset': 'ADE20K',
                'Metrics': {'mIoU': 46.6}}]
    models = [
        {'Name': 'tiny-fpn_ade20k', 'In Collection': 'tiny dense',
         'Config': 'configs/tiny-fpn_ade20k.py', 'Results': results,
         'Metadata': {'Input': '512x2048'}, 'Weight Files': files,
         'Weights': url},
        {'Name': 'tiny-fpn-w32_ade20k', 'In Collection': 'tiny dense',
         'Config': 'configs/tiny-fpn-w32_ade20k.py', 'Results': results,
         'Test Setting Of': 'tiny-fpn_ade20k',
         'Metadata': {'Input': '512x2048'}, 'Weight Files': files,
         'Weights': url}]
    (root / 'configs' / 'metafile.yml').write_text(yaml.safe_dump(
        {'Collections': [{'Name': 'tiny dense'}], 'Models': models},
        sort_keys=False))
    index = root / 'model-index.yml'
    index.write_text(yaml.safe_dump({'Import': ['configs/metafile.yml']}))
    yield index, server, sd
    server.close()


def test_dense_checkpoint_by_name(dense_zoo, tmp_path, monkeypatch):
    index, server, served = dense_zoo
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv(INDEX_ENV, str(index))
    names = ['tiny-fpn-w32_ade20k', 'tiny-fpn_ade20k']
    assert uniformer_mm.list_models(task='segmentation') == names
    assert uniformer_mm.list_models(task='Semantic Segmentation') == names
    assert uniformer_mm.list_models(task='detection') == []
    assert uniformer_mm.list_models(task='image') == []

    model = uniformer_mm.get_model('tiny-fpn_ade20k', pretrained=True)
    assert model.task == 'segmentation' and not model.training
    assert type(model).__name__ == 'EncoderDecoder'
    assert model.backbone.stage3_block_modes() == ['global'] * 2
    got = model.state_dict()
    for key, value in served.items():  # backbone and heads: the served ones
        assert torch.equal(got[key], value), key
    assert len(server.requests_for('/drive/uc')) == 1
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    converted = torch.load(cache / 'uniformer_mm' /
                           'tiny-fpn_ade20k.official.pth', weights_only=True)
    assert converted['meta']['uniformer_convert']['source_format'] == \
        'v1_seg'

    # the test-time setting: the same file (no second download: it is
    # cached under the name of the row it tests), the config's window
    # attention
    w32 = uniformer_mm.get_model('tiny-fpn-w32_ade20k', pretrained=True)
    assert w32.backbone.stage3_block_modes() == ['window'] * 2
    assert w32.backbone.window_size == 32
    for key, value in w32.backbone.state_dict().items():
        assert torch.equal(value, served['backbone.' + key]), key
    assert len(server.requests_for('/drive/uc')) == 1
    assert files_under(cache) == [
        'tiny-fpn_ade20k.official.pth',
        'uniformer_mm/tiny-fpn-w32_ade20k.official.pth',
        'uniformer_mm/tiny-fpn_ade20k.official.pth']
    assert hub.model_info('tiny-fpn-w32_ade20k').weights_of == \
        'tiny-fpn_ade20k'
    # a forward pass of the loaded model (512 -> 1/4 resolution logits)
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, 5, 16, 16)


def test_test_setting_of_names_a_model(tmp_path):
    meta = tmp_path / 'metafile.yml'
    meta.write_text(yaml.safe_dump({'Models': [
        {'Name': 'a-w32', 'Config': 'a-w32.py', 'Test Setting Of': 'a'}]}))
    with pytest.raises(Exception) as e:
        load_model_index(str(meta))
    assert_one_line(e.value, "a-w32: Test Setting Of 'a' names no model")


def test_dense_framework_missing_is_one_line(monkeypatch):
    """A dense model whose framework does not import stops with one line
    naming the framework and the install command (mmpose hidden here)."""
    pytest.importorskip('mmpose')
    from uniformer_mm.apis.inference import MissingFrameworkError
    monkeypatch.delenv(INDEX_ENV, raising=False)
    monkeypatch.setitem(sys.modules, 'mmpose', None)
    with pytest.raises(MissingFrameworkError) as e:
        uniformer_mm.get_model('td-hm_uniformer-small_8xb128-210e_coco-'
                               '256x192', device='meta')
    assert_one_line(e.value, 'needs mmpose: mmpose is not installed',
                    'pip install --no-deps mmpose==1.3.2', 'xtcocotools')


# ---------------------------------------------------------------------------
# the repository's index: every name builds (meta device)
# ---------------------------------------------------------------------------
REPO_INDEX = REPO / 'model-index.yml'


@pytest.mark.slow
@pytest.mark.skipif(not REPO_INDEX.is_file(),
                    reason='the repository has no model-index.yml yet')
def test_repository_index_every_name_builds(monkeypatch):
    monkeypatch.delenv(INDEX_ENV, raising=False)
    index = load_model_index(str(REPO_INDEX))
    names = uniformer_mm.list_models()
    assert names == sorted(index.names()) and names
    # every config of the folders that hold a metafile is listed
    listed = {osp.realpath(index[n].config) for n in names}
    for metafile in index.files[1:]:
        folder = Path(metafile).parent
        for config in folder.glob('*.py'):
            assert osp.realpath(config) in listed, config
    for name in names:
        info = index[name]
        for wf in info.weight_files:
            assert wf.url.startswith(('http://', 'https://')), (name, wf)
        model = uniformer_mm.get_model(name, device='meta')
        params = sum(p.numel() for p in model.parameters())
        assert params > 0 and next(model.parameters()).is_meta, name
        expected = info.metadata.get('Parameters')
        if isinstance(expected, int):
            assert params == expected, (name, params, expected)
