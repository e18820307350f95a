"""The code-execution template's own logic, run outside rft. The programs here are this file's own
(benign) ones: FakeExec plays rft's exec service with plain subprocesses, so the grader's parsing,
proxying, decoding and scoring are tested quickly. The real isolation (fresh sandboxes, attacks,
neighbours) is tested through rft itself: Tests/GraderRuntimeTests/CodeExecutionAttackTests.swift,
ExecServiceTests.swift and `rft grader test templates/code-execution` (TemplateCasesTests)."""
import os
import shutil
import subprocess
import tempfile
import types
import unittest

from Tests.python import helpers

M = helpers.load_module("code-execution", "code_grader")
FN = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}]}
GOOD = "def add(a, b):\n    return a + b\n"


def sample(code, ref, sid="s"):
    content = "```python\n" + code + "\n```" if code is not None else "no code"
    return {"id": sid, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}],
            "reference_answer": ref}


class _Result:
    def __init__(self, status, stdout="", stderr="", exit_code=None):
        self.status, self.stdout, self.stderr, self.exit_code = status, stdout, stderr, exit_code
        self.signal = self.layer = self.message = None


class _SessionEnded(Exception):
    def __init__(self, result):
        Exception.__init__(self, result.status)
        self.result = result


def fake_exec():
    """A stand-in for rft_exec (no sandbox): for this file's benign programs only."""
    mod = types.SimpleNamespace(ExecError=RuntimeError, SessionEnded=_SessionEnded, calls=[])

    def run(argv, stdin="", env=None, **limits):
        mod.calls.append(("run", limits))
        # Each sandboxed run has a fresh private /tmp; here, a fresh directory stands in for it, so
        # no other process on the machine can touch the program file between its write and exec.
        scratch = tempfile.mkdtemp(prefix="rft-fake-exec-")
        argv = [a.replace("path = '/tmp/'", "path = %r" % (scratch + "/")) for a in argv]
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env,
                               timeout=limits["timeout_ms"] / 1000)
        except subprocess.TimeoutExpired:
            return _Result("timeout")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return _Result("ok" if p.returncode == 0 else "nonzero_exit", p.stdout, p.stderr, p.returncode)

    class Session:
        def __init__(self, argv, env=None, **limits):
            mod.calls.append(("open", limits))
            req_r, self.req_w = os.pipe()
            self.rep_r, rep_w = os.pipe()

            # the session's program reads requests on fd 3 and writes replies on fd 4
            wrap = ("import fcntl, os, sys\na = fcntl.fcntl(int(sys.argv[1]), fcntl.F_DUPFD, 10)\n"
                    "b = fcntl.fcntl(int(sys.argv[2]), fcntl.F_DUPFD, 10)\nos.dup2(a, 3)\nos.dup2(b, 4)\n"
                    "os.execv(sys.argv[3], sys.argv[3:])")
            self.p = subprocess.Popen(["/usr/bin/python3", "-c", wrap, str(req_r), str(rep_w)] + list(argv), env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, pass_fds=(req_r, rep_w))
            os.close(req_r)
            os.close(rep_w)
            self.reader = os.fdopen(self.rep_r, "rb")
            self.result = None

        def call(self, line=None, timeout_ms=None):
            if self.result is not None:
                raise _SessionEnded(self.result)
            if line is not None:
                os.write(self.req_w, line.encode() + b"\n")
            reply = self.reader.readline()
            if not reply:
                self.p.wait()
                self.result = _Result("ok" if self.p.returncode == 0 else "nonzero_exit", stderr=self.p.stderr.read().decode())
                raise _SessionEnded(self.result)
            return reply.decode().rstrip("\n")

        def close(self):
            if self.p.poll() is None:
                self.p.kill()
            self.p.wait()
            for f in (self.reader, self.p.stderr):
                f.close()
            os.close(self.req_w)
            self.result = self.result or _Result("ok")
            return self.result

    mod.run, mod.Session = run, Session
    return mod


