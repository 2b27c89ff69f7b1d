"""scripts/report: the command line."""

import argparse
import os
import sys

from . import page, plots, summary, tap

USAGE = """\
scripts/report [--out DIR | --html FILE] [--summary] [--title TEXT] LOG...

Reads the TAP and "# metric" lines of each LOG (a TAP stream printed by
scripts/boot, or a serial log it kept), one column per guest ("# guest:"
lines, else the file name), prints a one-screen summary and writes a
self-contained HTML report with plots.

  --out DIR     write DIR/report.html
  --html FILE   write FILE
                (neither: report.html beside the first LOG)
  --summary     print the summary only; no HTML unless --out/--html is given
  --title TEXT  the first line of the summary and the page's title

Beside NAME.tap it also reads NAME.log (Xen's version, a link), NAME.rc
(the harness's exit status) and NAME.err (its messages), when they exist.
Exits 0 when it read every LOG and wrote what was asked, whatever the
verdicts; 2 on a usage error or an unreadable LOG.
"""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='scripts/report', usage=USAGE, add_help=False)
    p.add_argument('-h', '--help', action='store_true')
    where = p.add_mutually_exclusive_group()
    where.add_argument('--out')
    where.add_argument('--html')
    p.add_argument('--summary', action='store_true')
    p.add_argument('--title')
    p.add_argument('logs', nargs='*')
    args = p.parse_args(argv)
    if args.help:
        sys.stdout.write(USAGE)
        sys.exit(0)
    if not args.logs:
        p.error('no LOG given')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for path in args.logs:
        if not os.path.isfile(path):
            print(f'scripts/report: cannot read {path}', file=sys.stderr)
            return 2
    guests = tap.read_boots(args.logs)

    html_path = None
    if args.html:
        html_path = args.html
    elif args.out:
        html_path = os.path.join(args.out, 'report.html')
    elif not args.summary:
        html_path = os.path.join(os.path.dirname(args.logs[0]) or '.', 'report.html')

    logs = sorted({os.path.dirname(os.path.abspath(p)) for p in args.logs})
    logs_line = logs[0] + '/' if len(logs) == 1 else None
    if html_path:
        os.makedirs(os.path.dirname(os.path.abspath(html_path)), exist_ok=True)
        drawn = [plot(guests) for plot in plots.ALL]
        # The page shows the summary too; its last line names the page, whose
        # size is known only once it is written.
        draft = summary.summary(guests, args.title, logs=logs_line)
        text = page.render(guests, drawn, args.title, draft, html_path)
        with open(html_path, 'w') as f:
            f.write(text)
        size = os.path.getsize(html_path)
        lines = summary.summary(guests, args.title, report=html_path, report_bytes=size, logs=logs_line)
    else:
        lines = summary.summary(guests, args.title, logs=logs_line)
    print('\n'.join(lines))
    return 0
