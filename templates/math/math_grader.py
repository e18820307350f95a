"""Math answer grader (rft template, Bedrock reward-Lambda batch contract, stdlib only).

Scores 1.0 when the final answer in the model's last assistant turn equals the
reference answer, else 0.0. Reports two diagnostics per sample:
  format_ok  1 when the answer came from an explicit marker (\\boxed{}, ####,
             <answer> tags, "the answer is"), 0 otherwise;
  extracted  1 when any answer was found at all.

Pipeline: extract (the last answer the response states; several different final
answers, "answer spraying", score 0; see README "Answer precedence") -> normalise
LaTeX/Unicode/units/words -> parse into a value (number, tuple, set, interval,
matrix, ratio, base-b numeral, equation, expression, multiple-choice letter or
word) -> compare (exact rationals, decimals and irrationals within rel_tol,
expressions at random points).

Design rules:
  * no signal-based timeouts, no shared mutable state: safe to call from threads;
  * inputs are bounded (response tail, answer length, exponent size, item count),
    so no input can make it hang or allocate without bound;
  * a reference answer that cannot be parsed raises ReferenceParseError (the
    handler turns it into a per-sample error), never a reward of 1.

Edit config.json (next to this file) to change the extraction order or tolerances.
"""
import ast
import functools
import json
import math
import os
import random
import re
import threading
from fractions import Fraction

__all__ = ["lambda_handler", "grade", "is_equivalent", "extract_answer",
           "ReferenceParseError", "CONFIG"]

MAX_RESPONSE_CHARS = 20_000   # extraction looks at the tail of the response only
MAX_ANSWER_CHARS = 400        # longer extracted answers are not parsed (score 0)
MAX_ITEMS = 64                # elements in a tuple/set/list
MAX_EXACT_POW_BITS = 4096     # bigger exact powers fall back to floats
MAX_EXPONENT = 1024           # |exponent| above this evaluates as float (and may overflow -> no value)

DEFAULT_CONFIG = {
    "extract_order": ["boxed", "hash", "answer_tag", "answer_phrase", "last_number"],
    "format_methods": ["boxed", "hash", "answer_tag", "answer_phrase"],
    "rel_tol": 1e-6,
    "abs_tol": 1e-9,
    "percent_equivalence": True,
    "unordered_lists": True,
    "random_points": 6,
    "use_sympy": False,
    "sympy_timeout_ms": 1000,
    "on_bad_reference": "error",
}


class ReferenceParseError(ValueError):
    """The reference (gold) answer cannot be parsed: the sample cannot be scored."""


def _load_config():
    cfg = dict(DEFAULT_CONFIG)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            user = json.load(f)
        unknown = sorted(set(user) - set(DEFAULT_CONFIG))
        if unknown:
            raise ValueError(f"{path}: unknown config field(s) {unknown}; known: {sorted(DEFAULT_CONFIG)}")
        cfg.update(user)
    for m in cfg["extract_order"]:
        if m not in _EXTRACTORS_NAMES:
            raise ValueError(f"{path}: extract_order: unknown method {m!r}; known: {sorted(_EXTRACTORS_NAMES)}")
    return cfg


_EXTRACTORS_NAMES = {"boxed", "hash", "answer_tag", "answer_phrase", "last_number"}

# --------------------------------------------------------------------------- extraction

_HASH_RE = re.compile(r"####[ \t]*([^\n]*)")
_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S | re.I)
# "the answer is", "Answer:", "final answer:", "**Final Answer**:", "the correct option is", ...
_MARKER_RE = re.compile(
    r"(?<![A-Za-z])(?:final\s+answer|answer|correct\s+(?:option|choice|answer))(?:\*\*|__)?\s*"
    r"(?:is\b|:|=|should\s+be\b|would\s+be\b|will\s+be\b)\s*:?", re.I)
_PHRASE_CUT_RE = re.compile(
    r"\.(?:\s|$)|;|\s+(?:because|since|which|so|as|for|and then)\b|,?\s+(?:and\s+)?(?:not|but|rather\s+than|instead\s+of)\b|"
    r"\s*\((?:because|since|as|from|by|using|which|i\.e\.|e\.g\.)\b|"
    r"\s+of\s+(?:the|a|an|his|her|their|its|all|each)\b", re.I)
# "**Answer:** The number of groups is 5": the value after the verb
_PROSE_IS_RE = re.compile(r"^[A-Za-z][A-Za-z' ]*?\s(?:is|are|equals|was|will\s+be)\s+(\S.*)$", re.I)
_LAST_NUMBER_RE = re.compile(
    r"(?<![\w.])[-\u2212]?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*%)?")
# a phrase answer starting with one of these words is prose ("the answer is correct"), not an answer
_PROSE_WORDS = frozenset("""correct right wrong incorrect indeed consistent verified confirmed reasonable
valid below above as that this clear obvious given shown found to in of simply straightforward
then now therefore thus unique still also likely""".split())
# between two stated answers, any of these makes the later one a correction or a conclusion, not a
# second answer: "\boxed{4} per face, so the total is \boxed{24}"
_CORRECTION_RE = re.compile(
    r"\b(?:wait|actually|correct(?:ion|ed|ing)|mistakes?|errors?|wrong|incorrect|re-?check\w*|"
    r"re-?calculat\w*|re-?comput\w*|reconsider\w*|re-?evaluat\w*|re-?examin\w*|revis\w*|redo\w*|"
    r"instead|hmm+|oops|sorry|however|but|final(?:ly)?|double[- ]check\w*|let\s+me|no|"
    r"so|thus|therefore|hence|then|total|overall|altogether|gives?|means?)\b", re.I)
_HEDGE_QUICK_RE = re.compile(r"aybe|erhaps|ossibl|robabl|ither|lternativ|therwise|r so|AYBE|ERHAPS|OSSIBL")
_CUE_WORDS_RE = re.compile(r"ait|ctually|ops|orry|istake|orrection|AIT|CTUALLY")   # cheap pre-check
_HEDGE_RE = re.compile(r"\b(?:maybe|perhaps|possibly|probably|either|alternatively|otherwise|or\s+so)\b", re.I)
# text right after the final answer that offers another one: "\boxed{3}, or maybe 4"
_TRAILING_HEDGE_RE = re.compile(
    r"[ \t$.,;:(*]*(?:or|maybe|perhaps|possibly|probably|alternatively|otherwise)\b[^\n]{0,40}?"
    r"(?:\\boxed\{([^{}]*)\}|([-\u2212]?\d[\d,./]*))", re.I)
# what may stand between two boxes that together state one answer: "\boxed{2} and \boxed{-2}"
_BOX_JOIN_RE = re.compile(
    r"^(?:\s|\$|,|;|\\[,;: ]|\\q?quad|\\text\{\s*(?:and|or)?\s*\}|and|or|&|\\\\|"
    r"[A-Za-z](?:_\{?\w+\}?)?\s*=|maybe|perhaps|possibly|probably)*$", re.I)
# numbers before the last one that make it a list or a hedge: "5 and 7", "3, or maybe 4"
_NUMBER_LIST_TAIL_RE = re.compile(
    r"[-\u2212]?\d+(?:\.\d+)?(?:[\s$]*,[\s$]*[-\u2212]?\d+(?:\.\d+)?)*[\s$]*,?[\s$]*"
    r"(?:(?:and|or)\s+(?:(?:maybe|perhaps|possibly|probably)\s+)?|(?:maybe|perhaps|possibly|probably)\s+)"
    r"(?:(?:it'?s|it\s+is|is)\s+)?[\s$]*(?:[A-Za-z]\s*=\s*)?$", re.I)
_SCI_TAIL_RE = re.compile(r"([-\u2212]?\d+(?:\.\d+)?\s*(?:[xX×*·]|\\times|\\cdot)\s*10\s*\^\s*\{?\s*[-\u2212]?\d+\s*\}?)")
SPRAY_GAP_CHARS = 80   # two different answers closer than this with no correction between: spraying


_BRACE_RE = re.compile(r"[{}]")


def _match_brace(text, i):
    """text[i] == '{': return the index of the matching '}', or -1.
    Escaped braces \\{ \\} count like braces: they nest in LaTeX sets."""
    depth = 0
    for m in _BRACE_RE.finditer(text, i):
        if m.group() == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


class _Cand:
    """One stated answer: marker start, answer text span, end of the construct, method."""
    __slots__ = ("start", "a0", "end", "text", "method")

    def __init__(self, start, a0, end, text, method):
        self.start, self.a0, self.end, self.text, self.method = start, a0, end, text, method


_BOX_RE = re.compile(r"\\(?:boxed|fbox) *(?:(\{)|([^\s${\\][^\s$]*))")


def _boxed_cands(text):
    out = []
    for m in _BOX_RE.finditer(text):
        if m.group(1):
            j = m.start(1)
            k = _match_brace(text, j)
            if k > 0:
                out.append(_Cand(m.start(), j + 1, k + 1, text[j + 1:k], "boxed"))
        else:   # \boxed 9
            out.append(_Cand(m.start(), m.start(2), m.end(), m.group(2), "boxed"))
    return out


def _inner_box(cand, boxes):
    """A hash/tag/phrase answer that holds a \\boxed{} is that box (which is its own candidate)."""
    return any(cand.start <= b.start < cand.end for b in boxes)


def _hash_cands(text, boxes):
    out = []
    for m in _HASH_RE.finditer(text):
        ans = _strip_markup(m.group(1)).rstrip(".!")
        if ans.endswith(")"):
            ans = _WORD_PAREN_RE.sub("", ans)   # #### 18 (dollars)
        c = _Cand(m.start(), m.start(1), m.end(1), ans, "hash")
        if not _inner_box(c, boxes):
            out.append(c)
    return out


def _tag_cands(text, boxes):
    out = []
    for m in _ANSWER_TAG_RE.finditer(text):
        c = _Cand(m.start(), m.start(1), m.end(), _strip_markup(m.group(1)), "answer_tag")
        if not _inner_box(c, boxes):
            out.append(c)
    return out


def _strip_markup(s):
    if "*" in s or "_" in s:
        s = s.replace("**", "").replace("__", "").strip().strip(" *_")
    return s.strip()


_NEXT_LINE_RE = re.compile(r"\s{0,40}?\n[ \t]*([^\s][^\n]{0,300})")
_WORD_PAREN_RE = re.compile(
    r"\s+\(\s*(?!(?:or|maybe|perhaps|possibly|probably|alternatively|otherwise)\b)(?:[A-Za-z]{2,}|i\.e\.|e\.g\.)[^()]*\)$",
    re.I)
