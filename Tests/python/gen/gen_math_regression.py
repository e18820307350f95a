"""Regenerates templates/math/regression.jsonl (run from the repo root): the math template's public
regression set, one sample per line with its hand-checked "expected_score".

Two tables, every verdict written by hand (never computed by the grader):
  PAIRS      (category, reference, [answers that are right], [answers that are wrong]); each answer is
             wrapped in one of the response styles real models write (\\boxed{}, Minerva's "Final Answer:
             The final answer is ...", GSM8K "####", prose "the answer is"), chosen in turn;
  RESPONSES  (category, reference, whole response, expected score) for what wrapping cannot show:
             answer precedence, self-corrections, answer spraying, markup.

`rft grader test templates/math --cases templates/math/regression.jsonl` and
Tests/python/test_math_template.py run every row and require every verdict.
"""
import json
import os
import re

Q = "Solve the problem. Put the final answer at the end."

# ----------------------------------------------------------------------------- response styles

MATH_STYLES = [
    lambda a: f"Let me work through this step by step.\n\nTherefore, the answer is $\\boxed{{{a}}}$.",
    lambda a: f"We compute the result carefully.\n\nFinal Answer: The final answer is ${a}$. I hope it is correct.",
    lambda a: f"Putting the pieces together, the answer is ${a}$.",
    lambda a: f"Solution: combine the two results.\n\n$$\\boxed{{{a}}}$$",
]
NUMBER_STYLES = MATH_STYLES + [
    lambda a: f"She has 3 + 4 = 7 left after the first step.\nThen the rest follows.\n#### {a}",
]
TEXT_STYLES = [
    lambda a: f"Checking each case, the answer is {a}.",
    lambda a: f"**Answer:** {a}",
    lambda a: f"Final Answer: The final answer is {a}. I hope it is correct.",
]
_PLAIN_NUMBER = re.compile(r"^-?[\d,]+(?:\.\d+)?$")


def _styles(answer):
    if _PLAIN_NUMBER.match(answer):
        return NUMBER_STYLES
    if re.search(r"[A-Za-z]{3,}", answer.replace("\\", " ").split("{")[0]) and "\\" not in answer:
        return TEXT_STYLES
    return MATH_STYLES


# ----------------------------------------------------------------------------- wrapped answers

