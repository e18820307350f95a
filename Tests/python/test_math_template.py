import json
import os
import shutil
import tempfile
import threading
import unittest

from Tests.python import helpers

M = helpers.load_module("math", "math_grader")


def sample(resp, ref, sid="s"):
    return {"id": sid, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": resp}],
            "reference_answer": ref}


class MathCasesTests(unittest.TestCase):
    def test_every_case_passes(self):
        cases = helpers.load_cases("math")
        self.assertGreaterEqual(len(cases), 150)
        self.assertGreaterEqual(sum(1 for c in cases if "expected_error" in c), 4)
        self.assertEqual(helpers.case_failures(cases, M.lambda_handler(cases)), [])

    def test_cases_cover_every_listed_category(self):
        cats = {c["id"].rsplit("-", 1)[0] for c in helpers.load_cases("math")}
        for needed in ["boxed", "hash", "answer_tag", "answer_phrase", "last_number", "no_answer", "fraction",
                       "latex", "thousands", "percent", "units", "currency", "unicode", "trailing_zeros",
                       "scientific", "repeating", "choice", "words", "tolerance", "tuple", "set", "interval",
                       "expression", "equation"]:
            self.assertIn(needed, cats)

    def test_no_false_accepts_when_responses_are_paired_with_other_references(self):
        # Every correct response, graded against every other case's reference, may only be accepted
        # when the two references are themselves equivalent.
        # (Percentages are left out: "50%" deliberately matches both 50 and 0.5, see percent_equivalence.)
        cases = [c for c in helpers.load_cases("math")
                 if c.get("expected_score") == 1.0 and not c["id"].startswith("percent")]
        refs = sorted({json.dumps(c.get("reference_answer", c.get("metadata", {}).get("reference_answer")))
                       for c in cases})
        refs = [json.loads(r) for r in refs]
        false_accepts = []
        for c in cases:
            own = c.get("reference_answer", c.get("metadata", {}).get("reference_answer"))
            resp = c["messages"][-1]["content"]
            for ref in refs:
                if ref == own:
                    continue
                score = M.grade(resp, ref)[0]
                if score == 1.0 and not M.is_equivalent(own, ref) and not M.is_equivalent(ref, own):
                    false_accepts.append((c["id"], ref))
        self.assertEqual(false_accepts, [])

    def test_metrics_report_format_and_extraction(self):
        out = M.lambda_handler([sample(r"\boxed{4}", "4", "a"), sample("it is 4", "4", "b"), sample("none", "4", "c")])
        metrics = [{m["name"]: m["value"] for m in o["metrics_list"]} for o in out]
        self.assertEqual(metrics[0], {"correct": 1.0, "format_ok": 1.0, "extracted": 1.0})
        self.assertEqual(metrics[1], {"correct": 1.0, "format_ok": 0.0, "extracted": 1.0})
        self.assertEqual(metrics[2], {"correct": 0.0, "format_ok": 0.0, "extracted": 0.0})

    def test_reference_placements_and_shapes(self):
        s = sample(r"\boxed{12}", None)
        del s["reference_answer"]
        s["metadata"] = {"reference_answer": "12"}
        self.assertEqual(M.lambda_handler([s])[0]["aggregate_reward_score"], 1.0)
        for ref in (12, 12.0, ["11", "12"], {"answer": "12"}, {"answers": ["twelve"]}):
            self.assertEqual(M.lambda_handler([sample(r"\boxed{12}", ref)])[0]["aggregate_reward_score"], 1.0, ref)
        # a JSON float reference keeps its shortest form: 0.1 is exactly 1/10, not 0.1000000000000000055...
        self.assertEqual(M.lambda_handler([sample(r"\boxed{0.1}", 0.1)])[0]["aggregate_reward_score"], 1.0)