_LEADING_MATH_RE = re.compile(r"^(?:\$\$(?:\\\$|[^$])+\$\$|\$(?:\\\$|[^$])+\$|\\\(.+?\\\))")
_APPROX_RE = re.compile(r"≈|\\approx(?![A-Za-z])")
# inline or display math: $...$, $$...$$, \(...\), \[...\]
_MATH_SEG_RE = re.compile(r"\$\$(.+?)\$\$|\$([^$]+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
# after the last stated answer: "Wait, actually it is 8." corrects it
_TAIL_CORRECTION_RE = re.compile(
    r"\b(?:wait|actually|oops|sorry|mistake|correction)\b[^\n]{0,150}?(?:\bis|\bare|=|\bbe|\bget|\bgives?|it'?s)"
    r"\s*\$?\s*([-\u2212]?\d[\d,]*(?:\.\d+)?)\s*\$?\s*[.!]?\s*$", re.I)


def _markers(text):
    """The answer markers, in order: _MARKER_RE tried only where str.find sees 'answer' or 'correct'
    (ten times faster than scanning the whole response with the case-insensitive regex)."""
    anchors = []
    for lit in ("nswer", "NSWER", "orrect", "ORRECT"):
        i = text.find(lit, 1)
        while i > 0:
            anchors.append(i - 1)
            i = text.find(lit, i + 5)
    marks, end = [], -1
    for a in sorted(anchors):
        if a < end:
            continue
        m = _MARKER_RE.match(text, a)
        if m:
            marks.append(m)
            end = m.end()
    return marks


def _phrase_cands(text, boxes):
    out = []
    marks = _markers(text)
    for i, m in enumerate(marks):
        a0 = m.end()
        nl = text.find("\n", a0)
        if nl >= 0 and not text[a0:nl].strip(" \t*_:"):   # "The answer is:" then the answer on its own line
            nxt = _NEXT_LINE_RE.match(text, nl)
            if nxt:
                a0, nl = nxt.start(1), nxt.end(1)
        a1 = len(text) if nl < 0 else nl
        if i + 1 < len(marks):
            a1 = min(a1, marks[i + 1].start())
        c = _Cand(m.start(), a0, a1, "", "answer_phrase")
        if _inner_box(c, boxes):
            continue
        raw = text[a0:a1]
        k = raw.find(". ")   # the commonest cut, found cheaply first; the regex then looks before it
        if k >= 0:
            raw = raw[:k]
        cut = _PHRASE_CUT_RE.search(raw)
        if cut:
            raw = raw[:cut.start()]
        ans = _strip_markup(raw).rstrip(".!,;:").strip()
        if ans.endswith(")"):
            ans = _WORD_PAREN_RE.sub("", ans)   # 12 (twelve), 12 (rounded from 11.97)
        if ans[:1] == "$" or ans[:2] == "\\(":
            lead = _LEADING_MATH_RE.match(ans)   # $x + 1$, valid for $x \neq 0$
            if lead:
                ans = lead.group(0)
        if " is " in ans or " are " in ans or " equals " in ans or " was " in ans or " be " in ans:
            isv = _PROSE_IS_RE.match(ans)
            if isv:
                ans = isv.group(1)
        if not ans:
            continue
        first = ans.split(None, 1)[0].lower().strip(",:")
        if first in _PROSE_WORDS or ans in ("The", "the"):   # "Final Answer: The final answer is"
            continue
        c.text = ans
        c.end = a0 + len(raw.rstrip())
        out.append(c)
    return out


def _same_answer(a, b):
    """True when two stated answers are the same value (reference-free: both parsed as references)."""
    if a == b:
        return True
    va, vb = _value_or_none(a), _value_or_none(b)
    if va is None or vb is None:
        return " ".join(a.split()).lower() == " ".join(b.split()).lower()
    return _equal(va, vb, CONFIG) and _equal(vb, va, CONFIG)


@functools.lru_cache(maxsize=1024)
def _value_or_none(text):
    """A stated answer parsed like a reference, or None (own cache: answers do not evict references)."""
    try:
        return _parse_reference.__wrapped__(text.strip())
    except ReferenceParseError:
        return None


def _last_number_answer(text):
    """The last number, or with the numbers listed before it ("5 and 7"), or the math segment that
    holds it ("the probability is $\\frac{1}{6}$"). Returns (answer, spray)."""
    last = None
    for last in _LAST_NUMBER_RE.finditer(text):
        pass
    if last is None:
        return None, False
    head = text[max(0, last.start() - 80):last.start()]
    sci = _SCI_TAIL_RE.search(text, max(0, last.start() - 40), last.end() + 4)
    if sci and sci.start(1) <= last.start() < sci.end():   # 1.5 x 10^3
        return sci.group(1), False
    m = _NUMBER_LIST_TAIL_RE.search(head)
    if m:
        joined = m.group(0) + last.group(0)
        if _HEDGE_RE.search(joined):
            return joined, True
        items = re.findall(r"[-\u2212]?\d+(?:\.\d+)?", m.group(0)) + [last.group(0)]
        return ", ".join(items), False
    if "$" in text or "\\(" in text or "\\[" in text:
        tail_at = max(0, len(text) - 600)
        seg = None
        for seg in _MATH_SEG_RE.finditer(text, tail_at):
            pass
        if seg is not None and seg.start() < last.start() < seg.end() and not text[seg.end():].strip(" \t\n.!"):
            inner = next(g for g in seg.groups() if g is not None).strip()
            if inner and len(inner) <= MAX_ANSWER_CHARS:
                return inner, False
    return last.group(0), False


def _extract(text, order):
    """Returns (answer_text, method, spray): the last stated answer, and whether the response
    states several different final answers (answer spraying)."""
    if not isinstance(text, str):
        return None, None, False
    if len(text) > MAX_RESPONSE_CHARS:
        text = text[-MAX_RESPONSE_CHARS:]
    enabled = order   # a list of at most 5 names: membership is cheap
    boxes = _boxed_cands(text) if ("boxed" in enabled and ("\\boxed" in text or "\\fbox" in text)) else []
    cands = list(boxes)
    if "hash" in enabled and "####" in text:
        cands += _hash_cands(text, boxes)
    if "answer_tag" in enabled and ("<answer>" in text or "<ANSWER>" in text or "<Answer>" in text):
        cands += _tag_cands(text, boxes)
    if "answer_phrase" in enabled and ("nswer" in text or "NSWER" in text or "orrect" in text or "ORRECT" in text):
        cands += _phrase_cands(text, boxes)
    cands = [c for c in cands if c.text.strip()]
    if not cands:
        if "last_number" in enabled:
            ans, spray = _last_number_answer(text)
            if ans is not None:
                return ans.strip(), "last_number", spray
        return None, None, False
    cands.sort(key=lambda c: c.a0)
    # boxes side by side state one answer together: "\boxed{2} and \boxed{-2}" is the list 2, -2
    group = [cands[-1]]
    spray = False
    i = len(cands) - 2
    while i >= 0 and group[0].method == "boxed" and cands[i].method == "boxed":
        gap = text[cands[i].end:group[0].start]
        if not _BOX_JOIN_RE.match(gap):
            break
        if _HEDGE_RE.search(gap):
            spray = True
        group.insert(0, cands[i])
        i -= 1
    last = group[-1]
    texts = []
    for c in group:
        if not any(_same_answer(c.text, t) for t in texts):
            texts.append(c.text.strip())
    answer = texts[0] if len(texts) == 1 else ", ".join(texts)
    tail = text[last.end:]
    if tail.strip() and len(tail) < 400 and _CUE_WORDS_RE.search(tail):
        fix = _TAIL_CORRECTION_RE.search(tail)   # "The answer is 7. Wait, actually it is 8."
        if fix and not _same_answer(fix.group(1), answer):
            return fix.group(1), last.method, bool(_HEDGE_RE.search(fix.group(0)))   # "Wait, maybe it is 4"
    if _HEDGE_QUICK_RE.search(answer) and _HEDGE_RE.search(answer):
        spray = True
    else:
        other = _TRAILING_HEDGE_RE.match(text, last.end, last.end + 80)   # "\boxed{3}, or maybe 4"
        if other and not _same_answer((other.group(1) or other.group(2)).rstrip(".,"), answer):
            spray = True
    # an earlier, different answer close before this one with no correction between: spraying
    first = group[0]
    while i >= 0 and not spray:
        prev = cands[i]
        if prev.end > first.start or prev.text[:4].lower() == "not ":   # same place, or a negation
            i -= 1
            continue
        gap = text[prev.end:first.a0]
        if len(gap) > SPRAY_GAP_CHARS or _CORRECTION_RE.search(text[prev.a0:first.a0]):
            break
        if not _same_answer(prev.text, answer):
            spray = True
        first = prev
        i -= 1
    return answer, last.method, spray


def extract_answer(text, order=None):
    """Returns (answer_text, method) for the last answer the response states, else (None, None).
    Explicit answers (\\boxed{}, ####, <answer>, "the answer is") win over the last-number fallback,
    and among them the last one in the text wins."""
    answer, method, _ = _extract(text, order or CONFIG["extract_order"])
    return answer, method

# --------------------------------------------------------------------------- normalisation

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω",
}
_CMD_SIMPLE = {
    "times": "*", "cdot": "*", "ast": "*", "div": "/", "pi": "π", "infty": "∞", "infin": "∞",
    "cup": " ∪ ", "in": " ∈ ", "le": "<=", "leq": "<=", "leqslant": "<=", "ge": ">=", "geq": ">=",
    "geqslant": ">=", "lt": "<", "gt": ">", "approx": "=", "circ": "", "degree": "", "emptyset": "∅",
    "varnothing": "∅", "lbrace": "⦃", "rbrace": "⦄", "%": "%", "$": "", "{": "⦃", "}": "⦄",
    "sin": " sin ", "cos": " cos ", "tan": " tan ", "cot": " cot ", "sec": " sec ", "csc": " csc ",
    "arcsin": " arcsin ", "arccos": " arccos ", "arctan": " arctan ", "log": " log ", "ln": " ln ",
    "exp": " exp ", "pm": "±", "mp": "±", "neq": "≠", "ne": "≠", "to": "→", "cap": "∩",
    "dots": "…", "ldots": "…", "cdots": "…", "colon": ":", "mid": "|", "vert": "|", "lvert": "|",
    "rvert": "|", "lfloor": " floor(", "rfloor": ")", "lceil": " ceil(", "rceil": ")",
    "Vert": "|", "R": "ℝ", "Reals": "ℝ",
}
_CMD_SKIP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
             "displaystyle", "textstyle", "limits", "nolimits", ",", ";", ":", "!", " ", "quad",
             "qquad", "thinspace", "medspace", "enspace", "hspace*", "middle"}