PAIRS = [
    # --- plain numbers (GSM8K and friends)
    ("number", "18", ["18", "18.0", "$18", "18 dollars", "\\$18.00"], ["17", "19", "1.8", "180"]),
    ("number", "72", ["72", "72.00", "72 clips"], ["71", "27", "7.2"]),
    ("number", "1200", ["1200", "1,200", "1{,}200", "1\\,200", "1200.0"], ["120", "12000", "1,201"]),
    ("number", "-3", ["-3", "−3", "-3.0", "(-3)"], ["3", "-2", "-33"]),
    ("number", "0", ["0", "0.0", "-0"], ["1", "0.1"]),
    ("number", "1000001", ["1000001", "1,000,001"], ["1000000", "1,000,000", "1000002"]),
    ("number", "624", ["624", "624 square feet"], ["625", "62.4"]),
    ("number", "3.75", ["3.75", "3.750", "\\frac{15}{4}", "3\\frac{3}{4}", "15/4"], ["3.7", "3.8", "\\frac{15}{5}"]),
    ("number", "0.125", ["0.125", "\\frac{1}{8}", ".125", "1/8"], ["0.12", "0.13", "\\frac{1}{4}"]),
    ("number", "45", ["45", "45\\%", "45^\\circ", "45°"], ["44", "54"]),
    ("number", "\\frac{1}{2}", ["\\frac{1}{2}", "\\dfrac{1}{2}", "0.5", "\\frac{2}{4}", "1/2"], ["\\frac{1}{3}", "2", "0.55"]),
    ("number", "\\frac{7}{3}", ["\\frac{7}{3}", "2\\frac{1}{3}", "\\frac{14}{6}"], ["\\frac{3}{7}", "2.33", "\\frac{7}{4}"]),
    ("number", "-\\frac{2}{5}", ["-\\frac{2}{5}", "\\frac{-2}{5}", "-0.4", "-2/5"], ["\\frac{2}{5}", "-\\frac{5}{2}"]),
    ("number", "25", ["25", "25.", "+25"], ["24", "2.5", "-25"]),
    ("number", "5", ["5", "five", "\\text{5}", "\\mathbf{5}"], ["6", "four", "50"]),
    # --- irrational values and constants
    ("radical", "\\sqrt{2}", ["\\sqrt{2}", "\\sqrt 2", "2^{1/2}", "\\frac{2}{\\sqrt{2}}", "1.41421356"], ["\\sqrt{3}", "1.41", "2"]),
    ("radical", "2\\sqrt{3}", ["2\\sqrt{3}", "\\sqrt{12}", "2 \\sqrt 3"], ["3\\sqrt{2}", "\\sqrt{6}", "2"]),
    ("radical", "\\frac{\\sqrt{3}}{2}", ["\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", "\\frac{3}{2\\sqrt{3}}"], ["\\frac{\\sqrt{2}}{2}", "\\frac{1}{2}"]),
    ("radical", "3+2\\sqrt{2}", ["3+2\\sqrt{2}", "2\\sqrt{2}+3", "(1+\\sqrt{2})^2"], ["3-2\\sqrt{2}", "5\\sqrt{2}"]),
    ("pi", "25\\pi", ["25\\pi", "25 \\pi", "\\pi \\cdot 25"], ["5\\pi", "25", "78.5"]),
    ("pi", "\\frac{\\pi}{4}", ["\\frac{\\pi}{4}", "\\pi/4", "0.25\\pi", "\\frac{1}{4}\\pi"], ["\\frac{\\pi}{2}", "\\frac{4}{\\pi}"]),
    ("pi", "2\\pi", ["2\\pi", "6.28318531"], ["\\pi", "6.28"]),
    ("constant", "e^2", ["e^2", "e^{2}", "\\exp(2)"], ["2e", "e^3"]),
    # --- closed forms that must be evaluated
    ("closed_form", "10", ["\\binom{5}{2}", "\\dbinom{5}{2}", "{5 \\choose 2}", "\\binom{5}{3}", "10"], ["\\binom{5}{1}", "\\binom{6}{2}"]),
    ("closed_form", "20", ["\\binom{6}{3}", "\\tbinom{6}{3}", "\\frac{6!}{3!3!}"], ["\\binom{6}{2}", "6!"]),
    ("closed_form", "120", ["5!", "120", "5 \\cdot 4!", "\\frac{6!}{6}"], ["4!", "6!", "60"]),
    ("closed_form", "720", ["6!", "3!\\cdot 5!", "720"], ["7!", "5!"]),
    ("closed_form", "3", ["\\log_2 8", "\\log_{2} 8", "\\log_2(8)", "\\log_{10} 1000", "|-3|", "\\lfloor 3.7 \\rfloor",
                          "\\lceil 2.1 \\rceil", "\\left| -3 \\right|", "\\log_3 27"],
     ["\\log_2 16", "-|-3|", "\\lceil 3.7 \\rceil", "\\lfloor 2.9 \\rfloor", "\\log_3 9"]),
    ("closed_form", "4", ["\\log_3 81", "\\log_{5}625", "\\lceil \\pi \\rceil", "\\lfloor 4.999 \\rfloor", "|2-6|", "\\left\\lvert -4 \\right\\rvert"],
     ["\\log_3 27", "\\lfloor \\pi \\rfloor", "|2+6|"]),
    ("closed_form", "7", ["|-7|", "\\lvert -7 \\rvert", "\\left|7\\right|", "\\lfloor 7.5 \\rfloor", "\\lceil 6.01 \\rceil"],
     ["-7", "\\lceil 7.5 \\rceil", "|-8|"]),
    ("closed_form", "\\frac{1}{2}", ["{1}\\over{2}", "{1 \\over 2}", "\\frac{1}{2}", "{2 \\over 4}"], ["{2}\\over{1}", "{1 \\over 3}"]),
    ("closed_form", "\\frac{3}{4}", ["{3 \\over 4}", "{3}\\over{4}", "0.75"], ["{4 \\over 3}", "{3 \\over 5}"]),
    ("closed_form", "\\binom{8}{2}", ["28", "\\binom{8}{6}", "\\frac{8 \\cdot 7}{2}"], ["56", "\\binom{8}{3}"]),
    ("closed_form", "5!", ["120", "5!", "1\\cdot 2\\cdot 3\\cdot 4\\cdot 5"], ["24", "5"]),
    ("closed_form", "\\log_2 32", ["5", "\\log_2 32", "5.0"], ["32", "16", "4"]),
    ("closed_form", "2\\sqrt{5}", ["\\sqrt{20}", "|-2\\sqrt{5}|"], ["\\sqrt{10}", "-2\\sqrt{5}"]),
    # --- unicode
    ("unicode", "\\sqrt{2}", ["√2", "√(2)", "1.4142136"], ["√3", "√2/2"]),
    ("unicode", "3\\sqrt{5}", ["3√5", "√45", "3 √5"], ["5√3", "√15"]),
    ("unicode", "25\\pi", ["25π", "25 π", "π·25"], ["5π", "25"]),
    ("unicode", "\\frac{\\pi}{2}", ["π/2", "½π", "0.5π"], ["2π", "π/3"]),
    ("unicode", "-7", ["−7", "–7", "-7"], ["7", "−8"]),
    ("unicode", "\\frac{3}{4}", ["¾", "3⁄4"], ["¼", "⅓"]),
    ("unicode", "x^2", ["x²", "x^2", "x·x"], ["x³", "2x"]),
    # --- number words
    ("words", "-5", ["negative five", "minus five", "-5"], ["five", "negative four"]),
    ("words", "12", ["twelve", "Twelve", "twelve apples"], ["eleven", "twenty"]),
    ("words", "24", ["twenty-four", "twenty four", "Twenty-four"], ["twenty-five", "forty-two"]),
    ("words", "105", ["one hundred and five", "one hundred five"], ["one hundred fifty", "fifteen"]),
    ("words", "3200", ["three thousand two hundred", "3,200"], ["three thousand", "two thousand three hundred"]),
    ("words", "0", ["zero", "Zero"], ["one", "ten"]),
    ("words", "\\frac{3}{4}", ["three quarters", "three fourths", "0.75"], ["three thirds", "one quarter"]),
    ("words", "\\frac{1}{2}", ["one half", "a half", "0.5"], ["two halves", "one third"]),
    ("words", "\\frac{3}{8}", ["3 out of 8", "0.375", "\\frac{3}{8}"], ["3 out of 5", "5 out of 8", "3"]),
    ("words", "\\frac{2}{5}", ["2 out of 5", "4 out of 10", "40\\%"], ["2 out of 3", "5 out of 2"]),
    # --- scientific notation
    ("scientific", "2500", ["2.5 x 10^3", "2.5 \\times 10^3", "2.5 × 10^3", "2.5 X 10^3", "2.5e3", "2.5 \\cdot 10^{3}", "2.5×10³"],
     ["2.5 x 10^4", "2.5 \\times 10^2", "25"]),
    ("scientific", "0.0012", ["1.2 x 10^-3", "1.2 \\times 10^{-3}", "1.2e-3", "1.2 × 10⁻³"], ["1.2 \\times 10^{3}", "1.2 x 10^-2"]),
    ("scientific", "6.02 \\times 10^{23}", ["6.02 \\times 10^{23}", "6.02e23", "6.02 x 10^23", "602000000000000000000000"],
     ["6.02 \\times 10^{22}", "6.2 \\times 10^{23}"]),
    ("scientific", "3 \\times 10^8", ["300000000", "3 x 10^8", "3e8", "3.0 \\times 10^{8}"], ["3 x 10^9", "30000000"]),
    # --- matrices and vectors
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     ["\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\\\ \\end{pmatrix}",
      "\\begin{pmatrix} \\frac{2}{2} & 2 \\\\ 3 & 2^2 \\end{pmatrix}"],
     ["\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 & 3 & 4 \\end{pmatrix}", "10"]),
    ("matrix", "\\begin{pmatrix} -1 & 0 \\\\ \\frac{1}{2} & 3 \\end{pmatrix}",
     ["\\begin{pmatrix} -1 & 0 \\\\ 0.5 & 3 \\end{pmatrix}", "\\begin{bmatrix} -1 & 0 \\\\ 1/2 & 3 \\end{bmatrix}"],
     ["\\begin{pmatrix} 1 & 0 \\\\ \\frac{1}{2} & 3 \\end{pmatrix}", "\\begin{pmatrix} -1 & \\frac{1}{2} \\\\ 0 & 3 \\end{pmatrix}"]),
    ("matrix", "\\begin{pmatrix} 2 \\\\ -1 \\\\ 5 \\end{pmatrix}",
     ["\\begin{pmatrix} 2 \\\\ -1 \\\\ 5 \\end{pmatrix}", "(2, -1, 5)", "\\begin{bmatrix} 2 \\\\ -1 \\\\ 5 \\end{bmatrix}"],
     ["\\begin{pmatrix} 2 \\\\ 1 \\\\ 5 \\end{pmatrix}", "(5, -1, 2)", "\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}"]),
    ("matrix", "\\begin{pmatrix} \\frac{1}{3} \\\\ \\frac{2}{3} \\end{pmatrix}",
     ["\\begin{pmatrix} 1/3 \\\\ 2/3 \\end{pmatrix}", "\\left(\\frac{1}{3}, \\frac{2}{3}\\right)"],
     ["\\begin{pmatrix} \\frac{2}{3} \\\\ \\frac{1}{3} \\end{pmatrix}", "\\begin{pmatrix} 0.33 \\\\ 0.67 \\end{pmatrix}"]),
    # --- ratios
    ("ratio", "3:2", ["3:2", "3 : 2", "6:4", "\\frac{3}{2}", "1.5"], ["2:3", "3:1", "5"]),
    ("ratio", "1:4", ["1:4", "2:8", "0.25"], ["4:1", "1:3"]),
    ("ratio", "2:3:4", ["2:3:4", "4:6:8"], ["2:4:3", "2:3", "4:3:2"]),
    # --- base subscripts
    ("base", "1011_2", ["1011_2", "1011_{2}", "1011", "(1011)_2", "01011_2"], ["1101_2", "11", "1011_{10}", "1010_2"]),
    ("base", "A3_{16}", ["A3_{16}", "a3_{16}", "A3_16"], ["A4_{16}", "3A_{16}"]),
    ("base", "2012_3", ["2012_3", "2012_{3}", "2012"], ["2021_3", "59", "2012_4"]),
    ("base", "59", ["59", "2012_3"], ["2012", "58"]),
    # --- equations and function prefixes: compare the right-hand side
    ("equation_prefix", "x^2", ["f(x)=x^2", "f(x) = x^{2}", "y = x^2", "g(x) = x \\cdot x"], ["f(x) = 2x", "y = x^3", "f(x) = x^2 + 1"]),
    ("equation_prefix", "\\frac{x-3}{2}", ["f^{-1}(x) = \\frac{x-3}{2}", "f^{-1}(x)=\\frac{x}{2}-\\frac{3}{2}", "y = \\frac{x-3}{2}", "\\frac{1}{2}(x-3)"],
     ["f^{-1}(x) = \\frac{x+3}{2}", "f^{-1}(x) = 2x+3", "\\frac{x-2}{3}"]),
    ("equation_prefix", "2x+1", ["y = 2x + 1", "f(x) = 2x+1", "1+2x", "y=1+2x"], ["y = 2x - 1", "f(x) = x+1"]),
    ("equation_prefix", "y = -3x + 6", ["y = -3x + 6", "-3x+6", "y = 6 - 3x", "f(x) = -3x+6", "3x + y = 6"], ["y = 3x + 6", "y = -3x - 6"]),
    ("equation_prefix", "6x", ["f'(x) = 6x", "6x", "y' = 6x"], ["f'(x) = 3x^2", "6"]),
    ("equation_prefix", "5", ["x = 5", "x=5", "a = 5", "n = 5"], ["x = -5", "x = 6"]),
    # --- sets, ± and lists
    ("set", "(-\\infty, \\infty)", ["\\mathbb{R}", "(-\\infty,\\infty)", "\\mathbb R", "ℝ", "x \\in \\mathbb{R}", "all real numbers"],
     ["(0, \\infty)", "[0, \\infty)", "\\mathbb{Z}"]),
    ("set", "\\mathbb{R}", ["(-\\infty, \\infty)", "\\mathbb{R}", "all real numbers"], ["(-\\infty, 0)", "(0, \\infty)"]),
    ("set", "\\pm 2", ["x = 2 and x = -2", "x = 2 or x = -2", "2, -2", "-2, 2", "x = \\pm 2", "\\pm 2", "2 and -2", "\\{-2, 2\\}"],
     ["2", "-2", "x = 2 and x = 3", "4, -4"]),
    ("set", "1 \\pm \\sqrt{3}", ["1+\\sqrt{3}, 1-\\sqrt{3}", "x = 1 + \\sqrt{3} \\text{ or } x = 1 - \\sqrt{3}", "1 - \\sqrt{3} \\text{ and } 1 + \\sqrt{3}"],
     ["1+\\sqrt{3}", "-1 \\pm \\sqrt{3}"]),
    ("set", "5, 7", ["5 and 7", "7 and 5", "5, 7", "\\{5, 7\\}", "x = 5 \\text{ or } x = 7"], ["5", "7", "5 and 8", "5, 7, 9"]),
    ("set", "\\{1, 2, 3\\}", ["1, 2, and 3", "\\{3, 2, 1\\}", "1, 2, 3"], ["1, 2", "\\{1, 2, 4\\}"]),
    ("set", "-3, \\frac{1}{2}", ["x = -3 \\text{ or } x = \\frac{1}{2}", "\\frac{1}{2}, -3", "-3 and 0.5"], ["3, \\frac{1}{2}", "-3"]),
    ("set", "\\emptyset", ["\\emptyset", "\\varnothing", "\\{\\}"], ["0", "\\{0\\}"]),
    # --- inequalities against intervals
    ("interval", "(-\\infty, 3]", ["x \\le 3", "x \\leq 3", "(-\\infty,3]", "3 \\geq x", "x≤3"], ["x < 3", "[3, \\infty)", "(-\\infty, 3)"]),
    ("interval", "(2, \\infty)", ["x > 2", "(2,\\infty)", "2 < x", "x>2"], ["x \\ge 2", "[2, \\infty)", "x < 2"]),
    ("interval", "x > 2", ["(2, \\infty)", "x > 2", "2<x"], ["[2, \\infty)", "x > 3"]),
    ("interval", "[-1, 1]", ["-1 \\le x \\le 1", "[-1,1]", "-1 \\leq x \\leq 1"], ["-1 < x < 1", "(-1, 1]", "[-1, 2]"]),
    ("interval", "-1 \\le x < 4", ["[-1, 4)", "-1 \\leq x < 4"], ["(-1, 4)", "[-1, 4]"]),
    ("interval", "(-\\infty, -1) \\cup (2, \\infty)", ["x < -1 \\text{ or } x > 2", "(2, \\infty) \\cup (-\\infty, -1)", "x<-1 or x>2"],
     ["x < -1 \\text{ or } x > 3", "(-1, 2)", "x \\le -1 \\text{ or } x > 2"]),
    ("interval", "[0, \\frac{1}{2})", ["[0, 0.5)", "0 \\le x < \\frac{1}{2}"], ["[0, 0.5]", "(0, 0.5)"]),
    # --- expressions
    ("expression", "x^2-1", ["(x-1)(x+1)", "x^2 - 1", "-1 + x^2"], ["(x-1)^2", "x^2+1"]),
    ("expression", "\\frac{x+1}{x-1}", ["\\frac{1+x}{x-1}", "\\frac{-x-1}{1-x}"], ["\\frac{x-1}{x+1}", "x+1"]),
    ("expression", "2\\pi r", ["2 \\pi r", "2r\\pi", "\\pi \\cdot 2r"], ["\\pi r^2", "2r"]),
    ("expression", "a^2+2ab+b^2", ["(a+b)^2", "(b+a)^2"], ["(a-b)^2", "a^2+b^2"]),
    ("expression", "\\sqrt{x}", ["x^{1/2}", "\\sqrt{x}", "x^{0.5}"], ["x^2", "\\frac{x}{2}"]),
    ("expression", "3n+2", ["2 + 3n", "3n + 2", "n + n + n + 2"], ["3n-2", "2n+3"]),
    # --- tuples and choices
    ("tuple", "(2, 3)", ["(2, 3)", "(2,3)", "x = 2, y = 3", "\\left(2, 3\\right)"], ["(3, 2)", "(2, 4)", "2"]),
    ("tuple", "(-1, \\frac{1}{2})", ["(-1, 0.5)", "\\left(-1, \\frac{1}{2}\\right)"], ["(1, 0.5)", "(0.5, -1)"]),
    ("choice", "C", ["C", "(C)", "\\text{(C)}", "C) 7"], ["B", "(D)", "A"]),
    ("choice", "B", ["B", "(B)", "\\textbf{(B)}", "option B"], ["C", "(A)"]),
    # --- words and yes/no
    ("text", "Tuesday", ["Tuesday", "tuesday", "\\text{Tuesday}"], ["Monday", "Wednesday"]),
    ("text", "yes", ["yes", "Yes"], ["no", "No"]),
    # --- percentages and units
    ("percent", "25\\%", ["25\\%", "25", "0.25", "25 percent"], ["2.5\\%", "75\\%"]),
    ("percent", "40", ["40\\%", "40", "40 percent"], ["4\\%", "60"]),
    ("units", "12", ["12 \\text{ cm}^2", "12 cm", "12\\,\\mathrm{m}", "12 \\text{ meters}"], ["13 \\text{ cm}", "1.2 \\text{ cm}"]),
    ("units", "90", ["90^\\circ", "90^{\\circ}", "90 degrees", "90°"], ["180^\\circ", "45^\\circ"]),
    # --- decimals compare within rel_tol (1e-6 in config.json)
    ("decimal", "3.14159265", ["3.1415926", "3.14159265", "\\pi"], ["3.14", "3.1416"]),
    ("decimal", "\\frac{1}{3}", ["0.3333333", "0.\\overline{3}", "0.(3)", "\\frac{2}{6}"], ["0.333", "0.33", "0.3"]),
    ("decimal", "0.1", ["0.1", "0.10", "\\frac{1}{10}", "0.1000000001"], ["0.11", "0.01", "0.1001"]),
    ("decimal", "2.718281828", ["e", "2.7182818"], ["2.72", "2.71"]),
    ("decimal", "1.41421356", ["\\sqrt{2}", "1.414213562"], ["1.414", "1.4142"]),
    ("decimal", "12.5", ["12.5", "12.50", "\\frac{25}{2}", "12\\frac{1}{2}"], ["12.4", "12.05", "125"]),
    ("decimal", "1000000", ["1000000", "10^6", "1 000 000"], ["999999", "1000001", "100000"]),
]

