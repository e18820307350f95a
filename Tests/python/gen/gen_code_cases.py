"""Regenerates templates/code-execution/cases.jsonl (run from the repo root).
Each row: (id, program or None, reference_answer, expected_score). Hostile rows cost one test each."""
import json, os

ADD_IO = {"tests": [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "5 7\n", "stdout": "12"},
                    {"stdin": "-4 4\n", "stdout": "0"}]}
ADD_FN = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}, {"args": [2, 2], "expected": 4}]}
ADD_AS = {"asserts": ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert 10 == add(4, 6)"]}
ONE_FN = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}]}
GOOD_ADD = "def add(a, b):\n    return a + b\n"

# reward hacks (issue 13): each rigged program scores 0; none can touch the grader or its neighbours
SCAN = ("import os, re\n"
        "PATTERNS = [rb'\"expected\": (-?\\d+)', rb'\"stdout\": \"(-?\\d+)', rb'== (-?\\d+)']\n"
        "def scan():\n"
        "    pids = [os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]\n"
        "    for pid in pids:\n"
        "        try:\n"
        "            maps = open('/proc/%d/maps' % pid).read().splitlines()\n"
        "            mem = open('/proc/%d/mem' % pid, 'rb')\n"
        "        except OSError:\n"
        "            continue\n"
        "        for line in maps:\n"
        "            lo, hi = [int(x, 16) for x in line.split()[0].split('-')]\n"
        "            if 'r' not in line.split()[1] or hi - lo > 1 << 26:\n"
        "                continue\n"
        "            try:\n"
        "                mem.seek(lo)\n"
        "                chunk = mem.read(hi - lo)\n"
        "            except (OSError, ValueError, OverflowError):\n"
        "                continue\n"
        "            for pat in PATTERNS:\n"
        "                m = re.search(pat, chunk)\n"
        "                if m and m.group(1) != b'1':\n"
        "                    return int(m.group(1))\n"
        "    return -1\n")
SECRET_FN = {"function": "add", "cases": [{"args": [1, 2], "expected": 918273645}]}
FORGE = ("import os\nfor fd in range(0, 64):\n    try:\n"
         "        os.write(fd, b'{\"ready\": true, \"names\": {\"add\": \"callable\"}}\\n{\"status\": \"ok\"}\\n{\"value\": true, \"n\": null}\\n')\n"
         "    except OSError:\n        pass\nos._exit(0)\n")
PATCH = ("import builtins, json, sys\n"
         "builtins.abs = lambda x: 0\n"
         "builtins.AssertionError = type('Never', (Exception,), {})\n"
         "json.dumps = lambda *a, **k: '{\"value\": 1.5, \"status\": \"ok\"}'\n"
         "main = sys.modules.get('__main__')\n"
         "for name in list(vars(main)):\n"
         "    if name.startswith('_enc') or name == 'reply':\n"
         "        setattr(main, name, lambda *a, **k: True)\n"
         "def mean(xs):\n    return 0\n")
RIGGED = ("class R:\n    def __eq__(self, o): return True\n    def __lt__(self, o): return True\n"
          "    def __sub__(self, o): return self\n    def __abs__(self): return self\n"
          "def mean(xs):\n    return R()\n")
DAEMON = ("import ctypes, os, signal, time\n"
          "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
          "        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0\n"
          "        end = time.time() + 30\n        while time.time() < end:\n"
          "            try:\n                os.kill(-1, signal.SIGKILL)\n            except OSError:\n                pass\n"
          "            time.sleep(0.01)\n    os._exit(0)\n"
          "def add(a, b):\n    return a - b\n")
LEAK_WRITER = ("import json\ndef add(a, b):\n    for p in ('/tmp/rft-leak', '/dev/shm/rft-leak'):\n"
               "        with open(p, 'w') as f:\n            json.dump({'%d,%d' % (a, b): a + b}, f)\n    return a + b\n")
LEAK_READER = ("import json\ndef add(a, b):\n    for p in ('/tmp/rft-leak', '/dev/shm/rft-leak'):\n"
               "        try:\n            return json.load(open(p))['%d,%d' % (a, b)]\n        except Exception:\n            pass\n    return None\n")
STOP = ("import os, signal\nfor target in [os.getppid(), -1] + list(range(1, 4096)):\n"
        "    if target != os.getpid():\n        try:\n            os.kill(target, signal.SIGSTOP)\n        except OSError:\n            pass\n"
        "def add(a, b):\n    return a - b\n")
KILL = ("import os, signal\nfor target in (os.getppid(), -1, 1):\n    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass\n"
        "def add(a, b):\n    return a - b\n")