class MathRegressionTests(unittest.TestCase):
    """templates/math/regression.jsonl: hand-checked pairs in the styles models write; every verdict must hold."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(helpers.template_dir("math"), "regression.jsonl"), encoding="utf-8") as f:
            cls.rows = [json.loads(line) for line in f if line.strip()]

    def test_every_regression_verdict_is_right(self):
        self.assertGreaterEqual(len(self.rows), 600)
        self.assertEqual(len({r["id"] for r in self.rows}), len(self.rows))
        self.assertEqual(helpers.case_failures(self.rows, M.lambda_handler(self.rows)), [])

    def test_regression_covers_every_failure_class_of_issue_15(self):
        cats = {r["id"].rsplit("-", 1)[0] for r in self.rows}
        for needed in ["precedence", "spray", "matrix", "ratio", "base", "closed_form", "unicode", "words",
                       "scientific", "equation_prefix", "set", "interval", "markup", "decimal", "style"]:
            self.assertIn(needed, cats)
        wrong = [r for r in self.rows if r["expected_score"] == 0.0]
        self.assertGreaterEqual(len(wrong), 200)   # enough wrong answers that a false accept would show

    def test_no_wrong_answer_is_accepted(self):
        out = {o["id"]: o for o in M.lambda_handler(self.rows)}
        accepted = [r["id"] for r in self.rows if r["expected_score"] == 0.0 and out[r["id"]].get("aggregate_reward_score") != 0.0]
        self.assertEqual(accepted, [])


    def test_right_answers_are_not_accepted_for_other_references(self):
        # a quarter of the right responses, each graded against every other reference of the set: it may
        # only score when the two references are themselves equal (percentages left out: 10% is 0.1)
        good = [r for r in self.rows if r["expected_score"] == 1.0 and not r["id"].startswith(("percent", "spray"))
                and "%" not in r["messages"][-1]["content"]][::4]
        refs = sorted({r["reference_answer"] for r in self.rows})
        wrong = []
        for r in good:
            own, resp = r["reference_answer"], r["messages"][-1]["content"]
            for ref in refs:
                if ref != own and M.grade(resp, ref)[0] == 1.0 \
                        and not M.is_equivalent(own, ref) and not M.is_equivalent(ref, own):
                    wrong.append((r["id"], ref))
        self.assertEqual(wrong, [])


class MathPrecedenceAndSprayingTests(unittest.TestCase):
    def test_the_last_stated_answer_wins(self):
        self.assertEqual(M.grade("The answer is 7. Wait, 3 + 5 = 8. The answer is 8.", "8")[0], 1.0)
        self.assertEqual(M.grade("The answer is 7. Wait, 3 + 5 = 8. The answer is 8.", "7")[0], 0.0)
        minerva = "The answer is 12.\n\nFinal Answer: The final answer is $15$. I hope it is correct."
        self.assertEqual((M.grade(minerva, "15")[0], M.grade(minerva, "12")[0]), (1.0, 0.0))
        self.assertEqual(M.grade(r"\boxed{7}. Actually, I made an error: the total is \boxed{9}.", "9")[0], 1.0)

    def test_answer_spraying_scores_zero_for_every_stated_answer(self):
        for resp in [r"\boxed{3} \boxed{4} \boxed{5}", "it is 3, or maybe 4", "The answer is 3 or 4.",
                     r"The answer is \boxed{3}, or maybe \boxed{4}.", "The answer is 3. The answer is 4.",
                     "#### 3\n#### 4", r"\boxed{3} or \boxed{4}", "Possibly 3, possibly 4."]:
            for ref in ("3", "4"):
                self.assertEqual(M.grade(resp, ref)[0], 0.0, (resp, ref))
        # one answer written in two boxes is not spraying
        self.assertEqual(M.grade(r"\boxed{2} and \boxed{-2}", r"\pm 2")[0], 1.0)
        # spraying letters does not pick the right option either
        self.assertEqual(M.grade(r"\boxed{A} \boxed{B} \boxed{C} \boxed{D}", "C")[0], 0.0)

    def test_rel_tol_from_config_applies_to_decimals(self):
        d = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(helpers.template_dir("math"), "math_grader.py"), d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"rel_tol": 0.01}, f)
            m2 = helpers.load_module("math", "math_grader", alias="math_reltol_test", directory=d)
            self.assertEqual(m2.grade(r"\boxed{0.333}", "0.3333")[0], 1.0)
            self.assertEqual(m2.grade(r"\boxed{0.34}", "0.3333")[0], 0.0)
            self.assertEqual(M.grade(r"\boxed{0.333}", "0.3333")[0], 0.0)   # default rel_tol 1e-6
        finally:
            shutil.rmtree(d)


class MathReferenceErrorTests(unittest.TestCase):
    BAD = ["", "   ", "x^{", r"\frac{1}{0}", "1/0", "(1, 2", "]", "a" * 500, "@@", None, {"no": "answer"}, True,
           "12_2", r"\begin{vmatrix} 1 & 2 \\ 3 & 4 \end{vmatrix}", r"\begin{pmatrix} 1 & 2 \\ 3 \end{pmatrix}", "3:x",
           r"\binom{5}{-1}", "(-3)!"]

    def test_unparseable_reference_is_a_per_sample_error_never_one(self):
        batch = [sample(r"\boxed{1}", ref, f"bad{i}") for i, ref in enumerate(self.BAD)] + [sample(r"\boxed{1}", "1", "good")]
        out = M.lambda_handler(batch)
        self.assertEqual(len(out), len(batch))
        for o in out[:-1]:
            self.assertNotIn("aggregate_reward_score", o, o)
            self.assertEqual(o["error"]["type"], "invalid_reference")
            self.assertIn(o["id"], o["error"]["message"])
        self.assertEqual(out[-1]["aggregate_reward_score"], 1.0)

    def test_grade_raises_a_typed_error(self):
        with self.assertRaises(M.ReferenceParseError):
            M.grade(r"\boxed{x^{}", "x^{")

    def test_no_answer_scores_zero_even_with_a_good_reference(self):
        self.assertEqual(M.grade("I have no idea.", "5"), (0.0, 0, 0))


class MathBehaviourTests(unittest.TestCase):
    def test_extraction_methods_are_configurable_and_the_last_stated_answer_wins(self):
        text = r"#### 3. Wait, I made a mistake: \boxed{4}"
        self.assertEqual(M.extract_answer(text), ("4", "boxed"))
        self.assertEqual(M.extract_answer(text, ["hash"]), ("3. Wait, I made a mistake: \\boxed{4}", "hash"))
        self.assertEqual(M.extract_answer(r"\boxed{4}. Wait, no: #### 5"), ("5", "hash"))
        self.assertEqual(M.extract_answer("the result is 7", ["boxed"]), (None, None))
        # explicit answers beat the last-number fallback wherever they are
        self.assertEqual(M.extract_answer(r"\boxed{4} since 2 + 2 = 4 and 3 + 3 = 6"), ("4", "boxed"))

    def test_nested_braces_in_boxed(self):
        self.assertEqual(M.extract_answer(r"\boxed{\frac{1}{\sqrt{2}}} done")[0], r"\frac{1}{\sqrt{2}}")

    def test_config_file_changes_behaviour_and_is_validated(self):
        d = tempfile.mkdtemp()
        try:
            shutil.copy(os.path.join(helpers.template_dir("math"), "math_grader.py"), d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"extract_order": ["boxed"]}, f)
            m2 = helpers.load_module("math", "math_grader", alias="math_cfg_test", directory=d)
            self.assertEqual(m2.grade("the answer is 5", "5")[0], 0.0)
            self.assertEqual(M.grade("the answer is 5", "5")[0], 1.0)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"extract_order": ["boxed", "nope"]}, f)
            with self.assertRaisesRegex(ValueError, "extract_order.*nope"):
                helpers.load_module("math", "math_grader", alias="math_cfg_test2", directory=d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"rel_tol": 1e-6, "tolerance": 1}, f)
            with self.assertRaisesRegex(ValueError, "unknown config field.*tolerance"):
                helpers.load_module("math", "math_grader", alias="math_cfg_test3", directory=d)
        finally:
            shutil.rmtree(d)

    def test_relative_tolerance_applies_when_either_side_is_irrational_or_a_decimal(self):
        self.assertTrue(M.is_equivalent(r"\sqrt{2}", "1.4142136"))
        self.assertTrue(M.is_equivalent("1.4142136", "1.4142135"))      # decimals: within rel_tol 1e-6
        self.assertFalse(M.is_equivalent("1.4142136", "1.4142"))
        self.assertFalse(M.is_equivalent("1000001", "1000000"))         # integers and fractions stay exact
        self.assertFalse(M.is_equivalent(r"\frac{1}{3}", "0.3333"))
        cfg = dict(M.CONFIG, rel_tol=1e-2)
        self.assertTrue(M.is_equivalent(r"\pi", "3.14", cfg))
        self.assertTrue(M.is_equivalent("0.333", "0.3333", cfg))
        self.assertTrue(M.is_equivalent(r"\frac{1}{3}", "0.333", cfg))
        self.assertFalse(M.is_equivalent("0.333", "0.34", dict(M.CONFIG, rel_tol=1e-3)))

    def test_hostile_inputs_finish_and_score_zero(self):
        hostile = [r"\boxed{9^{9^{9^{9^{9}}}}}", r"\boxed{10^{10^{10}}}", r"\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",
                   r"\boxed{" + "\\frac{1}{" * 2000 + "2" + "}" * 2000 + "}", "1" * 100_000,
                   r"\boxed{" + "x+" * 3000 + "x}", r"\boxed{\sqrt[1000000]{2}}", r"\boxed{2^{-99999999}}",
                   "<answer>" * 10000, r"\boxed{" + "a " * 50 + "}", r"\boxed{((((((((((((1,2),3),4),5),6),7),8),9),10),11),12)}"]
        out = M.lambda_handler([sample(h, "1", f"h{i}") for i, h in enumerate(hostile)])
        self.assertEqual([o["aggregate_reward_score"] for o in out], [0.0] * len(hostile))

    def test_thread_safe(self):
        cases = helpers.load_cases("math")
        expected = [o.get("aggregate_reward_score") for o in M.lambda_handler(cases)]
        results, errors = [], []

        def work():
            try:
                for _ in range(3):
                    results.append([o.get("aggregate_reward_score") for o in M.lambda_handler(cases)])
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 24)
        for r in results:
            self.assertEqual(r, expected)

    def test_sympy_is_optional(self):
        cfg = dict(M.CONFIG, use_sympy=True)
        # without sympy installed this falls back to the numeric check and stays correct
        self.assertTrue(M.is_equivalent("x^2-1", "(x-1)(x+1)", cfg))
        self.assertFalse(M.is_equivalent("x^2-1", "(x-1)^2", cfg))


if __name__ == "__main__":
    unittest.main()
