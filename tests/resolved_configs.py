"""The fully resolved dict of every config under ``configs/`` (not
``configs/_base_``), as the tools see it, stored as test data.

``python tests/resolved_configs.py --write`` (from the repository root)
resolves every config exactly as ``tools/train.py`` does without
command-line options -- ``Config.fromfile`` then
:func:`uniformer_mm.engine.config_knobs.resolve_knobs` -- and writes
``tests/data/resolved_configs.json.gz``: ``{config path: dict}``, the dicts
in JSON form (:func:`to_json`: keys sorted, tuples written as lists, nothing
else changed or dropped). ``tests/test_resolved_configs.py`` compares every
config against it; what that comparison leaves out is said there.

The stored file was written from the configs of ``main`` before the config
zoo was restructured (issue 17): it is the proof that the restructure kept
every pipeline, view and hyper-parameter.
"""
import gzip
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'configs'
DATA = Path(__file__).resolve().parent / 'data' / 'resolved_configs.json.gz'


def config_paths():
    """Every config file under configs/ except configs/**/_base_/**,
    as repository-relative POSIX paths, sorted."""
    return sorted(
        p.relative_to(REPO).as_posix() for p in CONFIGS.rglob('*.py')
        if '_base_' not in p.relative_to(CONFIGS).parts)


def to_json(value):
    """``value`` in JSON form: dict keys as strings, sorted; tuples as
    lists; everything else as it is."""
    if isinstance(value, dict):
        return {str(k): to_json(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def resolve(rel):
    """The dict of config ``rel`` as the tools resolve it."""
    import uniformer_mm  # noqa: F401  (registers our modules)
    from uniformer_mm.engine.config_knobs import load_config
    return to_json(load_config(str(REPO / rel)).to_dict())


def load_stored():
    with gzip.open(DATA, 'rt', encoding='utf-8') as f:
        return json.load(f)


def write():
    data = {rel: resolve(rel) for rel in config_paths()}
    text = json.dumps(data, sort_keys=True, separators=(',', ':'))
    DATA.parent.mkdir(parents=True, exist_ok=True)
    with open(DATA, 'wb') as f:  # fixed mtime: the same bytes every time
        with gzip.GzipFile(fileobj=f, mode='wb', mtime=0,
                           compresslevel=9) as z:
            z.write(text.encode('utf-8'))
    print(f'{len(data)} configs -> {DATA.relative_to(REPO)} '
          f'({DATA.stat().st_size} bytes)')


if __name__ == '__main__':
    if sys.argv[1:] != ['--write']:
        sys.exit('usage: python tests/resolved_configs.py --write')
    write()