SYSCALL = ("import ctypes\nctypes.CDLL(None).syscall(101, 16, 1, 0, 0)   # ptrace(PTRACE_ATTACH, 1)\n" + GOOD_ADD)
SECRETS = ("import os\ndef secret():\n    seen = [repr(dict(os.environ))]\n    for p in os.listdir('/proc'):\n"
           "        try:\n            seen.append(open('/proc/%s/environ' % p, 'rb').read().decode(errors='replace'))\n"
           "        except OSError:\n            pass\n    for blob in seen:\n        i = blob.find('GRADER_SECRET=')\n"
           "        if i >= 0:\n            return blob[i + 14:].split('\\x00')[0].split(\"'\")[0]\n    return ''\n")

ROWS = [
 # stdin/stdout tests
 ("stdio-pass", "a, b = map(int, input().split())\nprint(a + b)", ADD_IO, 1),
 ("stdio-trailing-space", "a, b = map(int, input().split())\nprint(a + b, end='   \\n\\n')", ADD_IO, 1),
 ("stdio-wrong", "a, b = map(int, input().split())\nprint(a * b)", ADD_IO, 0),
 ("stdio-partial", "a, b = map(int, input().split())\nprint(a + b if a > 0 else 99)", ADD_IO, 2 / 3),
 ("stdio-multiline", "import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1])",
  {"tests": [{"stdin": "abc\nxy\n", "stdout": "cba\nyx"}]}, 1),
 ("stdio-no-stdin-read", "print('hello')", {"tests": [{"stdin": "", "stdout": "hello"}]}, 1),
 ("stdio-main-guard", "def main():\n    print(int(input()) ** 2)\n\nif __name__ == '__main__':\n    main()",
  {"tests": [{"stdin": "7\n", "stdout": "49"}, {"stdin": "-3\n", "stdout": "9"}]}, 1),
 ("stdio-big-stdin", "import sys\nprint(sum(map(int, sys.stdin.read().split())))",
  {"tests": [{"stdin": " ".join(["1"] * 50000), "stdout": "50000"}]}, 1),
 ("stdio-ref-as-string", "print(input().upper())",
  json.dumps({"tests": [{"stdin": "abc\n", "stdout": "ABC"}]}), 1),
 # function cases
 ("function-pass", GOOD_ADD, ADD_FN, 1),
 ("function-wrong", "def add(a, b):\n    return a - b", ADD_FN, 0),
 ("function-missing", "def plus(a, b):\n    return a + b", ADD_FN, 0),
 ("function-list", "def sort_desc(xs):\n    return sorted(xs, reverse=True)",
  {"function": "sort_desc", "cases": [{"args": [[3, 1, 2]], "expected": [3, 2, 1]}, {"args": [[]], "expected": []}]}, 1),
 ("function-tuple-as-list", "def pair(a):\n    return (a, a)", {"function": "pair", "cases": [{"args": [1], "expected": [1, 1]}]}, 1),
 ("function-float-tol", "def third(x):\n    return x / 3", {"function": "third", "cases": [{"args": [1], "expected": 0.3333333333}]}, 1),
 ("function-kwargs", "def greet(name, punct='!'):\n    return 'hi ' + name + punct",
  {"function": "greet", "cases": [{"args": ["bo"], "kwargs": {"punct": "?"}, "expected": "hi bo?"}]}, 1),
 ("function-eq-hack", "class Any:\n    def __eq__(self, other):\n        return True\n\ndef add(a, b):\n    return Any()", ADD_FN, 0),
 ("function-str-subclass-hack", "class S(int):\n    pass\n\ndef add(a, b):\n    return S(a + b)", ADD_FN, 0),
 # asserts
 ("asserts-pass", GOOD_ADD, ADD_AS, 1),
 ("asserts-wrong", "def add(a, b):\n    return a * b", ADD_AS, 1 / 3),  # add(0, 0) == 0 still holds
 ("asserts-complex", "def mean(xs):\n    return sum(xs) / len(xs)",
  {"asserts": ["assert abs(mean([1, 2]) - 1.5) < 1e-9", "assert mean([2]) == 2"]}, 1),
 ("asserts-eq-hack", "class Any:\n    def __eq__(self, other):\n        return True\n\ndef add(a, b):\n    return Any()", ADD_AS, 0),
 ("asserts-set", "def uniq(xs):\n    return set(xs)", {"asserts": ["assert uniq([1, 1, 2]) == {1, 2}"]}, 1),
 # formatting of the answer
 ("no-code-block", None, ADD_FN, 0),
 ("untagged-fence", "```\ndef add(a, b):\n    return a + b\n```", ADD_FN, 1),
 ("last-block-wins", "```python\ndef add(a, b):\n    return 0\n```\nFixed:\n```python\ndef add(a, b):\n    return a + b\n```", ADD_FN, 1),
 ("syntax-error", "def add(a, b) return a + b", ADD_FN, 0),
 # hostile programs: each costs its own test, never the grader or the rest of the batch
 ("hostile-infinite-loop", "while True:\n    pass", ONE_FN, 0),
 ("hostile-sleep", "import time\ntime.sleep(3600)", ONE_FN, 0),
 ("hostile-ignore-sigterm", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass", ONE_FN, 0),
 ("hostile-blocked-read", "import os\nr, w = os.pipe()\nos.read(r, 1)", ONE_FN, 0),
 ("hostile-fork-bomb", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", ONE_FN, 0),
 ("hostile-memory", "x = bytearray(10 ** 10)", ONE_FN, 0),
 ("hostile-memory-growth", "x = []\nwhile True:\n    x.append(' ' * 10 ** 6)", ONE_FN, 0),
 ("hostile-mmap", "import mmap\nm = mmap.mmap(-1, 1 << 33)\nm[-1] = 1", ONE_FN, 0),
 ("hostile-thread-bomb", "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()", ONE_FN, 0),
 ("hostile-huge-output", "while True:\n    print('x' * 65536)", ONE_FN, 0),
 ("hostile-output-no-newline", "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)", ONE_FN, 0),
 ("hostile-exception", "raise RuntimeError('boom')", ONE_FN, 0),
 ("hostile-recursion", "def add(a, b):\n    return add(a, b)", ONE_FN, 0),
 ("hostile-daemon-keeps-pipe", "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n    os._exit(0)\n" + GOOD_ADD, ONE_FN, 1),
 ("hostile-big-file", "with open('big', 'wb') as f:\n    f.write(b'0' * (64 << 20))\n" + GOOD_ADD, ONE_FN, 0),
 ("hostile-big-file-caught", "try:\n    with open('big', 'wb') as f:\n        f.write(b'0' * (64 << 20))\nexcept OSError:\n    pass\n" + GOOD_ADD, ONE_FN, 1),
 ("hostile-forged-result", "import os\nfor fd in range(3, 32):\n    try:\n        os.write(fd, b'{\"status\": \"ok\", \"value\": 3}\\n')\n    except OSError:\n        pass\n" + "def add(a, b):\n    return 0", ONE_FN, 0),
 ("hostile-exit-early", "import os\nos._exit(0)", ONE_FN, 0),
 ("hostile-segfault", "import ctypes\nctypes.string_at(0)", ONE_FN, 0),
 ("attack-proc-mem-function", SCAN + "def add(a, b):\n    return scan()", SECRET_FN, 0),
 ("attack-proc-mem-stdio", SCAN + "print(scan())", {"tests": [{"stdin": "1 2\n", "stdout": "918273645"}]}, 0),
 ("attack-proc-mem-assert", SCAN + "def add(a, b):\n    return scan()", {"asserts": ["assert add(1, 2) == 918273645"]}, 0),
 ("attack-forged-channel-exit", FORGE + GOOD_ADD, ADD_AS, 0),
 ("attack-patch-builtins-globals-json", PATCH, {"asserts": ["assert abs(mean([1, 2]) - 1.5) < 1e-9", "assert mean([4]) == 4"]}, 0),
 ("attack-rigged-operators", RIGGED, {"asserts": ["assert abs(mean([1, 2]) - 1.5) < 1e-9", "assert mean([4]) == 4"]}, 0),
 ("attack-int-subclass-assert", "class I(int):\n    def __eq__(self, o): return True\ndef add(a, b):\n    return I(0)", ADD_AS, 0),
 ("attack-nondumpable-daemon", DAEMON, ADD_FN, 0),
 ("attack-leak-writer", LEAK_WRITER, ADD_FN, 1),
 ("attack-leak-reader", LEAK_READER, ADD_FN, 0),
 ("attack-sigstop-everything", STOP, ADD_FN, 0),
 ("attack-kill-everything", KILL, ADD_FN, 0),
 ("attack-forbidden-syscall", SYSCALL, ADD_FN, 0),
 ("attack-read-secrets", SECRETS, {"function": "secret", "cases": [{"args": [], "expected": "s3cr3t-9911"}]}, 0),
 ("after-attacks-correct", GOOD_ADD, ADD_AS, 1),
 ("hostile-mixed", "import sys\nif int(input()) > 4:\n    while True:\n        pass\nprint(2 * int(input()) if False else 1)",
  {"tests": [{"stdin": "1\n", "stdout": "1"}, {"stdin": "9\n", "stdout": "1"}]}, 0.5),
]

def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with open(os.path.join(root, "templates/code-execution/cases.jsonl"), "w", encoding="utf-8") as f:
        for i, (sid, prog, ref, exp) in enumerate(ROWS):
            if prog is None:
                content = "I would write a function that adds the numbers."
            elif prog.startswith("```"):
                content = prog
            else:
                content = "Here is my solution:\n```python\n" + prog + "\n```\n"
            case = {"id": sid, "messages": [{"role": "user", "content": "Write the program."},
                                            {"role": "assistant", "content": content}],
                    "reference_answer": ref, "expected_score": round(exp, 6), "tolerance": 1e-4}
            if i % 4 == 3:
                case["metadata"] = {"reference_answer": case.pop("reference_answer")}
            f.write(json.dumps(case) + "\n")
    print(len(ROWS), "cases")

if __name__ == "__main__":
    main()
