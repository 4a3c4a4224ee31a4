"""tools/data/*: annotation lists from what users download, on tiny fake
inputs (empty video files, small JSON / CSV), with exact output lines."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools' / 'data'


def _load(rel):
    path = TOOLS / rel
    name = '_data_tool_' + rel.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generic = _load('build_file_list.py')
kinetics = _load('kinetics/build_file_list.py')
sth = _load('sthv2/build_file_list.py')
imagenet = _load('imagenet/build_meta.py')


def _touch(root, *paths):
    for p in paths:
        path = Path(root) / p
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')


def _lines(path):
    return Path(path).read_text().splitlines()


# --------------------------------------------------------------- generic
def test_generic_split_per_class(tmp_path, capsys):
    root = tmp_path / 'my_videos'
    _touch(root, *[f'walk/w{i}.mp4' for i in range(5)],
           *[f'run/r{i}.avi' for i in range(3)], 'jump/j0.MP4',
           'jump/notes.txt', 'run/sub/r9.webm')
    out = tmp_path / 'lists'
    assert generic.main([str(root), '--out-dir', str(out),
                         '--val-ratio', '0.25', '--seed', '0']) == 0
    assert _lines(out / 'label_map.txt') == ['jump', 'run', 'walk']
    train, val = _lines(out / 'train_list.txt'), _lines(out / 'val_list.txt')
    # (a class with one video has no val video; 4 and 5 videos x 0.25 -> 1)
    assert train == ['jump/j0.MP4 0', 'run/r0.avi 1', 'run/r1.avi 1',
                     'run/sub/r9.webm 1', 'walk/w1.mp4 2', 'walk/w2.mp4 2',
                     'walk/w3.mp4 2', 'walk/w4.mp4 2']
    assert val == ['run/r2.avi 1', 'walk/w0.mp4 2']
    assert 'notes.txt' not in ' '.join(train + val)
    # the same seed gives the same split
    out2 = tmp_path / 'again'
    generic.main([str(root), '--out-dir', str(out2), '--val-ratio', '0.25'])
    assert _lines(out2 / 'train_list.txt') == train
    assert '3 classes, 8 train and 2 val videos' in capsys.readouterr().out


def test_generic_presplit_and_label_map(tmp_path):
    root = tmp_path / 'videos'
    _touch(root, 'train/b/x.mp4', 'train/a/y.mp4', 'train/a/z.mp4',
           'val/a/v.mp4', 'val/b/w.mp4')
    label_map = tmp_path / 'classes.txt'
    label_map.write_text('b\nc\na\n')
    assert generic.main([str(root), '--label-map', str(label_map)]) == 0
    # default out dir: the parent of ROOT
    assert _lines(tmp_path / 'train_list.txt') == [
        'train/a/y.mp4 2', 'train/a/z.mp4 2', 'train/b/x.mp4 0']
    assert _lines(tmp_path / 'val_list.txt') == ['val/a/v.mp4 2',
                                                 'val/b/w.mp4 0']
    assert _lines(tmp_path / 'label_map.txt') == ['b', 'c', 'a']


def test_generic_one_split_folder(tmp_path):
    """A split in its own folder (e.g. Moments in Time's validation/):
    --val-ratio 0 and --train-out."""
    root = tmp_path / 'validation'
    _touch(root, 'b/1.mp4', 'a/2.mp4', 'a/3.mp4')
    (tmp_path / 'map.txt').write_text('b\na\n')
    out = tmp_path / 'mit_val_list_videos.txt'
    assert generic.main([str(root), '--val-ratio', '0', '--label-map',
                         str(tmp_path / 'map.txt'), '--train-out', str(out),
                         '--out-dir', str(tmp_path / 'o')]) == 0
    assert _lines(out) == ['a/2.mp4 1', 'a/3.mp4 1', 'b/1.mp4 0']
    assert _lines(tmp_path / 'o' / 'val_list.txt') == []


@pytest.mark.parametrize('case', ['missing', 'empty', 'space', 'unknown'])
def test_generic_errors(tmp_path, capsys, case):
    root = tmp_path / 'v'
    args = [str(root)]
    if case == 'empty':
        root.mkdir()
    elif case == 'space':
        _touch(root, 'a/my video.mp4', 'a/b.mp4')
    elif case == 'unknown':
        _touch(root, 'a/x.mp4', 'b/y.mp4')
        (tmp_path / 'm.txt').write_text('a\n')
        args += ['--label-map', str(tmp_path / 'm.txt')]
    assert generic.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('build_file_list.py: error: ') and '\n' not in err
    assert {'missing': 'is not a directory', 'empty': 'no class folders',
            'space': 'contain spaces',
            'unknown': "['b'] are not in --label-map"}[case] in err
    assert not (tmp_path / 'train_list.txt').exists()


def test_generic_cli(tmp_path):
    _touch(tmp_path / 'v', 'a/1.mp4', 'a/2.mp4', 'b/3.mp4')
    res = subprocess.run(
        [sys.executable, str(TOOLS / 'build_file_list.py'),
         str(tmp_path / 'v'), '--out-dir', str(tmp_path / 'o')],
        capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert _lines(tmp_path / 'o' / 'val_list.txt') == ['a/1.mp4 0']
    assert _lines(tmp_path / 'o' / 'train_list.txt') == ['a/2.mp4 0',
                                                         'b/3.mp4 1']


# --------------------------------------------------------------- Kinetics
KINETICS_CSV = '''label,youtube_id,time_start,time_end,split,is_cc
abseiling,AAAAAAAAAAA,10,20,train,0
"air drumming",a_b-c_d_e_f,1,11,train,0
zumba,BBBBBBBBBBB,0,10,train,0
zumba,CCCCCCCCCCC,30,40,train,0
air drumming,DDDDDDDDDDD,5,15,train,0
'''


def test_kinetics_lists_missing_and_label_order(tmp_path, capsys):
    csv_path = tmp_path / 'train.csv'
    csv_path.write_text(KINETICS_CSV)
    videos = tmp_path / 'videos_train'
    _touch(videos,
           # mmaction2's download layout, trimmed names
           'abseiling/AAAAAAAAAAA_000010_000020.mp4',
           'air_drumming/a_b-c_d_e_f_000001_000011.mp4',
           # a flat file named by id, and two clips of one id
           'BBBBBBBBBBB.mp4', 'zumba/DDDDDDDDDDD_000000_000005.mp4',
           'zumba/DDDDDDDDDDD_000005_000015.mp4', 'zumba/readme.txt')
    label_map = tmp_path / 'label_map.txt'
    label_map.write_text('zumba\nabseiling\nair drumming\n')
    out = tmp_path / 'k' / 'kinetics400_train_list_videos.txt'
    missing = tmp_path / 'missing.csv'
    assert kinetics.main([str(csv_path), str(videos), str(out),
                          '--label-map', str(label_map),
                          '--missing', str(missing)]) == 0
    assert _lines(out) == [
        'abseiling/AAAAAAAAAAA_000010_000020.mp4 1',
        'air_drumming/a_b-c_d_e_f_000001_000011.mp4 2',
        'BBBBBBBBBBB.mp4 0',
        'zumba/DDDDDDDDDDD_000005_000015.mp4 2',  # the row's times win
    ]
    assert _lines(missing) == ['CCCCCCCCCCC,30,40,zumba']
    text = capsys.readouterr().out
    assert '4 of 5 videos listed' in text
    assert '1 videos of' in text and 'are missing' in text


def test_kinetics_default_order_and_errors(tmp_path, capsys):
    csv_path = tmp_path / 'val.csv'
    csv_path.write_text('youtube_id,time_start,time_end,label,split\n'
                        'XXXXXXXXXXX,0,10,b class,val\n'
                        'YYYYYYYYYYY,0,10,a class,val\n')
    _touch(tmp_path / 'v', 'XXXXXXXXXXX_000000_000010.mp4',
           'YYYYYYYYYYY_000000_000010.mkv')
    out = tmp_path / 'val.txt'
    assert kinetics.main([str(csv_path), str(tmp_path / 'v'), str(out)]) == 0
    assert _lines(out) == ['XXXXXXXXXXX_000000_000010.mp4 1',
                           'YYYYYYYYYYY_000000_000010.mkv 0']
    # a class that the label map does not know
    (tmp_path / 'map.txt').write_text('a class\n')
    assert kinetics.main([str(csv_path), str(tmp_path / 'v'), str(out),
                          '--label-map', str(tmp_path / 'map.txt')]) == 2
    assert "not in the label map, e.g. 'b class'" in capsys.readouterr().err
    # not a Kinetics CSV
    (tmp_path / 'bad.csv').write_text('a,b\n1,2\n')
    assert kinetics.main([str(tmp_path / 'bad.csv'), str(tmp_path / 'v'),
                          str(out)]) == 2
    assert 'expected the columns' in capsys.readouterr().err
    assert kinetics.main([str(csv_path), str(tmp_path / 'nope'),
                          str(out)]) == 2
    assert 'does not exist' in capsys.readouterr().err


# --------------------------------------------------------------- SSv2 / SSv1
def test_sthv2_lists(tmp_path, capsys):
    ann = tmp_path / 'ann'
    ann.mkdir()
    (ann / 'labels.json').write_text(json.dumps({
        'Holding something': '0',
        'Putting something on something': '1'}))
    (ann / 'something-something-v2-train.json').write_text(json.dumps([
        {'id': '78687', 'label': 'putting a cup on a table',
         'template': 'Putting [something] on [something]',
         'placeholders': ['a cup', 'a table']},
        {'id': '42326', 'label': 'holding a pen',
         'template': 'Holding [something]', 'placeholders': ['a pen']},
        {'id': '100', 'label': 'holding x', 'template': 'Holding [something]',
         'placeholders': ['x']}]))
    (ann / 'something-something-v2-validation.json').write_text(json.dumps([
        {'id': '5', 'label': 'holding y', 'template': 'Holding [something]',
         'placeholders': ['y']}]))
    videos = tmp_path / 'videos'
    _touch(videos, '78687.webm', '42326.webm', '5.webm')
    out = tmp_path / 'sthv2'
    assert sth.main(['v2', str(ann), '--videos', str(videos),
                     '--out-dir', str(out)]) == 0
    assert _lines(out / 'sthv2_train_list_videos.txt') == ['78687.webm 1',
                                                           '42326.webm 0']
    assert _lines(out / 'sthv2_val_list_videos.txt') == ['5.webm 0']
    assert _lines(out / 'sthv2_label_map.txt') == [
        'Holding something', 'Putting something on something']
    assert 'train: 2 videos' in capsys.readouterr().out
    # without --videos nothing is checked
    assert sth.main(['v2', str(ann), '--out-dir', str(out)]) == 0
    assert _lines(out / 'sthv2_train_list_videos.txt')[-1] == '100.webm 0'
    # 30 fps frame folders (extract_frames.py): rawframe lists with counts
    frames = tmp_path / 'rawframes_30fps'
    _touch(frames, *[f'78687/img_{i:05}.jpg' for i in range(1, 118)],
           *[f'5/img_{i:05}.jpg' for i in range(1, 4)])
    (frames / '42326').mkdir()  # empty: left out
    assert sth.main(['v2', str(ann), '--frames', str(frames),
                     '--out-dir', str(out)]) == 0
    assert _lines(out / 'sthv2_train_list_rawframes.txt') == ['78687 117 1']
    assert _lines(out / 'sthv2_val_list_rawframes.txt') == ['5 3 0']
    assert 'train: 1 videos' in capsys.readouterr().out
    assert sth.main(['v2', str(ann), '--frames', str(tmp_path / 'no'),
                     '--out-dir', str(out)]) == 2


def test_sthv1_lists(tmp_path, capsys):
    ann = tmp_path / 'ann'
    ann.mkdir()
    (ann / 'something-something-v1-labels.csv').write_text(
        'Holding something\nPutting something on something\n')
    (ann / 'something-something-v1-train.csv').write_text(
        '1;Putting something on something\n2;Holding something\n'
        '3;Holding something\n')
    (ann / 'something-something-v1-validation.csv').write_text(
        '4;Holding something\n')
    frames = tmp_path / '20bn-something-something-v1'
    _touch(frames, *[f'1/{i:05}.jpg' for i in range(1, 4)],
           *[f'2/{i:05}.jpg' for i in range(1, 31)], '4/00001.jpg')
    (frames / '3').mkdir()  # an empty folder
    out = tmp_path / 'sthv1'
    assert sth.main(['v1', str(ann), str(frames), '--out-dir',
                     str(out)]) == 0
    assert _lines(out / 'sthv1_train_list_rawframes.txt') == ['1 3 1',
                                                              '2 30 0']
    assert _lines(out / 'sthv1_val_list_rawframes.txt') == ['4 1 0']
    assert 'train: 2 videos' in capsys.readouterr().out
    (ann / 'something-something-v1-validation.csv').write_text('4;Nope\n')
    assert sth.main(['v1', str(ann), str(frames), '--out-dir',
                     str(out)]) == 2
    assert 'something-something-v1-validation.csv:1' in \
        capsys.readouterr().err


# --------------------------------------------------------------- ImageNet
def test_imagenet_meta_flat_val(tmp_path, capsys):
    root = tmp_path / 'imagenet'
    _touch(root, 'train/n01443537/c.JPEG', 'train/n01440764/a.JPEG',
           'train/n01440764/b.JPEG', 'val/ILSVRC2012_val_00000001.JPEG',
           'val/ILSVRC2012_val_00000002.JPEG')
    solution = tmp_path / 'LOC_val_solution.csv'
    solution.write_text(
        'ImageId,PredictionString\n'
        'ILSVRC2012_val_00000002,n01440764 1 2 3 4\n'
        'ILSVRC2012_val_00000001,n01443537 5 6 7 8 n01443537 1 1 2 2\n')
    assert imagenet.main([str(root), '--val-labels', str(solution)]) == 0
    assert _lines(root / 'meta' / 'train.txt') == [
        'n01440764/a.JPEG 0', 'n01440764/b.JPEG 0', 'n01443537/c.JPEG 1']
    assert _lines(root / 'meta' / 'val.txt') == [
        'ILSVRC2012_val_00000001.JPEG 1', 'ILSVRC2012_val_00000002.JPEG 0']
    out = capsys.readouterr().out
    assert 'warning: 2 classes in train/, ImageNet-1k has 1000' in out
    assert '3 training and 2 validation images' in out


def test_imagenet_meta_class_folders_and_errors(tmp_path, capsys):
    root = tmp_path / 'imagenet'
    _touch(root, 'train/n01440764/a.jpg', 'val/n01440764/v.jpg',
           'val/n09999999/w.jpg')
    assert imagenet.main([str(root), '--check-only']) == 1
    assert not (root / 'meta').exists()
    assert imagenet.main([str(root)]) == 0
    assert _lines(root / 'meta' / 'val.txt') == ['n01440764/v.jpg 0']
    assert "val class folders have no training folder, e.g. 'n09999999'" in \
        capsys.readouterr().out
    # flat val images without labels
    flat = tmp_path / 'flat'
    _touch(flat, 'train/n01440764/a.jpg', 'val/x.jpg')
    assert imagenet.main([str(flat)]) == 2
    assert '--val-labels' in capsys.readouterr().err
    assert imagenet.main([str(tmp_path / 'none')]) == 2
    assert 'does not exist' in capsys.readouterr().err
