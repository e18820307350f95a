"""Format and constraint grader (rft template, Bedrock reward-Lambda batch contract, stdlib only).

Runs a list of weighted checks on the model's last assistant turn. The reward is
sum(weight * value) / sum(weight), each value in [0, 1]; a check marked "required" that fails
makes the reward 0. Every check is reported in metrics_list under its name.

Check types (fields beyond "type": "name", "weight" (default 1) and "required" (default false)):
  regex            pattern, flags ("i", "m", "s"), must_match (default true)
  json             the response (or its ```json block) parses as JSON
  json_schema      schema: the JSON validates against the subset documented in README.md
  length           unit: words | characters | lines, min and/or max
  sections         sections: headings that must appear, each with some text under it
                   (markdown "# X", "X:" or "**X**"), ordered
  forbidden_words  words: none may appear as a whole word; case_sensitive (default false)

Checks come from config.json; a sample may bring its own list in reference_answer.checks (or
metadata.reference_answer.checks), which then replaces the configured ones.

A response with no content scores 0 whatever the checks say (config "require_content", default
true; see content_problem): checks of form pass many texts that say nothing, and an empty answer
passes every prohibition.
"""
import json
import math
import os
import re

__all__ = ["lambda_handler", "validate_checks", "run_checks", "validate_schema", "CheckError", "CONFIG"]

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_RESPONSE_CHARS = 200_000

DEFAULT_CONFIG = {"checks": [], "strip_think": True, "require_content": True}

CHECK_FIELDS = {
    "regex": {"pattern", "flags", "must_match"},
    "json": {"extract"},
    "json_schema": {"schema", "extract"},
    "length": {"unit", "min", "max"},
    "sections": {"sections", "ordered"},
    "forbidden_words": {"words", "case_sensitive"},
}
COMMON_FIELDS = {"type", "name", "weight", "required"}
SCHEMA_KEYWORDS = {"type", "enum", "const", "properties", "required", "additionalProperties", "items",
                   "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum",
                   "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "allOf", "oneOf", "not",
                   "minProperties", "maxProperties", "title", "description", "$schema", "default", "examples"}
SCHEMA_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


class CheckError(ValueError):
    """A check list or a schema is malformed; the message names the field path."""

# --------------------------------------------------------------------------- validation of checks


def _check_schema_shape(schema, path):
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise CheckError(f"{path}: a schema must be an object or a boolean")
    unknown = sorted(set(schema) - SCHEMA_KEYWORDS)
    if unknown:
        raise CheckError(f"{path}: unsupported JSON Schema keyword(s) {unknown}; see README.md for the subset")
    t = schema.get("type")
    if t is not None:
        for x in (t if isinstance(t, list) else [t]):
            if x not in SCHEMA_TYPES:
                raise CheckError(f"{path}.type: unknown type {x!r}")
    for key in ("properties",):
        if key in schema:
            if not isinstance(schema[key], dict):
                raise CheckError(f"{path}.{key}: must be an object")
            for name, sub in schema[key].items():
                _check_schema_shape(sub, f"{path}.{key}.{name}")
    for key in ("items", "additionalProperties", "not"):
        if key in schema and not isinstance(schema[key], bool):
            _check_schema_shape(schema[key], f"{path}.{key}")
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            if not isinstance(schema[key], list) or not schema[key]:
                raise CheckError(f"{path}.{key}: must be a non-empty list")
            for i, sub in enumerate(schema[key]):
                _check_schema_shape(sub, f"{path}.{key}[{i}]")
    if "required" in schema and not (isinstance(schema["required"], list)
                                     and all(isinstance(x, str) for x in schema["required"])):
        raise CheckError(f"{path}.required: must be a list of property names")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as e:
            raise CheckError(f"{path}.pattern: {e}") from None