_CMD_CONTENT = {"text", "textbf", "textit", "textrm", "textnormal", "mathrm", "mathbf", "mathit",
                "mathsf", "mathtt", "mbox", "operatorname", "boldsymbol", "bm", "mathbb", "hbox",
                "texttt", "textsf", "emph", "mathcal"}
_CMD_FRAC = {"frac", "dfrac", "tfrac", "cfrac"}
_CMD_BINOM = {"binom", "dbinom", "tbinom"}
_CMD_REPEAT = {"overline", "dot", "bar"}

_TRANSLATE = str.maketrans({
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2012": "-", "\uFE63": "-", "\uFF0D": "-",
    "×": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "∕": "/",
    "\u2009": " ", "\u202F": " ", "\u200A": " ", "\u00A0": " ", "\u2002": " ", "\u2003": " ",
    "\u2007": " ", "\u2008": " ", "\u200B": "", "~": " ",
    "²": "^2", "³": "^3", "¹": "^1", "⁰": "^0", "⁴": "^4", "⁵": "^5", "⁶": "^6", "⁷": "^7",
    "⁸": "^8", "⁹": "^9", "⁻": "^-",
    "½": "(1/2)", "¼": "(1/4)", "¾": "(3/4)", "⅓": "(1/3)", "⅔": "(2/3)", "⅕": "(1/5)", "⅛": "(1/8)",
    "≤": "<=", "≥": ">=", "≈": "=", "°": "", "$": "", "€": "", "£": "", "¥": "", "₹": "",
    "∪": " ∪ ", "\u2032": "'", "√": "sqrt", "∛": "cbrt", "∞": "∞",
    "⌊": " floor(", "⌋": ")", "⌈": " ceil(", "⌉": ")", "∣": "|", "⁄": "/", "✓": "", "✔": "", "✅": "",
})


def _read_arg(s, i):
    """Reads one LaTeX argument starting at s[i] (skipping spaces): {group}, \\cmd or one char."""
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    if i >= n:
        return "", i
    if s[i] == "{":
        k = _match_brace(s, i)
        if k < 0:
            raise _ParseFailure("unbalanced braces")
        return s[i + 1:k], k + 1
    if s[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", s[i:])
        return m.group(0), i + len(m.group(0))
    return s[i], i + 1


class _ParseFailure(Exception):
    pass


def _latex_to_plain(s, depth=0):
    """Rewrites LaTeX into a plain infix form: \\frac{a}{b} -> ((a)/(b)), \\sqrt{x} -> sqrt(x), ..."""
    if depth > 30:
        raise _ParseFailure("nesting too deep")
    if "\\" not in s:
        return s
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        m = re.match(r"\\([A-Za-z]+\*?|.)", s[i:])
        if not m:
            i += 1
            continue
        name = m.group(1)
        i += len(m.group(0))
        if name in _CMD_SKIP:
            if name in ("left", "right", "middle") and i < n and s[i] == ".":
                i += 1
            continue
        if name in _CMD_FRAC:
            a, i = _read_arg(s, i)
            b, i = _read_arg(s, i)
            out.append("((" + _latex_to_plain(a, depth + 1) + ")/(" + _latex_to_plain(b, depth + 1) + "))")
        elif name in _CMD_BINOM:
            a, i = _read_arg(s, i)
            b, i = _read_arg(s, i)
            out.append(" binom((" + _latex_to_plain(a, depth + 1) + "),(" + _latex_to_plain(b, depth + 1) + "))")
        elif name in ("log", "lg") and i < n and s[i] == "_":
            # \log_2 8, \log_{10}(x): the base rides on the name as log_(b); the tokeniser moves it
            b, i = _read_arg(s, i + 1)
            out.append(" log_(" + _latex_to_plain(b, depth + 1).strip() + ") ")
        elif name == "sqrt":
            idx = None
            if i < n and s[i] == "[":
                k = s.find("]", i)
                if k < 0:
                    raise _ParseFailure("unbalanced [")
                idx, i = s[i + 1:k], k + 1
            a, i = _read_arg(s, i)
            a = _latex_to_plain(a, depth + 1)
            out.append(f"sqrt({a})" if idx is None else f"root({a},{_latex_to_plain(idx, depth + 1)})")
        elif name in _CMD_CONTENT:
            a, i = _read_arg(s, i)
            if name == "mathbb" and a.strip() == "R":
                out.append("ℝ")
                continue
            out.append(" " + _latex_to_plain(a, depth + 1) + " ")
        elif name in _CMD_REPEAT:
            a, i = _read_arg(s, i)
            out.append("‾(" + _latex_to_plain(a, depth + 1) + ")")
        elif name in _CMD_SIMPLE:
            out.append(_CMD_SIMPLE[name])
        elif name in _GREEK:
            out.append(_GREEK[name])
        elif name == "\\":
            out.append(" ")
        elif len(name) == 1:
            out.append(name)
        else:
            out.append(" " + name + " ")
    return "".join(out)


_THOUSANDS_RE = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])")
_THOUSANDS_MULTI_RE = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3}){2,}(?![\d,])")
_SPACE_THOUSANDS_RE = re.compile(r"(?<![\d.])([1-9]\d{0,2})((?: \d{3})+)(?![\d])")
_REPEAT_RE = re.compile(r"(\d*)\.(\d*)‾\((\d+)\)")
_REPEAT_PAREN_RE = re.compile(r"(\d*)\.(\d*)\((\d+)\)")
# 3\frac{1}{2} (an integer right before a fraction of integers) is the mixed number 3 1/2
_MIXED_RE = re.compile(r"(?<![\w.^}])(\d+)\s*\\[dt]?frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?")
_ELLIPSIS_RE = re.compile(r"(\d*)\.(\d+)\s*(?:\.\.\.|…)")


def _repeating_fraction(int_part, nonrep, rep):
    ip = int(int_part or "0")
    k, r = len(nonrep), len(rep)
    nr = int(nonrep or "0")
    rp = int(rep)
    frac = Fraction(nr, 10 ** k) + Fraction(rp, (10 ** r - 1) * 10 ** k)
    return ip + frac


def _ellipsis_fraction(m):
    ip, digits = m.group(1), m.group(2)
    # shortest period p that repeats at the tail (at least 3 times for p=1, twice otherwise)
    for p in range(1, 7):
        reps = 3 if p == 1 else 2
        if len(digits) < p * reps:
            break
        unit = digits[-p:]
        if digits.endswith(unit * reps):
            # strip the repeated tail to find the non-repeating prefix
            pre = digits
            while pre.endswith(unit):
                pre = pre[:-p]
            return _repeating_fraction(ip, pre, unit)
    return None


def _frac_text(f):
    return f"({f.numerator}/{f.denominator})"


_MATRIX_RE = re.compile(r"\\begin\{([pbBvV]?matrix|smallmatrix|array)\}(?:\{[^{}]*\})?(.*?)\\end\{\1\}", re.S)
_OVER_RE = re.compile(r"\\(over|choose)(?![A-Za-z])")
_OUT_OF_RE = re.compile(r"(\d+(?:\.\d+)?)\s+out\s+of\s+(\d+(?:\.\d+)?)")
_POWER_WORD_RE = re.compile(r"(?<=[\d)])\s*\b(squared|cubed)\b", re.I)
_SCALE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(hundred|thousand|million|billion|trillion|dozen)\b", re.I)
_SCALE_MUL = {"hundred": "100", "thousand": "10^3", "million": "10^6", "billion": "10^9", "trillion": "10^12",
              "dozen": "12"}
_TIMES_TEN_RE = re.compile(r"(\d)\s*[xX]\s*(?=10\s*\^)")
_LOG_BASE_RE = re.compile(r"\blog_(\d+|[A-Za-z])\b")


def _matrix_text(m):
    """\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} -> ⟪1,2;3,4⟫ (vmatrix is a determinant: left alone)."""
    if m.group(1) in ("vmatrix", "Vmatrix"):
        raise _ParseFailure("determinant")
    rows = [r for r in re.split(r"\\\\|\\cr\b", m.group(2)) if r.strip() and not r.strip() == "\\hline"]
    if not rows:
        raise _ParseFailure("empty matrix")
    return "⟪" + ";".join(",".join(c.strip() for c in r.split("&")) for r in rows) + "⟫"


def _rewrite_over(s):
    """{a \\over b} -> \\frac{a}{b}, {n \\choose k} -> \\binom{n}{k} (the enclosing group is the operand pair)."""
    for _ in range(16):
        m = _OVER_RE.search(s)
        if not m:
            return s
        depth, lo = 0, 0
        for j in range(m.start() - 1, -1, -1):
            if s[j] == "}":
                depth += 1
            elif s[j] == "{":
                if depth == 0:
                    lo = j + 1
                    break
                depth -= 1
        depth, hi = 0, len(s)
        for j in range(m.end(), len(s)):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                if depth == 0:
                    hi = j
                    break
                depth -= 1
        cmd = "\\frac" if m.group(1) == "over" else "\\binom"
        s = s[:lo] + cmd + "{" + s[lo:m.start()] + "}{" + s[m.end():hi] + "}" + s[hi:]
    raise _ParseFailure("too many \\over")


