import glob
import json
import os
import tempfile
import time
import unittest

from Tests.python import helpers

M = helpers.load_module("code-execution", "code_grader")
FN = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}]}
GOOD = "def add(a, b):\n    return a + b\n"


def sample(code, ref, sid="s"):
    content = "```python\n" + code + "\n```" if code is not None else "no code"
    return {"id": sid, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}],
            "reference_answer": ref}


def live_processes(uid_range=(200_000, 1_200_000)):
    """Live (non-zombie) processes that are our children or run under a candidate uid."""
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "Z":
            continue
        if fields[1] == me or uid_range[0] <= uid < uid_range[1]:
            found.append((pid, uid, stat[:80]))
    return found


def wait_clean(deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while live_processes() and time.monotonic() < end:
        time.sleep(0.05)
    return live_processes()


class CodeCasesTests(unittest.TestCase):
    def test_every_case_passes_and_nothing_is_left_behind(self):
        before = set(glob.glob(os.path.join(tempfile.gettempdir(), "rft-code-*")))
        cases = helpers.load_cases("code-execution")
        self.assertGreaterEqual(len(cases), 30)
        self.assertGreaterEqual(sum(1 for c in cases if c["id"].startswith("hostile")), 15)
        self.assertEqual(helpers.case_failures(cases, M.lambda_handler(cases)), [])
        self.assertEqual(wait_clean(), [])
        self.assertEqual(set(glob.glob(os.path.join(tempfile.gettempdir(), "rft-code-*"))) - before, set())


class HostileBatchTests(unittest.TestCase):
    HOSTILE = {
        "loop": ("while True:\n    pass", "timeout"),
        "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", "timeout"),
        "memory": ("x = bytearray(10 ** 10)", "memory_limit"),
        "output": ("while True:\n    print('x' * 65536)", "output_limit"),
        "exception": ("raise KeyError('k')", "runtime_error"),
        "daemon": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(600)\n    os._exit(0)\n"
                   "def add(a, b):\n    return a + b\n", "passed"),
        "stdout_holder": ("import os, subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n" + GOOD, "passed"),
        "kill_everything": ("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n" + GOOD, None),
    }

    def test_a_batch_where_most_candidates_are_hostile_scores_the_rest_correctly(self):
        if os.geteuid() != 0:
            self.HOSTILE.pop("kill_everything")   # without a private uid it would hit this test process too
        batch = [sample(code, FN, name) for name, (code, _) in self.HOSTILE.items()]
        batch += [sample(GOOD, FN, "good1"), sample("def add(a, b):\n    return a - b", FN, "bad1"),
                  sample(GOOD, {"asserts": ["assert add(2, 2) == 4"]}, "good2")]
        out = {o["id"]: o for o in M.lambda_handler(batch)}
        self.assertEqual(len(out), len(batch))
        for name, (_, status) in self.HOSTILE.items():
            names = [m["name"] for m in out[name]["metrics_list"]]
            if status is not None:
                self.assertIn(f"test_0/{status}", names, name)
        self.assertEqual(out["good1"]["aggregate_reward_score"], 1.0)
        self.assertEqual(out["bad1"]["aggregate_reward_score"], 0.0)
        self.assertEqual(out["good2"]["aggregate_reward_score"], 1.0)
        self.assertEqual(wait_clean(), [])

    def test_statuses_are_counted_in_metrics(self):
        ref = {"tests": [{"stdin": "1\n", "stdout": "1"}, {"stdin": "2\n", "stdout": "1"}, {"stdin": "x\n", "stdout": "1"}]}
        o = M.lambda_handler([sample("print(int(input()) // int(input()) if False else int(input()) ** 0)", ref)])[0]
        m = {x["name"]: x["value"] for x in o["metrics_list"]}
        self.assertEqual((m["passed"], m["runtime_error"]), (2.0, 1.0))
        self.assertAlmostEqual(o["aggregate_reward_score"], 2 / 3)


