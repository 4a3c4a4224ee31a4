"""Downloading checkpoints: progress, resume, hash check, mirrors.

The one downloader of the package: the model hub
(:func:`uniformer_mm.apis.hub.fetch_checkpoint`) and ``load_from`` /
``init_cfg`` checkpoints given as ``http(s)://`` URLs
(:func:`uniformer_mm.checkpoint.loader.load_from_url`) both fetch with
:func:`download_file` into torch's hub cache (:func:`checkpoint_dir`, the
unfinished files in :func:`partial_dir`).

:func:`download_file` fetches a URL over HTTP(S) into a ``.part`` file kept
in a separate folder (never under the final name), resumes it with an HTTP
``Range`` request after an interruption (in the same call, up to
``retries`` times, and in a later call), checks the sha256 of the complete
file, and only then renames it to its final name. A failure raises a
one-line :class:`DownloadError` that names the URL, what went wrong
(HTTP status, connection error, expected and actual hash) and the manual
alternative (where to place the file). A wrong hash or an HTML page deletes
the ``.part``; a truncated transfer keeps it for the next call.

Mirrors (:func:`apply_mirrors`) replace URL prefixes:
``UNIFORMER_MM_MIRRORS='https://download.openmmlab.com/=https://my.host/mm/'``
(several rules separated by commas or spaces; a rule without ``=`` is a
folder that serves every file under its file name).
"""
import contextlib
import hashlib
import os
import os.path as osp
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Mapping, Optional, Sequence, Union

from .io import CheckpointError, file_lock

__all__ = [
    'MIRRORS_ENV', 'DownloadError', 'HashMismatchError', 'sha256_of',
    'check_hash', 'parse_mirrors', 'apply_mirrors', 'direct_url',
    'download_file', 'hub_dir', 'checkpoint_dir', 'partial_dir'
]

#: Environment variable with mirror rules (see the module doc).
MIRRORS_ENV = 'UNIFORMER_MM_MIRRORS'
_CHUNK = 1 << 20


def hub_dir() -> str:
    """``torch.hub.get_dir()``: ``$TORCH_HOME/hub`` (read at each call)."""
    import torch
    return torch.hub.get_dir()


def checkpoint_dir() -> str:
    """``$TORCH_HOME/hub/checkpoints``: the downloaded files (as torch.hub
    and mmengine keep them)."""
    return osp.join(hub_dir(), 'checkpoints')


def partial_dir() -> str:
    """Where unfinished downloads wait to be resumed (never among the
    finished files)."""
    return osp.join(hub_dir(), 'uniformer_mm_partial')


class DownloadError(CheckpointError):
    """A download that failed (one line: URL, cause, manual alternative)."""


class HashMismatchError(DownloadError):
    """The file's sha256 is not the published one."""