_SUPERSCRIPT_RUN_RE = re.compile(r"[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _normalise(s):
    """LaTeX/Unicode -> plain text; raises _ParseFailure on broken input."""
    if "⁻" in s:   # 10⁻³ -> 10^(-3) (single superscripts are in _TRANSLATE)
        s = _SUPERSCRIPT_RUN_RE.sub(lambda m: "^(" + m.group(0).translate(_SUPERSCRIPT_DIGITS) + ")", s)
    s = s.translate(_TRANSLATE)
    s = s.replace("{,}", "").replace("\\!", "")
    if "\\begin" in s:
        s = _MATRIX_RE.sub(_matrix_text, s)
    if "\\over" in s or "\\choose" in s:
        s = _rewrite_over(s)
    if "frac" in s:
        s = _MIXED_RE.sub(r"(\1+\2/\3)", s)
    if "circ" in s:
        s = _DEGREE_RE.sub("", s)
    s = _latex_to_plain(s)
    s = s.translate(_TRANSLATE)
    if "ℝ" in s:
        s = s.replace("ℝ", "(-∞,∞)")
    if "out of" in s:
        s = _OUT_OF_RE.sub(r"(\1/\2)", s)
    if "squared" in s or "cubed" in s:   # 5 squared
        s = _POWER_WORD_RE.sub(lambda m: "^2" if m.group(1).lower() == "squared" else "^3", s)
    if "illion" in s or "thousand" in s or "hundred" in s or "dozen" in s:   # 2.5 million, 5 dozen
        s = _SCALE_RE.sub(lambda m: f"({m.group(1)}*{_SCALE_MUL[m.group(2).lower()]})", s)
    if "10" in s and ("x" in s or "X" in s):
        s = _TIMES_TEN_RE.sub(r"\1*", s)
    if "log_" in s:
        s = _LOG_BASE_RE.sub(r"log_(\1)", s)
    if "‾(" in s:
        s = _REPEAT_RE.sub(lambda m: _frac_text(_repeating_fraction(*m.groups())), s)
    if "(" in s and "." in s:
        s = _REPEAT_PAREN_RE.sub(lambda m: _frac_text(_repeating_fraction(*m.groups())), s)
    if "..." in s or "…" in s:
        s = _ELLIPSIS_RE.sub(lambda m: _frac_text(f) if (f := _ellipsis_fraction(m)) is not None else m.group(0), s)
    s = s.strip()
    while s and s[-1] in ".;" and not s.endswith("..."):
        s = s[:-1].rstrip()
    return s

# --------------------------------------------------------------------------- values


class Num:
    __slots__ = ("v", "pct", "approx")   # approx: written as a decimal, so compared within rel_tol

    def __init__(self, v, pct=False, approx=False):
        self.v, self.pct, self.approx = v, pct, approx

    def __repr__(self):
        return f"Num({self.v}{'%' if self.pct else ''})"


class Expr:
    __slots__ = ("tree", "vars", "src", "lhs")   # lhs: "v_y" when written "y = <expr>", so 3x + y = 6 can match

    def __init__(self, tree, vars_, src, lhs=None):
        self.tree, self.vars, self.src, self.lhs = tree, vars_, src, lhs

    def __repr__(self):
        return f"Expr({self.src})"


class Seq:
    __slots__ = ("kind", "items")   # kind: tuple (ordered), set (unordered), list (unordered bare list)

    def __init__(self, kind, items):
        self.kind, self.items = kind, items

    def __repr__(self):
        return f"Seq({self.kind}, {self.items})"


class Interval:
    __slots__ = ("lo_closed", "lo", "hi", "hi_closed")

    def __init__(self, lo_closed, lo, hi, hi_closed):
        self.lo_closed, self.lo, self.hi, self.hi_closed = lo_closed, lo, hi, hi_closed

    def __repr__(self):
        return f"Interval({'[' if self.lo_closed else '('}{self.lo}, {self.hi}{']' if self.hi_closed else ')'})"


class Union:
    __slots__ = ("parts",)

    def __init__(self, parts):
        self.parts = parts


class Equation:
    __slots__ = ("diff",)   # lhs - rhs as an Expr

    def __init__(self, diff):
        self.diff = diff


class Choice:
    __slots__ = ("letter",)

    def __init__(self, letter):
        self.letter = letter


class Ratio:
    __slots__ = ("parts",)   # a:b(:c...), Num parts; equal to any proportional ratio, and a:b to a/b

    def __init__(self, parts):
        self.parts = parts


class Based:
    __slots__ = ("digits", "base", "v")   # 1011_2: digits "1011", base 2, value 11

    def __init__(self, digits, base, v):
        self.digits, self.base, self.v = digits, base, v


class Text:
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

# --------------------------------------------------------------------------- expressions

_FUNCS = ("arcsin", "arccos", "arctan", "sqrt", "root", "sin", "cos", "tan", "cot", "sec", "csc",
          "log", "ln", "exp", "abs", "floor", "ceil", "binom", "cbrt", "fact")
_CONSTS = {"pi": "pi", "π": "pi", "inf": "inf", "infty": "inf", "infinity": "inf", "∞": "inf", "e": "E"}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][-+]?\d+(?![A-Za-z]))?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<id>[A-Za-zα-ωΑ-Ωπ∞]+)(?P<sub>_\d+|_\(\w+\))?"
    r"|(?P<op>\*\*|[-+*/^(),|!]))")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_TENS_WORDS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALE_WORDS = {"hundred": 100, "thousand": 1000, "million": 10 ** 6, "billion": 10 ** 9}
_ORDINAL_WORDS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4,
                  "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7,
                  "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10}


def _words_value(low):
    """'negative twenty-one', 'one hundred and five', 'three quarters', 'twelve apples' -> the number,
    or None when the words are not a number (followed by unit words at most)."""
    words = low.replace("-", " ").split()
    if len(words) > 12:
        return None
    sign = 1
    if words and words[0] in ("negative", "minus"):
        sign, words = -1, words[1:]
    total = cur = 0
    seen = False
    denom = None
    k = 0
    for k, w in enumerate(words):
        if w in _NUMBER_WORDS:
            cur += _NUMBER_WORDS[w]
        elif w in _TENS_WORDS:
            cur += _TENS_WORDS[w]
        elif w == "hundred" and seen:
            cur = (cur or 1) * 100
        elif w in _SCALE_WORDS and seen:
            total += (cur or 1) * _SCALE_WORDS[w]
            cur = 0
        elif w == "and" and seen and k > 0 and words[k - 1] in _SCALE_WORDS:
            continue
        elif w == "a" and not seen and k + 1 < len(words) and (
                words[k + 1] in _SCALE_WORDS or words[k + 1] in _ORDINAL_WORDS):
            cur, seen = 1, True
            continue
        elif w in _ORDINAL_WORDS and seen and denom is None:
            denom = _ORDINAL_WORDS[w]
            break
        else:
            k -= 1
            break
        seen = True
    else:
        k = len(words) - 1
    if not seen:
        return None
    rest = words[k + 1:]
    if any(w in _NUMBER_WORDS or w in _TENS_WORDS or w in ("and", "or") for w in rest):
        return None
    if rest and _strip_units("1 " + " ".join(rest)) is None:
        return None
    v = total + cur
    return sign * (Fraction(v, denom) if denom else v)


_UNITS = set("""
cm mm m km in inch inches ft feet foot yd yard yards mi mile miles meter meters metre metres
centimeter centimeters kilometer kilometers millimeter millimeters g kg mg gram grams kilogram
kilograms lb lbs pound pounds oz ounce ounces l ml liter liters litre litres gallon gallons s sec
secs second seconds min mins minute minutes h hr hrs hour hours day days week weeks month months
year years degree degrees deg rad radian radians dollar dollars usd cent cents euro euros eur
unit units sq square cubic per mph kmh kph percent students people apples cookies marbles books
cars points times items pieces boxes bags hours mins
""".split())
# words after a number that change its value or hedge it: never dropped as units ("5 squared", "5 or more")
_NOT_UNITS = frozenset("""factorial plus minus times over divided hundred hundreds thousand
thousands million millions billion billions trillion dozen dozens half halves third thirds quarter quarters
fourth fourths fifth fifths more less fewer greater smaller larger higher lower than least most only not
approximately about roughly nearly almost maybe perhaps possibly probably""".split())
_KNOWN_WORDS = set(_FUNCS) | {"pi", "inf", "infty", "infinity"}


def _split_ident(word):
    """'xy' -> ['x', 'y']; 'sqrt' -> ['sqrt']; 'sinx' -> ['sin', 'x']; 'pi' stays."""
    out, i = [], 0
    while i < len(word):
        for name in _FUNCS + ("infinity", "infty", "inf", "pi"):
            if word.startswith(name, i):
                out.append(name)
                i += len(name)
                break
        else:
            out.append(word[i])
            i += 1
    return out


def _to_python(s):
    """Tokenises a normalised scalar into a Python expression string with explicit operators.
    Returns (source, variables). Raises _ParseFailure."""
    pos, n = 0, len(s)
    toks = []   # (kind, text): kind in num, var, const, func, op; logb (text: the base)
    approx = False   # a decimal literal: comparisons use rel_tol
    has_logb = False
    while pos < n:
        m = _TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise _ParseFailure(f"unexpected {s[pos:pos + 10]!r}")
        pos = m.end()
        if m.group("num") is not None:
            t = m.group("num")
            if "." in t or "e" in t or "E" in t:
                f = Fraction(t)
                toks.append(("num", f"({f.numerator}/{f.denominator})"))
                approx = True
            else:
                toks.append(("num", str(int(t))))
        elif m.group("id") is not None:
            sub = m.group("sub")
            if sub and m.group("id") in ("log", "lg"):
                toks.append(("logb", sub.strip("_()")))
                has_logb = True
                continue
            parts = _split_ident(m.group("id"))
            if sum(len(p) == 1 for p in parts) >= 3 and m.group("id").isascii():
                raise _ParseFailure(f"{m.group('id')!r} looks like a word")
            for j, p in enumerate(parts):
                if p in _FUNCS:
                    toks.append(("func", p))
                elif p in _CONSTS:
                    toks.append(("const", _CONSTS[p]))
                else:
                    name = "v_" + (p if p.isascii() else f"u{ord(p)}")
                    if sub and j == len(parts) - 1:
                        name += "_" + re.sub(r"\W", "", sub)
                    toks.append(("var", name))
        else:
            op = m.group("op")
            toks.append(("op", "**" if op == "^" else op))
    if not toks:
        raise _ParseFailure("empty")
    if has_logb:
        toks = _move_log_bases(toks)
    out, vars_ = [], set()
    bars = 0   # open |...| pairs
    prev = None
    i = 0
    pending_close = 0
    while i < len(toks):
        kind, t = toks[i]
        atom_start = kind in ("num", "var", "const", "func") or t == "("
        if prev is not None and atom_start and (prev[0] in ("num", "var", "const") or prev[1] == ")"):
            if prev[0] == "num" and kind == "num":
                raise _ParseFailure("two numbers in a row")
            out.append("*")
        if kind == "var":
            vars_.add(t)
        if t == "|":
            if bars and prev is not None and (prev[0] in ("num", "var", "const") or prev[1] == ")"):
                out.append(")")   # closes |...|
                bars -= 1
                prev = ("op", ")")
            else:
                if prev is not None and (prev[0] in ("num", "var", "const") or prev[1] == ")"):
                    out.append("*")
                out.append("abs(")
                bars += 1
                prev = ("op", "(")
            i += 1
            continue
        if t == "!":
            if prev is None or not (prev[0] in ("num", "var", "const") or prev[1] == ")"):
                raise _ParseFailure("factorial without an operand")
            _wrap_last_atom(out, "fact")
            prev = ("op", ")")
            i += 1
            continue
        if kind == "func":
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is None:
                raise _ParseFailure("function without argument")
            if nxt[1] != "(":
                # sqrt 2, sin x: the next atom (with an optional power) is the argument
                out.append(t + "(")
                pending_close += 1
                prev = ("op", "(")
                i += 1
                continue
        out.append(t)
        prev = (kind, t)
        if pending_close and kind in ("num", "var", "const") and not (
                i + 1 < len(toks) and toks[i + 1][1] == "**"):
            out.append(")" * pending_close)
            pending_close = 0
            prev = ("op", ")")
        i += 1
    if pending_close:
        out.append(")" * pending_close)
    if bars:
        raise _ParseFailure("unclosed |")
    return "".join(out), vars_, approx


