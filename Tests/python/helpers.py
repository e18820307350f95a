"""Shared helpers for the template tests: load a template module by path and run its cases."""
import importlib.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "templates")


def template_dir(name):
    return os.path.join(TEMPLATES, name)


def load_module(template, module, alias=None, directory=None):
    """Imports templates/<template>/<module>.py under a unique name (fresh each call)."""
    path = os.path.join(directory or template_dir(template), module + ".py")
    name = alias or f"tpl_{template.replace('-', '_')}_{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_cases(template):
    with open(os.path.join(template_dir(template), "cases.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def case_failures(cases, outputs):
    """Messages for each case whose output does not match expected_score within tolerance."""
    failures = []
    by_id = {o.get("id"): o for o in outputs}
    if len(by_id) != len(cases):
        failures.append(f"{len(cases)} cases but {len(by_id)} distinct output ids")
    for c in cases:
        o = by_id.get(c["id"])
        if "expected_error" in c:
            # rft reports a handler's per-sample {"error": ...} entry as handler_error
            if o is None or "error" not in o or "aggregate_reward_score" in o:
                failures.append(f"{c['id']}: expected an error ({c['expected_error']}), got {o}")
            continue
        score = None if o is None else o.get("aggregate_reward_score")
        tol = c.get("tolerance", 1e-9)
        if score is None or abs(score - c["expected_score"]) > tol:
            failures.append(f"{c['id']}: expected {c['expected_score']}, got {o}")
    return failures
