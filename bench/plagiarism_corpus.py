"""A synthetic corpus of exam essays with planted near-copies, for the plagiarism benchmark
and tests. Deterministic for a seed.

Each essay answers one of five questions and is a list of sentence plans (template,
connector, and the subject/verb/object/modifier it talks about); rendering picks one wording
of every slot among synonyms. Honest essays draw their plans independently. Planted copies
of a source essay are:

- ``edited``: the same text with a tenth of the words dropped, doubled or misspelt;
- ``reordered``: the same sentences, shuffled, with a tenth of the words edited;
- ``paraphrased``: the same plans, shuffled, each slot reworded with a synonym at
  ``PARAPHRASE_RATE`` (60%), half the sentences in another template, every connector
  changed — few word 3-shingles survive;
- ``partial``: half of the source's sentences among the copier's own;
- ``ring``: three or four students sharing one source, each copying in one of those ways.

Ground truth: every pair of texts within one family (the source and its copies).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PARAPHRASE_RATE = 0.6

CONNECTORS = [
    ("Firstly,", "To begin with,", "First of all,"),
    ("Moreover,", "Furthermore,", "In addition,"),
    ("However,", "Nevertheless,", "On the other hand,"),
    ("Therefore,", "Consequently,", "As a result,"),
    ("In my view,", "I believe that", "In my opinion,"),
    ("For example,", "For instance,", "To illustrate,"),
    ("Finally,", "Lastly,", "In the end,"),
    ("Overall,", "In general,", "On the whole,"),
]

TEMPLATES = [
    "{C} {S} {V} {O} {M}.",
    "{C} it is clear that {S} {V} {O} {M}.",
    "{C} {M}, {S} {V} {O}.",
    "{C} many argue that {S} {V} {O} {M}.",
    "{C} we can see that {S} {V} {O} {M}.",
]

# Per question: subjects, verbs, objects, modifiers — each a tuple of synonymous wordings.
TOPICS = [
    {
        "S": [
            ("rising temperatures", "warmer temperatures", "higher temperatures"),
            ("greenhouse gases", "heat-trapping gases", "carbon emissions"),
            ("melting glaciers", "shrinking glaciers", "retreating ice sheets"),
            ("deforestation", "the clearing of forests", "forest loss"),
            ("fossil fuel use", "burning coal and oil", "the use of fossil fuels"),
            ("rising sea levels", "higher sea levels", "the rising ocean"),
            ("extreme weather", "severe storms", "violent weather events"),
            ("industrial farming", "intensive agriculture", "large-scale farming"),
            ("renewable energy", "clean energy", "green power"),
            ("ocean acidification", "acidifying seas", "more acidic oceans"),
            ("governments", "national authorities", "state leaders"),
            ("poorer countries", "developing nations", "low-income countries"),
        ],
        "V": [
            ("threaten", "endanger", "put at risk"),
            ("damage", "harm", "hurt"),
            ("increase", "raise", "boost"),
            ("reduce", "lower", "cut"),
            ("disrupt", "upset", "unsettle"),
            ("change", "alter", "transform"),
            ("affect", "influence", "impact"),
            ("destroy", "wreck", "ruin"),
            ("protect", "safeguard", "shield"),
            ("accelerate", "speed up", "hasten"),
        ],
        "O": [
            ("coastal cities", "seaside towns", "cities on the coast"),
            ("food production", "crop yields", "harvests"),
            ("wildlife habitats", "animal habitats", "natural habitats"),
            ("water supplies", "fresh water reserves", "drinking water"),
            ("public health", "human health", "the health of people"),
            ("the global economy", "world markets", "the international economy"),
            ("coral reefs", "reef ecosystems", "tropical reefs"),
            ("biodiversity", "the variety of species", "species diversity"),
            ("energy prices", "the cost of energy", "fuel costs"),
            ("future generations", "our children", "the generations to come"),
            ("insurance costs", "the price of insurance", "insurance premiums"),
            ("migration patterns", "movements of people", "human migration"),
        ],
        "M": [
            ("every year", "each year", "year after year"),
            ("across the world", "around the globe", "worldwide"),
            ("in the long term", "over the long run", "in the coming decades"),
            ("more than ever", "like never before", "to an unprecedented degree"),
            ("in many regions", "in numerous areas", "in several parts of the world"),
            ("quite rapidly", "very quickly", "at a fast pace"),
            ("without strong policies", "unless leaders act", "if nothing is done"),
            ("in subtle ways", "in hidden ways", "in ways that are easy to miss"),
        ],
    },
    {
        "S": [
            ("the alliance system", "the network of alliances", "military alliances"),
            ("nationalism", "national pride", "patriotic fervour"),
            ("the arms race", "the military build-up", "the race to rearm"),
            ("imperial rivalry", "competition between empires", "colonial rivalry"),
            ("the assassination in Sarajevo", "the killing of the archduke", "the Sarajevo murder"),
            ("secret diplomacy", "hidden treaties", "covert agreements"),
            ("the naval race", "competition at sea", "the battleship race"),
            ("mobilisation plans", "war plans", "rigid military timetables"),
            ("economic competition", "trade rivalry", "commercial competition"),
            ("the Balkan crises", "tensions in the Balkans", "the Balkan conflicts"),
            ("public opinion", "popular sentiment", "the mood of the public"),
            ("militarism", "military culture", "the glorification of the army"),
        ],
        "V": [
            ("escalated", "intensified", "worsened"),
            ("triggered", "sparked", "set off"),
            ("undermined", "weakened", "eroded"),
            ("dragged", "pulled", "drew"),
            ("encouraged", "fuelled", "promoted"),
            ("shaped", "moulded", "influenced"),
            ("destabilised", "unsettled", "shook"),
            ("provoked", "incited", "stirred up"),
            ("entangled", "trapped", "locked"),
            ("heightened", "raised", "increased"),
        ],
        "O": [
            (
                "tensions between the great powers",
                "rivalry among the major powers",
                "friction between empires",
            ),
            ("the balance of power", "the European equilibrium", "the stability of Europe"),
            ("a local conflict", "a regional dispute", "a small quarrel"),
            ("the diplomatic system", "international diplomacy", "relations between states"),
            ("the major empires", "the great empires", "the large imperial powers"),
            ("a general war", "a continental war", "a wider war"),
            ("popular support for war", "enthusiasm for war", "the appetite for war"),
            ("the peace of Europe", "European peace", "the fragile peace"),
            ("Austria-Hungary and Serbia", "Vienna and Belgrade", "the Habsburgs and the Serbs"),
            ("the July crisis", "the crisis of summer 1914", "the events of July 1914"),
            ("military planners", "the general staffs", "army leaders"),
            ("the smaller nations", "the minor states", "small countries"),
        ],
        "M": [
            ("before 1914", "in the years before the war", "prior to the outbreak of war"),
            ("step by step", "gradually", "little by little"),
            ("almost inevitably", "nearly unavoidably", "with near certainty"),
            ("across Europe", "throughout the continent", "all over Europe"),
            ("within weeks", "in a matter of weeks", "very quickly"),
            ("more than any single event", "above all else", "more than anything"),
            ("in the decades before", "over many years", "for a long time"),
            ("on both sides", "in every camp", "among all the powers"),
        ],
    },
    {
        "S": [
            ("chlorophyll", "the green pigment", "the pigment in chloroplasts"),
            ("the light reactions", "the light-dependent stage", "the first stage"),
            ("the Calvin cycle", "the light-independent stage", "carbon fixation"),
            ("sunlight", "light energy", "solar radiation"),
            ("the stomata", "leaf pores", "small openings in the leaf"),
            ("the enzyme rubisco", "rubisco", "the carboxylating enzyme"),
            ("water molecules", "water", "H2O"),
            ("carbon dioxide", "CO2", "atmospheric carbon"),
            ("the chloroplasts", "the plastids", "these organelles"),
            ("temperature", "heat", "warmth"),
            ("the plant", "the leaf", "green plants"),
            ("ATP and NADPH", "energy carriers", "the products of the light stage"),
        ],
        "V": [
            ("absorbs", "captures", "takes in"),
            ("converts", "transforms", "turns"),
            ("produces", "generates", "makes"),
            ("releases", "gives off", "emits"),
            ("limits", "restricts", "constrains"),
            ("drives", "powers", "fuels"),
            ("splits", "breaks apart", "divides"),
            ("stores", "keeps", "holds"),
            ("controls", "regulates", "governs"),
            ("requires", "needs", "depends on"),
        ],
        "O": [
            ("glucose", "sugar", "carbohydrates"),
            ("oxygen", "O2", "oxygen gas"),
            ("chemical energy", "stored energy", "energy in chemical bonds"),
            (
                "the rate of photosynthesis",
                "the speed of photosynthesis",
                "how fast photosynthesis happens",
            ),
            ("electrons", "excited electrons", "high-energy electrons"),
            ("carbon atoms", "carbon", "inorganic carbon"),
            ("gas exchange", "the exchange of gases", "the flow of gases"),
            ("the energy of light", "light", "photons"),
            ("starch", "stored starch", "starch grains"),
            (
                "the proton gradient",
                "the hydrogen ion gradient",
                "the gradient across the membrane",
            ),
            ("the whole ecosystem", "food chains", "every food web"),
            ("water loss", "transpiration", "evaporation from the leaves"),
        ],
        "M": [
            ("in the thylakoid membranes", "inside the thylakoids", "on the thylakoid membranes"),
            ("in the stroma", "within the stroma", "in the fluid of the chloroplast"),
            ("during the day", "in daylight", "while the sun shines"),
            ("very efficiently", "with high efficiency", "remarkably well"),
            ("at high temperatures", "when it is hot", "in warm conditions"),
            ("in every green cell", "in all green tissue", "throughout the leaf"),
            ("step by step", "in stages", "in a series of steps"),
            ("as a by-product", "as a waste product", "as a side product"),
        ],
    },
    {
        "S": [
            ("higher prices", "rising prices", "price increases"),
            ("consumers", "buyers", "shoppers"),
            ("producers", "sellers", "firms"),
            ("a shortage", "scarcity", "a lack of supply"),
            ("a surplus", "excess supply", "an oversupply"),
            ("the equilibrium price", "the market price", "the clearing price"),
            ("government subsidies", "state subsidies", "public subsidies"),
            ("a price ceiling", "a maximum price", "price controls"),
            ("consumer income", "household income", "what people earn"),
            ("new technology", "technological progress", "innovation"),
            ("substitute goods", "substitutes", "alternative products"),
            ("taxes on goods", "sales taxes", "indirect taxes"),
        ],
        "V": [
            ("reduce", "lower", "decrease"),
            ("increase", "raise", "push up"),
            ("shift", "move", "displace"),
            ("encourage", "motivate", "prompt"),
            ("discourage", "deter", "put off"),
            ("determine", "set", "fix"),
            ("distort", "skew", "warp"),
            ("affect", "influence", "change"),
            ("restore", "re-establish", "bring back"),
            ("create", "cause", "lead to"),
        ],
        "O": [
            ("the quantity demanded", "demand", "how much people buy"),
            ("the quantity supplied", "supply", "how much firms sell"),
            ("the demand curve", "the curve of demand", "the demand schedule"),
            ("the supply curve", "the curve of supply", "the supply schedule"),
            ("market efficiency", "the efficiency of the market", "allocative efficiency"),
            ("black markets", "illegal markets", "underground trading"),
            ("profits", "earnings of firms", "company profits"),
            ("consumer welfare", "the wellbeing of buyers", "consumer surplus"),
            ("production costs", "the cost of production", "costs of making goods"),
            ("the equilibrium", "market balance", "the point where supply meets demand"),
            ("waiting lists", "queues", "long lines"),
            ("investment", "new investment", "capital spending"),
        ],
        "M": [
            ("in the short run", "in the short term", "at first"),
            ("in the long run", "over time", "eventually"),
            ("in competitive markets", "when markets are competitive", "under competition"),
            ("for most goods", "for the majority of products", "for typical goods"),
            ("quite sharply", "significantly", "by a large amount"),
            ("all else being equal", "other things equal", "ceteris paribus"),
            ("across the economy", "in every sector", "throughout the market"),
            ("as the model predicts", "as theory suggests", "according to the model"),
        ],
    },
    {
        "S": [
            ("unit tests", "small automated tests", "tests of single functions"),
            ("integration tests", "tests of combined parts", "end-to-end checks"),
            ("code review", "peer review", "reviewing each other's code"),
            ("continuous integration", "a CI pipeline", "automatic builds"),
            ("test coverage", "coverage metrics", "the share of code tested"),
            ("regression tests", "tests for old bugs", "re-running earlier tests"),
            ("mocking", "test doubles", "fake objects"),
            ("flaky tests", "unreliable tests", "tests that fail at random"),
            ("property-based testing", "generated test cases", "random input testing"),
            ("manual testing", "exploratory testing", "hands-on testing"),
            ("the developers", "the engineers", "the programmers"),
            ("static analysis", "linters", "type checkers"),
        ],
        "V": [
            ("catch", "detect", "find"),
            ("prevent", "stop", "avoid"),
            ("slow down", "delay", "hold up"),
            ("improve", "enhance", "raise"),
            ("document", "describe", "explain"),
            ("hide", "conceal", "mask"),
            ("speed up", "accelerate", "shorten"),
            ("protect", "guard", "secure"),
            ("expose", "reveal", "uncover"),
            ("undermine", "erode", "weaken"),
        ],
        "O": [
            ("bugs", "defects", "errors"),
            ("design flaws", "problems in the design", "architectural mistakes"),
            ("confidence in releases", "trust in each release", "release confidence"),
            ("the feedback loop", "feedback to developers", "the time to feedback"),
            ("edge cases", "unusual inputs", "corner cases"),
            ("refactoring", "restructuring code", "cleaning up code"),
            ("the build", "the build process", "the pipeline"),
            ("security holes", "vulnerabilities", "security flaws"),
            ("expected behaviour", "the intended behaviour", "what the code should do"),
            ("team productivity", "the speed of the team", "developer productivity"),
            ("production outages", "failures in production", "incidents"),
            ("maintenance costs", "the cost of maintenance", "long-term costs"),
        ],
        "M": [
            ("early in development", "at an early stage", "before release"),
            ("on every commit", "with each change", "for every change"),
            ("in large projects", "in big codebases", "in large systems"),
            ("in the long run", "over time", "eventually"),
            ("more cheaply", "at lower cost", "for less money"),
            ("in practice", "in real projects", "in the real world"),
            ("without much effort", "with little effort", "easily"),
            ("when used carelessly", "if misused", "when applied badly"),
        ],
    },
]

QUESTIONS = [
    "Discuss the main consequences of climate change and how they could be limited.",
    "Explain the causes of the First World War.",
    "Describe how photosynthesis works and what limits its rate.",
    "Explain how supply and demand determine prices, with examples of intervention.",
    "Discuss the role of automated testing in software quality.",
]


@dataclass(frozen=True)
class Essay:
    question: int  # index in QUESTIONS
    text: str
    family: int | None  # planted family id (source and its copies), None for honest essays
    kind: str  # "honest" | "source" | "edited" | "reordered" | "paraphrased" | "partial"


def _plan(rng: random.Random, topic: dict) -> tuple:
    return (
        rng.randrange(len(TEMPLATES)),
        rng.randrange(len(CONNECTORS)),
        rng.randrange(len(topic["S"])),
        rng.randrange(len(topic["V"])),
        rng.randrange(len(topic["O"])),
        rng.randrange(len(topic["M"])),
    )


def _render(rng: random.Random, topic: dict, plan: tuple, wording: list[int] | None = None) -> str:
    template, connector, s, v, o, m = plan
    pick = wording or [rng.randrange(3) for _ in range(5)]
    sentence = TEMPLATES[template].format(
        C=CONNECTORS[connector][pick[0]],
        S=topic["S"][s][pick[1]],
        V=topic["V"][v][pick[2]],
        O=topic["O"][o][pick[3]],
        M=topic["M"][m][pick[4]],
    )
    return sentence[0].upper() + sentence[1:]


def _essay(rng: random.Random, topic: dict) -> tuple[list[tuple], list[list[int]]]:
    plans = [_plan(rng, topic) for _ in range(rng.randint(8, 14))]
    wordings = [[rng.randrange(3) for _ in range(5)] for _ in plans]
    return plans, wordings


def _text(rng, topic, plans, wordings) -> str:
    return " ".join(_render(rng, topic, p, w) for p, w in zip(plans, wordings, strict=True))


def _edit(rng: random.Random, text: str, rate: float = 0.1) -> str:
    words = text.split()
    out = []
    for word in words:
        roll = rng.random()
        if roll < rate / 3:
            continue  # dropped
        if roll < 2 * rate / 3:
            out += [word, word]  # doubled
        elif roll < rate and len(word) > 3:
            i = rng.randrange(len(word) - 1)
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # letters swapped
        else:
            out.append(word)
    return " ".join(out)


def _copy(rng, topic, plans, wordings, kind: str) -> str:
    if kind == "edited":
        return _edit(rng, _text(rng, topic, plans, wordings))
    if kind == "reordered":
        order = list(range(len(plans)))
        rng.shuffle(order)
        return _edit(
            rng, _text(rng, topic, [plans[i] for i in order], [wordings[i] for i in order])
        )
    if kind == "paraphrased":
        order = list(range(len(plans)))
        rng.shuffle(order)
        sentences = []
        for i in order:
            template, connector, s, v, o, m = plans[i]
            new_template = rng.randrange(len(TEMPLATES)) if rng.random() < 0.5 else template
            new_connector = rng.randrange(len(CONNECTORS))
            # Another wording (a synonym) for most slots.
            wording = [
                (w + rng.randint(1, 2)) % 3 if rng.random() < PARAPHRASE_RATE else w
                for w in wordings[i]
            ]
            sentences.append(
                _render(rng, topic, (new_template, new_connector, s, v, o, m), wording)
            )
        return " ".join(sentences)
    if kind == "partial":
        keep = sorted(rng.sample(range(len(plans)), max(4, len(plans) // 2)))
        own_plans, own_wordings = _essay(rng, topic)
        mixed = [(plans[i], wordings[i]) for i in keep] + list(
            zip(own_plans[: len(plans) - len(keep)], own_wordings, strict=False)
        )
        rng.shuffle(mixed)
        return " ".join(_render(rng, topic, p, w) for p, w in mixed)
    raise ValueError(kind)


def corpus(
    total: int = 5000, *, seed: int = 7, pairs: dict[str, int] | None = None, rings: int = 20
) -> list[Essay]:
    """``total`` essays over the five questions, of which some are planted families."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    pairs = pairs or {"edited": 120, "reordered": 100, "paraphrased": 100, "partial": 40}
    essays: list[Essay] = []
    family = 0
    kinds = ["edited", "reordered", "paraphrased", "partial"]
    for kind, count in pairs.items():
        for _ in range(count):
            question = rng.randrange(len(TOPICS))
            topic = TOPICS[question]
            plans, wordings = _essay(rng, topic)
            family += 1
            essays.append(Essay(question, _text(rng, topic, plans, wordings), family, "source"))
            essays.append(Essay(question, _copy(rng, topic, plans, wordings, kind), family, kind))
    for _ in range(rings):
        question = rng.randrange(len(TOPICS))
        topic = TOPICS[question]
        plans, wordings = _essay(rng, topic)
        family += 1
        essays.append(Essay(question, _text(rng, topic, plans, wordings), family, "source"))
        for _ in range(rng.randint(2, 3)):
            kind = rng.choice(kinds)
            essays.append(Essay(question, _copy(rng, topic, plans, wordings, kind), family, kind))
    while len(essays) < total:
        question = rng.randrange(len(TOPICS))
        topic = TOPICS[question]
        plans, wordings = _essay(rng, topic)
        essays.append(Essay(question, _text(rng, topic, plans, wordings), None, "honest"))
    rng.shuffle(essays)
    return essays[:total]