def sha256_of(path: str) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(_CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def check_hash(actual: str, sha256: Optional[str] = None,
               prefix: Optional[str] = None) -> bool:
    """Whether the hex digest ``actual`` is ``sha256`` (full) or starts
    with ``prefix`` (True when neither is known)."""
    if sha256:
        return actual == sha256.lower()
    if prefix:
        return actual.startswith(prefix.lower())
    return True


def expected_text(sha256: Optional[str], prefix: Optional[str]) -> str:
    if sha256:
        return sha256
    if prefix:
        return f'{prefix}... (prefix)'
    return 'unknown'


# ---------------------------------------------------------------- mirrors
def parse_mirrors(spec: Union[None, str, Mapping, Sequence]) -> list:
    """Mirror rules ``[(old_prefix or None, new_prefix)]`` from a string
    (``'OLD=NEW,NEW2'``), a mapping ``{old: new}`` or a list of strings."""
    if not spec:
        return []
    if isinstance(spec, Mapping):
        return [(str(k), str(v)) for k, v in spec.items()]
    items = re.split(r'[\s,]+', spec.strip()) if isinstance(spec, str) \
        else [str(s) for s in spec]
    rules = []
    for item in items:
        if not item:
            continue
        old, sep, new = item.partition('=')
        if sep and '://' in old and '://' in new:
            rules.append((old, new))
        elif not sep and '://' in item:
            rules.append((None, item))
        else:
            raise DownloadError(
                f'mirror rule {item!r} is neither OLD_PREFIX=NEW_PREFIX nor '
                'a folder URL',
                f'Write e.g. {MIRRORS_ENV}="https://download.openmmlab.com/='
                'https://my.host/openmmlab/"')
    return rules


def apply_mirrors(url: str, file_name: Optional[str] = None,
                  mirrors=None) -> str:
    """``url`` with the first matching mirror rule applied (``mirrors`` if
    given, else ``$UNIFORMER_MM_MIRRORS``). A prefix rule replaces its
    prefix; a folder rule gives ``folder/<file name>``."""
    rules = parse_mirrors(mirrors if mirrors is not None else
                          os.environ.get(MIRRORS_ENV))
    for old, new in rules:
        if old is not None and url.startswith(old):
            return new + url[len(old):]
    for old, new in rules:
        if old is None:
            name = file_name or osp.basename(url.split('?')[0])
            return new.rstrip('/') + '/' + name
    return url


_DRIVE = re.compile(r'^https://drive\.google\.com/(?:file/d/([\w-]+)|'
                    r'(?:uc|open)\?(?:.*&)?id=([\w-]+))')


def direct_url(url: str) -> str:
    """The direct-download address of a Google Drive file link
    (``drive.google.com/file/d/ID/view`` and ``...?id=ID``); other URLs
    unchanged. Drive may still answer with a web page (quota, sign-in),
    which :func:`download_file` reports."""
    match = _DRIVE.match(url)
    if not match:
        return url
    file_id = match.group(1) or match.group(2)
    return ('https://drive.usercontent.google.com/download?id='
            f'{file_id}&export=download&confirm=t')


# --------------------------------------------------------------- progress
class _Progress:
    """Progress on stderr: a line updated in place on a terminal, a line
    per 10% otherwise."""

    def __init__(self, url, total, start, enabled):
        self.total, self.done, self.enabled = total, start, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.t0 = self.last = time.monotonic()
        self.start, self.step = start, -1
        if enabled:
            what = f'resuming at {_mib(start)}' if start else 'downloading'
            print(f'uniformer_mm: {what} {url}', file=sys.stderr, flush=True)

    def update(self, n):
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty and now - self.last < 0.2:
            return
        if not self.tty:
            if not self.total:
                return
            step = int(10 * self.done / self.total)
            if step == self.step:
                return
            self.step = step
        self.last = now
        self._show(now, end='\r' if self.tty else '\n')

    def _show(self, now, end):
        rate = (self.done - self.start) / max(now - self.t0, 1e-6)
        total = f' / {_mib(self.total)}' if self.total else ''
        pct = f' ({100 * self.done / self.total:.0f}%)' if self.total else ''
        print(f'  {_mib(self.done)}{total}{pct} {_mib(rate)}/s', end=end,
              file=sys.stderr, flush=True)

    def close(self):
        if self.enabled and self.tty:
            self._show(time.monotonic(), end='\n')


def _mib(n):
    return f'{n / (1 << 20):.1f} MiB'


# --------------------------------------------------------------- download
def _reason(err) -> str:
    reason = getattr(err, 'reason', err)
    if isinstance(reason, ConnectionRefusedError):
        return 'connection refused'
    if isinstance(reason, socket.gaierror):
        return 'host not found (no network or a wrong host)'
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return 'timed out'
    return ' '.join(str(reason).split()) or type(reason).__name__


def _remove(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


def _move(src, dst):
    """Rename ``src`` to ``dst``; across file systems, copy to a temporary
    name next to ``dst`` first so that ``dst`` appears complete or not at
    all."""
    try:
        os.replace(src, dst)
    except OSError:
        tmp = f'{dst}.{os.getpid()}.tmp'
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        finally:
            _remove(tmp)
        _remove(src)


def _open(url, start, timeout):
    headers = {'User-Agent': 'uniformer_mm'}
    if start:
        headers['Range'] = f'bytes={start}-'
    return urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=timeout)


def download_file(url: str, dst: str, *, part_dir: str,
                  sha256: Optional[str] = None,
                  sha256_prefix: Optional[str] = None,
                  progress: bool = True, retries: int = 3,
                  timeout: float = 30., manual: str = '') -> str:
    """Download ``url`` to ``dst`` (resuming, verified, atomic).

    Args:
        url: HTTP(S) (or ``file://``) URL.
        dst: final path; it exists only once the file is complete and
            verified.
        part_dir: folder of the unfinished ``<name>.part`` (outside the
            folder of finished files).
        sha256 / sha256_prefix: the published full digest or its leading
            digits; without them the file is not verified here.
        progress: progress on stderr.
        retries: resumptions after a connection that broke off, in this
            call.
        timeout: seconds without data before a connection counts as broken.
        manual: the manual alternative, appended to every error.

    Returns:
        The sha256 (hex) of the file.

    Raises:
        DownloadError / HashMismatchError: one line.
    """
    os.makedirs(part_dir, exist_ok=True)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    part = osp.join(part_dir, osp.basename(dst) + '.part')
    fix = manual or f'Download it yourself and place it at {dst}'
    expected = expected_text(sha256, sha256_prefix)
    # processes fetching the same file (distributed ranks) take turns
    with file_lock(part):
        if osp.isfile(dst):  # another process finished it meanwhile
            return sha256_of(dst)
        attempt = 0
        while True:
            start = osp.getsize(part) if osp.isfile(part) else 0
            state = _transfer(url, part, start, timeout, progress, fix)
            if state == 'done':
                break
            attempt += 1
            got = osp.getsize(part) if osp.isfile(part) else 0
            if attempt > retries:
                raise DownloadError(
                    f'download of {url} broke off {retries + 1} times '
                    f'({state}; {got} bytes kept in {part}); expected '
                    f'sha256 {expected}',
                    'Run again to resume from there, or ' + fix[0].lower() +
                    fix[1:])
            if progress:
                print(f'uniformer_mm: {state}; resuming from byte {got} '
                      f'(try {attempt} of {retries})', file=sys.stderr,
                      flush=True)
            time.sleep(min(0.5 * attempt, 2.))
        actual = sha256_of(part)
        if not check_hash(actual, sha256, sha256_prefix):
            _remove(part)
            raise HashMismatchError(
                f'{url}: sha256 mismatch, expected {expected}, got {actual} '
                '(the download was deleted)', fix)
        _move(part, dst)
    return actual


def _transfer(url, part, start, timeout, progress, fix):
    """One request: append to ``part``. Returns ``'done'`` or the reason of
    an interrupted transfer (to resume); raises :class:`DownloadError` on
    a failure that resuming cannot mend."""
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and start:  # the range is past the end: restart
            _remove(part)
            return 'the server refused to resume (HTTP 416)'
        raise DownloadError(f'cannot download {url}: HTTP {e.code} '
                            f'{e.reason}', fix) from None
    except (urllib.error.URLError, OSError) as e:
        if start and isinstance(getattr(e, 'reason', e),
                                (socket.timeout, TimeoutError)):
            return 'timed out'
        raise DownloadError(f'cannot download {url}: {_reason(e)}',
                            fix) from None
    with response:
        status = getattr(response, 'status', 200)
        headers = response.headers
        if 'text/html' in (headers.get('Content-Type') or '').lower():
            _remove(part)
            raise DownloadError(
                f'{url} returned a web page, not a checkpoint (Google Drive '
                'asks for a confirmation or is over its download quota, or '
                'the link needs a sign-in)', fix)
        mode = 'ab'
        if start and status != 206:
            start, mode = 0, 'wb'  # the server ignored the range
        elif start:
            match = re.match(r'bytes (\d+)-', headers.get('Content-Range')
                             or '')
            if not match or int(match.group(1)) != start:
                start, mode = 0, 'wb'
                response.close()
                _remove(part)
                return 'the server answered another byte range'
        length = headers.get('Content-Length')
        length = int(length) if length and length.isdigit() else None
        total = start + length if length is not None else None
        bar = _Progress(url, total, start, progress)
        received = 0
        try:
            with open(part, mode) as f:
                while True:
                    try:
                        block = response.read(_CHUNK)
                    except (socket.timeout, TimeoutError):
                        return 'timed out'
                    except OSError as e:  # connection reset & co
                        return f'connection lost ({_reason(e)})'
                    except Exception as e:  # http.client.IncompleteRead
                        return f'connection lost ({type(e).__name__})'
                    if not block:
                        break
                    f.write(block)
                    received += len(block)
                    bar.update(len(block))
        finally:
            bar.close()
    if length is not None and received < length:
        return (f'the connection closed after {start + received} of '
                f'{total} bytes')
    return 'done'
