"""The label maps and K710 channel maps shipped in ``uniformer_mm/label_maps``
and the ``'uniformer_mm::label_maps/NAME'`` paths that every reader of them
accepts (configs, heads, data sets, inference, tools)."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

import uniformer_mm
from uniformer_mm.label_maps import (SCHEME, LabelMapError, read_channel_map,
                                     read_label_map, resolve_path,
                                     shipped_files)

from _paths import KINETICS_CLIP, REPO, label_map
from test_apis_tools import VIDEO_400
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

PACKAGE = Path(uniformer_mm.__file__).resolve().parent

# name: number of classes (entries)
COUNTS = {
    'kinetics400.txt': 400, 'kinetics600.txt': 600, 'kinetics700.txt': 700,
    'kinetics710.txt': 710, 'sthv1.txt': 174, 'sthv2.txt': 174,
    'ucf101.txt': 101, 'hmdb51.txt': 51, 'mit.txt': 339,
    'activitynet.txt': 200, 'k710_channel_map_k400.json': 400,
    'k710_channel_map_k600.json': 600, 'k710_channel_map_k700.json': 700,
}


def _norm(name):
    return re.sub(r'[^a-z0-9]', '', name.lower())


def test_shipped_files_and_counts():
    assert [p.rsplit('/', 1)[1] for p in shipped_files()] == sorted(COUNTS)
    for name, n in COUNTS.items():
        path = label_map(name)
        if name.endswith('.json'):
            rows = read_channel_map(path, n)
            assert len(set(rows)) == n and max(rows) < 710, name
        else:
            names = read_label_map(path, n)
            assert len(set(names)) == n, name
            assert all(x == x.strip() and x for x in names), name


@pytest.mark.parametrize('k', [400, 600, 700])
def test_channel_maps_match_class_names(k):
    """Row ``map[i]`` of the K710 classifier is class ``i`` of K400/600/700:
    the names agree except for the few classes K710 merged under one name."""
    k710 = read_label_map(label_map('kinetics710.txt'))
    names = read_label_map(label_map(f'kinetics{k}.txt'))
    rows = read_channel_map(label_map(f'k710_channel_map_k{k}.json'))
    same = sum(_norm(a) == _norm(k710[r]) for a, r in zip(names, rows))
    assert same >= len(names) - 13, (k, same)
    if k == 400:  # K710 starts with the K400 classes
        assert rows == list(range(400))


def test_stated_orders():
    """The orders README.md states as sorted are sorted."""
    for name in ('kinetics400', 'kinetics600', 'kinetics700', 'sthv2',
                 'hmdb51'):
        names = read_label_map(label_map(f'{name}.txt'))
        assert names == sorted(names), name
    ucf = read_label_map(label_map('ucf101.txt'))
    assert ucf == sorted(ucf, key=str.lower)


def test_resolve_path():
    path = resolve_path(label_map('kinetics400.txt'))
    assert Path(path) == PACKAGE / 'label_maps' / 'kinetics400.txt'
    assert Path(path).is_file()
    # other paths are returned unchanged
    assert resolve_path('data/x.txt') == 'data/x.txt'
    assert resolve_path(Path('/tmp/x.txt')) == '/tmp/x.txt'
    # a typo: one line naming the shipped maps
    with pytest.raises(FileNotFoundError) as e:
        resolve_path(f'{SCHEME}label_maps/kinetics401.txt')
    msg = str(e.value)
    assert '\n' not in msg and 'kinetics401.txt' in msg
    assert 'kinetics400.txt' in msg and 'k710_channel_map_k400.json' in msg
    # nothing outside the package
    with pytest.raises(FileNotFoundError):
        resolve_path(f'{SCHEME}../setup.cfg')


def test_read_label_map_formats(tmp_path):
    txt = tmp_path / 'a.txt'
    txt.write_text('run\njump\n\n')  # trailing blank lines are fine
    assert read_label_map(txt) == ['run', 'jump']
    assert read_label_map(str(txt)) == ['run', 'jump']
    idx = tmp_path / 'idx.txt'  # every line starts with its own index
    idx.write_text('0 run fast\n1 jump\n')
    assert read_label_map(idx) == ['run fast', 'jump']
    num = tmp_path / 'num.txt'  # names that merely start with a number
    num.write_text('3 people\n7 up\n')
    assert read_label_map(num) == ['3 people', '7 up']
    js = tmp_path / 'classids.json'  # SlowFast {name: index}
    js.write_text(json.dumps({'jump': 1, 'run': 0}))
    assert read_label_map(js) == ['run', 'jump']
    assert read_label_map(['a', 'b']) == ['a', 'b']
    # bad maps: one line naming the file
    bad = tmp_path / 'bad.txt'
    bad.write_text('run\n\njump\n')
    with pytest.raises(LabelMapError, match=r"bad.txt.*empty line at line 2"):
        read_label_map(bad)
    bad.write_text('run\nrun\n')
    with pytest.raises(LabelMapError, match="lists 'run' twice"):
        read_label_map(bad)
    with pytest.raises(LabelMapError, match='has 2 classes, the model 3'):
        read_label_map(txt, 3)
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        read_label_map(tmp_path / 'missing.txt')


def test_read_channel_map_formats(tmp_path):
    js = tmp_path / 'map.json'
    js.write_text('[3, 0, 2]')
    assert read_channel_map(js) == [3, 0, 2]
    js.write_text('{"1": 0, "0": 3}')
    assert read_channel_map(js) == [3, 0]
    for text in ('[1, -2]', '["a"]', '[]', '{"a": 1}', 'nope'):
        js.write_text(text)
        with pytest.raises(LabelMapError, match='map.json'):
            read_channel_map(js)
    js.write_text('[0, 1]')
    with pytest.raises(LabelMapError, match='2 entries for 3 classes'):
        read_channel_map(js, 3)


def test_configs_use_shipped_maps():
    """No config points a label or channel map into data/: the maps are
    the package's; each dataset config's label map has its class count."""
    for path in sorted((REPO / 'configs').rglob('*.py')):
        text = path.read_text()
        for m in re.finditer(r"(?:channel_map|label_map)\w* = '([^']+)'|"
                             r"channel_map='([^']+)'", text):
            value = m.group(1) or m.group(2)
            if '${' in value:  # a knob reference: checked resolved below
                continue
            assert value.startswith(SCHEME), (path, value)
            assert Path(resolve_path(value)).is_file(), (path, value)
    shared = ('kinetics_style', 'dense_v1', 'something_something')
    for path in sorted((REPO / 'configs/_base_/datasets').glob('*.py')):
        if path.stem in shared:  # bases of the data sets, no data of their own
            continue
        cfg = knob_config(str(path))
        if path.stem.startswith('imagenet'):
            assert 'label_map' not in cfg  # mmpretrain's ImageNet names
            continue
        assert len(read_label_map(cfg.label_map)) == cfg.num_classes, path


def _infer(cfg, *extra):
    return subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'infer.py'), str(cfg), 'none',
         str(KINETICS_CLIP), '--topk', '3', *extra],
        capture_output=True, text=True, timeout=300, cwd=str(REPO))


# a tiny 400-class UniFormer video model (the demo's, 400 classes)
TINY_400 = VIDEO_400


@pytest.mark.slow
def test_infer_names_from_config_label_map(tmp_path):
    """tools/infer.py names the predictions with the config's label_map
    (a shipped map) when no --label-map is given."""
    k400 = read_label_map(label_map('kinetics400.txt'))
    cfg = tmp_path / 'k400.py'
    cfg.write_text(TINY_400 +
                   "label_map = 'uniformer_mm::label_maps/kinetics400.txt'\n")
    proc = _infer(cfg)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines()
            if re.match(r'^\s+\d+\s', line)]
    assert len(rows) == 3
    assert all(' '.join(r[1:-1]) in k400 for r in rows), proc.stdout


def test_wrong_size_label_maps(tmp_path, capsys):
    """A config label_map of another size is not used (a warning says so);
    a --label-map of another size is one line and exit status 1."""
    from uniformer_mm.apis import config_class_names
    cfg = tmp_path / 'sthv2.py'
    cfg.write_text(TINY_400 +
                   "label_map = 'uniformer_mm::label_maps/sthv2.txt'\n")
    config = knob_config(str(cfg))
    assert config_class_names(config) is None
    config.label_map = label_map('kinetics400.txt')
    assert len(config_class_names(config)) == 400
    config.label_map = label_map('kinetics401.txt')  # typo: warning only
    assert config_class_names(config) is None

    spec = importlib.util.spec_from_file_location(
        '_infer_tool', REPO / 'tools' / 'infer.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit) as e:
        tool.main([str(cfg), 'none', str(KINETICS_CLIP), '--label-map',
                   label_map('ucf101.txt')])
    msg = str(e.value.code)
    assert msg.startswith('infer.py: error: --label-map:') and '\n' not in msg
    assert 'has 101 classes, the model 400' in msg
