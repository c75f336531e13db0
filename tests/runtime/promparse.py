#!/usr/bin/python3
"""promparse.py FILE -- parse Prometheus text-format metrics with the reference
Python client's parser (Debian's python3-prometheus-client, hence Debian's own
python3, not the one on PATH) and print the samples as JSON:
[[name, {labels}, value], ...]. Exit 1 with the parser's error on bad input."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    text = open(sys.argv[1], encoding="utf-8").read()
    out = [[s.name, s.labels, s.value] for fam in text_string_to_metric_families(text) for s in fam.samples]
except Exception as e:  # the parser raises ValueError and friends on bad input
    print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
json.dump(out, sys.stdout)
