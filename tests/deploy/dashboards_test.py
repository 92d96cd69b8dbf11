#!/usr/bin/env python3
"""Every metric a Grafana dashboard in deploy/grafana queries is one the services register
(a .Name("...") in services/, plus the _bucket/_sum/_count series of histograms). Catches a
dashboard that silently shows "No data" after a rename.  Usage: dashboards_test.py REPO"""
import glob
import json
import re
import sys

repo = sys.argv[1]
registered = set()
for path in glob.glob(f"{repo}/services/**/*.cc", recursive=True):
    src = open(path, encoding="utf-8").read()
    registered.update(re.findall(r'\.Name\("(hotline_[a-z0-9_]+)"\)', src))
    # Names built at run time: hotline_<service>_build_info.
    if 'StrCat("hotline_", service, "_build_info")' in src:
        registered.update(f"hotline_{s}_build_info" for s in
                          ("intake", "ivr_routing", "dispatch", "sla_timer", "survey", "analytics"))
series = set(registered)
for n in registered:
    series.update({n + "_bucket", n + "_sum", n + "_count"})

failures = 0
dashboards = glob.glob(f"{repo}/deploy/grafana/*.json")
if not dashboards:
    sys.exit("no dashboards in deploy/grafana")
for path in dashboards:
    dash = json.load(open(path, encoding="utf-8"))
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            for name in re.findall(r"\b(hotline_[a-z0-9_]+)", target["expr"]):
                if name not in series:
                    print(f"FAIL {path}: panel '{panel['title']}' queries {name}, which no service exports")
                    failures += 1
    print(f"ok   {path}: {len(dash['panels'])} panels, every metric exported")
print(f"{len(registered)} metric families registered by the services")
sys.exit(1 if failures else 0)