# ----------------------------------------------------------------------------- whole responses

RESPONSES = [
    # --- answer precedence: the last stated answer wins; a correction overrides an earlier answer
    ("precedence", "8", "The answer is 7. Wait, let me recheck: 3 + 5 = 8. The answer is 8.", 1),
    ("precedence", "7", "The answer is 7. Wait, let me recheck: 3 + 5 = 8. The answer is 8.", 0),
    ("precedence", "15", "Adding the parts, the answer is 12.\n\nFinal Answer: The final answer is $15$. I hope it is correct.", 1),
    ("precedence", "12", "Adding the parts, the answer is 12.\n\nFinal Answer: The final answer is $15$. I hope it is correct.", 0),
    ("precedence", "9", "So the total is $\\boxed{7}$.\n\nActually, I made an error in the second step: 4 + 5 = 9, so the total is $\\boxed{9}$.", 1),
    ("precedence", "7", "So the total is $\\boxed{7}$.\n\nActually, I made an error in the second step: 4 + 5 = 9, so the total is $\\boxed{9}$.", 0),
    ("precedence", "10", "Total: $\\boxed{12}$\n\nHmm, wait. I double counted the corners. The correct total is $\\boxed{10}$.", 1),
    ("precedence", "12", "Total: $\\boxed{12}$\n\nHmm, wait. I double counted the corners. The correct total is $\\boxed{10}$.", 0),
    ("precedence", "42", "#### 40\nWait, I forgot the 2 extra cookies.\n#### 42", 1),
    ("precedence", "40", "#### 40\nWait, I forgot the 2 extra cookies.\n#### 42", 0),
    ("precedence", "6", "It might look like the answer is 5, but checking again the answer is 6.", 1),
    ("precedence", "5", "It might look like the answer is 5, but checking again the answer is 6.", 0),
    ("precedence", "C", "Option (A) 12 is too large and option (B) 10 ignores the overlap. The correct option is (C).", 1),
    ("precedence", "A", "Option (A) 12 is too large and option (B) 10 ignores the overlap. The correct option is (C).", 0),
    ("precedence", "D", "The answer is not (A), since 4 is even. The answer is (D).", 1),
    ("precedence", "A", "The answer is not (A), since 4 is even. The answer is (D).", 0),
    ("precedence", "B", "At first glance (A) looks right, but it double counts. Answer: (B)", 1),
    ("precedence", "4", "I first wrote $\\boxed{3}$, but that is a mistake: there are 4 corners. The answer is $\\boxed{4}$.", 1),
    ("precedence", "\\frac{3}{4}", "We get $x = \\frac{2}{3}$ from the first equation.\n\nFinal Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", 1),
    ("precedence", "20", "Step 1 gives $\\boxed{5}$ boxes per shelf, as the shelves are identical and hold the same number of boxes each.\n\nStep 2: there are 4 shelves, so the final answer is $\\boxed{20}$.", 1),
    ("precedence", "5", "Step 1 gives $\\boxed{5}$ boxes per shelf, as the shelves are identical and hold the same number of boxes each.\n\nStep 2: there are 4 shelves, so the final answer is $\\boxed{20}$.", 0),
    ("precedence", "5", "The answer is 5. So, $\\boxed{5}$.", 1),
    ("precedence", "8", "The answer is $3 + 5 = 8$.", 1),
    ("precedence", "8", "$\\boxed{2 \\times 4 = 8}$", 1),
    ("precedence", "18", "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day at the market.\n#### 18", 1),
    ("precedence", "9", "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day at the market.\n#### 18", 0),
    ("precedence", "3", "The answer is $\\boxed{3}$ because 6 / 2 = 3, and 3 + 0 = 3.", 1),
    ("precedence", "3", "$\\boxed{3}$\n\nTo verify: 3 \\cdot 4 = 12 and 12 / 4 = 3.", 1),
    ("precedence", "12", "<think>Maybe 10? No: 3 * 4 = 12.</think>\n<answer>12</answer>", 1),
    ("precedence", "10", "<think>Maybe 10? No: 3 * 4 = 12.</think>\n<answer>12</answer>", 0),
    ("precedence", "2", "Let me reconsider. Earlier I said the answer is 3, but I misread the question: it asks for the number of real roots. Final answer: 2", 1),
    ("precedence", "3", "Let me reconsider. Earlier I said the answer is 3, but I misread the question: it asks for the number of real roots. Final answer: 2", 0),
    ("precedence", "16", "Therefore, the final answer is: $\\boxed{16}$. I hope it is correct.", 1),
    ("precedence", "36", "The area is $6^2 = 36$.\n\nFinal Answer: The final answer is $36$. I hope it is correct.", 1),
    ("precedence", "6", "The area is $6^2 = 36$.\n\nFinal Answer: The final answer is $36$. I hope it is correct.", 0),
    # --- answer spraying: several different final answers never score
    ("spray", "5", "$\\boxed{3}$ $\\boxed{4}$ $\\boxed{5}$", 0),
    ("spray", "3", "$\\boxed{3}$ $\\boxed{4}$ $\\boxed{5}$", 0),
    ("spray", "4", "It is 3, or maybe 4.", 0),
    ("spray", "3", "It is 3, or maybe 4.", 0),
    ("spray", "4", "The answer is 3 or 4.", 0),
    ("spray", "4", "The answer is $\\boxed{3}$, or maybe $\\boxed{4}$.", 0),
    ("spray", "3", "The answer is $\\boxed{3}$, or maybe $\\boxed{4}$.", 0),
    ("spray", "7", "The answer is $\\boxed{7}$, or perhaps 8.", 0),
    ("spray", "14", "The answer is 12. The answer is 13. The answer is 14.", 0),
    ("spray", "C", "$\\boxed{A}$ $\\boxed{B}$ $\\boxed{C}$ $\\boxed{D}$", 0),
    ("spray", "6", "#### 5\n#### 6", 0),
    ("spray", "11", "Answer: 10, 11, or 12", 0),
    ("spray", "3", "$\\boxed{2}$ or $\\boxed{3}$", 0),
    ("spray", "7", "Possibly 6, possibly 7.", 0),
    ("spray", "9", "The answer is either 4 or 9.", 0),
    ("spray", "4", "$\\boxed{3 \\text{ or } 4}$", 0),
    ("spray", "4", "$\\boxed{3, 4}$", 0),
    ("spray", "B", "The answer is (B) or (C).", 0),
    ("spray", "12", "\\boxed{12} \\boxed{13}", 0),
    ("spray", "13", "Final Answer: The final answer is $12$, or maybe $13$. I hope it is correct.", 0),
    ("spray", "x^2", "$\\boxed{x^2}$ $\\boxed{x^3}$", 0),
    ("spray", "2", "The value is 2, or perhaps 3.", 0),
    ("spray", "3", "The value is 2, or perhaps 3.", 0),
    ("spray", "\\pm 2", "$\\boxed{2}$ and $\\boxed{-2}$", 1),     # one answer in two boxes, not spraying
    ("spray", "(2, 3)", "$x = \\boxed{2}$, $y = \\boxed{3}$", 1),
    ("spray", "5", "The answer is 5. Double-checking: 5 * 2 = 10, so $\\boxed{5}$.", 1),
    # --- extraction from markup
    ("markup", "42", "**Answer: 42**", 1),
    ("markup", "42", "The answer is **42**.", 1),
    ("markup", "42", "**Final Answer:** 42", 1),
    ("markup", "42", "__Answer__: 42", 1),
    ("markup", "43", "**Answer: 42**", 0),
    ("markup", "43", "The answer is **42**.", 0),
    ("markup", "\\frac{3}{4}", "The final answer is: **3/4**", 1),
    ("markup", "12", "$\\boxed{\\text{the number 12}}$", 1),
    ("markup", "13", "$\\boxed{\\text{the number 12}}$", 0),
    ("markup", "12", "The answer is $\\text{12 apples}$.", 1),
    ("markup", "7", "**Answer:** $\\boxed{7}$", 1),
    ("markup", "7", "### Final Answer\n\n$$\\boxed{7}$$", 1),
    ("markup", "7", "### Final Answer\n\nThe answer is **7**.", 1),
    ("markup", "8", "### Final Answer\n\nThe answer is **7**.", 0),
    ("markup", "100", "The answer is exactly 100.", 1),
    ("markup", "100", "**The answer is 100.**", 1),
    ("markup", "5", "Answer: five", 1),
    ("markup", "5", "<answer>\n**5**\n</answer>", 1),
    # --- last number fallback and lists of numbers in prose
    ("prose", "24", "Adding them gives 10 + 14 = 24", 1),
    ("prose", "25", "Adding them gives 10 + 14 = 24", 0),
    ("prose", "5, 7", "The two primes are 5 and 7", 1),
    ("prose", "7", "The two primes are 5 and 7", 0),
    ("prose", "\\pm 2", "So x = 2 and x = -2", 1),
    ("prose", "2", "So x = 2 and x = -2", 0),
    ("prose", "4", "So it comes out to 4", 1),
    ("prose", "5", "I don't know.", 0),
]


