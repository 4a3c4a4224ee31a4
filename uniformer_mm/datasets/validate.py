"""Check mmaction2 video annotation lists before anything is trained.

An annotation list (mmaction2 ``VideoDataset`` format) has one video per
line: ``<path> <label>`` (``<path> <label> <label> ...`` for multi-label
data sets), paths relative to ``data_prefix``. :func:`validate_video_list`
reads such a file and reports, each with the file name and line number:

* malformed lines (wrong number of fields, a label that is not an integer),
* labels outside ``[0, num_classes)``,
* duplicate entries (the same video listed twice),
* videos that do not exist (aggregated: ``12 of 500 videos listed in
  train.txt are missing (2.4%), first: line 3: a/b.mp4``).

``RobustVideoDataset`` runs it when it loads its annotations; it can also be
run by hand::

    python -m uniformer_mm.datasets.validate data/k400/train.txt \\
        --data-prefix data/k400/videos --num-classes 400

Blank lines are ignored. Malformed lines and out-of-range labels are always
errors; what happens to duplicates and missing files is configurable
(``on_duplicate``, ``on_missing``).
"""
import argparse
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

__all__ = [
    'AnnotationError', 'AnnotationEntry', 'AnnotationReport',
    'validate_video_list'
]

#: How many problems of one kind are spelled out in a message.
MAX_LISTED = 5


class AnnotationError(ValueError):
    """An annotation list cannot be used; the message names file and lines."""


@dataclass
class AnnotationEntry:
    """One usable line of an annotation list."""
    lineno: int
    filename: str  # as written in the list
    path: str  # joined with data_prefix
    label: object  # int, or list of ints for multi-label lists


@dataclass
class AnnotationReport:
    """The result of :func:`validate_video_list`.

    ``entries`` are the lines to use (missing files and duplicates dropped
    when ``on_missing`` / ``on_duplicate`` say so); the other lists hold
    ``(lineno, text)`` pairs of what was found.
    """
    ann_file: str
    num_lines: int = 0
    entries: List[AnnotationEntry] = field(default_factory=list)
    malformed: List[tuple] = field(default_factory=list)
    bad_labels: List[tuple] = field(default_factory=list)
    duplicates: List[tuple] = field(default_factory=list)
    missing: List[tuple] = field(default_factory=list)
    num_videos: int = 0  # well-formed lines

    @property
    def name(self):
        return osp.basename(self.ann_file)

    def _listed(self, items, what):
        shown = '; '.join(f'{self.name}:{n}: {text}'
                          for n, text in items[:MAX_LISTED])
        more = (f' (and {len(items) - MAX_LISTED} more)'
                if len(items) > MAX_LISTED else '')
        return f'{len(items)} {what} in {self.ann_file}: {shown}{more}'

    def missing_message(self):
        n, total = len(self.missing), self.num_videos
        first_line, first = self.missing[0]
        return (f'{n} of {total} videos listed in {self.name} are missing '
                f'({100. * n / max(total, 1):.1f}%), first: line '
                f'{first_line}: {first} (list: {self.ann_file})')

    def duplicates_message(self):
        return self._listed(self.duplicates, 'duplicate entries')

    def error_messages(self):
        """The problems that make the list unusable, one message each."""
        out = []
        if self.malformed:
            out.append(self._listed(self.malformed, 'malformed lines'))
        if self.bad_labels:
            out.append(self._listed(self.bad_labels, 'labels out of range'))
        return out


def _parse_labels(fields, lineno, report, multi_class, num_classes, line):
    labels = []
    for text in fields:
        try:
            labels.append(int(text))
        except ValueError:
            report.malformed.append(
                (lineno, f'label {text!r} is not an integer: {line!r}'))
            return None
    if num_classes is not None:
        for label in labels:
            if not 0 <= label < num_classes:
                report.bad_labels.append(
                    (lineno, f'label {label} is outside [0, {num_classes}) '
                     f'(num_classes={num_classes}): {line!r}'))
                return None
    elif any(label < 0 for label in labels):
        report.bad_labels.append(
            (lineno, f'negative label {min(labels)}: {line!r}'))
        return None
    return labels if multi_class else labels[0]