def validate_checks(checks, where="checks"):
    """Validates a check list; returns it with defaults filled in. Raises CheckError naming the field."""
    if not isinstance(checks, list) or not checks:
        raise CheckError(f"{where}: must be a non-empty list of checks")
    out, names = [], set()
    for i, c in enumerate(checks):
        path = f"{where}[{i}]"
        if not isinstance(c, dict):
            raise CheckError(f"{path}: must be an object")
        t = c.get("type")
        if t not in CHECK_FIELDS:
            raise CheckError(f"{path}.type: unknown check type {t!r}; known: {sorted(CHECK_FIELDS)}")
        unknown = sorted(set(c) - COMMON_FIELDS - CHECK_FIELDS[t])
        if unknown:
            raise CheckError(f"{path}: unknown field(s) {unknown} for a {t} check")
        c = dict(c)
        w = c.setdefault("weight", 1.0)
        if not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) or w < 0:
            raise CheckError(f"{path}.weight: must be a number >= 0")
        c.setdefault("required", False)
        if t == "regex":
            if not isinstance(c.get("pattern"), str):
                raise CheckError(f"{path}.pattern: required string")
            flags = 0
            for ch in c.get("flags", ""):
                if ch not in "ims":
                    raise CheckError(f"{path}.flags: unknown flag {ch!r} (use i, m, s)")
                flags |= {"i": re.I, "m": re.M, "s": re.S}[ch]
            try:
                c["_re"] = re.compile(c["pattern"], flags)
            except re.error as e:
                raise CheckError(f"{path}.pattern: {e}") from None
            c.setdefault("must_match", True)
            default = ("match_" if c["must_match"] else "no_match_") + str(i)
        elif t in ("json", "json_schema"):
            if c.setdefault("extract", "auto") not in ("auto", "whole", "fenced"):
                raise CheckError(f"{path}.extract: must be auto, whole or fenced")
            if t == "json_schema":
                if "schema" not in c:
                    raise CheckError(f"{path}.schema: required")
                _check_schema_shape(c["schema"], f"{path}.schema")
            default = t
        elif t == "length":
            if c.setdefault("unit", "words") not in ("words", "characters", "lines"):
                raise CheckError(f"{path}.unit: must be words, characters or lines")
            if "min" not in c and "max" not in c:
                raise CheckError(f"{path}: a length check needs min and/or max")
            for k in ("min", "max"):
                if k in c and (not isinstance(c[k], int) or isinstance(c[k], bool) or c[k] < 0):
                    raise CheckError(f"{path}.{k}: must be an integer >= 0")
            default = f"length_{c['unit']}"
        elif t == "sections":
            secs = c.get("sections")
            if not isinstance(secs, list) or not secs or not all(isinstance(s, str) and s.strip() for s in secs):
                raise CheckError(f"{path}.sections: must be a non-empty list of headings")
            c.setdefault("ordered", False)
            default = "sections"
        else:
            words = c.get("words")
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
                raise CheckError(f"{path}.words: must be a non-empty list of words")
            flags = 0 if c.get("case_sensitive", False) else re.I
            c["_re"] = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", flags)
            default = "forbidden_words"
        name = c.setdefault("name", default)
        if not isinstance(name, str) or not name:
            raise CheckError(f"{path}.name: must be a non-empty string")
        if name in names:
            raise CheckError(f"{path}.name: duplicate check name {name!r}")
        names.add(name)
        out.append(c)
    if sum(c["weight"] for c in out) <= 0:
        raise CheckError(f"{where}: the weights sum to 0")
    return out

# --------------------------------------------------------------------------- JSON Schema subset


