"""The demo question bank of the Northfield University portal (development only).

Families of questions are generated from short fact tables (derivatives, organelles, dates,
capitals, Python expressions, irregular verbs …) so a bank of a few hundred real questions
stays readable. ``seed_question_bank`` stores them with ``create_questions`` and publishes
one exam, "Foundations mid-term", built from fixed questions and pool rules.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from .models import Category, Question
from .services import create_category, create_questions

#: The marker: when a question with this title exists the bank is already seeded.
MARKER_TITLE = "Derivative of x^2"
EXAM_TITLE = "Foundations mid-term"

ACTIVE = Question.Status.ACTIVE
DRAFT = Question.Status.DRAFT

# -- fact tables ---------------------------------------------------------------------------

# (function, derivative, wrong answers, difficulty)
DERIVATIVES = [
    ("x^2", "2x", ["x", "2x^2", "x^3/3"], 1),
    ("x^3", "3x^2", ["x^2", "3x^3", "x^4/4"], 1),
    ("sin x", "cos x", ["-cos x", "-sin x", "tan x"], 2),
    ("cos x", "-sin x", ["sin x", "-cos x", "sec x"], 2),
    ("e^x", "e^x", ["x e^(x-1)", "e^(x-1)", "ln x"], 2),
    ("ln x", "1/x", ["ln x / x", "e^x", "x ln x"], 2),
    ("tan x", "sec^2 x", ["cot x", "-csc^2 x", "sec x tan x"], 3),
    ("sqrt(x)", "1/(2 sqrt(x))", ["2 sqrt(x)", "sqrt(x)/2", "1/sqrt(x)"], 3),
    ("1/x", "-1/x^2", ["1/x^2", "ln x", "-1/x"], 3),
    ("x e^x", "(x + 1) e^x", ["x e^x", "e^x", "(x - 1) e^x"], 4),
    ("sin(2x)", "2 cos(2x)", ["cos(2x)", "-2 cos(2x)", "2 sin(2x)"], 3),
    ("x ln x", "ln x + 1", ["1/x", "ln x", "x/x"], 4),
]

# (f(x), x0, f'(x0), difficulty) for "evaluate the derivative at a point"
SLOPES = [
    ("x^2 + 3x", 2, "7", 2),
    ("x^3", 3, "27", 2),
    ("4x^2 - 5x + 1", 1, "3", 2),
    ("2x^3 - x", 1, "5", 3),
    ("x^4", 2, "32", 3),
    ("5x - 7", 10, "5", 1),
    ("x^2 - 6x", 3, "0", 3),
    ("3x^2 + 2x + 1", -1, "-4", 3),
]

# (integral statement, true?, difficulty)
CALCULUS_FACTS = [
    ("The integral of 2x dx is x^2 + C.", True, 1),
    ("The derivative of a constant is zero.", True, 1),
    ("The integral of 1/x dx is ln|x| + C.", True, 2),
    ("The derivative of e^(2x) is e^(2x).", False, 2),
    ("A function that is differentiable at a point is continuous there.", True, 3),
    ("Every continuous function is differentiable.", False, 3),
    ("The integral of cos x dx is -sin x + C.", False, 2),
    ("At a local maximum of a differentiable function the derivative is zero.", True, 2),
]

# (a, b, c): solve a x + b = c
LINEAR = [
    (2, 3, 11),
    (5, -4, 21),
    (3, 7, -2),
    (4, 0, 18),
    (-2, 9, 1),
    (7, 2, 30),
    (6, -5, 10),
    (9, 1, -8),
    (3, -12, 0),
    (8, 4, 52),
]

# (quadratic, roots as text, wrong answers, difficulty)
QUADRATICS = [
    ("x^2 - 5x + 6 = 0", "x = 2 or x = 3", ["x = -2 or x = -3", "x = 1 or x = 6", "x = 5"], 2),
    ("x^2 - 9 = 0", "x = 3 or x = -3", ["x = 3 only", "x = 9", "x = 81"], 1),
    ("x^2 + 2x - 8 = 0", "x = 2 or x = -4", ["x = -2 or x = 4", "x = 8", "x = 2 or x = 4"], 2),
    ("x^2 - 4x + 4 = 0", "x = 2 (a double root)", ["x = -2", "x = 2 or x = -2", "x = 4"], 2),
    ("2x^2 - 8x = 0", "x = 0 or x = 4", ["x = 4 only", "x = 0 or x = -4", "x = 8"], 3),
    ("x^2 + x - 12 = 0", "x = 3 or x = -4", ["x = -3 or x = 4", "x = 12", "x = 1 or x = -12"], 3),
]

# (expression, simplified value, difficulty) — numeric evaluation
ARITHMETIC = [
    ("2^10", "1024", 1),
    ("log10(1000)", "3", 2),
    ("(3^4) / (3^2)", "9", 1),
    ("sqrt(144) + sqrt(25)", "17", 1),
    ("15% of 240", "36", 1),
    ("the sum 1 + 2 + … + 100", "5050", 3),
    ("log2(64)", "6", 2),
    ("5! (five factorial)", "120", 2),
]

ALGEBRA_FACTS = [
    ("(a + b)^2 = a^2 + b^2 for all real numbers a and b.", False, 1),
    ("(a + b)(a - b) = a^2 - b^2.", True, 1),
    ("The product of two negative numbers is positive.", True, 1),
    ("The equation x^2 + 1 = 0 has two real solutions.", False, 2),
    ("A line with gradient 0 is horizontal.", True, 1),
    ("log(ab) = log a + log b for positive a and b.", True, 2),
]

# (organelle, function, difficulty)
ORGANELLES = [
    ("Mitochondrion", "produces most of the cell's ATP by aerobic respiration", 1),
    ("Ribosome", "assembles proteins from amino acids", 1),
    ("Nucleus", "holds the cell's DNA and controls gene expression", 1),
    ("Chloroplast", "carries out photosynthesis", 1),
    ("Golgi apparatus", "modifies, sorts and packages proteins for secretion", 2),
    ("Lysosome", "breaks down waste material with digestive enzymes", 2),
    ("Rough endoplasmic reticulum", "folds and transports proteins made by its ribosomes", 3),
    ("Smooth endoplasmic reticulum", "synthesises lipids and detoxifies drugs", 3),
    ("Cell membrane", "controls what enters and leaves the cell", 1),
    ("Vacuole", "stores water and keeps plant cells turgid", 2),
    ("Centriole", "organises the spindle fibres during cell division", 3),
    ("Cell wall", "gives plant cells rigid support", 1),
]

CELL_FACTS = [
    ("Prokaryotic cells have a membrane-bound nucleus.", False, 1),
    ("Animal cells have a cell wall.", False, 1),
    ("Plant cells contain both mitochondria and chloroplasts.", True, 2),
    ("Ribosomes are found in both prokaryotic and eukaryotic cells.", True, 2),
    ("Mitosis produces two genetically identical daughter cells.", True, 1),
    ("Meiosis produces four diploid cells.", False, 2),
    ("Diffusion needs energy from ATP.", False, 2),
    ("Active transport moves substances against their concentration gradient.", True, 2),
    ("Enzymes are used up in the reactions they catalyse.", False, 1),
    ("DNA is made of nucleotides.", True, 1),
]

# (question, accepted answers, difficulty)
CELL_SHORT = [
    ("What is the basic unit of life?", ["cell", "the cell"], 1),
    ("Which molecule carries energy within cells (abbreviation)?", ["ATP"], 1),
    ("Which sugar is found in DNA?", ["deoxyribose"], 2),
    ("What is the green pigment in chloroplasts called?", ["chlorophyll"], 1),
    ("What is the movement of water across a partially permeable membrane called?", ["osmosis"], 2),
    ("Which base pairs with adenine in DNA?", ["thymine", "T"], 2),
    ("How many chromosomes does a normal human body cell contain?", ["46", "forty-six"], 2),
    ("Which process do cells use to divide for growth and repair?", ["mitosis"], 1),
]

MITOSIS = ["Prophase", "Metaphase", "Anaphase", "Telophase"]

# (event, year, difficulty)
EVENTS = [
    ("the storming of the Bastille", 1789, 1),
    ("the Battle of Waterloo", 1815, 1),
    ("the Congress of Vienna opening", 1814, 3),
    ("the revolutions across Europe known as the Springtime of Peoples", 1848, 2),
    ("the unification of Germany under Wilhelm I", 1871, 2),
    ("the assassination of Archduke Franz Ferdinand", 1914, 1),
    ("the Russian October Revolution", 1917, 1),
    ("the signing of the Treaty of Versailles", 1919, 1),
    ("Hitler becoming Chancellor of Germany", 1933, 2),
    ("the outbreak of the Second World War", 1939, 1),
    ("the Normandy landings (D-Day)", 1944, 1),
    ("the signing of the Treaty of Rome", 1957, 3),
    ("the building of the Berlin Wall", 1961, 2),
    ("the fall of the Berlin Wall", 1989, 1),
    ("German reunification", 1990, 2),
    ("the Maastricht Treaty signing", 1992, 3),
]

# (question, answer, wrong answers, difficulty)
HISTORY_CHOICE = [
    (
        "Who was the first Chancellor of the German Empire?",
        "Otto von Bismarck",
        ["Kaiser Wilhelm II", "Friedrich Ebert", "Klemens von Metternich"],
        1,
    ),
    (
        "Who led the Bolsheviks in the October Revolution?",
        "Vladimir Lenin",
        ["Joseph Stalin", "Alexander Kerensky", "Nicholas II"],
        1,
    ),
    (
        "Which general was defeated at Waterloo?",
        "Napoleon Bonaparte",
        ["Duke of Wellington", "Gebhard von Blücher", "Louis XVIII"],
        1,
    ),
    (
        "Who was the British Prime Minister for most of the Second World War?",
        "Winston Churchill",
        ["Neville Chamberlain", "Clement Attlee", "Stanley Baldwin"],
        1,
    ),
    (
        "Which statesman led the unification of Italy's south with his Redshirts?",
        "Giuseppe Garibaldi",
        ["Camillo di Cavour", "Giuseppe Mazzini", "Victor Emmanuel II"],
        2,
    ),
    (
        "Who was the last leader of the Soviet Union?",
        "Mikhail Gorbachev",
        ["Boris Yeltsin", "Leonid Brezhnev", "Yuri Andropov"],
        1,
    ),
    (
        "Which Austrian minister dominated the Congress of Vienna?",
        "Klemens von Metternich",
        ["Talleyrand", "Lord Castlereagh", "Tsar Alexander I"],
        3,
    ),
    (
        "Which alliance did Germany, Austria-Hungary and Italy form in 1882?",
        "The Triple Alliance",
        ["The Triple Entente", "The Holy Alliance", "The Axis"],
        2,
    ),
]

# (country, capital, difficulty)
CAPITALS = [
    ("France", "Paris", 1), ("Germany", "Berlin", 1), ("Italy", "Rome", 1),
    ("Spain", "Madrid", 1), ("Portugal", "Lisbon", 1), ("Poland", "Warsaw", 2),
    ("Austria", "Vienna", 1), ("Hungary", "Budapest", 2), ("Czechia", "Prague", 2),
    ("Sweden", "Stockholm", 1), ("Norway", "Oslo", 1), ("Finland", "Helsinki", 2),
    ("Denmark", "Copenhagen", 2), ("Netherlands", "Amsterdam", 2), ("Belgium", "Brussels", 1),
    ("Switzerland", "Bern", 3), ("Greece", "Athens", 1), ("Ireland", "Dublin", 1),
    ("Romania", "Bucharest", 3), ("Bulgaria", "Sofia", 3),
]  # fmt: skip

# (expression, printed result, difficulty)
PYTHON_OUTPUT = [
    ("len('banana')", "6", 1),
    ("7 // 2", "3", 1),
    ("7 % 3", "1", 1),
    ("2 ** 5", "32", 1),
    ("'abc'.upper()", "ABC", 1),
    ("[1, 2, 3][-1]", "3", 1),
    ("'a,b,c'.split(',')[1]", "b", 2),
    ("sum(range(5))", "10", 2),
    ("len({1, 1, 2, 3})", "3", 2),
    ("'py' * 3", "pypypy", 2),
    ("bool('')", "False", 2),
    ("max([4, 9, 2])", "9", 1),
    ("'hello'[1:3]", "el", 3),
    ("sorted([3, 1, 2])[0]", "1", 2),
    ("int('42') + 1", "43", 1),
    ("len([x for x in range(10) if x % 2 == 0])", "5", 3),
]

# (algorithm, time complexity, wrong answers, difficulty)
COMPLEXITY = [
    ("binary search in a sorted array", "O(log n)", ["O(n)", "O(1)", "O(n log n)"], 2),
    ("linear search in an unsorted list", "O(n)", ["O(log n)", "O(1)", "O(n^2)"], 1),
    ("merge sort (worst case)", "O(n log n)", ["O(n^2)", "O(n)", "O(log n)"], 2),
    ("bubble sort (worst case)", "O(n^2)", ["O(n log n)", "O(n)", "O(2^n)"], 2),
    ("looking up a key in a hash table (average)", "O(1)", ["O(n)", "O(log n)", "O(n^2)"], 2),
    ("quicksort (worst case)", "O(n^2)", ["O(n log n)", "O(n)", "O(log n)"], 3),
    ("pushing onto a stack", "O(1)", ["O(n)", "O(log n)", "O(n^2)"], 1),
]

PROGRAMMING_FACTS = [
    ("In Python, lists are mutable.", True, 1),
    ("In Python, tuples are mutable.", False, 1),
    ("A stack is a last-in, first-out structure.", True, 1),
    ("A queue is a last-in, first-out structure.", False, 1),
    ("Python indexes sequences from 1.", False, 1),
    ("A recursive function must have a base case to stop.", True, 2),
    ("In Python, 0.1 + 0.2 == 0.3 is True.", False, 3),
    ("Git is a distributed version control system.", True, 1),
]

# (base verb, past simple, past participle, difficulty)
IRREGULAR_VERBS = [
    ("go", "went", "gone", 1), ("see", "saw", "seen", 1), ("take", "took", "taken", 1),
    ("write", "wrote", "written", 1), ("begin", "began", "begun", 2),
    ("drink", "drank", "drunk", 2), ("choose", "chose", "chosen", 2),
    ("bring", "brought", "brought", 2), ("teach", "taught", "taught", 2),
    ("swim", "swam", "swum", 2), ("lie (recline)", "lay", "lain", 4),
    ("freeze", "froze", "frozen", 3),
]  # fmt: skip

# (sentence with {{1}}, right word, options, difficulty)
HOMOPHONES = [
    ("The students left {{1}} bags in the hall.", "their", ["their", "there", "they're"], 1),
    ("{{1}} going to be late for the lecture.", "They're", ["Their", "There", "They're"], 1),
    ("Put the books over {{1}}.", "there", ["their", "there", "they're"], 1),
    ("The dog wagged {{1}} tail.", "its", ["its", "it's"], 1),
    ("{{1}} raining again this morning.", "It's", ["Its", "It's"], 1),
    ("I would rather walk {{1}} take the bus.", "than", ["than", "then"], 2),
    ("The weather will {{1}} our plans.", "affect", ["affect", "effect"], 3),
    ("{{1}} turn is it to present?", "Whose", ["Whose", "Who's"], 2),
    ("She is taller {{1}} her brother.", "than", ["than", "then"], 1),
    ("We need to {{1}} the meeting until Friday.", "postpone", ["postpone", "prepone"], 3),
]

# (sentence, word, word class, difficulty)
WORD_CLASSES = [
    ("She sings beautifully.", "beautifully", "adverb", 1),
    ("The quick fox jumped.", "quick", "adjective", 1),
    ("They arrived after lunch.", "after", "preposition", 2),
    ("He and I agree.", "and", "conjunction", 1),
    ("Happiness matters.", "Happiness", "noun", 1),
    ("We ran home.", "ran", "verb", 1),
    ("Wow, that was close!", "Wow", "interjection", 2),
    ("She lent him her pen.", "him", "pronoun", 1),
]

GRAMMAR_FACTS = [
    ("A semicolon can join two independent clauses.", True, 2),
    ("'Fewer' is used with countable nouns.", True, 2),
    ("An adverb can modify an adjective.", True, 2),
    ("The sentence 'Me and him went home' is grammatically standard.", False, 1),
    ("'Data' is historically the plural of 'datum'.", True, 3),
    ("Every sentence must contain an adjective.", False, 1),
]

ESSAYS = [
    ("Mathematics/Calculus", "The fundamental theorem of calculus",
     "Explain the fundamental theorem of calculus and why it links differentiation and "
     "integration. Give one worked example.", ["calculus", "essay"]),
    ("Biology/Cells", "Prokaryotic and eukaryotic cells",
     "Compare the structure of prokaryotic and eukaryotic cells, with examples of each.",
     ["cells", "essay"]),
    ("History/Modern Europe", "Causes of the First World War",
     "Assess the relative importance of the alliance system and nationalism in causing the "
     "First World War.", ["ww1", "essay"]),
    ("History/Modern Europe", "The end of the Cold War in Europe",
     "Why did communist rule in Eastern Europe collapse in 1989?", ["cold-war", "essay"]),
    ("Computing/Programming", "Recursion versus iteration",
     "Discuss when a recursive solution is preferable to an iterative one, with code "
     "examples.", ["python", "essay"]),
    ("English/Grammar", "The active and passive voice",
     "Explain the difference between the active and the passive voice and when each is "
     "appropriate in academic writing.", ["voice", "essay"]),
]  # fmt: skip

# -- builders ------------------------------------------------------------------------------


def _p(text: str) -> str:
    return f"<p>{text}</p>"


def _single(answer: str, wrong: list[str], feedback: str = "") -> dict:
    texts = [answer, *wrong]
    return {
        "points": "1.00",
        "shuffle": True,
        "options": [
            {
                "id": str(i + 1),
                "text": text,
                "correct": i == 0,
                "feedback": feedback if i == 0 else "",
            }
            for i, text in enumerate(texts)
        ],
    }


def _multiple(right: list[str], wrong: list[str]) -> dict:
    share = (Decimal(1) / len(right)).quantize(Decimal("0.01"))
    weights = [share] * len(right)
    weights[0] += Decimal(1) - sum(weights)
    options = [{"text": t, "weight": str(w)} for t, w in zip(right, weights, strict=True)]
    options += [{"text": t, "weight": "-0.50"} for t in wrong]
    return {
        "points": "2.00",
        "shuffle": True,
        "negative_marking": True,
        "options": [{"id": str(i + 1), **o} for i, o in enumerate(options)],
    }


def _tf(answer: bool) -> dict:
    return {
        "points": "1.00",
        "answer": answer,
        "feedback_true": "" if answer else "No: the statement is false.",
        "feedback_false": "" if not answer else "No: the statement is true.",
    }


def _numeric(answer: Any, tolerance: str = "0") -> dict:
    return {
        "points": "1.00",
        "answer": str(answer),
        "tolerance": tolerance,
        "tolerance_mode": "absolute",
        "units": [],
        "unit_required": False,
    }


def _short(accepted: list[str], case_sensitive: bool = False) -> dict:
    return {"points": "1.00", "accepted": accepted, "case_sensitive": case_sensitive}


def _q(
    category: str,
    type_: str,
    title: str,
    stem: str,
    data: dict,
    *,
    tags: list[str],
    difficulty: int,
    explanation: str = "",
    status: str = ACTIVE,
) -> dict:
    return {
        "category": category,
        "type": type_,
        "title": title,
        "stem": _p(stem),
        "data": data,
        "tags": tags,
        "difficulty": difficulty,
        "explanation": _p(explanation) if explanation else "",
        "status": status,
    }


def _chunks(rows: list, size: int) -> list[list]:
    return [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)]


def _mathematics() -> list[dict]:
    alg, calc = "Mathematics/Algebra", "Mathematics/Calculus"
    out = []
    for fn, deriv, wrong, diff in DERIVATIVES:
        out.append(
            _q(calc, "single_choice", f"Derivative of {fn}",
               f"What is d/dx of {fn}?", _single(deriv, wrong),
               tags=["derivatives", "foundations"], difficulty=diff,
               explanation=f"d/dx ({fn}) = {deriv}.")
        )  # fmt: skip
    for fn, x0, value, diff in SLOPES:
        out.append(
            _q(calc, "numeric", f"Gradient of {fn} at x = {x0}",
               f"Let f(x) = {fn}. Evaluate f'({x0}).", _numeric(value),
               tags=["derivatives", "gradients"], difficulty=diff)
        )  # fmt: skip
    for statement, answer, diff in CALCULUS_FACTS:
        out.append(
            _q(calc, "true_false", f"Calculus: {statement[:60]}", statement, _tf(answer),
               tags=["calculus", "foundations"], difficulty=diff)
        )  # fmt: skip
    for group in _chunks(DERIVATIVES[:8], 4):
        out.append(
            _q(calc, "matching", f"Match derivatives: {', '.join(g[0] for g in group)}",
               "Match each function with its derivative.",
               {"points": "2.00", "shuffle": True,
                "pairs": [{"prompt": g[0], "match": g[1]} for g in group],
                "distractors": [group[0][2][0]] if group[0][2][0] not in
                {g[1] for g in group} else []},
               tags=["derivatives", "matching"], difficulty=2)
        )  # fmt: skip
    out.append(
        _q(calc, "multiple_response", "Functions that are their own derivative's antiderivative",
           "Which of these functions equal their own derivative?",
           _multiple(["e^x", "0"], ["x", "ln x", "sin x"]),
           tags=["derivatives"], difficulty=3)
    )  # fmt: skip
    out.append(
        _q(calc, "cloze", "The power rule",
           "Complete the power rule.",
           {"points": "2.00", "text": "The derivative of x^n is {{1}} x^({{2}}).",
            "gaps": [{"id": "1", "accepted": ["n"]}, {"id": "2", "accepted": ["n-1", "n - 1"]}]},
           tags=["derivatives", "rules"], difficulty=2)
    )  # fmt: skip
    for a, b, c in LINEAR:
        x = Decimal(c - b) / Decimal(a)
        x = x.quantize(Decimal("0.01")).normalize() if x != x.to_integral() else int(x)
        eq = f"{a}x {'+' if b >= 0 else '-'} {abs(b)} = {c}"
        out.append(
            _q(alg, "numeric", f"Solve {eq}", f"Solve for x: {eq}. Give x to two decimal places "
               "if it is not whole.", _numeric(x, "0.01"),
               tags=["equations", "foundations"], difficulty=1 if a > 0 and b >= 0 else 2,
               explanation=f"x = ({c} - ({b})) / {a}.")
        )  # fmt: skip
    for eq, roots, wrong, diff in QUADRATICS:
        out.append(
            _q(alg, "single_choice", f"Roots of {eq}", f"Solve {eq}.", _single(roots, wrong),
               tags=["quadratics", "foundations"], difficulty=diff)
        )  # fmt: skip
    for expr, value, diff in ARITHMETIC:
        out.append(
            _q(alg, "numeric", f"Evaluate {expr}", f"Evaluate {expr}.", _numeric(value),
               tags=["arithmetic"], difficulty=diff)
        )  # fmt: skip
    for statement, answer, diff in ALGEBRA_FACTS:
        out.append(
            _q(alg, "true_false", f"Algebra: {statement[:60]}", statement, _tf(answer),
               tags=["algebra", "foundations"], difficulty=diff)
        )  # fmt: skip
    out.append(
        _q(alg, "ordering", "Order the numbers from smallest to largest",
           "Put these numbers in increasing order.",
           {"points": "1.00", "items": ["-3", "-1/2", "0.3", "1/3", "sqrt(2)", "pi"]},
           tags=["numbers"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(alg, "multiple_response", "Prime numbers", "Which of these numbers are prime?",
           _multiple(["2", "13", "29", "41"], ["1", "21", "39", "51"]),
           tags=["numbers", "primes"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(alg, "short_answer", "Factorise x^2 - 9", "Factorise x^2 - 9 fully.",
           _short(["(x-3)(x+3)", "(x+3)(x-3)", "(x - 3)(x + 3)", "(x + 3)(x - 3)"]),
           tags=["algebra", "factorising"], difficulty=2, status=DRAFT)
    )  # fmt: skip
    return out


def _biology() -> list[dict]:
    cat = "Biology/Cells"
    out = []
    names = [o[0] for o in ORGANELLES]
    for index, (name, job, diff) in enumerate(ORGANELLES):
        wrong = [names[(index + k) % len(names)] for k in (1, 4, 7)]
        out.append(
            _q(cat, "single_choice", f"Organelle that {job}",
               f"Which part of the cell {job}?", _single(name, wrong),
               tags=["organelles", "foundations"], difficulty=diff)
        )  # fmt: skip
        out.append(
            _q(cat, "short_answer", f"Name the organelle: {job}",
               f"Name the cell structure that {job}.", _short([name, f"the {name}"]),
               tags=["organelles"], difficulty=min(diff + 1, 4),
               status=DRAFT if index % 6 == 5 else ACTIVE)
        )  # fmt: skip
    for group in _chunks(ORGANELLES, 4):
        out.append(
            _q(cat, "matching", f"Match organelles: {', '.join(g[0] for g in group)}",
               "Match each cell structure to its function.",
               {"points": "2.00", "shuffle": True,
                "pairs": [{"prompt": g[0], "match": g[1]} for g in group], "distractors": []},
               tags=["organelles", "matching"], difficulty=2)
        )  # fmt: skip
    for statement, answer, diff in CELL_FACTS:
        out.append(
            _q(cat, "true_false", f"Cells: {statement[:60]}", statement, _tf(answer),
               tags=["cells", "foundations"], difficulty=diff)
        )  # fmt: skip
    for question, accepted, diff in CELL_SHORT:
        out.append(
            _q(cat, "short_answer", question.rstrip("?"), question, _short(accepted),
               tags=["cells"], difficulty=diff)
        )  # fmt: skip
    out.append(
        _q(cat, "ordering", "Stages of mitosis", "Put the stages of mitosis in order.",
           {"points": "1.00", "items": MITOSIS}, tags=["cells", "mitosis"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(cat, "multiple_response", "Structures found in plant but not animal cells",
           "Which structures are found in plant cells but not in animal cells?",
           _multiple(["Cell wall", "Chloroplast", "Large permanent vacuole"],
                     ["Mitochondrion", "Ribosome", "Nucleus"]),
           tags=["organelles"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(cat, "cloze", "Photosynthesis word equation", "Complete the word equation.",
           {"points": "2.00",
            "text": "Carbon dioxide + {{1}} → glucose + {{2}}",
            "gaps": [{"id": "1", "accepted": ["water"]}, {"id": "2", "accepted": ["oxygen"]}]},
           tags=["cells", "photosynthesis"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(cat, "numeric", "Magnification of a cell image",
           "A cell 0.02 mm wide appears 10 mm wide in a drawing. What is the magnification?",
           _numeric("500"), tags=["cells", "microscopy"], difficulty=3)
    )  # fmt: skip
    return out


def _history() -> list[dict]:
    cat = "History/Modern Europe"
    out = []
    for event, year, diff in EVENTS:
        out.append(
            _q(cat, "numeric", f"Year of {event}", f"In which year did {event} take place?",
               _numeric(year), tags=["dates", "foundations"], difficulty=diff)
        )  # fmt: skip
    shuffled = random.Random(1789).sample(EVENTS, len(EVENTS))  # noqa: S311 - fixed demo data
    for group in _chunks(shuffled, 4):
        ordered = sorted(group, key=lambda e: e[1])
        out.append(
            _q(cat, "ordering", f"Chronology: {', '.join(e[0] for e in group)[:200]}",
               "Put these events in chronological order, earliest first.",
               {"points": "2.00", "items": [e[0][0].upper() + e[0][1:] for e in ordered]},
               tags=["dates", "chronology"], difficulty=3)
        )  # fmt: skip
    for index, (event, year, diff) in enumerate(EVENTS[:8]):
        claimed = year if index % 2 == 0 else year + (1 if index % 4 == 1 else -2)
        out.append(
            _q(cat, "true_false", f"Was {event} in {claimed}?",
               f"True or false: {event} took place in {claimed}.", _tf(claimed == year),
               tags=["dates"], difficulty=diff)
        )  # fmt: skip
    for question, answer, wrong, diff in HISTORY_CHOICE:
        out.append(
            _q(cat, "single_choice", question.rstrip("?"), question, _single(answer, wrong),
               tags=["people", "foundations"], difficulty=diff)
        )  # fmt: skip
    out.append(
        _q(cat, "matching", "Match the leaders to their countries",
           "Match each leader with the country they led.",
           {"points": "2.00", "shuffle": True,
            "pairs": [{"prompt": "Otto von Bismarck", "match": "Germany"},
                      {"prompt": "Camillo di Cavour", "match": "Italy"},
                      {"prompt": "Charles de Gaulle", "match": "France"},
                      {"prompt": "Francisco Franco", "match": "Spain"}],
            "distractors": ["Portugal"]},
           tags=["people", "matching"], difficulty=2)
    )  # fmt: skip
    out.append(
        _q(cat, "multiple_response", "Founding members of the EEC",
           "Which countries signed the Treaty of Rome in 1957?",
           _multiple(["France", "West Germany", "Italy", "Belgium"],
                     ["United Kingdom", "Spain", "Denmark"]),
           tags=["europe", "treaties"], difficulty=3)
    )  # fmt: skip
    out.append(
        _q(cat, "cloze", "The Treaty of Versailles",
           "Complete the sentence.",
           {"points": "2.00",
            "text": "The Treaty of Versailles was signed in {{1}} and made {{2}} accept "
                    "responsibility for the war.",
            "gaps": [{"id": "1", "accepted": ["1919"], "options": ["1918", "1919", "1920"]},
                     {"id": "2", "accepted": ["Germany"],
                      "options": ["Austria", "Germany", "Russia"]}]},
           tags=["ww1", "treaties"], difficulty=2)
    )  # fmt: skip
    for country, capital, diff in CAPITALS:
        out.append(
            _q("Geography/Europe", "short_answer", f"Capital of {country}",
               f"What is the capital city of {country}?", _short([capital]),
               tags=["capitals", "europe"], difficulty=diff)
        )  # fmt: skip
    capitals = [c[1] for c in CAPITALS]
    for index, (country, capital, diff) in enumerate(CAPITALS[:10]):
        wrong = [capitals[(index + k) % len(capitals)] for k in (3, 7, 11)]
        out.append(
            _q("Geography/Europe", "single_choice", f"Which city is the capital of {country}",
               f"Which city is the capital of {country}?", _single(capital, wrong),
               tags=["capitals", "europe", "foundations"], difficulty=diff)
        )  # fmt: skip
    out.append(
        _q("Geography/Europe", "matching", "Match countries and capitals (Nordic)",
           "Match each Nordic country with its capital.",
           {"points": "2.00", "shuffle": True,
            "pairs": [{"prompt": c, "match": k} for c, k, _ in CAPITALS[9:13]],
            "distractors": ["Reykjavik"]},
           tags=["capitals", "matching"], difficulty=2)
    )  # fmt: skip
    return out


def _computing() -> list[dict]:
    cat = "Computing/Programming"
    out = []
    for expr, result, diff in PYTHON_OUTPUT:
        out.append(
            _q(cat, "short_answer", f"Python: value of {expr}",
               f"What does Python print for <code>print({expr})</code>?",
               _short([result], case_sensitive=True),
               tags=["python", "foundations"], difficulty=diff)
        )  # fmt: skip
    for algorithm, big_o, wrong, diff in COMPLEXITY:
        out.append(
            _q(cat, "single_choice", f"Complexity of {algorithm}",
               f"What is the time complexity of {algorithm}?", _single(big_o, wrong),
               tags=["algorithms", "complexity"], difficulty=diff)
        )  # fmt: skip
    for statement, answer, diff in PROGRAMMING_FACTS:
        out.append(
            _q(cat, "true_false", f"Programming: {statement[:60]}", statement, _tf(answer),
               tags=["python", "foundations"], difficulty=diff)
        )  # fmt: skip
    out += [
        _q(cat, "multiple_response", "Immutable Python types",
           "Which of these Python types are immutable?",
           _multiple(["tuple", "str", "frozenset", "int"], ["list", "dict", "set"]),
           tags=["python", "types"], difficulty=2),
        _q(cat, "multiple_response", "Valid Python identifiers",
           "Which of these are valid Python variable names?",
           _multiple(["total_2", "_count"], ["2total", "my-var", "class"]),
           tags=["python", "syntax"], difficulty=2),
        _q(cat, "ordering", "Order the complexities",
           "Order these complexity classes from the slowest-growing to the fastest-growing.",
           {"points": "1.00", "items": ["O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)",
                                        "O(2^n)"]},
           tags=["algorithms", "complexity"], difficulty=3),
        _q(cat, "ordering", "Steps of the edit–run cycle",
           "Order the steps of fixing a failing test.",
           {"points": "1.00", "items": ["Read the failure message", "Reproduce the failure",
                                        "Change the code", "Run the tests again"]},
           tags=["practice"], difficulty=1),
        _q(cat, "matching", "Match data structures to behaviour",
           "Match each data structure with how it behaves.",
           {"points": "2.00", "shuffle": True,
            "pairs": [{"prompt": "Stack", "match": "Last in, first out"},
                      {"prompt": "Queue", "match": "First in, first out"},
                      {"prompt": "Set", "match": "No duplicates"},
                      {"prompt": "Dictionary", "match": "Key-value pairs"}],
            "distractors": ["Always sorted"]},
           tags=["data-structures", "matching"], difficulty=2),
        _q(cat, "cloze", "A Python for loop", "Complete the loop that prints 0 to 4.",
           {"points": "2.00", "text": "{{1}} i in {{2}}(5): print(i)",
            "gaps": [{"id": "1", "accepted": ["for"], "case_sensitive": True},
                     {"id": "2", "accepted": ["range"], "case_sensitive": True}]},
           tags=["python", "syntax"], difficulty=1),
        _q(cat, "numeric", "Bits in a byte", "How many bits are there in one byte?",
           _numeric(8), tags=["foundations", "data"], difficulty=1),
        _q(cat, "numeric", "Binary 101101 in decimal",
           "What is the binary number 101101 in decimal?", _numeric(45),
           tags=["binary"], difficulty=2),
        _q(cat, "numeric", "Decimal 200 in hexadecimal digits",
           "How many hexadecimal digits does the number 200 need?", _numeric(2),
           tags=["binary"], difficulty=3, status=DRAFT),
    ]  # fmt: skip
    return out


def _english() -> list[dict]:
    cat = "English/Grammar"
    out = []
    for verb, past, participle, diff in IRREGULAR_VERBS:
        out.append(
            _q(cat, "short_answer", f"Past simple of '{verb}'",
               f"What is the past simple of the verb '{verb}'?", _short([past]),
               tags=["verbs", "foundations"], difficulty=diff)
        )  # fmt: skip
        out.append(
            _q(cat, "cloze", f"Past participle of '{verb}'",
               "Complete the sentence with the past participle.",
               {"points": "1.00", "text": f"I have {{{{1}}}} (to {verb.split()[0]}).",
                "gaps": [{"id": "1", "accepted": [participle]}]},
               tags=["verbs"], difficulty=diff)
        )  # fmt: skip
    for sentence, word, options, diff in HOMOPHONES:
        out.append(
            _q(cat, "cloze", f"Choose the word: {sentence.replace('{{1}}', '___')}",
               "Choose the right word.",
               {"points": "1.00", "text": sentence,
                "gaps": [{"id": "1", "accepted": [word], "case_sensitive": True,
                          "options": options}]},
               tags=["homophones", "foundations"], difficulty=diff)
        )  # fmt: skip
    classes = sorted({w[2] for w in WORD_CLASSES})
    for sentence, word, word_class, diff in WORD_CLASSES:
        wrong = [c for c in classes if c != word_class][:3]
        out.append(
            _q(cat, "single_choice", f"Word class of '{word}' in '{sentence}'",
               f"In the sentence “{sentence}”, what word class is “{word}”?",
               _single(word_class, wrong), tags=["word-classes"], difficulty=diff)
        )  # fmt: skip
    for statement, answer, diff in GRAMMAR_FACTS:
        out.append(
            _q(cat, "true_false", f"Grammar: {statement[:60]}", statement, _tf(answer),
               tags=["grammar"], difficulty=diff)
        )  # fmt: skip
    out += [
        _q(cat, "matching", "Match punctuation to its use",
           "Match each punctuation mark with its main use.",
           {"points": "2.00", "shuffle": True,
            "pairs": [{"prompt": "Apostrophe", "match": "Shows possession or omission"},
                      {"prompt": "Colon", "match": "Introduces a list or explanation"},
                      {"prompt": "Semicolon", "match": "Joins closely related clauses"},
                      {"prompt": "Comma", "match": "Separates items in a list"}],
            "distractors": ["Ends a question"]},
           tags=["punctuation", "matching"], difficulty=2),
        _q(cat, "multiple_response", "Sentences in the passive voice",
           "Which sentences are in the passive voice?",
           _multiple(["The cake was eaten by the children.", "The law was passed in 1990."],
                     ["The children ate the cake.", "Parliament passed the law."]),
           tags=["voice"], difficulty=3),
        _q(cat, "ordering", "Build the sentence", "Put the words in order to make a sentence.",
           {"points": "1.00", "items": ["The", "students", "have", "finished", "their",
                                        "essays"]},
           tags=["word-order"], difficulty=1),
        _q(cat, "numeric", "Syllables in 'university'",
           "How many syllables are there in the word 'university'?", _numeric(5),
           tags=["phonology"], difficulty=2),
    ]  # fmt: skip
    return out


def _essays() -> list[dict]:
    rubric = [
        {"id": "knowledge", "criterion": "Knowledge", "max_points": "4",
         "description": "Accurate and relevant facts"},
        {"id": "argument", "criterion": "Argument", "max_points": "4",
         "description": "A clear line of reasoning"},
        {"id": "writing", "criterion": "Writing", "max_points": "2",
         "description": "Clear structure and correct language"},
    ]  # fmt: skip
    return [
        _q(cat, "essay", title, stem,
           {"rubric": rubric, "min_words": 150, "max_words": 600},
           tags=tags, difficulty=5)
        for cat, title, stem, tags in ESSAYS
    ]  # fmt: skip


def bank() -> list[dict]:
    """Every demo question as ``create_question`` keywords, ``category`` still a path."""
    return _mathematics() + _biology() + _history() + _computing() + _english() + _essays()


# -- seeding -------------------------------------------------------------------------------


def _category(path: str) -> Category:
    parent = None
    for name in path.split("/"):
        found = Category.objects.filter(parent=parent, name=name).first()
        parent = found or create_category(name=name, parent=parent)
    return parent


def seed_question_bank(*, author: Any) -> list[str]:
    """Store the demo bank and the "Foundations mid-term" exam unless they exist; returns
    what was created."""
    created: list[str] = []
    with transaction.atomic():
        if not Question.objects.filter(title=MARKER_TITLE).exists():
            rows = bank()
            categories = {path: _category(path) for path in {r["category"] for r in rows}}
            questions = create_questions(
                author=author,
                questions=[{**r, "category": categories[r["category"]]} for r in rows],
            )
            created.append(f"{len(questions)} demo questions")
        created += _seed_exam(author)
    return created


def _seed_exam(author: Any) -> list[str]:
    from .exams.models import Exam
    from .exams.services import (
        add_fixed_item,
        add_pool_item,
        add_section,
        create_exam,
        publish_exam,
    )

    if Exam.objects.filter(title=EXAM_TITLE).exists():
        return []
    exam = create_exam(
        by=author,
        title=EXAM_TITLE,
        description=_p(
            "A 40-question check of first-year foundations: mathematics, cells, modern "
            "European history, programming and grammar."
        ),
        time_limit_minutes=60,
        navigation=Exam.Navigation.FREE,
        shuffle_questions=True,
        shuffle_options=True,
        pass_mark_percent=Decimal(50),
        attempts_allowed=1,
    )
    fixed_titles = [
        "Derivative of x^2",
        "Derivative of sin x",
        "Roots of x^2 - 5x + 6 = 0",
        "Organelle that produces most of the cell's ATP by aerobic respiration",
        "Year of the storming of the Bastille",
        "Year of the fall of the Berlin Wall",
        "Python: value of 7 // 2",
        "Complexity of binary search in a sorted array",
        "Past simple of 'go'",
        "Capital of France",
    ]
    core = add_section(
        exam=exam, title="Core questions", instructions=_p("Everyone answers these ten.")
    )
    for title in fixed_titles:
        add_fixed_item(section=core, question=Question.objects.get(title=title))
    maths = add_section(exam=exam, title="Mathematics")
    add_pool_item(section=maths, count=5, category=_category("Mathematics/Algebra"),
                  difficulty=(1, 3))  # fmt: skip
    add_pool_item(section=maths, count=5, category=_category("Mathematics/Calculus"),
                  tags=["derivatives"], difficulty=(2, 4))  # fmt: skip
    rest = add_section(exam=exam, title="Sciences and humanities")
    add_pool_item(section=rest, count=5, category=_category("Biology"), difficulty=(1, 3))
    add_pool_item(section=rest, count=5, category=_category("History"), difficulty=(1, 4))
    add_pool_item(section=rest, count=5, tags=["python"], difficulty=(1, 3))
    add_pool_item(section=rest, count=5, category=_category("English"), tags=["foundations"],
                  difficulty=(1, 2))  # fmt: skip
    version = publish_exam(exam=exam, by=author)
    return [f"exam {EXAM_TITLE} v{version.number}"]
