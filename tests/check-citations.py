#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that the tree's citations of the protocol specification point at
sections that exist.

doc/protocol.md numbers its sections "## N." and "### N.M", and the items of
section 11 "**(x)".  Everywhere else in the tree (comments, scripts, tests,
man pages, the other documents), a citation of it reads "doc/protocol.md
section N" (or "sections N, M and K", "sections N to M", with "N.M" and
"11 (x)" allowed).  This check fails when

  - a file names a design or protocol document other than the ones in doc/
    (the upper-case names of documents that are not in the tree);
  - a "section N" outside doc/protocol.md is neither attributed to
    doc/protocol.md ("protocol.md section N", "protocol.md, section N")
    nor to another document (an RFC, a draft, FIPS, another .md file);
  - a section number (or an item letter of section 11) attributed to
    doc/protocol.md does not exist there.

NEWS is history and is not checked.  Run from anywhere:
    tests/check-citations.py [TOP]
Exit status 0 when every citation is right, 1 otherwise (each problem is
printed as FILE:LINE: ...).
"""

import os
import re
import subprocess
import sys

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SPEC = "doc/protocol.md"
SELF = "tests/check-citations.py"
SKIP_FILES = {"NEWS", SELF}
SKIP_DIRS = ("tests/fuzz/corpus/", "tests/fuzz/regressions/")
# Document names that are not in the tree (written in two pieces so that
# this file does not match itself).
GONE = re.compile(r"\b(?:PROTOCOL|DESIGN)" + r"\.md\b")

NUM = r"\d+(?:\.\d+)?(?:\s*\([a-z]\))?"
CITE = re.compile(r"\b(sections?|§)\s*(" + NUM + r"(?:\s*(?:,|and|or|to|-)\s*" + NUM + r")*)",
                  re.IGNORECASE)
# What may stand right before "section" for the citation to be another
# document's.
OTHER = re.compile(r"(?:\bRFC\s*\d+|\bdraft-[\w.-]+|\bFIPS[- ]?\d+|"
                   r"(?<![\w./-])(?![\w./-]*\bprotocol\.md)([\w./-]+\.md)|\bman page)\s*,?\s*$", re.IGNORECASE)
OURS = re.compile(r"\bprotocol\.md\s*,?\s*$")
# Comment leaders and roff requests stripped when lines are joined.
LEADER = re.compile(r"""^\s*(?:/\*+|\*+/?|//+|#+|\.\\"|\.[A-Z]{1,2}\b|"{3})?\s*""")


def spec_sections(doc=SPEC):
    sections, items = set(), set()
    in11 = False
    with open(os.path.join(TOP, doc), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^##\s+(\d+)\.\s", line) or re.match(r"^###\s+(\d+\.\d+)\s", line)
            if m:
                sections.add(m.group(1))
                if line.startswith("## "):
                    in11 = m.group(1) == "11"
            m = re.match(r"^\*\*\(([a-z])\)", line)
            if m and in11:
                items.add(m.group(1))
    return sections, items


def tree_files():
    try:
        out = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True,
                             capture_output=True).stdout.decode()
        return [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (a release tarball): the project's own
        # directories only, never a build tree inside the source tree.
        found = [x for x in ("README.md", "Makefile.am", "configure.ac")
                 if os.path.exists(os.path.join(TOP, x))]
        for top in ("doc", "man", "src", "lib", "util", "tools", "examples", "tests",
                    "scripts", "launchers", "etc"):
            for d, dirs, files in os.walk(os.path.join(TOP, top)):
                rel = os.path.relpath(d, TOP)
                dirs[:] = [x for x in dirs if not x.startswith((".", "_", "build"))]
                for x in files:
                    found.append(os.path.normpath(os.path.join(rel, x)))
        return found


def joined(text):
    """The file's lines without comment leaders, joined by single spaces,
    and for each character of the result its line number."""
    out, lines = [], []
    for n, line in enumerate(text.split("\n"), 1):
        s = LEADER.sub("", line, count=1).rstrip()
        if s.endswith("/") and not s.endswith("//"):
            piece = s            # "doc/" + "protocol.md" across a line break
        else:
            piece = s + " "
        out.append(piece)
        lines.extend([n] * len(piece))
    return "".join(out), lines


def numbers(arg):
    """The section numbers (and section 11 item letters) of a citation;
    "N to M" stands for both ends."""
    return re.findall(r"(\d+(?:\.\d+)?)(?:\s*\(([a-z])\))?", arg)


def main():
    sections, items = spec_sections()
    problems = []
    checked = 0
    for path in sorted(tree_files()):
        if path in SKIP_FILES or path.startswith(SKIP_DIRS):
            continue
        full = os.path.join(TOP, path)
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.split("\n"), 1):
            if GONE.search(line):
                problems.append("%s:%d: names a document that is not in the tree" % (path, n))
        flat, where = joined(text)
        for m in CITE.finditer(flat):
            before = flat[max(0, m.start() - 80):m.start()]
            line = where[m.start()] if m.start() < len(where) else 0
            other = OTHER.search(before)
            if other:
                # Another of our documents: its numbered sections must exist.
                doc = other.group(1)
                if doc and doc.startswith("doc/") and os.path.exists(os.path.join(TOP, doc)):
                    have = spec_sections(doc)[0]
                    for num, _ in numbers(m.group(2)):
                        if num not in have:
                            problems.append("%s:%d: %s has no section %s (\"%s\")"
                                            % (path, line, doc, num, m.group(0)))
                continue
            if path != SPEC and not OURS.search(before):
                problems.append("%s:%d: \"%s\" does not say whose section (write "
                                "\"doc/protocol.md section N\")" % (path, line, m.group(0)))
                continue
            checked += 1
            for num, item in numbers(m.group(2)):
                if num not in sections:
                    problems.append("%s:%d: %s has no section %s (\"%s\")"
                                    % (path, line, SPEC, num, m.group(0)))
                elif item and (num != "11" or item not in items):
                    problems.append("%s:%d: %s section %s has no item (%s)"
                                    % (path, line, SPEC, num, item))
    for p in problems:
        print(p)
    print("check-citations: %d citations of %s checked, %d problems"
          % (checked, SPEC, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
