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


@pytest.mark.skipif(not (REPO / 'model-index.yml').is_file(),
                    reason='the repository has no model-index.yml yet')
def test_readme_tables_are_up_to_date():
    """Regenerate with: python tools/model_zoo_table.py"""
    assert tool.main(['--check']) == 0