def _atom_end(toks, i):
    """Index after the operand starting at toks[i]: a (...) group, or an atom with an optional ** power."""
    if i >= len(toks):
        raise _ParseFailure("missing operand")
    if toks[i][1] == "(":
        depth = 0
        for j in range(i, len(toks)):
            depth += toks[j][1] == "("
            depth -= toks[j][1] == ")"
            if depth == 0:
                return j + 1
        raise _ParseFailure("unbalanced (")
    j = i + 1
    if toks[i][0] == "func":
        return _atom_end(toks, j)
    if j < len(toks) and toks[j][1] == "**":
        return _atom_end(toks, j + 1)
    return j


def _move_log_bases(toks):
    """[logb 2, 8] -> log(8, 2): the base of log_b moves to the second argument."""
    out, i = [], 0
    while i < len(toks):
        kind, t = toks[i]
        if kind != "logb":
            out.append(toks[i])
            i += 1
            continue
        j = _atom_end(toks, i + 1)
        arg = toks[i + 1:j]
        if arg and arg[0][1] == "(" and arg[-1][1] == ")":
            arg = arg[1:-1]
        base = ("num", str(int(t))) if t.isdigit() else ("var", "v_" + t if t.isascii() else f"v_u{ord(t)}")
        out += [("func", "log"), ("op", "(")] + _move_log_bases(arg) + [("op", ","), base, ("op", ")")]
        i = j
    return out


def _wrap_last_atom(out, fn):
    """Wraps the last operand written to out (a number, a name, or a (...) group with its function) in fn(...)."""
    k = len(out) - 1
    if out[k].endswith(")"):
        depth = 0
        while k >= 0:
            depth += out[k].count(")") - out[k].count("(")
            if depth <= 0:
                break
            k -= 1
        if k < 0:
            raise _ParseFailure("unbalanced )")
        if k > 0 and out[k] == "(" and out[k - 1] in _FUNCS:
            k -= 1
    out[k:] = [fn + "("] + out[k:] + [")"]