# realistic responses as models write them (each verdict checked by hand)
STYLE = [
    ('120', 'He earns $15 per hour. In 8 hours he earns $15 x 8 = $120.\n#### 120', 1),
    ('120', 'The answer is: 120', 1),
    ('120', '**Final Answer**\n\\[\n\\boxed{120}\n\\]', 1),
    ('\\frac{5}{12}', 'Therefore, the final answer is $\\boxed{\\dfrac{5}{12}}$.', 1),
    ('4', 'The final answer is: $\\boxed{4}$', 1),
    ('7', '<think>\nLet me count: 3 + 4 = 7.\n</think>\n\n**Final Answer**\n\\boxed{7}', 1),
    ('12', 'So, there are 12 apples left.', 1),
    ('\\frac{1}{2}', 'Answer: \\( \\frac{1}{2} \\)', 1),
    ('18.5', 'The answer is $\\$18.50$.', 1),
    ('1080', '#### $1,080', 1),
    ('(2,-1)', 'Final Answer: The final answer is $(2,-1)$. I hope it is correct.', 1),
    ('3, -5', 'The solutions are $x = 3$ and $x = -5$.', 1),
    ('-5', 'The solutions are $x = 3$ and $x = -5$.', 0),
    ('\\frac{1}{6}', 'The probability is $\\frac{1}{6}$.', 1),
    ('6', 'The probability is $\\frac{1}{6}$.', 0),
    ('120', 'There are $\\binom{10}{3} = 120$ ways.', 1),
    ('\\frac{-1 \\pm \\sqrt{5}}{2}', 'The answer is $x = \\frac{-1 \\pm \\sqrt{5}}{2}$.', 1),
    ('0.5', 'The answer is 50%.', 1),
    ('10', 'Final Answer: The final answer is $10\\%$. I hope it is correct.', 1),
    ('4', 'The answer is \\(\\boxed{4}\\).', 1),
    ('\\frac{5}{2}', 'The answer is $2\\frac{1}{2}$ cups.', 1),
    ('A', 'The answer is (A) 12.', 1),
    ('7', 'The answer is 7, which is prime.', 1),
    ('42', 'Thus, the answer is $\\boxed{42}$ dollars.', 1),
    ('B', 'The final answer is $\\boxed{\\text{(B)}}$', 1),
    ('18', 'Final Answer: The final answer is $18\\text{ inches}$. I hope it is correct.', 1),
    ('3', 'So the answer is 12.\n\nHowever, the question asks for the remainder, so the final answer is 3.', 1),
    ('12', 'The answer is 12 (twelve).', 1),
    ('16', "#### 15\n\nWait, that's wrong: I forgot one. The correct count is \\boxed{16}.", 1),
    ('42', '**Answer: 42 apples**', 1),
    ('3\\sqrt{2}', '**Answer**: $3\\sqrt{2}$', 1),
    ('\\frac{1}{2}', 'The answer is:\n\n$$\\frac{1}{2}$$', 1),
    ('\\frac{1}{2}', '### Final Answer\n\n$$\\frac{1}{2}$$', 1),
    ('8', 'The answer is 7. Hmm, wait, actually it is 8.', 1),
    ('7', 'The answer is 7. Hmm, wait, actually it is 8.', 0),
    ('12', '$\\boxed{12}$. Let me double-check: 3 × 4 = 12, and 12 − 2 = 10 is the other count, which is not asked.', 1),
    ('1, 3', 'The answer is $\\boxed{1}$ and $\\boxed{3}$.', 1),
    ('x \\in [2, 5]', '$\\boxed{x \\in [2, 5]}$', 1),
    ('[2,5]', '$\\boxed{2 \\le x \\le 5}$', 1),
    ('\\frac{\\sqrt{3}}{3}', '$\\boxed{\\frac{1}{\\sqrt{3}}}$', 1),
    ('5', 'She bought 3 apples and then 2 more, so she has 5 apples.', 1),
    ('20', 'The total cost is $5 + $15 = $20.', 1),
    ('20', 'Each costs $5, so 4 items cost $20.', 1),
    ('3', 'The remainder when 17 is divided by 7 is $3$.', 1),
    ('-2', 'The value of $x$ is $\\boxed{-2}$.', 1),
    ('2', 'Solving, $x = 2$. The answer is $\\boxed{2}$. I hope it is correct.', 1),
    ('\\frac{3}{5}', 'Final Answer: The final answer is $\\frac{3}{5}$. I hope it is correct.', 1),
    ('(1,2)', 'The point is $\\boxed{(1, 2)}$.', 1),
    ('y=2x+3', 'The equation of the line is $\\boxed{y = 2x + 3}$.', 1),
    ('2x+3', 'The equation of the line is $y = 2x + 3$.', 1),
    ('\\frac{\\pi}{3}', '$\\theta = \\boxed{\\frac{\\pi}{3}}$', 1),
    ('60', '$\\theta = \\boxed{60^\\circ}$', 1),
    ('5', '**Step 3:** Divide: 10 / 2 = 5.\n\n**Answer:** The number of groups is 5.', 1),
    ('10', 'The answer is \\boxed{10}.\n\n---\n\n**Note:** An alternative approach gives the same result of 10.', 1),
    ('9', 'So the answer should be 9.', 1),
    ('6', 'I think the answer is 6.', 1),
    ('11', 'The final answer is 11.\n\nI hope it is correct.', 1),
    ('11', 'Answer: 11 (because 5 + 6 = 11)', 1),
    ('\\$1,200', '#### 1200', 1),
    ('1200', 'The total is \\$1,200.', 1),
    ('5', 'The answer is not 5.', 0),
    ('5', '\\boxed{\\frac{1}{2}} (or 0.5)', 0),
    ('\\frac12', '\\boxed{\\frac{1}{2}} (or 0.5)', 1),
    ('3', 'The answer is 3. Or 4.', 0),
    ('4', 'The answer is 3. Or 4.', 0),
    ('3', '\\boxed{3}\n\n\\boxed{4}', 0),
    ('10', 'Let x be the number. Then 2x = 20, so x = 10. Check: 2(10) = 20. ✓', 0),
    ('10', 'Let x be the number. Then 2x = 20, so x = 10.', 1),
    ('12', 'The answer is 12 or 13, depending on rounding.', 0),
    ('4', 'The answer is between 3 and 5.', 0),
    ('15', 'Final Answer: The final answer is $15$. I hope it is correct.\n\nFinal Answer: The final answer is $16$. I hope it is correct.', 0),
    ('16', 'Final Answer: The final answer is $15$. I hope it is correct.\n\nFinal Answer: The final answer is $16$. I hope it is correct.', 1),
    ('A', '\\boxed{A} or \\boxed{B}', 0),
    ('2', '$x^2 - 4 = 0$ gives $x = 2$ or $x = -2$. Since $x > 0$, the answer is $\\boxed{2}$.', 1),
    ('-2', '$x^2 - 4 = 0$ gives $x = 2$ or $x = -2$. Since $x > 0$, the answer is $\\boxed{2}$.', 0),
    ('6', '3! = 6', 1),
    ('8', 'The answer is 2^3.', 1),
    ('0.5', 'The answer is 1:2.', 1),
    ('12', 'The answer is $12$ (rounded from 11.97).', 1),
    ('\\frac{1}{3}', 'The answer is 1/3 ≈ 0.333.', 1),
    ('24', '#### 24\n\nThe answer is 24.', 1),
    ('24', 'The answer is 24.\n#### 25', 0),
    ('x+1', 'The answer is $x + 1$, valid for $x \\neq 0$.', 1),
    ('1', '\\boxed{1}\\boxed{1}', 1),
    ('7', 'The final answer is $\\boxed{7}$.\n\nAlternatively, one could get 8 by miscounting, but that is wrong.', 1),
    ('-5', 'The final answer is negative 5.', 1),
    ('5', 'The final answer is negative 5.', 0),
    ('100', 'The answer is 10^2 = 100.', 1),
    ('25', 'The answer is 25 (i.e., 5 squared).', 1),
    ('0', 'The answer is zero.', 1),
    ('3', 'The answer is three.', 1),
    ('3', 'The answer is thirty.', 0),
    ('13', 'The answer is thirteen.', 1),
    ('\\infty', 'The limit is $\\boxed{\\infty}$.', 1),
    ('-\\infty', 'The limit is $\\boxed{\\infty}$.', 0),
    ('2', '\\boxed{\\log_3 9}', 1),
    ('\\frac{7}{2}', '\\boxed{3.5}', 1),
    ('3.5', '\\boxed{\\frac{7}{2}}', 1),
    ('3.5', '\\boxed{3.49}', 0),
    ('0.3333', '\\boxed{\\frac{1}{3}}', 0),
    ('\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}', 'The identity matrix:\n$$\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}$$', 1),
    ('\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', '$\\boxed{\\left(\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right)}$', 1),
    ('\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', '$\\boxed{\\left(\\begin{array}{cc} 1 & 2 \\\\ 4 & 3 \\end{array}\\right)}$', 0),
    ('3:2', 'The answer is 3 to 2.', 1),
    ('3:2', 'The answer is 2 to 3.', 0),
    ('10110_2', '$\\boxed{10110_2}$', 1),
    ('10', '$\\boxed{\\dfrac{5!}{2!3!}}$', 1),
    ('10', '$\\boxed{\\binom{5}{2} = 10}$', 1),
    ('3', '$\\boxed{\\log_{2}{8}}$', 1),
    ('2', '$\\boxed{\\ln e^2}$', 1),
    ('|x-1|', '$\\boxed{\\left|x - 1\\right|}$', 1),
    ('|x-1|', '$\\boxed{x - 1}$', 0),
    ('3', '$\\boxed{\\left\\lfloor \\frac{7}{2} \\right\\rfloor}$', 1),
    ('2\\sqrt{2}', 'The answer is 2√2.', 1),
    ('\\sqrt{x+1}', 'The answer is √(x+1).', 1),
    ('-\\frac{\\sqrt{3}}{2}', 'The answer is −√3/2.', 1),
    ('1000000', 'The answer is 1 million.', 1),
    ('1', 'The answer is 1 million.', 0),
    ('2500000', 'The answer is 2.5 million.', 1),
    ('\\frac{3}{8}', 'The answer is 37.5%.', 1),
    ('2500', 'The answer is 2.5 * 10^3.', 1),
    ('2500', '$\\boxed{2.5 \\cdot 10^3}$', 1),
    ('3x+2', '$\\boxed{f(x) = 3x + 2}$', 1),
    ('-16t^2+64t', '$\\boxed{h(t) = -16t^2 + 64t}$', 1),
    ('5', '$\\boxed{f(2) = 5}$', 1),
    ('2', '$\\boxed{f(2) = 5}$', 0),
    ('f(x) = x^2', '$\\boxed{x^2}$', 1),
    ('\\sqrt{x}', '$\\boxed{f^{-1}(x)=\\sqrt{x}}$', 1),
    ('\\pm 2', '$\\boxed{x \\in \\{2, -2\\}}$', 1),
    ('\\pm 2', '$\\boxed{x = -2, 2}$', 1),
    ('(-\\infty, \\infty)', '$\\boxed{(-\\infty, +\\infty)}$', 1),
    ('[3, \\infty)', '$\\boxed{x \\geq 3}$', 1),
    ('[3, \\infty)', '$\\boxed{3 \\le x}$', 1),
    ('[3, \\infty)', '$\\boxed{x \\in [3, +\\infty)}$', 1),
    ('[3, \\infty)', '$\\boxed{x > 3}$', 0),
    ('42', '**Answer:** **42**', 1),
    ('42', 'Answer: $\\boxed{42}$', 1),
    ('42', 'So we get **42**.', 1),
    ('42', 'The answer is:\n**42**', 1),
    ('\\frac{2}{3}', 'The probability is $\\dfrac{2}{3}$, so the final answer is $\\boxed{\\dfrac{2}{3}}$.', 1),
    ('7', 'First, $3 + 4 = 7$. Then the answer is $\\boxed{7}$.', 1),
    ('\\frac{1}{4}', 'Answer: 1/4 of the pie', 1),
    ('25', 'The answer is $25$ square units.', 1),
    ('5', 'x = 5 is the answer.', 1),
    ('6', 'The answer is $\\boxed{6}$. (Note: if the question meant inclusive, it would be 7.)', 1),
    ('-1', 'The minimum value is $-1$.', 1),
    ('1', 'The minimum value is $-1$.', 0),
    ('\\frac{1}{2}', '$\\frac{1}{2}$', 1),
    ('12', '12', 1),
    ('12', '**12**', 1),
]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    rows = []
    for cat, ref, goods, bads in PAIRS:
        for verdict, answers in ((1, goods), (0, bads)):
            for a in answers:
                styles = _styles(a)
                rows.append((cat, ref, styles[len(rows) % len(styles)](a), verdict))
    rows += RESPONSES
    rows += [("style", ref, resp, v) for ref, resp, v in STYLE]
    counts = {}
    with open(os.path.join(root, "templates/math/regression.jsonl"), "w", encoding="utf-8") as f:
        for cat, ref, resp, verdict in rows:
            counts[cat] = counts.get(cat, 0) + 1
            case = {"id": f"{cat}-{counts[cat]:03d}",
                    "messages": [{"role": "user", "content": Q}, {"role": "assistant", "content": resp}],
                    "reference_answer": ref, "expected_score": float(verdict)}
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(len(rows), "rows", counts)


if __name__ == "__main__":
    main()
