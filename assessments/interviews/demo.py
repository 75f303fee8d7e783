"""Starting interview templates: one per industry, five or more questions each.

``seed_templates()`` runs in the current tenant schema and is idempotent (a template with the
same title is left as it is), so the demo seed can call it on every start.
"""

from __future__ import annotations

from .models import Industry, InterviewTemplate, TemplateQuestion

B = TemplateQuestion.Kind.BEHAVIOURAL
T = TemplateQuestion.Kind.TECHNICAL
S = TemplateQuestion.Kind.SITUATIONAL

TEMPLATES: list[dict] = [
    {
        "title": "Software engineer",
        "industry": Industry.TECHNOLOGY,
        "role": "Software engineer",
        "competencies": ["Problem solving", "Teamwork", "Technical depth", "Ownership"],
        "description": "A mid-level engineering interview: delivery, collaboration, design.",
        "questions": [
            (
                B,
                "Problem solving",
                "Tell me about a difficult bug you tracked down.",
                "How they narrowed it down (logs, bisecting, reproducing), what the cause was, "
                "the fix, and what they changed so it does not happen again.",
            ),
            (
                B,
                "Teamwork",
                "Describe a time you disagreed with a colleague about a technical decision.",
                "Listening, evidence over opinion, a decision reached and "
                "respected; the relationship afterwards.",
            ),
            (
                T,
                "Technical depth",
                "How would you design a URL shortener that serves a million redirects a day?",
                "Key generation, storage, caching, read/write "
                "ratio, analytics, abuse; trade-offs stated.",
            ),
            (
                S,
                "Ownership",
                "You notice on Friday afternoon that a release you shipped is "
                "slowly corrupting data. What do you do?",
                "Stop the damage first (roll back, "
                "feature flag), tell people, assess scope, fix, post-mortem without blame.",
            ),
            (
                B,
                "Ownership",
                "Tell me about something you improved without being asked.",
                "Noticed a problem, made the case, did the work, measured the effect.",
            ),
        ],
    },
    {
        "title": "Financial analyst",
        "industry": Industry.FINANCE,
        "role": "Financial analyst",
        "competencies": ["Analytical thinking", "Attention to detail", "Communication"],
        "description": "Analysis, accuracy and explaining numbers to non-specialists.",
        "questions": [
            (
                B,
                "Attention to detail",
                "Tell me about a time you found an error in a report or a model.",
                "How it was spotted, its impact, the correction and the check added afterwards.",
            ),
            (
                T,
                "Analytical thinking",
                "Walk me through how you would value a small private company.",
                "DCF with stated assumptions, comparables, sensitivity, what drives the value.",
            ),
            (
                B,
                "Communication",
                "Describe a time you explained a complex financial result "
                "to someone without a finance background.",
                "Plain words, one key message, visuals, checking understanding.",
            ),
            (
                S,
                "Analytical thinking",
                "Revenue is up 10% but cash is down. What do you look at first?",
                "Working capital (receivables, inventory), capex, timing, "
                "one-offs; questions to ask.",
            ),
            (
                B,
                "Communication",
                "Tell me about a deadline you nearly missed.",
                "Early warning, priorities, asking for help, the outcome and the lesson.",
            ),
        ],
    },
    {
        "title": "Staff nurse",
        "industry": Industry.HEALTHCARE,
        "role": "Staff nurse",
        "competencies": ["Patient care", "Teamwork", "Working under pressure"],
        "description": "Ward nursing: safety, compassion and calm under pressure.",
        "questions": [
            (
                B,
                "Patient care",
                "Tell me about a time you helped an anxious patient.",
                "Listening, explaining, involving family, the patient's outcome.",
            ),
            (
                B,
                "Working under pressure",
                "Describe a shift where several patients needed you at once.",
                "Prioritising by clinical need, delegating, escalating, documenting.",
            ),
            (
                S,
                "Patient care",
                "A patient refuses their medication. What do you do?",
                "Find out why, explain, respect capacity and consent, inform the doctor, document.",
            ),
            (
                T,
                "Patient care",
                "How do you recognise and respond to a deteriorating patient?",
                "Early warning scores, observations, escalation (SBAR), re-assessment.",
            ),
            (
                B,
                "Teamwork",
                "Tell me about a time you raised a concern about a colleague's practice.",
                "Patient safety first, the right channel, facts, follow-up.",
            ),
        ],
    },
    {
        "title": "Management consultant",
        "industry": Industry.CONSULTING,
        "role": "Consultant",
        "competencies": ["Structured thinking", "Client management", "Leadership"],
        "description": "Case thinking and client work.",
        "questions": [
            (
                S,
                "Structured thinking",
                "A coffee chain's profits fell 20% last year. How would you find out why?",
                "A profit tree (revenue vs costs), hypotheses, the "
                "data to test them, a recommendation.",
            ),
            (
                B,
                "Client management",
                "Tell me about a time a client disagreed with your recommendation.",
                "Understanding their concern, evidence, adapting, the relationship preserved.",
            ),
            (
                B,
                "Leadership",
                "Describe a time you led a team without formal authority.",
                "Shared goal, influence, clear roles, results.",
            ),
            (
                T,
                "Structured thinking",
                "Estimate the number of electric car chargers needed in your city.",
                "Clear assumptions, a segmented estimate, a sanity check.",
            ),
            (
                B,
                "Client management",
                "Tell me about delivering bad news to a stakeholder.",
                "Early, honest, with options; what happened next.",
            ),
        ],
    },
    {
        "title": "Secondary school teacher",
        "industry": Industry.EDUCATION,
        "role": "Teacher",
        "competencies": ["Classroom management", "Differentiation", "Communication"],
        "description": "Teaching practice, behaviour and working with families.",
        "questions": [
            (
                B,
                "Classroom management",
                "Tell me about a lesson that went wrong and what you did.",
                "Staying calm, routines, de-escalation, reflection and changes.",
            ),
            (
                B,
                "Differentiation",
                "Describe how you supported a student who was falling behind.",
                "Diagnosis, targeted help, working with support staff, progress measured.",
            ),
            (
                S,
                "Communication",
                "A parent emails angrily about their child's grade. How do you respond?",
                "Acknowledge, meet, explain the criteria, agree next "
                "steps, involve leaders if needed.",
            ),
            (
                T,
                "Differentiation",
                "How do you plan a lesson for a class with very mixed abilities?",
                "Clear objective, tiered tasks, grouping, questioning, assessment for learning.",
            ),
            (
                B,
                "Communication",
                "Tell me about a time you worked with colleagues to improve results.",
                "Shared data, agreed actions, follow-through, the outcome.",
            ),
        ],
    },
]


def seed_templates() -> list[InterviewTemplate]:
    """Create the starting templates that are missing; return all of them."""
    out = []
    for spec in TEMPLATES:
        template = InterviewTemplate.objects.filter(title=spec["title"]).first()
        if template is None:
            template = InterviewTemplate.objects.create(
                title=spec["title"],
                industry=spec["industry"],
                role=spec["role"],
                competencies="\n".join(spec["competencies"]),
                description=spec["description"],
                published=True,
            )
            TemplateQuestion.objects.bulk_create(
                TemplateQuestion(
                    template=template,
                    sort_order=index,
                    kind=kind,
                    competency=competency,
                    prompt=prompt,
                    ideal_answer_notes=notes,
                )
                for index, (kind, competency, prompt, notes) in enumerate(spec["questions"])
            )
        out.append(template)
    return out