_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _check_tree(node, depth=0):
    if depth > 60:
        raise _ParseFailure("expression too deep")
    if isinstance(node, ast.Expression):
        return _check_tree(node.body, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ALLOWED_BINOPS):
        _check_tree(node.left, depth + 1)
        _check_tree(node.right, depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check_tree(node.operand, depth + 1)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        pass
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS \
            and not node.keywords and 1 <= len(node.args) <= 2:
        for a in node.args:
            _check_tree(a, depth + 1)
    else:
        raise _ParseFailure(f"unsupported syntax {type(node).__name__}")


class _EvalError(Exception):
    pass


def _is_exact(x):
    return type(x) is Fraction or type(x) is int


def _sqrt(x):
    if _is_exact(x) and x >= 0:
        x = Fraction(x)
        rn, rd = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if rn * rn == x.numerator and rd * rd == x.denominator:
            return Fraction(rn, rd)
    x = float(x)
    if x < 0:
        raise _EvalError("sqrt of a negative number")
    return math.sqrt(x)


def _root(x, k):
    if not (_is_exact(k) and Fraction(k).denominator == 1 and 1 <= k <= 64):
        raise _EvalError("bad root index")
    k = int(k)
    if _is_exact(x):
        x = Fraction(x)
        sign = -1 if x < 0 else 1
        if sign < 0 and k % 2 == 0:
            raise _EvalError("even root of a negative number")
        for part in (abs(x.numerator), x.denominator):
            r = round(part ** (1.0 / k))
            if r ** k != part:
                break
        else:
            return sign * Fraction(round(abs(x.numerator) ** (1.0 / k)), round(x.denominator ** (1.0 / k)))
    x = float(x)
    if x < 0:
        if k % 2 == 0:
            raise _EvalError("even root of a negative number")
        return -((-x) ** (1.0 / k))
    return x ** (1.0 / k)


def _log(x, base=None):
    x = float(x)
    if x <= 0:
        raise _EvalError("log of a non-positive number")
    if base is None:
        return math.log(x)
    b = float(base)
    if b <= 0 or b == 1:
        raise _EvalError("bad log base")
    return math.log(x) / math.log(b)


def _small_int(x, limit):
    if not (_is_exact(x) and Fraction(x).denominator == 1 and 0 <= x <= limit):
        raise _EvalError("not a small non-negative integer")
    return int(x)


def _binom(n, k):
    n, k = _small_int(n, 10_000), _small_int(k, 10_000)
    return math.comb(n, k)


def _fact(n):
    return math.factorial(_small_int(n, 1_000))


def _float_fn(f):
    def g(x):
        return f(float(x))
    return g


_FN_IMPL = {
    "sqrt": _sqrt, "root": _root, "log": _log, "ln": _float_fn(math.log), "exp": _float_fn(math.exp),
    "sin": _float_fn(math.sin), "cos": _float_fn(math.cos), "tan": _float_fn(math.tan),
    "cot": _float_fn(lambda v: 1 / math.tan(v)), "sec": _float_fn(lambda v: 1 / math.cos(v)),
    "csc": _float_fn(lambda v: 1 / math.sin(v)), "arcsin": _float_fn(math.asin),
    "arccos": _float_fn(math.acos), "arctan": _float_fn(math.atan), "abs": abs,
    "floor": lambda x: math.floor(x), "ceil": lambda x: math.ceil(x),
    "cbrt": lambda x: _root(x, 3), "binom": lambda n, k: _binom(n, k), "fact": lambda n: _fact(n),
}
_CONST_VAL = {"pi": math.pi, "E": math.e, "inf": math.inf}


def _pow(a, b):
    if _is_exact(b) and Fraction(b).denominator == 1:
        e = int(b)
        if abs(e) <= MAX_EXPONENT:
            if _is_exact(a):
                a = Fraction(a)
                bits = max(a.numerator.bit_length(), a.denominator.bit_length())
                if bits * abs(e) <= MAX_EXACT_POW_BITS:
                    if a == 0 and e < 0:
                        raise _EvalError("division by zero")
                    return a ** e
            return float(a) ** e
        # huge exponents: only trivial bases have a finite, meaningful value
        fa = float(a)
        if fa in (0.0, 1.0):
            return fa
        if fa == -1.0:
            return 1.0 if e % 2 == 0 else -1.0
        raise _EvalError("exponent too large")
    fa, fb = float(a), float(b)
    if abs(fb) > MAX_EXPONENT and abs(fa) != 1.0:
        raise _EvalError("exponent too large")
    if fa < 0:
        raise _EvalError("fractional power of a negative number")
    return fa ** fb


def _ev(node, env):
    t = type(node)
    if t is ast.BinOp:
        a = _ev(node.left, env)
        b = _ev(node.right, env)
        op = type(node.op)
        if op is ast.Add:
            return a + b
        if op is ast.Sub:
            return a - b
        if op is ast.Mult:
            return a * b
        if op is ast.Div:
            if b == 0:
                raise _EvalError("division by zero")
            if _is_exact(a) and _is_exact(b):
                return Fraction(a) / Fraction(b)
            return a / b
        return _pow(a, b)
    if t is ast.Constant:
        return node.value
    if t is ast.Name:
        v = env.get(node.id) if node.id.startswith("v_") else _CONST_VAL.get(node.id)
        if v is None:
            raise _EvalError(f"unbound {node.id}")
        return v
    if t is ast.UnaryOp:
        v = _ev(node.operand, env)
        return -v if type(node.op) is ast.USub else v
    if t is ast.Call:
        return _FN_IMPL[node.func.id](*[_ev(a, env) for a in node.args])
    raise _EvalError("bad node")


def _evaluate(tree, env):
    """Evaluates; returns a finite number or None."""
    try:
        v = _ev(tree, env)
    except (_EvalError, ArithmeticError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    if type(v) is float and not math.isfinite(v) and not math.isinf(v):
        return None
    return v


def _parse_expr(s):
    """Plain scalar text -> Num (constant) or Expr (with variables). Raises _ParseFailure."""
    src, vars_, approx = _to_python(s)
    try:
        tree = ast.parse(src, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _ParseFailure(f"cannot parse {s!r}")
    _check_tree(tree)
    tree = tree.body
    if not vars_:
        v = _evaluate(tree, {})
        if v is None:
            raise _ParseFailure(f"{s!r} has no finite value")
        return Num(v, approx=approx)
    return Expr(tree, frozenset(vars_), src)

# --------------------------------------------------------------------------- parsing answers

_NUM_FAST_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_CHOICE_RE = re.compile(
    r"^\s*(?:(?:option|choice|answer)\s*)?[(\[]?\s*([A-Ja-j])\s*[)\]]?(?:\s*[.:)]|\s|$)", re.I)
_LHS_VAR_RE = re.compile(r"^\s*([A-Za-zα-ω](?:_\w+|_\(\w+\))?'*)\s*(=|∈)\s*(.+)$", re.S)
# f(x) = ..., f^{-1}(x) = ..., g'(t) = ...: the right-hand side is the answer
_LHS_FUNC_RE = re.compile(
    r"^\s*[A-Za-z](?:\^\s*[{(]?\s*-\s*1\s*[})]?|'+)?\s*\(\s*(?:[A-Za-zα-ω]|-?\d+(?:\.\d+)?)\s*\)\s*=\s*(.+)$", re.S)
# "the number 12", "exactly 5", "approximately 3.14": words in front of the answer
_FILLER_RE = re.compile(
    r"^(?:(?:the\s+)?(?:number|value|integer|answer|result|total|final\s+answer)\s+(?:is\s+)?|is\s+|"
    r"equals?\s+|equal\s+to\s+|exactly\s+|approximately\s+|about\s+|around\s+|roughly\s+|just\s+)+", re.I)
_NEG_WORD_RE = re.compile(r"^(?:negative|minus)\s+(?=[\d.(√])", re.I)
_WORDS_ONLY_RE = re.compile(r"^[A-Za-z][A-Za-z \-]{2,80}$")
_ALL_REALS_RE = re.compile(r"^(?:all|any|every)\s+real(?:\s+numbers?|s)?(?:\s+x)?$", re.I)
_AND_OR_RE = re.compile(r"\s+(?:and|or)\s+|\s*,\s*(?:and|or)\s+", re.I)
_BASE_RE = re.compile(r"^\(?([0-9A-Za-z]+)\)?_\s*[{(]?\s*\(?(\d{1,2})\)?\s*[})]?$")
_RATIO_RE = re.compile(r"^[^:]+(?::[^:]+)+$")
_INEQ_RE = re.compile(r"^\s*(.+?)\s*(<=|>=|<|>)\s*(.+?)\s*(?:(<=|>=|<|>)\s*(.+?))?\s*$")
_UNIT_WORD = r"[A-Za-z]+\.?(?:\s*\^\s*\(?-?\d+\)?)?"
_UNIT_TAIL_RE = re.compile(
    r"^(.*?[\d)π])\s*(" + _UNIT_WORD + r"(?:(?:\s*[/*]\s*|\s+)" + _UNIT_WORD + r")*)\s*$")
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z '\-]*$")


def _split_top(s, sep=","):
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([⦃⟪":
            depth += 1
        elif c in ")]⦄⟫":
            depth -= 1
            if depth < 0:
                raise _ParseFailure("unbalanced brackets")
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if depth != 0:
        raise _ParseFailure("unbalanced brackets")
    parts.append("".join(cur))
    return parts


def _enclosed(s):
    """True when s[0] and s[-1] are a matching outer pair."""
    depth = 0
    for i, c in enumerate(s):
        if c in "([⦃⟪":
            depth += 1
        elif c in ")]⦄⟫":
            depth -= 1
            if depth == 0 and i != len(s) - 1:
                return False
    return depth == 0


def _strip_units(s):
    """'12 cm^2' -> '12', 'five apples' stays for the word path; returns None when nothing to strip."""
    m = _UNIT_TAIL_RE.match(s)
    if not m:
        return None
    head, tail = m.group(1), m.group(2)
    words = re.findall(r"[A-Za-z]+", tail)
    if not words:
        return None
    for w in words:
        lw = w.lower()
        if lw not in _UNITS and (len(w) < 3 or lw in _KNOWN_WORDS or lw in _CONSTS or lw in _NOT_UNITS):
            return None
    return head


def _parse_scalar(s):
    s = s.strip()
    if not s:
        raise _ParseFailure("empty")
    if _NUM_FAST_RE.fullmatch(s):
        dec = "." in s or "e" in s or "E" in s
        return Num(Fraction(s) if dec else int(s), approx=dec)
    pct = False
    if s.endswith("%"):
        s, pct = s[:-1].strip(), True
    low = s.lower()
    if low.endswith(" percent"):
        s, pct, low = s[:-8].strip(), True, low[:-8].strip()
    if low in _NUMBER_WORDS:
        return Num(_NUMBER_WORDS[low], pct)
    if low[:1].isalpha() and _WORDS_ONLY_RE.match(low):
        v = _words_value(low)
        if v is not None:
            return Num(v, pct)
    # thin-space/space thousands: 1 000 000
    if " " in s:
        s = _SPACE_THOUSANDS_RE.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), s)
    head = _strip_units(s) if re.search(r"[A-Za-z]", s) else None
    if head is not None:
        try:
            v = _parse_expr(head)
            if isinstance(v, Num):
                v.pct = pct
                return v
        except _ParseFailure:
            pass
    v = _parse_expr(s)
    if pct:
        if not isinstance(v, Num):
            raise _ParseFailure("percent of an expression")
        v.pct = True
    return v


def _parse_endpoint(s):
    v = _parse_scalar(s)
    if isinstance(v, Num) and v.pct:
        raise _ParseFailure("percent endpoint")
    return v


def _parse_value(s, depth=0):
    """Normalised text -> value. Raises _ParseFailure."""
    if depth > 8:
        raise _ParseFailure("nesting too deep")
    s = s.strip()
    if not s:
        raise _ParseFailure("empty")
    if s[0].isalpha():
        s = _FILLER_RE.sub("", s).strip() or s
        s = _NEG_WORD_RE.sub("-", s)   # negative 5
        if _ALL_REALS_RE.match(s):
            return Interval(False, Num(-math.inf), Num(math.inf), False)
    if s in ("∅", "⦃⦄"):
        return Seq("set", [])
    if s[0] == "⟪" and s[-1] == "⟫" and _enclosed(s):
        return _parse_matrix(s[1:-1], depth)
    if s[:2] in ("(⟪", "[⟪") and s[-2:] in ("⟫)", "⟫]") and _enclosed(s):   # \left( \begin{array} ... \right)
        return _parse_value(s[1:-1], depth + 1)
    if "_" in s:
        m = _BASE_RE.match(s)
        if m:
            return _parse_based(m.group(1), int(m.group(2)))
    m = _LHS_FUNC_RE.match(s) if "=" in s else None
    if m:
        return _parse_value(m.group(1), depth + 1)
    if s[0].isalpha() and _WORDS_ONLY_RE.match(s):
        v = _words_value(s.lower())   # one hundred and five
        if v is not None:
            return Num(v)
    if " and " in s or " or " in s or " AND " in s or " OR " in s:
        items = _split_and_or(s)
        if len(items) > 1:
            vals = [_parse_value(x, depth + 1) for x in items]
            if all(isinstance(v, Interval) for v in vals):
                if len(vals) == 2 and not re.search(r"\s(?:or|OR)\s", s):
                    return _intersect(*vals)   # x >= 2 and x <= 5 is [2, 5]
                return Union(vals)
            return Seq("list", vals)
    m = _LHS_VAR_RE.match(s)
    if m and "=" not in m.group(3) and m.group(1) not in _CONSTS:
        v = _parse_value(m.group(3), depth + 1)
        name = "v_" + m.group(1)
        if type(v) is Expr and m.group(2) == "=" and name.isidentifier() and name not in v.vars:
            v = Expr(v.tree, v.vars, v.src, lhs=name)
        return v
    if "±" in s:
        if s.count("±") != 1 or "," in s:
            raise _ParseFailure("only one ± is supported")
        # 1 ± √2 is the pair {1 + √2, 1 - √2}
        return Seq("list", [_parse_value(s.replace("±", "+"), depth + 1), _parse_value(s.replace("±", "-"), depth + 1)])
    if "∪" in s:
        parts = [p.strip() for p in s.split("∪")]
        vals = [_parse_value(p, depth + 1) for p in parts]
        if not all(isinstance(v, (Interval, Seq)) for v in vals):
            raise _ParseFailure("union of non-intervals")
        return Union(vals)
    if s.count("=") > 1 and "," not in s and not any(x in s for x in ("<=", ">=", "!=")):
        # 2 \times 4 = 8, x = 3 + 5 = 8: a chain of equal numbers states its last one
        parts = s.split("=")
        if re.fullmatch(r"\s*[A-Za-zα-ω]\s*", parts[0]):
            parts = parts[1:]
        vals = [_parse_scalar(x) for x in parts]
        if not all(isinstance(v, Num) for v in vals):
            raise _ParseFailure("chain of equations")
        return vals[-1]
    if ":" in s and _RATIO_RE.match(s):
        vals = [_parse_scalar(x) for x in s.split(":")]
        if len(vals) > MAX_ITEMS or not all(isinstance(v, Num) and not v.pct for v in vals):
            raise _ParseFailure("ratio of non-numbers")
        return Ratio(vals)
    if s.count("=") == 1 and not any(x in s for x in ("<=", ">=", "!=")):
        lhs, rhs = s.split("=")
        a, b = _parse_scalar(lhs), _parse_scalar(rhs)
        if isinstance(a, Num) and isinstance(b, Num):
            return b   # 3 + 5 = 8 states 8
        if isinstance(a, Expr) or isinstance(b, Expr):
            return Equation(_diff(a, b))
        raise _ParseFailure("equation without variables")
    if any(op in s for op in ("<", ">")):
        if len(s) > 120:
            raise _ParseFailure("inequality too long")
        return _parse_inequality(s)
    if "," in s and not _THOUSANDS_ONLY(s):
        enclosed = s[0] in "([⦃" and s[-1] in ")]⦄" and _enclosed(s)
        if enclosed:
            inner = s[1:-1]
            items = _split_top(inner)
            if len(items) > MAX_ITEMS:
                raise _ParseFailure("too many items")
            if s[0] == "⦃":
                return Seq("set", [_parse_value(x, depth + 1) for x in items])
            if len(items) == 2 and (s[0] == "[" or s[-1] == "]" or _is_inf(items[0]) or _is_inf(items[1])) \
                    and not any("," in x and x.strip()[:1] in ("[", "(", "⟪") for x in items):
                return Interval(s[0] == "[", _parse_endpoint(items[0]), _parse_endpoint(items[1]), s[-1] == "]")
            return Seq("tuple" if s[0] == "(" else "list", [_parse_value(x, depth + 1) for x in items])
        items = _split_top(s)
        if len(items) > MAX_ITEMS:
            raise _ParseFailure("too many items")
        if len(items) > 1:
            return Seq("list" if CONFIG["unordered_lists"] else "tuple",
                       [_parse_value(x, depth + 1) for x in items])
    if s[0] == "⦃" and s[-1] == "⦄" and _enclosed(s):
        return Seq("set", [_parse_value(s[1:-1], depth + 1)])
    if "," in s and _THOUSANDS_ONLY(s):
        s = s.replace(",", "")
    if s[0] == "[" and s[-1] == "]" and _enclosed(s):
        s = s[1:-1]
    s = s.replace("⦃", "(").replace("⦄", ")").replace("{", "(").replace("}", ")")
    return _parse_scalar(s)


def _intersect(a, b):
    """The intersection of two intervals with numeric endpoints."""
    if not all(type(e) is Num for e in (a.lo, a.hi, b.lo, b.hi)):
        raise _ParseFailure("intersection of symbolic intervals")
    lo_v, hi_v = max(a.lo.v, b.lo.v), min(a.hi.v, b.hi.v)
    lo_closed = (a.lo_closed or a.lo.v != lo_v) and (b.lo_closed or b.lo.v != lo_v)
    hi_closed = (a.hi_closed or a.hi.v != hi_v) and (b.hi_closed or b.hi.v != hi_v)
    if lo_v > hi_v or (lo_v == hi_v and not (lo_closed and hi_closed)):
        return Seq("set", [])
    return Interval(lo_closed, Num(lo_v), Num(hi_v), hi_closed)


def _split_and_or(s):
    """'x = 2 or x = -2' -> ['x = 2', 'x = -2'], outside brackets only."""
    items, last = [], 0
    for m in _AND_OR_RE.finditer(s):
        head = s[last:m.start()]
        if sum(head.count(c) for c in "([⦃⟪") != sum(head.count(c) for c in ")]⦄⟫"):
            continue
        items.append(head)
        last = m.end()
    items.append(s[last:])
    if len(items) > 1 and "," in s:
        items = [x for item in items for x in _split_top(item)]
    if len(items) > MAX_ITEMS:
        raise _ParseFailure("too many items")
    return [x.strip() for x in items if x.strip()]


def _parse_matrix(body, depth):
    """⟪1,2;3,4⟫ -> a tuple of row tuples; a single row or column is a flat tuple."""
    rows = [_split_top(r) for r in _split_top(body, ";")]
    if sum(len(r) for r in rows) > MAX_ITEMS or len({len(r) for r in rows}) != 1:
        raise _ParseFailure("ragged or too large matrix")
    cells = [[_parse_value(c, depth + 1) for c in r] for r in rows]
    if len(cells) == 1 or len(cells[0]) == 1:
        return Seq("tuple", [c for r in cells for c in r])
    return Seq("tuple", [Seq("tuple", r) for r in cells])


def _parse_based(digits, base):
    if not 2 <= base <= 36:
        raise _ParseFailure(f"base {base}")
    digits = digits.upper().lstrip("0") or "0"
    try:
        v = int(digits, base)
    except ValueError:
        raise _ParseFailure(f"{digits!r} is not a base-{base} numeral") from None
    return Based(digits, base, v)


def _THOUSANDS_ONLY(s):
    """True when every comma in s belongs to a thousands separator (1,000 or 1,234,567)."""
    core = s
    if not (s[0] in "([⦃"):
        core = _THOUSANDS_RE.sub("", s)
    else:
        core = _THOUSANDS_MULTI_RE.sub("", s)
    return "," not in core


def _is_inf(s):
    return s.strip().lstrip("+-").strip() in ("∞", "inf", "infty", "infinity")


def _diff(a, b):
    src = f"({_src(a)})-({_src(b)})"
    tree = ast.parse(src, mode="eval").body
    vars_ = (a.vars if isinstance(a, Expr) else frozenset()) | (b.vars if isinstance(b, Expr) else frozenset())
    return Expr(tree, vars_, src)


def _src(v):
    if isinstance(v, Expr):
        return v.src
    x = v.v
    if _is_exact(x):
        x = Fraction(x)
        return f"({x.numerator}/{x.denominator})"
    raise _ParseFailure("irrational constant in an equation")   # keeps _diff exact and simple


def _parse_inequality(s):
    m = _INEQ_RE.match(s)
    if not m:
        raise _ParseFailure("bad inequality")
    a, op1, b, op2, c = m.groups()
    if op2 is None:
        if re.fullmatch(r"[A-Za-zα-ω]", a.strip()):
            val = _parse_endpoint(b)
            if op1 in ("<", "<="):
                return Interval(False, Num(-math.inf), val, op1 == "<=")
            return Interval(op1 == ">=", val, Num(math.inf), False)
        if re.fullmatch(r"[A-Za-zα-ω]", b.strip()):
            val = _parse_endpoint(a)
            flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op1]
            return _parse_inequality(f"{b} {flip} {a}")
        raise _ParseFailure("inequality without a lone variable")
    if not re.fullmatch(r"[A-Za-zα-ω]", b.strip()) or op1[0] != op2[0]:
        raise _ParseFailure("unsupported chained inequality")
    lo, hi = _parse_endpoint(a), _parse_endpoint(c)
    if op1[0] == ">":
        lo, hi = hi, lo
        op1, op2 = op2.replace(">", "<"), op1.replace(">", "<")
    return Interval(op1 == "<=", lo, hi, op2 == "<=")


_OTHER_LETTER_RE = re.compile(r"(?<![A-Za-z])[A-J](?![A-Za-z])")


def _parse_choice(s):
    s = s.replace("⦃", "").replace("⦄", "")
    m = _CHOICE_RE.match(s)
    if not m or _OTHER_LETTER_RE.search(s, m.end()):
        return None   # no letter, or several ("B and C"): never a match
    rest = s[m.end(1):]
    if re.match(r"\s*[=<>+\-*/^]", rest):
        return None   # a = 5 is an equation, not option A
    if m.group(1).islower() and "(" not in s[:m.start(1)] and re.match(r"\s+[A-Za-z]", rest):
        return None   # "a half": the article, not option A
    return Choice(m.group(1).upper())


@functools.lru_cache(maxsize=4096)
def _parse_reference(text):
    """Reference answer text -> value. Raises ReferenceParseError."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ReferenceParseError(f"reference answer longer than {MAX_ANSWER_CHARS} characters")
    try:
        s = _normalise(text)
        if re.fullmatch(r"\(?[A-J]\)?", s):
            return Choice(s.strip("()"))
        if s.lower() in ("yes", "no", "true", "false"):
            return Text(s.lower())
        if not s:
            raise _ParseFailure("empty")
        try:
            return _parse_value(s)
        except _ParseFailure:
            low = " ".join(s.lower().split())
            if _WORD_RE.match(low) and (len(low) >= 3 or low in ("no",)):
                return Text(low)
            raise
    except _ParseFailure as e:
        raise ReferenceParseError(f"cannot parse reference answer {text!r}: {e}") from None
    except RecursionError:
        raise ReferenceParseError(f"reference answer {text!r} is nested too deeply") from None


def _parse_candidate(text, ref):
    """Candidate answer text -> value, or None when it cannot be parsed."""
    if len(text) > MAX_ANSWER_CHARS:
        return None
    try:
        if "≈" in text or "approx" in text:   # 1/3 ≈ 0.333 states 1/3; x ≈ 3.14 states 3.14
            left, _, right = _APPROX_RE.split(text, 1)[0], None, _APPROX_RE.split(text, 1)[-1]
            text = left if re.search(r"\d", left) else right
        s = _normalise(text)
        if isinstance(ref, Choice):
            return _parse_choice(s)
        if isinstance(ref, Ratio) and " to " in s:   # 3 to 2
            s = re.sub(r"\s+to\s+", ":", s)
        if isinstance(ref, Text):
            return Text(" ".join(s.lower().split()).strip(" ."))
        return _parse_value(s)
    except (_ParseFailure, RecursionError, ValueError, ZeroDivisionError, OverflowError):
        return None

# --------------------------------------------------------------------------- comparison

# Evaluation points alternate between (0.3, 2.7) and (-2.7, -0.3), so sqrt(x^2) is told apart
# from x; points where an expression is undefined are skipped, and further points in (2.5, 40)
# and (-20, -2.5) serve expressions undefined near zero (sqrt(x - 5), log(-x)).
_POS = [[random.Random(1000 + 97 * k + j).uniform(0.3, 2.7) for j in range(16)] for k in range(10)]
_NEG = [[random.Random(3000 + 97 * k + j).uniform(-2.7, -0.3) for j in range(16)] for k in range(10)]
_POINTS = ([p for pair in zip(_POS, _NEG) for p in pair] +
           [[random.Random(5000 + 97 * k + j).uniform(2.5, 40.0) for j in range(16)] for k in range(8)] +
           [[random.Random(9000 + 97 * k + j).uniform(-20.0, -2.5) for j in range(16)] for k in range(8)])


def _num_equal(a, b, rel_tol, abs_tol, approx=False):
    """Exact when both are exact and neither was written as a decimal (approx); else within tolerance."""
    if not approx and _is_exact(a) and _is_exact(b):
        return a == b
    try:
        fa, fb = float(a), float(b)
    except OverflowError:
        return False
    if math.isinf(fa) or math.isinf(fb):
        return fa == fb
    return abs(fa - fb) <= max(rel_tol * max(abs(fa), abs(fb)), abs_tol)


def _exprs_equal(ta, tb, vars_, cfg, proportional=False):
    names = sorted(vars_)
    valid = 0
    ratio = None
    wanted = max(3, min(int(cfg["random_points"]), 12))
    for k in range(len(_POINTS)):
        if valid >= wanted:
            break
        env = {name: _POINTS[k][j % 16] for j, name in enumerate(names)}
        a, b = _evaluate(ta, env), _evaluate(tb, env)
        if a is None or b is None:
            continue
        if proportional:
            if _num_equal(b, 0, 0, 1e-12):
                if not _num_equal(a, 0, 0, 1e-12):
                    return False
                continue
            r = float(a) / float(b)
            if ratio is None:
                if r == 0:
                    return False
                ratio = r
            elif not _num_equal(r, ratio, cfg["rel_tol"], cfg["abs_tol"]):
                return False
        elif not _num_equal(a, b, cfg["rel_tol"], cfg["abs_tol"]):
            return False
        valid += 1
    return valid >= 3


def _equal(ref, cand, cfg):
    if cand is None:
        return False
    tr, tc = type(ref), type(cand)
    if tr is Num:
        if tc is Seq and len(cand.items) == 1:
            return _equal(ref, cand.items[0], cfg)
        if tc is Based:   # 11 and 1011_2 are the same number
            return _num_equal(ref.v, cand.v, cfg["rel_tol"], cfg["abs_tol"], ref.approx)
        if tc is Ratio and len(cand.parts) == 2:
            return _ratio_value_equal(cand, ref, cfg)
        if tc is not Num:
            return False
        approx = ref.approx or cand.approx
        if ref.pct == cand.pct or not cfg["percent_equivalence"]:
            return _num_equal(ref.v, cand.v, cfg["rel_tol"], cfg["abs_tol"], approx)
        # 50% matches 50 and 0.5 (either side may carry the percent sign)
        p, q = (ref, cand) if ref.pct else (cand, ref)
        return (_num_equal(p.v, q.v, cfg["rel_tol"], cfg["abs_tol"], approx) or
                _num_equal(Fraction(p.v) / 100 if _is_exact(p.v) else p.v / 100, q.v, cfg["rel_tol"], cfg["abs_tol"],
                           approx))
    if tr is Expr and tc is Equation and ref.lhs:
        return _equal(_as_equation(ref), cand, cfg)
    if tr is Equation and tc is Expr and cand.lhs:
        return _equal(ref, _as_equation(cand), cfg)
    if tr is Expr:
        if tc is not Expr or ref.vars != cand.vars:
            return False
        if ref.src == cand.src or _exprs_equal(ref.tree, cand.tree, ref.vars, cfg):
            return True
        return _sympy_equal(ref.src, cand.src, cfg)
    if tr is Seq:
        if tc is not Seq or len(ref.items) != len(cand.items):
            if tc is Seq or len(ref.items) != 1:
                return False
            return _equal(ref.items[0], cand, cfg)
        ordered = ref.kind == "tuple" or cand.kind == "tuple"
        if ordered and ref.kind != cand.kind and "set" in (ref.kind, cand.kind):
            return False
        if ordered:
            return all(_equal(a, b, cfg) for a, b in zip(ref.items, cand.items))
        return _match_unordered(ref.items, cand.items, cfg)
    if tr is Interval:
        return (tc is Interval and ref.lo_closed == cand.lo_closed and ref.hi_closed == cand.hi_closed
                and _equal(ref.lo, cand.lo, cfg) and _equal(ref.hi, cand.hi, cfg))
    if tr is Union:
        return tc is Union and len(ref.parts) == len(cand.parts) and _match_unordered(ref.parts, cand.parts, cfg)
    if tr is Equation:
        if tc is not Equation or ref.diff.vars != cand.diff.vars:
            return False
        return _exprs_equal(ref.diff.tree, cand.diff.tree, ref.diff.vars, cfg, proportional=True)
    if tr is Ratio:
        if tc is Num:
            return len(ref.parts) == 2 and _ratio_value_equal(ref, cand, cfg)
        if tc is not Ratio or len(cand.parts) != len(ref.parts):
            return False
        # proportional: a:b:c equals ka:kb:kc
        a0, c0 = ref.parts[0].v, cand.parts[0].v
        approx = any(p.approx for p in ref.parts + cand.parts)
        return all(_num_equal(a.v * c0, c.v * a0, cfg["rel_tol"], cfg["abs_tol"], approx)
                   for a, c in zip(ref.parts, cand.parts)) and c0 != 0
    if tr is Based:
        if tc is Based:
            return cand.base == ref.base and cand.v == ref.v
        # 1011 for 1011_2: the digits as written; a decimal value only when the base is 10
        return (tc is Num and not cand.pct and type(cand.v) is int and cand.v >= 0 and
                (str(cand.v) == ref.digits or (ref.base == 10 and cand.v == ref.v)))
    if tr is Choice:
        return tc is Choice and ref.letter == cand.letter
    if tr is Text:
        return tc is Text and ref.s == cand.s
    return False


def _as_equation(e):
    """y = 2x + 1 (an Expr with lhs) as the equation y - (2x + 1) = 0."""
    src = f"{e.lhs}-({e.src})"
    return Equation(Expr(ast.parse(src, mode="eval").body, e.vars | {e.lhs}, src))


def _ratio_value_equal(ratio, num, cfg):
    a, b = ratio.parts[0].v, ratio.parts[1].v
    if b == 0:
        return False
    q = Fraction(a) / Fraction(b) if _is_exact(a) and _is_exact(b) else float(a) / float(b)
    approx = num.approx or ratio.parts[0].approx or ratio.parts[1].approx
    return not num.pct and _num_equal(q, num.v, cfg["rel_tol"], cfg["abs_tol"], approx)


def _match_unordered(ref_items, cand_items, cfg):
    if len(ref_items) != len(cand_items):
        return False
    used = [False] * len(cand_items)
    for r in ref_items:
        for j, c in enumerate(cand_items):
            if not used[j] and _equal(r, c, cfg):
                used[j] = True
                break
        else:
            return False
    return True

# --------------------------------------------------------------------------- optional sympy check

_sympy_lock = threading.Lock()
_sympy_state = {"module": None, "tried": False}
_sympy_slots = threading.BoundedSemaphore(2)   # at most 2 runaway sympy threads at a time


def _sympy():
    with _sympy_lock:
        if not _sympy_state["tried"]:
            _sympy_state["tried"] = True
            try:
                import sympy  # noqa: F401  (optional dependency)
                _sympy_state["module"] = sympy
            except ImportError:
                pass
        return _sympy_state["module"]


def _to_sympy(sp, node):
    t = type(node)
    if t is ast.BinOp:
        a, b = _to_sympy(sp, node.left), _to_sympy(sp, node.right)
        op = type(node.op)
        return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                ast.Div: lambda: a / b, ast.Pow: lambda: a ** b}[op]()
    if t is ast.UnaryOp:
        v = _to_sympy(sp, node.operand)
        return -v if type(node.op) is ast.USub else v
    if t is ast.Constant:
        return sp.Integer(node.value)
    if t is ast.Name:
        return {"pi": sp.pi, "E": sp.E, "inf": sp.oo}.get(node.id) or sp.Symbol(node.id)
    if t is ast.Call:
        fn = {"sqrt": sp.sqrt, "root": lambda x, k: sp.root(x, k), "log": sp.log, "ln": sp.log,
              "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec,
              "csc": sp.csc, "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "abs": sp.Abs,
              "floor": sp.floor, "ceil": sp.ceiling, "binom": sp.binomial, "cbrt": lambda x: sp.root(x, 3),
              "fact": sp.factorial}
        return fn[node.func.id](*[_to_sympy(sp, a) for a in node.args])
    raise _EvalError("bad node")


def _sympy_equal(src_a, src_b, cfg):
    """Optional: sympy.simplify(a - b) == 0, in a helper thread with a deadline (no signals).
    A thread that overruns is abandoned (sympy cannot be interrupted) and its slot stays taken
    until it finishes, so at most two can run away at once."""
    if not cfg["use_sympy"]:
        return False
    sp = _sympy()
    if sp is None or not _sympy_slots.acquire(blocking=False):
        return False
    result = []

    def work():
        try:
            a = _to_sympy(sp, ast.parse(src_a, mode="eval").body)
            b = _to_sympy(sp, ast.parse(src_b, mode="eval").body)
            result.append(sp.simplify(a - b) == 0)
        except Exception:
            result.append(False)
        finally:
            _sympy_slots.release()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(cfg["sympy_timeout_ms"] / 1000.0)
    return bool(result and result[0])

# --------------------------------------------------------------------------- public API


def is_equivalent(reference, candidate, cfg=None):
    """True when candidate answer text equals reference answer text. Raises ReferenceParseError."""
    cfg = cfg or CONFIG
    ref = _parse_reference(str(reference).strip())
    return _equal(ref, _parse_candidate(candidate.strip(), ref), cfg)


def _reference_texts(sample):
    ref = sample.get("reference_answer")
    if ref is None and isinstance(sample.get("metadata"), dict):
        ref = sample["metadata"].get("reference_answer")
    if isinstance(ref, dict):
        for key in ("answer", "answers", "ground_truth", "solution", "final_answer"):
            if key in ref:
                ref = ref[key]
                break
        else:
            raise ReferenceParseError(f"reference_answer object has none of the fields answer/answers/ground_truth")
    refs = ref if isinstance(ref, list) else [ref]
    if not refs or any(r is None or isinstance(r, (dict, list, bool)) for r in refs):
        raise ReferenceParseError(f"reference_answer must be a string, a number, or a list of them; got {ref!r}")
    return [repr(r) if isinstance(r, float) else str(r) for r in refs]


def _response_text(sample):
    msgs = sample.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "assistant":
                c = m.get("content")
                if isinstance(c, list):   # content parts
                    c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
                return c if isinstance(c, str) else ""
    for key in ("response", "completion", "output_text"):
        if isinstance(sample.get(key), str):
            return sample[key]
    return ""


def grade(response, reference, cfg=None):
    """Scores one response against one reference (text, number or list of accepted answers).
    Returns (score, format_ok, extracted). Raises ReferenceParseError."""
    cfg = cfg or CONFIG
    refs = _reference_texts({"reference_answer": reference})
    parsed = [_parse_reference(r.strip()) for r in refs]
    answer, method, spray = _extract(response, cfg["extract_order"])
    if answer is None:
        return 0.0, 0, 0
    if spray:   # several different final answers: never a reward
        return 0.0, int(method in cfg["format_methods"]), 1
    ok = any(_equal(ref, _parse_candidate(answer, ref), cfg) for ref in parsed)
    return (1.0 if ok else 0.0), int(method in cfg["format_methods"]), 1


def _score_sample(sample, cfg):
    refs = _reference_texts(sample)
    score, format_ok, extracted = grade(_response_text(sample), refs, cfg)
    return {
        "id": sample.get("id"),
        "aggregate_reward_score": score,
        "metrics_list": [
            {"name": "correct", "value": score, "type": "Reward"},
            {"name": "format_ok", "value": float(format_ok), "type": "Metric"},
            {"name": "extracted", "value": float(extracted), "type": "Metric"},
        ],
    }


def lambda_handler(event, context=None):
    """Bedrock batch contract: a list of samples in, one result per sample out.
    A sample whose reference cannot be parsed gets {"id", "error": {"type": "invalid_reference", ...}}
    (or raises, when config on_bad_reference is "raise"); the rest of the batch is still scored."""
    samples = event if isinstance(event, list) else [event]
    out = []
    for sample in samples:
        sid = sample.get("id") if isinstance(sample, dict) else None
        try:
            if not isinstance(sample, dict):
                raise ReferenceParseError(f"sample must be an object, got {type(sample).__name__}")
            out.append(_score_sample(sample, CONFIG))
        except ReferenceParseError as e:
            if CONFIG["on_bad_reference"] == "raise":
                raise ReferenceParseError(f"sample {sid}: {e}") from None
            out.append({"id": sid, "error": {"type": "invalid_reference", "message": f"invalid_reference: sample {sid}: {e}"}})
    return out


CONFIG = _load_config()
