"""tools/model_zoo_table.py: the README model-zoo tables generated from the
model index (a small index written here), and the repository's README
section equal to what its index gives."""
import importlib.util
from pathlib import Path

import pytest
import yaml

from uniformer_mm.apis.model_index import load_model_index

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    '_model_zoo_table', REPO / 'tools' / 'model_zoo_table.py')
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

MODELS = [
    {'Name': 'uniformerv2-b16_k400', 'In Collection': 'UniFormerV2',
     'Config': 'configs/v2/uniformerv2-b16_k400.py',
     'Metadata': {'Parameters': 114_600_000, 'FLOPs': 148_000_000_000,
                  'Input': '8x224x224', 'Test Views': '4x3'},
     'Results': [{'Task': 'Action Recognition', 'Dataset': 'Kinetics-400',
                  'Metrics': {'Top 1 Accuracy': 84.4}}],
     'Weight Files': [
         {'Source': 'mmaction2', 'URL': 'https://download.openmmlab.com/a/'
          'b16_20230313-75be0806.pth', 'File': 'b16_20230313-75be0806.pth',
          'Hash': 'sha256:75be0806...'},
         {'Source': 'official', 'URL': 'https://example.org/k400_b16.pyth',
          'File': 'k400_b16.pyth', 'Hash': 'unknown'}]},
    {'Name': 'uniformerv2_k400', 'In Collection': 'UniFormerV2',
     'Config': 'configs/uniformerv2_k400.py', 'Alias Of':
     'uniformerv2-b16_k400', 'Metadata': {'Input': '8x224x224'}},
    {'Name': 'uniformer-large-ls-tl_8xb32_in1k-384px',
     'In Collection': 'UniFormer',
     'Config': 'configs/v1/uniformer-large-ls-tl_8xb32_in1k-384px.py',
     'Metadata': {'Parameters': 100_100_000, 'FLOPs': 6_330_000_000_000,
                  'Input': '384x384'},
     'Results': [{'Task': 'Image Classification', 'Metrics':
                  {'Top 1 Accuracy': 86.3}}],
     'Weight Files': [{'Source': 'official', 'URL':
                       'https://drive.google.com/file/d/x/view',
                       'File': 'unknown (Google Drive link)',
                       'Hash': 'unknown'}]},
    {'Name': 'uniformer_demo_video', 'In Collection': 'UniFormer demo',
     'Config': 'configs/demo/uniformer_demo_video.py',
     'Metadata': {'Parameters': 1447300, 'FLOPs': 80700416,
                  'Input': '8x64x64'}},
]


@pytest.fixture
def index(tmp_path):
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'metafile.yml').write_text(yaml.safe_dump(
        {'Models': MODELS}, sort_keys=False))
    path = tmp_path / 'model-index.yml'
    path.write_text(yaml.safe_dump({'Import': ['configs/metafile.yml']}))
    return path


def test_render(index):
    text = tool.render(load_model_index(str(index)))
    lines = text.splitlines()
    assert ('| [uniformerv2-b16_k400](configs/v2/uniformerv2-b16_k400.py) | '
            '8×224² | 8×3×4 | 84.4 | 114.6M | 148G | '
            '[mmaction2](https://download.openmmlab.com/a/b16_20230313-'
            '75be0806.pth) · [official](https://example.org/k400_b16.pyth) '
            '|') in lines
    assert ('| [uniformer-large-ls-tl_8xb32_in1k-384px](configs/v1/uniformer'
            '-large-ls-tl_8xb32_in1k-384px.py) | 384² | — | 86.3 | 100.1M | '
            '6.3T | [official (Google Drive)](https://drive.google.com/file/'
            'd/x/view) |') in lines
    assert ('| [uniformer_demo_video](configs/demo/uniformer_demo_video.py) '
            '| 8×64² | — | — | 1.4M | 80.7M | — |') in lines
    # one table per collection and task; aliases listed once, by name
    assert [ln for ln in lines if ln.startswith('**')] == [
        '**UniFormer** — Image Classification',
        '**UniFormer demo** — Action Recognition',
        '**UniFormerV2** — Action Recognition']
    assert 'Short names: `uniformerv2_k400` = `uniformerv2-b16_k400`.' in lines
    assert not any(ln.startswith('| [uniformerv2_k400]') for ln in lines)


def test_rewrite_and_check(index, tmp_path, capsys):
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\nbefore\n{tool.START}\nold table\n{tool.END}\n'
                      'after\n')
    argv = ['--index', str(index), '--readme', str(readme)]
    assert tool.main(argv + ['--check']) == 1
    assert 'out of date' in capsys.readouterr().err
    assert tool.main(argv) == 0
    text = readme.read_text()
    assert text.startswith('# x\n\nbefore\n' + tool.START + '\n')
    assert text.endswith(tool.END + '\nafter\n')
    assert 'old table' not in text and '| 84.4 |' in text
    assert tool.main(argv + ['--check']) == 0
    assert tool.main(argv) == 0 and readme.read_text() == text  # idempotent
    readme.write_text('no markers\n')
    assert tool.main(argv) == 2
    assert 'needs one line' in capsys.readouterr().err


