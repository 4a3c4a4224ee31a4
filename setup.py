"""Packaging of uniformer-mm (metadata in setup.cfg).

Besides the ``uniformer_mm`` package and its data (the label maps), a
non-editable install (``pip install .``, a wheel, an sdist) carries the
OpenMMLab ``.mim`` folder, as mmaction2 and mmpretrain do:
``uniformer_mm/.mim/{configs,tools,model-index.yml}``, copies of the
repository's ``configs/``, ``tools/`` and ``model-index.yml``. ``mim search
uniformer_mm``, ``mim train uniformer_mm CONFIG`` and ``mim test`` find them
there. The copies are made into the build folder only (never into the source
tree); an editable install (``pip install -e .``) has none, use the
repository's ``tools/`` and ``configs/`` directly.
"""
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

#: repository files copied into ``uniformer_mm/.mim``
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildPyWithMim(build_py):
    """``build_py`` that also writes ``uniformer_mm/.mim`` into the build
    folder (not in editable mode)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        root = osp.dirname(osp.abspath(__file__))
        target = osp.join(self.build_lib, 'uniformer_mm', '.mim')
        if osp.isdir(target):  # no stale files of an earlier build
            shutil.rmtree(target)
        for name in MIM_FILES:
            src, dst = osp.join(root, name), osp.join(target, name)
            if osp.isdir(src):
                shutil.copytree(
                    src, dst, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            elif osp.isfile(src):
                shutil.copyfile(src, dst)
            else:
                raise FileNotFoundError(
                    f'{src} is missing: the .mim folder needs {name}')


setup(cmdclass={'build_py': BuildPyWithMim})