class GradingTests(unittest.TestCase):
    def setUp(self):
        self.saved = M.rft_exec
        M.rft_exec = self.fake = fake_exec()

    def tearDown(self):
        M.rft_exec = self.saved

    def score(self, code, ref, cfg=None):
        return M.score_sample(sample(code, ref), cfg)["aggregate_reward_score"]

    def test_the_three_shapes_are_checked_in_the_grader(self):
        self.assertEqual(self.score("a, b = map(int, input().split())\nprint(a + b)",
                                    {"tests": [{"stdin": "1 2\n", "stdout": "3"}, {"stdin": "2 2\n", "stdout": "5"}]}), 0.5)
        self.assertEqual(self.score(GOOD, {"function": "add", "cases": [{"args": [1, 2], "expected": 3},
                                                                         {"args": [[1], [2]], "expected": [1, 2]}]}), 1.0)
        asserts = ["assert add(1, 2) == 3", "assert abs(add(0.1, 0.2) - 0.3) < 1e-9", "assert add((1,), (2,)) == (1, 2)",
                   "assert math.isclose(add(1, 1), 2)", "assert [add(i, i) for i in range(3)] == [0, 2, 4]"]
        self.assertEqual(self.score(GOOD, {"asserts": asserts}), 1.0)
        # one candidate session per sample serves every call
        self.assertEqual([c[0] for c in self.fake.calls].count("open"), 2)

    def test_builtins_in_asserts_are_the_graders_own(self):
        code = "import builtins\nbuiltins.abs = lambda x: 0\nabs = lambda x: 0\ndef mean(xs):\n    return 0\n"
        self.assertEqual(self.score(code, {"asserts": ["assert abs(mean([1, 2]) - 1.5) < 1e-9"]}), 0.0)

    def test_replies_are_decoded_strictly(self):
        for bad in ({"$other": 1}, {"$set": [[1]]}, {"a": 1, "b": 2}, {"$float": "1e9"}, {"$dict": [[1]]}, {"$tuple": 1}):
            with self.assertRaises(M._Malformed, msg=repr(bad)):
                M._dec(bad)
        self.assertEqual(M._dec({"$tuple": [1, {"$set": [2]}]}), (1, {2}))
        self.assertEqual(M._dec({"$dict": [[{"$tuple": [1]}, "x"]]}), {(1,): "x"})

    def test_values_and_names_of_the_candidate(self):
        code = "N = 10\nPAIRS = {(1, 2): 3}\ndef apply(f, x):\n    return f(x)\ndef sq(x):\n    return x * x\n"
        ref = {"asserts": ["assert N == 10", "assert PAIRS[(1, 2)] == 3", "assert apply(sq, 3) == 9", "assert missing(1) == 1"]}
        o = M.score_sample(sample(code, ref))
        self.assertEqual([m["name"] for m in o["metrics_list"] if m["name"].startswith("test_")],
                         ["test_0/passed", "test_1/passed", "test_2/passed", "test_3/runtime_error"])

    def test_a_program_that_cannot_load_fails_every_test_once(self):
        o = M.score_sample(sample("raise KeyError('k')", {"function": "add", "cases": [{"args": [1, 2], "expected": 3}] * 3}))
        self.assertEqual(o["aggregate_reward_score"], 0.0)
        self.assertEqual([c[0] for c in self.fake.calls], ["open"])

    def test_other_languages_via_command(self):
        cfg = dict(M.CONFIG, command=["/bin/bash", "{file}"], fence_languages=["bash"])
        tests = M.parse_tests({"tests": [{"stdin": "3\n", "stdout": "6"}, {"stdin": "4\n", "stdout": "9"}]}, cfg)
        # /tmp is the sandbox's fresh scratch; outside rft the fake gives each run a fresh directory
        self.assertEqual([s for s, _ in M.run_tests("read x; echo $((x*2))", tests, cfg)], ["passed", "wrong_answer"])
        with self.assertRaises(M.ReferenceError_):
            M.parse_tests(FN, cfg)

    def test_all_or_nothing_scoring(self):
        cfg = dict(M.CONFIG, scoring="all_or_nothing")
        ref = {"function": "add", "cases": [{"args": [1, 2], "expected": 3}, {"args": [0, 0], "expected": 1}]}
        self.assertEqual(M.score_sample(sample(GOOD, ref), cfg)["aggregate_reward_score"], 0.0)
        self.assertEqual(M.score_sample(sample(GOOD, ref))["aggregate_reward_score"], 0.5)

    def test_limits_passed_to_the_service_come_from_config(self):
        self.score(GOOD, FN)
        self.assertEqual(self.fake.calls[0][1], {"timeout_ms": 2000, "memory_mb": 256, "max_pids": 16,
                                                  "max_output_bytes": 1_000_000, "max_file_mb": 16, "max_open_files": 64})


class WithoutTheServiceTests(unittest.TestCase):
    def test_every_sample_reports_that_the_exec_service_is_missing(self):
        saved, M.rft_exec = M.rft_exec, None
        try:
            out = M.lambda_handler([sample(GOOD, FN, "a"), sample(GOOD, {"tests": "x"}, "b")])
        finally:
            M.rft_exec = saved
        self.assertEqual(out[0]["error"]["type"], "sandbox_error")
        self.assertIn("exec service", out[0]["error"]["message"])
        self.assertEqual(out[1]["error"]["type"], "invalid_reference")


class ReferenceAndConfigTests(unittest.TestCase):
    def test_malformed_references_are_per_sample_errors(self):
        bad = [None, "not json", {"tests": "x"}, {"tests": [{"stdin": 1, "stdout": "1"}]}, {"asserts": ["assert ("]},
               {"asserts": ["x = 1"]}, {"function": "1x", "cases": []}, {"function": "f", "cases": [{"args": [1]}]},
               {"other": 1}, {"tests": []}, {"asserts": ["assert True"] * 21}]
        out = M.lambda_handler([sample(GOOD, r, f"b{i}") for i, r in enumerate(bad)])
        for o in out:
            self.assertEqual(o["error"]["type"], "invalid_reference", o)

    def test_program_extraction(self):
        self.assertEqual(M.extract_program("```python\na = 1\n```\n```js\nx\n```"), "a = 1\n")
        self.assertIsNone(M.extract_program("no fences"))
        cfg = dict(M.CONFIG, accept_untagged_fence=False)
        self.assertIsNone(M.extract_program("```\na = 1\n```", cfg))

    def test_cases_cover_the_attack_classes(self):
        ids = {c["id"] for c in helpers.load_cases("code-execution")}
        for needed in ("attack-proc-mem-function", "attack-forged-channel-exit", "attack-patch-builtins-globals-json",
                       "attack-rigged-operators", "attack-nondumpable-daemon", "attack-leak-reader",
                       "attack-sigstop-everything", "attack-kill-everything", "attack-forbidden-syscall",
                       "attack-read-secrets"):
            self.assertIn(needed, ids)


if __name__ == "__main__":
    unittest.main()
