"""Let torchcodec use the FFmpeg libraries that PyAV's wheel ships.

torchcodec (the optional ``VideoInit(backend='torchcodec')``) does not
bundle FFmpeg: it loads ``libavcodec.so.<major>`` & co. (FFmpeg 4-8) from
the dynamic linker's search path, and fails to import without them. PyAV's
Linux wheels bundle a complete FFmpeg in ``site-packages/av.libs`` under
mangled names (``libavcodec-<hash>.so.62...``). :func:`pyav_ffmpeg_env`
makes a folder of links with the names torchcodec asks for and returns an
environment whose ``LD_LIBRARY_PATH`` points to it and to ``av.libs``.

The dynamic linker reads ``LD_LIBRARY_PATH`` when a process starts, so the
environment is for a *new* process (a data loading job, the benchmark's
re-run of itself, a test's subprocess)::

    from uniformer_mm.datasets.ffmpeg_libs import pyav_ffmpeg_env
    env = pyav_ffmpeg_env('/tmp/ffmpeg-for-torchcodec')
    subprocess.run([sys.executable, 'tools/train.py', cfg], env=env)

or in a shell (the module prints ``LD_LIBRARY_PATH=...`` as its last
line, after the log lines of ``import uniformer_mm``)::

    export $(python -m uniformer_mm.datasets.ffmpeg_libs /tmp/ff | tail -n 1)

Then torchcodec and PyAV decode with the same FFmpeg build. A system FFmpeg
(e.g. Debian's ``libavcodec59``) works as well and needs none of this.
"""
import glob
import os
import os.path as osp
import re
import sys
from typing import Dict, Optional

__all__ = ['pyav_ffmpeg_dir', 'pyav_ffmpeg_env']

#: ``libavcodec-5e6b81c2.so.62.28.102`` -> ``libavcodec``, ``62``
_BUNDLED = re.compile(
    r'^(lib(?:avcodec|avdevice|avfilter|avformat|avutil|swresample|'
    r'swscale|postproc))-[0-9a-f]+\.so\.(\d+)(?:\.\d+)*$')


def _av_libs() -> str:
    try:
        import av
    except ImportError as err:
        raise RuntimeError('PyAV is not installed (pip install av)') from err
    libs = osp.join(osp.dirname(osp.dirname(osp.abspath(av.__file__))),
                    'av.libs')
    if not osp.isdir(libs):
        raise RuntimeError(
            f'PyAV at {osp.dirname(av.__file__)} has no bundled FFmpeg '
            f'({libs} does not exist; PyAV built against a system FFmpeg, '
            'which torchcodec finds by itself)')
    return libs


def pyav_ffmpeg_dir(dest: str) -> str:
    """Create (or refresh) ``dest`` with links ``libavcodec.so.<major>``
    ... to the FFmpeg libraries of PyAV's wheel; returns ``dest``."""
    libs = _av_libs()
    os.makedirs(dest, exist_ok=True)
    found = 0
    for path in sorted(glob.glob(osp.join(libs, 'lib*.so*'))):
        match = _BUNDLED.match(osp.basename(path))
        if not match:
            continue
        name = osp.join(dest, f'{match.group(1)}.so.{match.group(2)}')
        tmp = f'{name}.tmp-{os.getpid()}'
        if osp.lexists(tmp):
            os.remove(tmp)
        os.symlink(path, tmp)
        os.replace(tmp, name)  # atomic: concurrent callers see a whole link
        found += 1
    if not found:
        raise RuntimeError(f'no FFmpeg libraries found in {libs}')
    return dest


def pyav_ffmpeg_env(dest: str,
                    env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A copy of ``env`` (default ``os.environ``) whose ``LD_LIBRARY_PATH``
    starts with :func:`pyav_ffmpeg_dir` ``(dest)`` and PyAV's ``av.libs``
    (the bundled libraries find each other there)."""
    env = dict(os.environ if env is None else env)
    paths = [pyav_ffmpeg_dir(dest), _av_libs()]
    if env.get('LD_LIBRARY_PATH'):
        paths.append(env['LD_LIBRARY_PATH'])
    env['LD_LIBRARY_PATH'] = os.pathsep.join(paths)
    return env


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python -m uniformer_mm.datasets.ffmpeg_libs DIR')
    print('LD_LIBRARY_PATH=' +
          pyav_ffmpeg_env(sys.argv[1])['LD_LIBRARY_PATH'])
