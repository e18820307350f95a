"""Regenerates templates/math/cases.jsonl from the table below (run from the repo root).
Each row: (category, reference_answer, assistant response, expected_score)."""
import json, os

Q = "Solve the problem and give the final answer."
ROWS = [
 # --- extraction: \boxed with nested braces
 ("boxed", "5", r"So the total is \boxed{5}.", 1),
 ("boxed", "5", r"\boxed{6}", 0),
 ("boxed", r"\frac{3}{4}", r"We get $\boxed{\frac{3}{4}}$", 1),
 ("boxed", r"\frac{3}{4}", r"$\boxed{\frac{\left(3\right)}{\left\{4\right\}}}$", 1),
 ("boxed", "7", r"First \boxed{3}, then corrected: \boxed{7}", 1),
 ("boxed", "3", r"First \boxed{3}, then corrected: \boxed{7}", 0),
 ("boxed", r"x^{2}", r"\boxed{x^{2}}", 1),
 ("boxed", "12", r"\fbox{12}", 1),
 ("boxed", "9", r"The answer: \boxed 9", 1),
 ("boxed", "42", r"\boxed{{42}}", 1),
 ("boxed", "42", r"\boxed{42", 1),  # unbalanced box -> falls through to last number 42
 # --- #### N (GSM8K)
 ("hash", "72", "Natalia sold 48/2 = 24 clips in May.\n48 + 24 = 72\n#### 72", 1),
 ("hash", "72", "#### 71", 0),
 ("hash", "1200", "#### 1,200", 1),
 ("hash", "18", "She makes 9 * 2 = $18 every day.\n#### $18", 1),
 ("hash", "5", "#### five", 1),
 # --- <answer> tags
 ("answer_tag", "10", "<think>2*5</think><answer>10</answer>", 1),
 ("answer_tag", "10", "<think>2*5=10</think><answer>11</answer>", 0),
 ("answer_tag", r"\frac{1}{2}", r"<answer>\boxed{\frac{1}{2}}</answer>", 1),
 ("answer_tag", "3", "<answer> 3 </answer>", 1),
 ("answer_tag", "3", "reasoning...\n<answer>3", 1),
 # --- "the answer is" / "Answer:"
 ("answer_phrase", "-3", "So the answer is −3.", 1),
 ("answer_phrase", "14", "Answer: 14", 1),
 ("answer_phrase", "14", "Final answer: 14 because 7*2=14", 1),
 ("answer_phrase", "14", "The final answer is 15. Check: 7*2=14", 0),
 ("answer_phrase", "2.5", "The answer is 2.5.", 1),
 ("answer_phrase", "B", "The correct option is B", 1),
 # --- last number fallback
 ("last_number", "24", "Adding them gives 10 + 14 = 24", 1),
 ("last_number", "24", "Adding them gives 24 and then 25", 0),
 ("last_number", "-7", "The result comes out to −7", 1),
 ("last_number", "0.75", "so it is 3/4", 1),
 ("last_number", "1000", "total of 1,000", 1),
 # --- no answer -> 0
 ("no_answer", "5", "I don't know.", 0),
 ("no_answer", "5", "", 0),
 ("no_answer", "5", r"\boxed{}", 0),
 ("no_answer", "1", "Let me think about this problem carefully.", 0),
 # --- fractions: \frac \dfrac \tfrac, slash, mixed forms
 ("fraction", r"\frac{1}{2}", r"\boxed{\dfrac{1}{2}}", 1),
 ("fraction", r"\frac{1}{2}", r"\boxed{\tfrac12}", 1),
 ("fraction", r"\frac{1}{2}", r"\boxed{0.5}", 1),
 ("fraction", r"\frac{1}{2}", r"\boxed{1/2}", 1),
 ("fraction", r"\frac{1}{2}", r"\boxed{2/4}", 1),
 ("fraction", r"\frac{1}{2}", r"\boxed{\frac{1}{3}}", 0),
 ("fraction", r"\frac{2}{3}", r"\boxed{0.67}", 0),
 ("fraction", "-1/4", r"\boxed{-\frac{1}{4}}", 1),
 ("fraction", "-1/4", r"\boxed{\frac{-1}{4}}", 1),
 ("fraction", "-1/4", r"\boxed{\frac{1}{4}}", 0),
 ("fraction", r"\frac{7}{2}", r"\boxed{3\tfrac{1}{2}}", 1),  # mixed number 3 1/2
 ("fraction", r"-\frac{7}{2}", r"\boxed{-3\frac{1}{2}}", 1),
 ("fraction", r"\frac{3}{2}", r"\boxed{3\frac{1}{2}}", 0),
 # --- \left \right, \text{}, spacing, thin spaces
 ("latex", "6", r"\boxed{\left(6\right)}", 1),
 ("latex", "6", r"\boxed{\text{6}}", 1),
 ("latex", "6", r"\boxed{\mathbf{6}}", 1),
 ("latex", "1000", r"\boxed{1\,000}", 1),
 ("latex", "1000", "\\boxed{1\u2009000}", 1),
 ("latex", "1000", "\\boxed{1\u202f000}", 1),
 ("latex", "1000", r"\boxed{1{,}000}", 1),
 ("latex", "8", r"\[ \boxed{ 8 } \]", 1),
 ("latex", "8", r"\boxed{\displaystyle 8}", 1),
 # --- thousands separators
 ("thousands", "1234567", r"\boxed{1,234,567}", 1),
 ("thousands", "1234567", r"\boxed{1,234,568}", 0),
 ("thousands", "5100", r"\boxed{5,100}", 1),
 ("thousands", "5100", r"\boxed{5,101}", 0),
 ("thousands", "1234.5", r"\boxed{1,234.50}", 1),
 # --- percentages
 ("percent", "50", r"\boxed{50\%}", 1),
 ("percent", "0.5", r"\boxed{50\%}", 1),
 ("percent", "50%", r"\boxed{50}", 1),
 ("percent", "50%", r"\boxed{50\%}", 1),
 ("percent", "25", r"\boxed{20\%}", 0),
 ("percent", "12.5", "The answer is 12.5 percent.", 1),
 # --- units
 ("units", "12", r"\boxed{12 \text{ cm}^2}", 1),
 ("units", "12", r"\boxed{12\text{ cm}}", 1),
 ("units", "60", r"\boxed{60 \text{ km/h}}", 1),
 ("units", "5", r"\boxed{5 \text{ meters}}", 1),
 ("units", "5", r"\boxed{6 \text{ meters}}", 0),
 ("units", "90", r"\boxed{90^\circ}", 1),
 ("units", "90", "\\boxed{90°}", 1),
 ("units", "45", r"\boxed{45^{\circ}}", 1),
 ("units", "3", r"\boxed{3 \text{ hours}}", 1),
 ("units", "20", r"\boxed{20 \text{ students}}", 1),
 # --- currency
 ("currency", "12", r"\boxed{\$12}", 1),
 ("currency", "12", r"\boxed{\$12.00}", 1),
 ("currency", "12.5", "#### $12.50", 1),
 ("currency", "12", "\\boxed{€12}", 1),
 ("currency", "12", r"\boxed{12 \text{ dollars}}", 1),
 ("currency", "12", r"\boxed{\$13}", 0),
 # --- unicode minus, sqrt, pi
 ("unicode", "-5", "\\boxed{\u22125}", 1),
 ("unicode", "-5", "\\boxed{\u20135}", 1),
 ("unicode", "5", "\\boxed{\u22125}", 0),
 ("unicode", r"\sqrt{2}", "\\boxed{√2}", 1),
 ("unicode", r"2\sqrt{3}", "\\boxed{2√3}", 1),
 ("unicode", r"2\sqrt{3}", r"\boxed{\sqrt{12}}", 1),
 ("unicode", r"2\sqrt{3}", r"\boxed{3\sqrt{2}}", 0),
 ("unicode", r"\pi", "\\boxed{π}", 1),
 ("unicode", r"2\pi", "\\boxed{2π}", 1),
 ("unicode", r"2\pi", r"\boxed{6.28}", 0),
 ("unicode", r"\frac{\pi}{2}", r"\boxed{\pi/2}", 1),
 ("unicode", r"\frac{\sqrt{2}}{2}", r"\boxed{\frac{1}{\sqrt{2}}}", 1),
 ("unicode", r"\sqrt[3]{8}", r"\boxed{2}", 1),
 # --- trailing zeros
 ("trailing_zeros", "2.5", r"\boxed{2.50}", 1),
 ("trailing_zeros", "2", r"\boxed{2.000}", 1),
 ("trailing_zeros", "2.50", r"\boxed{2.5}", 1),
 ("trailing_zeros", "2.5", r"\boxed{2.05}", 0),
 ("trailing_zeros", "100", r"\boxed{100.0}", 1),
 # --- scientific notation
 ("scientific", "1500", r"\boxed{1.5e3}", 1),
 ("scientific", "1500", r"\boxed{1.5E3}", 1),
 ("scientific", "2500", r"\boxed{2.5 \times 10^3}", 1),
 ("scientific", "2500", r"\boxed{2.5 \times 10^{3}}", 1),
 ("scientific", "2500", "\\boxed{2.5×10³}", 1),
 ("scientific", "0.00012", r"\boxed{1.2 \cdot 10^{-4}}", 1),
 ("scientific", "2500", r"\boxed{2.5 \times 10^4}", 0),
 ("scientific", r"6.02 \times 10^{23}", r"\boxed{6.02e23}", 1),
 # --- repeating decimals
 ("repeating", r"\frac{1}{3}", r"\boxed{0.\overline{3}}", 1),
 ("repeating", r"\frac{1}{3}", r"\boxed{0.(3)}", 1),
 ("repeating", r"\frac{1}{3}", r"\boxed{0.333...}", 1),
 ("repeating", r"\frac{1}{3}", r"\boxed{0.333}", 0),
 ("repeating", r"\frac{1}{6}", r"\boxed{0.1\overline{6}}", 1),
 ("repeating", r"\frac{1}{7}", r"\boxed{0.\overline{142857}}", 1),
 ("repeating", r"\frac{4}{33}", r"\boxed{0.\overline{12}}", 1),
 ("repeating", r"\frac{2}{3}", r"\boxed{0.\dot{6}}", 1),
 ("repeating", "0.\\overline{3}", r"\boxed{\frac13}", 1),
 # --- multiple choice letters
 ("choice", "B", "The answer is (B).", 1),
 ("choice", "B", r"\boxed{B}", 1),
 ("choice", "B", r"\boxed{\text{(B)}}", 1),
 ("choice", "B", "Answer: B) 42", 1),
 ("choice", "B", "Answer: option B", 1),
 ("choice", "B", r"\boxed{C}", 0),
 ("choice", "(D)", "The answer is D.", 1),
 ("choice", "A", "The answer is B.", 0),
 ("choice", "B", "The answer is B or C.", 0),
 ("choice", "B", r"\boxed{B, D}", 0),
 # --- number words up to twenty
 ("words", "7", r"\boxed{\text{seven}}", 1),
 ("words", "7", "The answer is seven.", 1),
 ("words", "20", "The answer is twenty.", 1),
 ("words", "0", "The answer is zero.", 1),
 ("words", "12", "The answer is twelve apples.", 1),
 ("words", "13", "The answer is twelve.", 0),
 ("words", "eleven", r"\boxed{11}", 1),
 # --- numeric tolerance
 ("tolerance", "3.14159265", r"\boxed{\pi}", 1),
 ("tolerance", r"\pi", r"\boxed{3.14}", 0),
 ("tolerance", r"\sqrt{2}", r"\boxed{1.41421356}", 1),
 ("tolerance", r"\sqrt{2}", r"\boxed{1.414}", 0),
 ("tolerance", "1000001", r"\boxed{1000000}", 0),
 # a decimal on either side compares within rel_tol (1e-6): 0.1000000001 is 0.1, 0.1001 is not
 ("tolerance", "0.1", r"\boxed{0.1000000001}", 1),
 ("tolerance", "0.1", r"\boxed{0.1001}", 0),
 ("tolerance", "1000000", r"\boxed{1000001}", 0),
 # --- tuples (ordered)
 ("tuple", "(1, 2)", r"\boxed{(1,2)}", 1),
 ("tuple", "(1, 2)", r"\boxed{(2,1)}", 0),
 ("tuple", "(1, 2)", r"\boxed{\left(1, 2\right)}", 1),
 ("tuple", r"(\frac{1}{2}, -3)", r"\boxed{(0.5, -3)}", 1),
 ("tuple", "(1, 2, 3)", r"\boxed{(1, 2)}", 0),
 ("tuple", "(3, 4)", r"The point is $(3, 4)$, so the answer is (3, 4).", 1),
 # --- sets (unordered)
 ("set", r"\{1, 2, 3\}", r"\boxed{\{3, 1, 2\}}", 1),
 ("set", r"\{1, 2, 3\}", r"\boxed{\{1, 2\}}", 0),
 ("set", r"\{1, 2, 3\}", r"\boxed{\{1, 2, 4\}}", 0),
 ("set", "2, 3", r"\boxed{3, 2}", 1),
 ("set", "2, 3", r"\boxed{x = 3, 2}", 1),
 ("set", "2, 3", r"\boxed{x = 3, 4}", 0),
 ("set", r"-2, 3", r"\boxed{3, -2}", 1),
 ("set", r"\emptyset", r"\boxed{\varnothing}", 1),
 ("set", r"\{\sqrt{2}, -\sqrt{2}\}", r"\boxed{\pm\sqrt{2}}", 1),  # ± gives both values
 ("set", "-2, 2", r"\boxed{x = \pm 2}", 1),
 ("set", "2", r"\boxed{\pm 2}", 0),
 ("set", r"1+\sqrt{2}, 1-\sqrt{2}", r"\boxed{1 \pm \sqrt{2}}", 1),
 # --- intervals
 ("interval", "[1, 3)", r"\boxed{[1,3)}", 1),
 ("interval", "[1, 3)", r"\boxed{[1,3]}", 0),
 ("interval", "[1, 3)", r"\boxed{(1,3)}", 0),
 ("interval", r"(-\infty, 3]", r"\boxed{(-\infty,3]}", 1),
 ("interval", r"(-\infty, 3]", r"\boxed{x \le 3}", 1),
 ("interval", r"(-\infty, 3]", r"\boxed{x < 3}", 0),
 ("interval", r"(2, \infty)", r"\boxed{x > 2}", 1),
 ("interval", r"(2, \infty)", "\\boxed{(2, ∞)}", 1),
 ("interval", r"[-1, 1]", r"\boxed{-1 \leq x \leq 1}", 1),
 ("interval", r"(-\infty, -1) \cup (1, \infty)", r"\boxed{(1, \infty) \cup (-\infty, -1)}", 1),
 ("interval", r"(-\infty, -1) \cup (1, \infty)", r"\boxed{(-\infty, -1) \cup [1, \infty)}", 0),
 ("interval", r"[0, \frac{1}{2}]", r"\boxed{[0, 0.5]}", 1),
 # --- algebraic expressions (random points)
 ("expression", "2x+2", r"\boxed{2(x+1)}", 1),
 ("expression", "x^2-1", r"\boxed{(x-1)(x+1)}", 1),
 ("expression", "x^2-1", r"\boxed{(x-1)^2}", 0),
 ("expression", "x+1", r"\boxed{1+x}", 1),
 ("expression", "x+1", r"\boxed{y+1}", 0),
 ("expression", r"\frac{x}{2}", r"\boxed{0.5x}", 1),
 ("expression", r"\frac{x+1}{x-1}", r"\boxed{\frac{1+x}{x-1}}", 1),
 ("expression", r"\frac{x+1}{x-1}", r"\boxed{\frac{x-1}{x+1}}", 0),
 ("expression", r"a^2+2ab+b^2", r"\boxed{(a+b)^2}", 1),
 ("expression", r"\sqrt{x}", r"\boxed{x^{1/2}}", 1),
 ("expression", r"2\pi r", r"\boxed{2 \pi r}", 1),
 ("expression", r"\pi r^2", r"\boxed{2 \pi r}", 0),
 ("expression", r"e^{x}", r"\boxed{\exp(x)}", 1),
 ("expression", "3x", r"\boxed{3 \cdot x}", 1),
 ("expression", r"\sqrt{x-5}", r"\boxed{\sqrt{x - 5}}", 1),   # undefined on (0.3, 2.7): wider points
 ("expression", r"\sqrt{x-5}", r"\boxed{\sqrt{x-6}}", 0),
 ("expression", r"\ln(-x)", r"\boxed{\log(-x)}", 1),
 ("expression", "x", r"\boxed{\sqrt{x^2}}", 0),      # |x|, not x
 ("expression", r"\sqrt{x}", r"\boxed{\sqrt{x}}", 1),   # defined on half the points only
 # --- equations
 ("equation", "y = 2x + 1", r"\boxed{2x+1}", 1),
 ("equation", "y = 2x + 1", r"\boxed{y = 2x + 1}", 1),
 ("equation", "y = 2x + 1", r"\boxed{y = 2x - 1}", 0),
 ("equation", "x = 5", r"\boxed{5}", 1),
 ("equation", "x = 5", r"\boxed{x=5}", 1),
 ("equation", "x = 5", r"\boxed{x=6}", 0),
 ("equation", "x^2 + y^2 = 1", r"\boxed{y^2 + x^2 - 1 = 0}", 1),
 ("equation", "x^2 + y^2 = 1", r"\boxed{x^2 + y^2 = 2}", 0),
 # --- words
 ("text", "Tuesday", r"The answer is \textbf{Tuesday}.", 1),
 ("text", "Tuesday", "The answer is Monday.", 0),
 ("text", "yes", r"\boxed{Yes}", 1),
 ("text", "yes", r"\boxed{No}", 0),
 # --- hostile / bounded inputs: no hang, no false accept
 ("hostile", "4", r"\boxed{9^{9^{9^{9}}}}", 0),
 ("hostile", "1", r"\boxed{10^{100000}}", 0),
 ("hostile", "1", r"\boxed{1^{100000}}", 1),
 ("hostile", "2", r"\boxed{" + "(" * 200 + "2" + ")" * 200 + "}", 0),
 ("hostile", "2", "2 " * 5000 + r"\boxed{3}", 0),
 ("hostile", "3", "2 " * 5000 + r"\boxed{3}", 1),
 ("hostile", "5", r"\boxed{" + "{" * 300 + "5", 1),  # unbalanced box: last number 5
 ("hostile", "6", r"\boxed{" + "{" * 300 + "5", 0),
 ("hostile", "5", r"\boxed{__import__('os').system('true')}", 0),
 ("hostile", "0", r"\boxed{\frac{1}{0}}", 0),
 ("hostile", "7", r"\boxed{7 and also 8}", 0),
 # a reference that cannot be parsed is an error for that sample, never a reward (rft: handler_error)
 ("bad_reference", "x^{", r"\boxed{x^{}", "handler_error"),
 ("bad_reference", "", r"\boxed{1}", "handler_error"),
 ("bad_reference", r"\frac{1}{0}", r"\boxed{\frac{1}{0}}", "handler_error"),
 ("bad_reference", "(1, 2", r"\boxed{(1, 2}", "handler_error"),
]

def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    counts = {}
    with open(os.path.join(root, "templates/math/cases.jsonl"), "w", encoding="utf-8") as f:
        for cat, gold, resp, exp in ROWS:
            counts[cat] = counts.get(cat, 0) + 1
            sid = f"{cat}-{counts[cat]:02d}"
            case = {"id": sid, "messages": [{"role": "user", "content": Q}, {"role": "assistant", "content": resp}],
                    "reference_answer": gold}
            if isinstance(exp, str):
                case["expected_error"] = exp
            else:
                case["expected_score"] = float(exp)
            if counts[cat] % 3 == 0:   # exercise both placements of the reference
                case["metadata"] = {"reference_answer": case.pop("reference_answer")}
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(len(ROWS), "cases", counts)

if __name__ == "__main__":
    main()