class IsolationTests(unittest.TestCase):
    def test_the_child_never_receives_expected_outputs(self):
        secret = "EXPECTED-7f3a9c"
        spy = ("import os, sys, gc\nseen = []\nf = sys._getframe()\nwhile f:\n    seen.append(repr(f.f_locals))\n    f = f.f_back\n"
               "seen.append(open('/proc/self/cmdline').read())\nseen.append(repr(dict(os.environ)))\n"
               "for fd in range(3, 64):\n    try:\n        seen.append(os.read(fd, 65536).decode(errors='replace'))\n    except OSError:\n        pass\n"
               "seen.extend(repr(o)[:2000] for o in gc.get_objects() if isinstance(o, (dict, str)))\n"
               "blob = '\\n'.join(seen)\nprint('LEAK' if 'EXPECTED-' + '7f3a9c' in blob else 'CLEAN')\n"
               "def f(*a):\n    return 'LEAK' if 'EXPECTED-' + '7f3a9c' in blob else 'CLEAN'\n")
        shapes = [{"tests": [{"stdin": "", "stdout": secret}]},
                  {"function": "f", "cases": [{"args": [], "expected": secret}]},
                  {"asserts": [f"assert f() == '{secret}'"]}]
        for ref in shapes:
            for test in M.parse_tests(ref):
                job = M.job_for(test, spy, M.CONFIG)
                self.assertNotIn(secret, json.dumps(job))
                status, stdout, result, _, _ = M._run_child(job, test.get("stdin", ""), M.CONFIG)
                self.assertIsNone(status)
                self.assertIn("CLEAN", stdout)
                self.assertNotIn("LEAK", stdout + json.dumps(result))

    def test_rigged_equality_and_subclasses_do_not_pass(self):
        rigged = "class A:\n    def __eq__(self, o):\n        return True\n    def __repr__(self):\n        return '3'\ndef add(a, b):\n    return A()"
        sub = "class I(int):\n    pass\ndef add(a, b):\n    return I(3)"
        for code in (rigged, sub):
            for ref in (FN, {"asserts": ["assert add(1, 2) == 3"]}):
                self.assertEqual(M.lambda_handler([sample(code, ref)])[0]["aggregate_reward_score"], 0.0)

    def test_writing_to_the_result_channel_is_tampering(self):
        forge = "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'{\"status\": \"ok\"}\\n')\n    except OSError:\n        pass\n"
        o = M.lambda_handler([sample(forge, {"asserts": ["assert len([]) > 5"]})])[0]
        self.assertEqual(o["aggregate_reward_score"], 0.0)

    def test_environment_is_minimal(self):
        os.environ["RFT_TEST_SECRET"] = "s3cr3t"
        try:
            code = "import os\ndef env():\n    return sorted(os.environ)"
            ref = {"function": "env", "cases": [{"args": [], "expected": ["HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING"]}]}
            self.assertEqual(M.lambda_handler([sample(code, ref)])[0]["aggregate_reward_score"], 1.0)
        finally:
            del os.environ["RFT_TEST_SECRET"]


class ReferenceAndConfigTests(unittest.TestCase):
    def test_malformed_references_are_per_sample_errors(self):
        bad = [None, "not json", {"tests": "x"}, {"tests": [{"stdin": 1, "stdout": "1"}]}, {"asserts": ["assert ("]},
               {"function": "1x", "cases": []}, {"function": "f", "cases": [{"args": [1]}]}, {"other": 1},
               {"tests": []}, {"asserts": ["assert True"] * 21}]
        out = M.lambda_handler([sample(GOOD, r, f"b{i}") for i, r in enumerate(bad)] + [sample(GOOD, FN, "ok")])
        for o in out[:-1]:
            self.assertEqual(o["error"]["type"], "invalid_reference", o)
        self.assertEqual(out[-1]["aggregate_reward_score"], 1.0)

    def test_program_extraction(self):
        self.assertEqual(M.extract_program("```python\na = 1\n```\n```js\nx\n```"), "a = 1\n")
        self.assertIsNone(M.extract_program("no fences"))
        cfg = dict(M.CONFIG, accept_untagged_fence=False)
        self.assertIsNone(M.extract_program("```\na = 1\n```", cfg))

    def test_all_or_nothing_scoring(self):
        cfg = dict(M.CONFIG, scoring="all_or_nothing")
        ref = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}, {"args": [0, 0], "expected": 1}]}
        self.assertEqual(M.score_sample(sample(GOOD, ref), cfg)["aggregate_reward_score"], 0.0)
        self.assertEqual(M.score_sample(sample(GOOD, ref))["aggregate_reward_score"], 0.5)

    def test_other_languages_via_command(self):
        cfg = dict(M.CONFIG, command=["/bin/bash", "{file}"], fence_languages=["bash"])
        tests = M.parse_tests({"tests": [{"stdin": "3\n", "stdout": "6"}, {"stdin": "4\n", "stdout": "9"}]}, cfg)
        self.assertEqual([s for s, _ in M.run_tests("read x; echo $((x*2))", tests, cfg)], ["passed", "wrong_answer"])
        self.assertEqual(M.run_tests("while :; do :; done", tests[:1], cfg)[0][0], "timeout")
        with self.assertRaises(M.ReferenceError_):
            M.parse_tests(FN, cfg)
        self.assertEqual(wait_clean(), [])


if __name__ == "__main__":
    unittest.main()