DENSE = [
    {'Name': 'mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco',
     'In Collection': 'UniFormer (mmdet)',
     'Config': 'configs/det/mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_'
               'coco.py',
     'Metadata': {'Parameters': 41_200_688},
     'Results': [{'Task': 'Object Detection', 'Dataset': 'COCO',
                  'Metrics': {'box AP': 45.6}},
                 {'Task': 'Instance Segmentation', 'Dataset': 'COCO',
                  'Metrics': {'mask AP': 41.6}}],
     'Weight Files': [{'Source': 'official', 'URL':
                       'https://drive.google.com/file/d/d/view',
                       'File': 'unknown', 'Hash': 'unknown'}]},
    {'Name': 'upernet_uniformer-small_ade20k', 'In Collection':
     'UniFormer (mmseg)', 'Config': 'configs/seg/upernet_s.py',
     'Metadata': {'Parameters': 51_521_132, 'FLOPs': 1_003_172_659_200,
                  'Input': '512x2048'},
     'Results': [{'Task': 'Semantic Segmentation', 'Dataset': 'ADE20K',
                  'Metrics': {'mIoU': 47.6, 'mIoU(ms)': 48.5}}]},
    {'Name': 'fpn_uniformer-small_ade20k', 'In Collection':
     'UniFormer (mmseg)', 'Config': 'configs/seg/fpn_s.py',
     'Metadata': {'Parameters': 25_299_926, 'FLOPs': 246_523_887_616,
                  'Input': '512x2048'},
     'Results': [{'Task': 'Semantic Segmentation', 'Dataset': 'ADE20K',
                  'Metrics': {'mIoU': 46.6}}]},
    {'Name': 'td-hm_uniformer-small_coco-256x192', 'In Collection':
     'UniFormer (mmpose)', 'Config': 'configs/pose/td-hm_s.py',
     'Metadata': {'Parameters': 25_232_465, 'FLOPs': 4_673_740_800,
                  'Input': '256x192'},
     'Results': [{'Task': 'Body 2D Keypoint', 'Dataset': 'COCO',
                  'Metrics': {'AP': 0.74, 'AP@0.5': 0.903, 'AP@0.75': 0.822,
                              'AR': 0.795}}]},
]


def test_render_dense(tmp_path):
    """The dense-prediction tables: the task's metrics, input and FLOPs
    only where the index counts them (not for detection), after the
    classification tables."""
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'metafile.yml').write_text(yaml.safe_dump(
        {'Models': MODELS[:1] + DENSE}, sort_keys=False))
    path = tmp_path / 'model-index.yml'
    path.write_text(yaml.safe_dump({'Import': ['configs/metafile.yml']}))
    lines = tool.render(load_model_index(str(path))).splitlines()
    assert [ln for ln in lines if ln.startswith('**')] == [
        '**UniFormerV2** — Action Recognition',
        '**UniFormer (mmdet)** — Object Detection / Instance Segmentation',
        '**UniFormer (mmpose)** — Body 2D Keypoint',
        '**UniFormer (mmseg)** — Semantic Segmentation']
    assert ('| config | paper box AP | paper mask AP | params (ours) | '
            'weights |') in lines
    assert ('| [mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco](configs/'
            'det/mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco.py) | '
            '45.6 | 41.6 | 41.2M | [official (Google Drive)](https://drive.'
            'google.com/file/d/d/view) |') in lines
    assert ('| config | input | paper mIoU | paper mIoU (ms) | params (ours) '
            '| FLOPs (ours) | weights |') in lines
    assert ('| [upernet_uniformer-small_ade20k](configs/seg/upernet_s.py) | '
            '512×2048 | 47.6 | 48.5 | 51.5M | 1003G | — |') in lines
    assert ('| [fpn_uniformer-small_ade20k](configs/seg/fpn_s.py) | '
            '512×2048 | 46.6 | — | 25.3M | 247G | — |') in lines
    assert ('| config | input | paper AP | AP50 | AP75 | AR | params (ours) '
            '| FLOPs (ours) | weights |') in lines
    assert ('| [td-hm_uniformer-small_coco-256x192](configs/pose/td-hm_s.py) '
            '| 256×192 | 0.740 | 0.903 | 0.822 | 0.795 | 25.2M | 4.7G | — |'
            ) in lines


@pytest.mark.skipif(not (REPO / 'model-index.yml').is_file(),
                    reason='the repository has no model-index.yml yet')
def test_readme_tables_are_up_to_date():
    """Regenerate with: python tools/model_zoo_table.py"""
    assert tool.main(['--check']) == 0