def validate_video_list(ann_file: str,
                        data_prefix: Optional[str] = '',
                        num_classes: Optional[int] = None,
                        multi_class: bool = False,
                        delimiter: str = ' ',
                        allow_unlabeled: bool = False,
                        check_files: bool = True,
                        on_missing: str = 'error',
                        on_duplicate: str = 'warn',
                        max_missing_fraction: float = 1.0,
                        logger=None) -> AnnotationReport:
    """Read and check an mmaction2 video annotation list.

    Args:
        ann_file (str): The list.
        data_prefix (str, optional): Directory the listed paths are relative
            to (``data_prefix['video']`` of ``VideoDataset``).
        num_classes (int, optional): Labels must be in ``[0, num_classes)``;
            without it only negative labels are errors.
        multi_class (bool): ``<path> <label> <label> ...`` lines.
        delimiter (str): Field separator. Defaults to one space.
        allow_unlabeled (bool): Accept ``<path>`` lines (label -1, for
            inference lists). Defaults to False: they are malformed lines,
            in test lists too (label -1 would count as a wrong answer).
        check_files (bool): Check that every listed video exists.
        on_missing (str): ``'error'`` (raise :class:`AnnotationError` with the
            aggregated message), ``'skip'`` (drop the lines, warn) or
            ``'keep'`` (keep the lines, warn; the loader deals with them).
        on_duplicate (str): ``'error'``, ``'warn'`` (keep them) or ``'skip'``
            (keep the first occurrence only, warn).
        max_missing_fraction (float): With ``on_missing='skip'``/``'keep'``,
            more missing videos than this fraction is an error anyway.
        logger: Where warnings go: a callable taking a message, or None for
            mmengine's ``print_log``.

    Returns:
        AnnotationReport

    Raises:
        FileNotFoundError: ``ann_file`` does not exist.
        AnnotationError: Malformed lines, labels out of range, or missing /
            duplicate videos where configured as errors.
    """
    if on_missing not in ('error', 'skip', 'keep'):
        raise ValueError(f"on_missing must be 'error', 'skip' or 'keep', got "
                         f'{on_missing!r}')
    if on_duplicate not in ('error', 'warn', 'skip'):
        raise ValueError(f"on_duplicate must be 'error', 'warn' or 'skip', "
                         f'got {on_duplicate!r}')
    warn = logger or _print_warning
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'annotation file {ann_file} does not exist '
            '(see docs/datasets/ for how to prepare the data sets)')
    report = AnnotationReport(ann_file=ann_file)
    seen = {}
    prefix = data_prefix or ''
    with open(ann_file, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    report.num_lines = len(lines)
    sep = None if delimiter == ' ' else delimiter  # runs of spaces/tabs
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        fields = line.split(sep)
        filename, rest = fields[0], fields[1:]
        if not rest:
            if not allow_unlabeled:
                report.malformed.append(
                    (lineno, f'expected "<path>{delimiter}<label>", got '
                     f'{line!r} (no label; an inference list without labels '
                     'needs allow_unlabeled=True)'))
                continue
            label = [] if multi_class else -1
        elif not multi_class and len(rest) != 1:
            report.malformed.append(
                (lineno, f'expected 2 fields, got {len(fields)}: {line!r} '
                 '(a path with spaces needs another `delimiter`; '
                 'multi-label lists need `multi_class=True`)'))
            continue
        else:
            label = _parse_labels(rest, lineno, report, multi_class,
                                  num_classes, line)
            if label is None:
                continue
        report.num_videos += 1
        path = osp.join(prefix, filename) if prefix else filename
        entry = AnnotationEntry(lineno, filename, path, label)
        if filename in seen:
            report.duplicates.append(
                (lineno, f'{filename} (first listed on line '
                 f'{seen[filename]})'))
            if on_duplicate == 'skip':
                continue
        else:
            seen[filename] = lineno
        if check_files and not osp.isfile(path):
            report.missing.append((lineno, filename))
            if on_missing == 'skip':
                continue
        report.entries.append(entry)

    errors = report.error_messages()
    if report.duplicates:
        if on_duplicate == 'error':
            errors.append(report.duplicates_message())
        else:
            what = ('skipped' if on_duplicate == 'skip' else 'kept')
            warn(f'{report.duplicates_message()} ({what}; set '
                 "on_duplicate='error' to refuse them)")
    if report.missing:
        fraction = len(report.missing) / max(report.num_videos, 1)
        message = report.missing_message()
        if on_missing == 'error':
            errors.append(message + " (set on_missing='skip' to train "
                          'without them)')
        elif fraction > max_missing_fraction:
            errors.append(
                f'{message}; that is more than max_bad_fraction='
                f'{max_missing_fraction:g} (is data_prefix '
                f'{data_prefix!r} right?)')
        else:
            what = 'skipped' if on_missing == 'skip' else 'kept'
            warn(f'{message} ({what})')
    if errors:
        raise AnnotationError('\n'.join(errors))
    if not report.entries:
        raise AnnotationError(f'{ann_file} lists no usable videos')
    return report


def _print_warning(message):
    try:
        import logging

        from mmengine.logging import print_log
        print_log(message, logger='current', level=logging.WARNING)
    except ImportError:  # pragma: no cover - mmengine is a dependency
        print(f'warning: {message}', file=sys.stderr)


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Check an mmaction2 video annotation list (malformed '
        'lines, labels out of range, duplicates, missing videos).')
    parser.add_argument('ann_file')
    parser.add_argument('--data-prefix', default='',
                        help='directory the listed paths are relative to')
    parser.add_argument('--num-classes', type=int, default=None)
    parser.add_argument('--multi-class', action='store_true')
    parser.add_argument('--delimiter', default=' ')
    parser.add_argument('--no-check-files', action='store_true')
    args = parser.parse_args(argv)
    messages = []
    try:
        report = validate_video_list(
            args.ann_file, args.data_prefix, args.num_classes,
            args.multi_class, args.delimiter,
            check_files=not args.no_check_files, on_missing='keep',
            logger=messages.append)
    except (AnnotationError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for m in messages:
        print(f'warning: {m}', file=sys.stderr)
    print(f'{args.ann_file}: {len(report.entries)} videos, '
          f'{len(report.missing)} missing, {len(report.duplicates)} '
          'duplicates')
    return 1 if report.missing else 0


if __name__ == '__main__':
    sys.exit(main())
