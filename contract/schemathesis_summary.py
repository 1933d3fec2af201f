"""Prints one line of counts from a schemathesis run's output (gate 2)."""

import re
import sys

engine, service, path = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
cases = re.search(r"Test cases:\s*\n\s*(.+)", text)
operations = re.search(r"Tested: (\d+)", text)
warnings = re.findall(r"⚠️ (.+)", text)
print(f"schemathesis: {engine} {service}: {operations.group(1) if operations else '?'} operations, "
      f"{cases.group(1).strip() if cases else 'no case count found'}")
for w in warnings:
    print(f"schemathesis: {engine} {service}: warning: {w.strip()}")