def _type_ok(value, t):
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def _json_equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def validate_schema(value, schema, path="$", depth=0):
    """Returns a list of error strings (empty when value is valid) for the documented subset."""
    if depth > 64:
        return [f"{path}: schema nesting too deep"]
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: no value is allowed here"]
    errs = []
    t = schema.get("type")
    if t is not None and not any(_type_ok(value, x) for x in (t if isinstance(t, list) else [t])):
        return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "const" in schema and not _json_equal(value, schema["const"]):
        errs.append(f"{path}: must equal {schema['const']!r}")
    if "enum" in schema and not any(_json_equal(value, e) for e in schema["enum"]):
        errs.append(f"{path}: must be one of {schema['enum']!r}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append(f"{path}: does not match {schema['pattern']!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: below minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: above maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errs.append(f"{path}: not above {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errs.append(f"{path}: not below {schema['exclusiveMaximum']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errs.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append(f"{path}: more than {schema['maxItems']} items")
        if schema.get("uniqueItems"):
            seen = [json.dumps(v, sort_keys=True) for v in value]
            if len(set(seen)) != len(seen):
                errs.append(f"{path}: items are not unique")
        if "items" in schema:
            for i, v in enumerate(value):
                errs.extend(validate_schema(v, schema["items"], f"{path}[{i}]", depth + 1))
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errs.append(f"{path}: missing required property {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errs.extend(validate_schema(v, props[k], f"{path}.{k}", depth + 1))
            elif "additionalProperties" in schema:
                errs.extend(validate_schema(v, schema["additionalProperties"], f"{path}.{k}", depth + 1))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            errs.append(f"{path}: fewer than {schema['minProperties']} properties")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            errs.append(f"{path}: more than {schema['maxProperties']} properties")
    for sub in schema.get("allOf", []):
        errs.extend(validate_schema(value, sub, path, depth + 1))
    if "anyOf" in schema and not any(not validate_schema(value, s, path, depth + 1) for s in schema["anyOf"]):
        errs.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not validate_schema(value, s, path, depth + 1))
        if n != 1:
            errs.append(f"{path}: matches {n} of oneOf (needs exactly 1)")
    if "not" in schema and not validate_schema(value, schema["not"], path, depth + 1):
        errs.append(f"{path}: matches the 'not' schema")
    return errs

# --------------------------------------------------------------------------- running checks

_FENCED_JSON_RE = re.compile(r"```(?:json)?[ \t]*\n(.*?)```", re.S | re.I)


def _parse_json(text, extract):
    candidates = []
    if extract in ("auto", "whole"):
        candidates.append(text.strip())
    if extract in ("auto", "fenced"):
        candidates.extend(m.strip() for m in reversed(_FENCED_JSON_RE.findall(text)))
    for c in candidates:
        try:
            return True, json.loads(c)
        except (ValueError, RecursionError):
            continue
    return False, None


def _heading_span(text, heading):
    h = re.escape(heading.strip())
    pattern = (r"^[ \t]*(?:#{1,6}[ \t]*" + h + r"[ \t]*#*[ \t]*:?|\*\*" + h + r":?\*\*:?|__" + h + r"__|" + h + r"[ \t]*:)")
    m = re.search(pattern, text, re.I | re.M)
    return (m.start(), m.end()) if m else None


_MD_HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]", re.M)


def _sections_found(text, sections):
    """Per section, where its heading starts, or -1 when it is missing or empty: a heading counts
    only with some text (a letter or digit) between it and the next heading."""
    spans = [_heading_span(text, s) for s in sections]
    starts = [sp[0] for sp in spans if sp] + [m.start() for m in _MD_HEADING_RE.finditer(text)]
    out = []
    for sp in spans:
        if sp is None:
            out.append(-1)
            continue
        end = min([x for x in starts if x >= sp[1]] + [len(text)])
        out.append(sp[0] if _ALNUM_RE.search(text[sp[1]:end]) else -1)
    return out


def _run_check(c, text):
    t = c["type"]
    if t == "regex":
        found = c["_re"].search(text) is not None
        return 1.0 if found == c["must_match"] else 0.0
    if t == "json":
        return 1.0 if _parse_json(text, c["extract"])[0] else 0.0
    if t == "json_schema":
        ok, value = _parse_json(text, c["extract"])
        return 1.0 if ok and not validate_schema(value, c["schema"]) else 0.0
    if t == "length":
        if c["unit"] == "words":
            n = len(text.split())
        elif c["unit"] == "characters":
            n = len(text)
        else:
            n = len(text.strip().splitlines()) if text.strip() else 0
        return 1.0 if c.get("min", 0) <= n <= c.get("max", n) else 0.0
    if t == "sections":
        positions = _sections_found(text, c["sections"])
        found = sum(1 for p in positions if p >= 0)
        if c["ordered"] and found == len(positions) and positions != sorted(positions):
            return 0.0
        return found / len(positions)
    return 0.0 if c["_re"].search(text) else 1.0


# --------------------------------------------------------------------------- the content gate

_ESCAPES_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")
_ALNUM_RE = re.compile(r"[^\W_]")
_BROKEN_RE = re.compile("[\x00\x80-\x9f\ufffd]")
# Text written to the grader rather than to the user: instructions, claimed scores, forged verdicts.
_TO_GRADER_RE = re.compile("|".join([
    r"\bignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|preceding)\s+(?:instructions|rules|rubric)",
    r"\bignore\s+the\s+(?:rubric|instructions|rules)",
    r"\b(?:notes?|messages?|instructions?)\s+(?:to|for)\s+the\s+(?:grader|judge|evaluator|reviewer|scorer)",
    r"\b(?:grader|judge|evaluator|scorer|assessor)(?:'s)?\s*(?:note|instructions?)?\s*:",
    r"^\W*system(?:\s+override)?\s*:",
    r"\b(?:give|assign|award|output|return|respond\s+with|reply\s+with)\b[^.\n]{0,40}\b(?:score|rating|grade|marks)\b",
    r"\b(?:perfect|maximum|max|full|highest)\s+(?:score|marks|rating)\b",
    r"\bscore\s*(?:of|:|=)?\s*10\s*/\s*10\b",
    r"aggregate_reward_score|metrics_list|\"verdict\"\s*:|<\s*(?:score|verdict)\s*>",
]), re.I | re.M)


def _words(text):
    return re.findall(r"\w+", text.lower())


def content_problem(text, prompts=()):
    """Why a response carries no content, or None. A format check passes many texts that say
    nothing (an empty answer passes every prohibition), so such responses score 0: nothing but
    whitespace, punctuation, control characters or escapes; broken text; one token or phrase repeated; the
    prompt copied back with nothing added; text addressed to the grader (instructions, claimed
    scores, forged verdicts). `rft grader audit` tries each of these."""
    visible = _ESCAPES_RE.sub("", text)
    if not _ALNUM_RE.search(visible):
        return "no letters or digits"
    if _BROKEN_RE.search(visible):
        return "broken text (NUL, C1 control or replacement characters)"
    words = _words(visible)
    if len(words) >= 20 and max(words.count(w) for w in set(words)) > len(words) / 2:
        return "one token repeated"
    if len(words) >= 50 and len(set(words)) < len(words) / 10:
        return "one phrase repeated"
    rest = " ".join(words)
    for p in prompts:
        pw = " ".join(_words(p))
        if len(pw.split()) >= 3:
            rest = rest.replace(pw, " ")
    if not _ALNUM_RE.search(rest):
        return "the prompt copied back"
    if _TO_GRADER_RE.search(visible):
        return "text addressed to the grader"
    return None


def run_checks(text, checks, strip_think=True, prompts=(), require_content=True):
    """Returns (score, [(name, value)], why the response has no content or None). With
    require_content, a response that carries no content (see content_problem) scores 0."""
    if len(text) > MAX_RESPONSE_CHARS:
        text = text[:MAX_RESPONSE_CHARS]
    if strip_think:
        text = re.sub(r"<think>.*?</think>", "", text, flags=re.S).strip()
    results = [(c["name"], _run_check(c, text), c) for c in checks]
    total_w = sum(c["weight"] for _, _, c in results)
    score = sum(c["weight"] * v for _, v, c in results) / total_w
    if any(c["required"] and v < 1.0 for _, v, c in results):
        score = 0.0
    problem = content_problem(text, prompts) if require_content else None
    if problem is not None:
        score = 0.0
    return score, [(name, v) for name, v, _ in results], problem


def _response_text(sample):
    msgs = sample.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "assistant":
                c = m.get("content")
                if isinstance(c, list):
                    c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
                return c if isinstance(c, str) else ""
    for key in ("response", "completion", "output_text"):
        if isinstance(sample.get(key), str):
            return sample[key]
    return ""


def _prompt_texts(sample):
    """The text of every message before the last assistant turn (to recognise a copied prompt)."""
    msgs = sample.get("messages") if isinstance(sample.get("messages"), list) else []
    last = max([i for i, m in enumerate(msgs) if isinstance(m, dict) and m.get("role") == "assistant"] or [len(msgs)])
    texts = []
    for m in msgs[:last]:
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, list):
            c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
        if isinstance(c, str):
            texts.append(c)
    return texts


def _sample_checks(sample):
    ref = sample.get("reference_answer")
    if ref is None and isinstance(sample.get("metadata"), dict):
        ref = sample["metadata"].get("reference_answer")
    if isinstance(ref, dict) and "checks" in ref:
        return validate_checks(ref["checks"], "reference_answer.checks")
    if CONFIG_CHECKS is None:
        raise CheckError("config.json has no checks and the sample has no reference_answer.checks")
    return CONFIG_CHECKS


def lambda_handler(event, context=None):
    """Bedrock batch contract. A sample with malformed checks gets {"id", "error": {"type":
    "invalid_reference", "message"}}; the rest of the batch is still scored."""
    samples = event if isinstance(event, list) else [event]
    out = []
    for sample in samples:
        sid = sample.get("id") if isinstance(sample, dict) else None
        try:
            if not isinstance(sample, dict):
                raise CheckError(f"sample must be an object, got {type(sample).__name__}")
            checks = _sample_checks(sample)
            score, results, problem = run_checks(_response_text(sample), checks, CONFIG["strip_think"],
                                                 _prompt_texts(sample), CONFIG["require_content"])
        except CheckError as e:
            out.append({"id": sid, "error": {"type": "invalid_reference", "message": f"invalid_reference: sample {sid}: {e}"}})
            continue
        out.append({"id": sid, "aggregate_reward_score": score,
                    "metrics_list": [{"name": n, "value": v, "type": "Reward"} for n, v in results]
                    + [{"name": "has_content", "value": 0.0 if problem else 1.0, "type": "Metric"}]})
    return out


def _load_config():
    cfg = dict(DEFAULT_CONFIG)
    path = os.path.join(HERE, "config.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            user = json.load(f)
        unknown = sorted(set(user) - set(DEFAULT_CONFIG))
        if unknown:
            raise CheckError(f"{path}: unknown config field(s) {unknown}; known: {sorted(DEFAULT_CONFIG)}")
        cfg.update(user)
    checks = validate_checks(cfg["checks"], f"{path}: checks") if cfg["checks"] else None
    return cfg, checks


CONFIG, CONFIG_CHECKS = _load_config()