def truth_pairs(essays: list[Essay]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of essays in the same planted family."""
    families: dict[int, list[int]] = {}
    for index, essay in enumerate(essays):
        if essay.family is not None:
            families.setdefault(essay.family, []).append(index)
    return {
        (a, b)
        for members in families.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    }


def precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict:
    hits = len(found & truth)
    return {
        "found": len(found),
        "planted": len(truth),
        "true_positives": hits,
        "precision": round(hits / len(found), 4) if found else 1.0,
        "recall": round(hits / len(truth), 4) if truth else 1.0,
    }


def seed_exam(*, admin, essays: list[Essay], title: str = "Essay exam") -> tuple:
    """A published exam with one essay question per entry of ``QUESTIONS`` and, for each
    essay, a submitted attempt's response at that question's position (bulk inserted: one
    candidate per attempt, as many attempts as the busiest question has essays). Returns
    (exam, [response id of each essay, in order]). Runs in the current tenant schema."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from assessments import services as bank
    from assessments.delivery.models import Attempt, Response
    from assessments.exams import services as exams

    exam = exams.create_exam(by=admin, title=title)
    section = exams.add_section(exam=exam, title="Essays")
    for number, stem in enumerate(QUESTIONS, start=1):
        question = bank.create_question(
            author=admin,
            type="essay",
            title=f"Essay {number}",
            stem=f"<p>{stem}</p>",
            data={
                "rubric": [
                    {"id": "content", "criterion": "Content", "max_points": "6"},
                    {"id": "structure", "criterion": "Structure", "max_points": "4"},
                ]
            },
            status="active",
        )
        exams.add_fixed_item(section=section, question=question)
    version = exams.publish_exam(exam=exam, by=admin)
    items = exams.draw_questions(version=version, seed="bench")
    per_question: dict[int, int] = {}
    slots = []
    for essay in essays:
        slot = per_question.get(essay.question, 0)
        per_question[essay.question] = slot + 1
        slots.append(slot)
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(email=f"candidate{n}@{title.lower().replace(' ', '-')}.test")
            for n in range(max(per_question.values(), default=0))
        ]
    )
    now = timezone.now()
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                exam=exam,
                version=version,
                user=user,
                number=1,
                status=Attempt.Status.SUBMITTED,
                seed="bench",
                items=items,
                item_count=len(items),
                started_at=now,
                submitted_at=now,
                overdue_policy=exam.overdue_policy,
                grading=Attempt.Grading.NEEDS_MANUAL,
            )
            for user in users
        ],
        batch_size=1000,
    )
    responses = Response.objects.bulk_create(
        [
            Response(
                attempt=attempts[slot],
                position=essay.question + 1,
                value=essay.text,
                seq=1,
                saved_at=now,
                score=0,
                max_score=10,
                needs_manual=True,
            )
            for essay, slot in zip(essays, slots, strict=True)
        ],
        batch_size=2000,
    )
    return exam, [r.pk for r in responses]
