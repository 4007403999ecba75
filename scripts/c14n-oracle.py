#!/usr/bin/env python3
"""Independent check of the CIB round trip: for every XML file in a directory, run
`CIB_file=FILE tandem cib query` and compare Python's C14N 2.0 canonical form (comments kept,
text trimmed) of the input and of what tandem printed. Exits 1 on any difference.

Python's canonicalizer escapes '<' and '>' inside comments, which C14N does not ask for; that
does not matter here because both sides go through the same canonicalizer."""
import os, subprocess, sys, xml.etree.ElementTree as ET

tandem, directory = sys.argv[1], sys.argv[2]
files = sorted(f for f in os.listdir(directory) if f.endswith(".xml"))
bad = []
for name in files:
    path = os.path.join(directory, name)
    run = subprocess.run([tandem, "cib", "query"], env={**os.environ, "CIB_file": path},
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        bad.append((name, "exit %d: %s" % (run.returncode, run.stderr.strip()[:200])))
        continue
    want = ET.canonicalize(from_file=path, with_comments=True, strip_text=True)
    got = ET.canonicalize(xml_data=run.stdout, with_comments=True, strip_text=True)
    if want != got:
        bad.append((name, "canonical forms differ"))
for name, why in bad[:20]:
    print("DIFF", name, why)
print("%d files, %d equal under C14N, %d differ" % (len(files), len(files) - len(bad), len(bad)))
sys.exit(1 if bad else 0)
