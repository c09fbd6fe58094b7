"""No number or count the data hold is typed by hand in a chapter's prose: counts of studies, trials, patients, claims
and the like come from the CSVs through `glue` (and tests/test_site.py recomputes each glued value). A number word or
digit right before such a noun, outside code cells, directives and roles, is flagged, unless ALLOWED lists the
line's text with the reason it is not data."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, toc_files

NUMBER = (
    r"(?<!Table )(?<!Figure )\b(?:(?!(?:19|20)\d\d\b)\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|twenty|thirty|forty|fifty|hundred|dozen|single|both|several)\b"
)
NOUN = (
    r"(?:stud(?:y|ies)|trials?|patients?|participants?|claims?|statements?|arms?|references?|records?|queries|"
    r"elements?|chapters?|tables?|reviews?|conclusions?|drugs?|adults?|children|people|volunteers?|subjects?|items?)"
)
COUNT = re.compile(rf"{NUMBER}(?:\s+[\w-]+){{0,2}}?\s+{NOUN}\b", re.I)
# a dose, amount or duration the data hold (drug_values.csv, arms.csv): "150 mg t.i.d.", "450 mg/day", "12 weeks"
AMOUNT = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|µg|mcg|g|ml|mL|%|per ?cent|hours?|h|days?|weeks?|months?)(?:/\w+)?\b")
# text a chapter may type, with the reason each is not a count from data
ALLOWED = {
    "three centrally acting muscle relaxants": "the book's fixed scope (its title names them)",
    "both drugs": "refers to the two drugs of one comparison, not a count",
    "both arms": "a design feature of the guide's claimed trial, quoted",
    "single study": "GRADE's wording for one-study evidence in a reason, not a count",
    "two relatives": "the book's fixed scope: tolperisone and eperisone",
    "the two drugs": "the two drugs of one comparison",
    "one drug": "a design phrase",
    "both drugs in turn": "crossover design",
    "five drugs": "the book's fixed scope: three drugs and two relatives",
    "three tolperisone-type drugs": "the book's fixed scope: lanperisone, tolperisone, eperisone",
    "three compared drugs": "the book's fixed scope",
    "one column per drug": "a table layout, not a count",
    "at least two studies": "the pooling rule, not a count",
    "one false element": "the status rule, not a count",
    "0.01 g/mol": "the identity check's tolerance, a method constant",
}


def prose(text: str) -> str:
    """The page's prose: no front matter, code cells, directive blocks, roles or inline code."""
    text = text.split("---\n", 2)[2] if text.startswith("---\n") else text
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", "ROLE", text)
    return re.sub(r"`[^`]*`", "CODE", text)


def typed_counts(text: str) -> list[str]:
    found = []
    text = prose(text)
    for match in [*COUNT.finditer(text), *AMOUNT.finditer(text)]:
        phrase = " ".join(match.group(0).split())
        if not any(allowed.lower() in phrase.lower() or phrase.lower() in allowed.lower() for allowed in ALLOWED):
            found.append(phrase)
    return found


@pytest.mark.parametrize("page", toc_files())
def test_no_count_is_typed_by_hand_in_prose(page):
    assert typed_counts((ROOT / f"{page}.md").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "text",
    [
        "Three studies compare baclofen with diazepam.",
        "In 13 patients the drug helped.",
        "Of the 48 claims, most",
        "two small trials found",
        "one crossover trial found more sedation",
        "Of the seven dosing items",
        "the guide's eperisone 150 mg t.i.d. is above the label",
        "is three times the labelled 150 mg/day",
        "follow-up of 12 weeks",
    ],
)
def test_a_typed_count_is_caught(text):
    assert typed_counts("---\nx: 1\n---\n" + text + "\n")


def test_glued_counts_code_and_directives_are_not_prose():
    text = (
        "---\nx: 1\n---\n{glue:text}`n_studies` studies; `3 trials`.\n```{code-cell}\nn = 3 trials\n```\n"
        "```{table} 4 rows\n| 5 patients |\n```\n"
    )
    assert typed_counts(text) == []
