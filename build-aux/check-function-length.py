#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fails when a C function in the given folders is longer than a limit.

A function is read the way the tree writes one (GNU style): its name at the
start of a line (or after its return type on that line), its body from a "{"
to a "}" at the start of a line. Its length counts from the name to the
closing brace.

usage: check-function-length.py [--max N] DIR...
"""

import os
import re
import sys

NAME = re.compile(r'^(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(')


def functions(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    name, start, in_body = None, 0, False
    for i, line in enumerate(lines, 1):
        if not in_body:
            m = NAME.match(line)
            if m:
                name, start = m.group(1), i
            elif line.startswith('{') and name is not None:
                in_body = True
            elif line.strip().endswith(';') and not line.startswith(' '):
                name = None
        elif line.startswith('}'):
            yield name, start, i
            name, in_body = None, False


def main(argv):
    limit = 150
    if len(argv) > 2 and argv[1] == '--max':
        limit = int(argv[2])
        argv = argv[2:]
    too_long = []
    for top in argv[1:]:
        for folder, _, files in os.walk(top):
            for file in sorted(files):
                if not file.endswith('.c'):
                    continue
                path = os.path.join(folder, file)
                for name, start, end in functions(path):
                    if end - start + 1 > limit:
                        too_long.append((path, start, name, end - start + 1))
    for path, start, name, length in too_long:
        print(f'{path}:{start}: {name} is {length} lines long (at most {limit})')
    return 1 if too_long else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
