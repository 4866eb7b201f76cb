"""Whether a sentence holds the kind of thing a question asks for, and holds something the
question does not already say: "who" wants a person, "where" a place, "when" a date and
"how many" a number.

Sound rules on capitalisation, prepositions and number words stand in for a named-entity
model: the English models of the well-kept NLP libraries are not on PyPI, and these rules
cost microseconds where a tagger would cost more than the rest of an answer.
"""

from __future__ import annotations

import re

from knowledge.owners import names_united_states
from knowledge.places import ASKING_FOR_COUNTRY, is_country, with_kin
from knowledge.questions import DESCRIBING_VERBS, MONTHS, AnswerType, Measure, QuestionFacts
from knowledge.terms import STOPWORDS, US_TERM, lemma, term

TOKEN = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*[%]?|\$|€|£")
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty fifty sixty hundred thousand million billion trillion dozen dozens half quarter "
    "percent per cent tonnes tons hours minutes days weeks months years kilometres miles "
    "double twice".split()
)
YEAR = re.compile(r"(1[5-9]|20)\d(\d|0s)")  # 2025, and decades: 1990s
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
DATE_WORDS = frozenset("yesterday today tomorrow week weekend month year decade century".split())
MONTH_ABBREVIATIONS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Words in quotation marks: what someone said, as reported.
QUOTATION = re.compile(r"[“\"][^”\"]{2,}[”\"]")
# The words after "called" that make it a demand or a cancellation, not a description
# ("called for talks", "called off the round").
NOT_DESCRIBING = frozenset("for on off".split())
DAY_OF_MONTH = re.compile(r"([1-9]|[12]\d|3[01])(st|nd|rd|th)?")
PLACE_PREPOSITIONS = frozenset("in at to from near inside outside into across".split())
# A question with these words asks for a country, and a country that acts is its answer
# ("Which countries started the snapback process?").
COUNTRY_TERMS = frozenset(term(word) for word in ASKING_FOR_COUNTRY)
PLACE_HEADS = frozenset(
    "embassy house palace hotel hall centre center building city capital island airport "
    "square street province region base site".split()
)
# The last word of a name that is a body, not a person: "Foreign Ministry", "State Council".
BODY_HEADS = frozenset(
    "ministry department council committee commission agency office bank party parliament "
    "government court university company corporation group administration authority "
    "assembly congress senate forces army navy".split()
)
NOT_PEOPLE = PLACE_HEADS | BODY_HEADS
GROUPS = frozenset(
    "officers officials diplomats negotiators mediators envoys troops soldiers police "
    "experts observers monitors inspectors engineers lawmakers ministers leaders delegates "
    "representatives authorities forces".split()
)
DURATION_UNITS = frozenset(
    term(unit) for unit in "second minute hour day night week fortnight month year decade".split()
)
CARDINALS = frozenset(
    "a an one two three four five six seven eight nine ten eleven twelve fifteen twenty "
    "thirty forty fifty sixty hundred thousand million billion dozen dozens half several "
    "few couple".split()
)
MONEY = frozenset("$ € £ dollar dollars euro euros pound pounds yuan".split())
# "How much money…" names no thing a figure stands beside: any sum answers it.
MONEY_NOUNS = frozenset("money cash funds funding".split())
# A share said in words: "about a fifth of Ukraine", "two-thirds of the budget", "half of".
FRACTIONS = frozenset("half third thirds quarter quarters fifth fifths tenth tenths".split())
# Things counted under several names in war reporting: "how many prisoners" is answered by
# "1,000 captives" and "390 POWs", "how many soldiers" by "303 servicemen".
COUNTED_ALIKE = tuple(
    frozenset(term(word) for word in group.split())
    for group in ("prisoner captive pow detainee", "soldier serviceman troop")
)
# How far a figure may stand from the words it counts: "43 individuals", "200 fighter jets",
# "$30 billion in customs revenue".
COUNT_REACH = 3
AMOUNT_REACH = 5
TITLES = frozenset(
    "mr mrs ms dr president minister secretary envoy ambassador spokesman spokeswoman "
    "chancellor premier king queen prince general senator governor deputy chief".split()
)

# Words that say what someone does: "presidential aide Vladimir Medinsky", "Fomin, a deputy
# defence minister". A role stands this close to the name it belongs to.
ROLE_WORDS = TITLES | frozenset(
    "aide adviser advisor spokesperson negotiator director chairman chairwoman chair "
    "commander official representative head leader mediator diplomat lawmaker officer "
    "mayor judge editor founder professor ceo economist envoy".split()
)
ROLE_REACH = 4


def tokens(sentence: str) -> list[str]:
    """The sentence's tokens, case kept."""
    return TOKEN.findall(sentence)


def new_names(sentence: str, question_terms: frozenset[str]) -> list[tuple[int, str]]:
    """Capitalised words the question does not mention, with their positions; a sentence's
    first word counts only when it is not a common word."""
    found = []
    words = tokens(sentence)
    for position, token in enumerate(words):
        if not token[:1].isupper():
            continue
        lowered = token.lower()
        if position == 0 and (lowered in STOPWORDS or lowered in TITLES):
            continue
        if US_TERM in question_terms and names_united_states(words, position):
            continue
        if lowered in STOPWORDS or lowered in MONTHS or lowered in WEEKDAYS:
            continue
        if term(lowered) not in question_terms:
            found.append((position, token))
    return found


def has_type(
    sentence: str,
    kind: AnswerType,
    question_terms: frozenset[str],
    names: frozenset[str] = frozenset(),
) -> bool:
    """Whether the sentence holds an answer of the kind asked for, new to the question
    (`names`: the terms of the names the question mentions, whose role a ROLE asks)."""
    if kind is AnswerType.ROLE:
        return has_role(sentence, names)
    if kind is AnswerType.NUMBER:
        return has_number(sentence, question_terms)
    if kind is AnswerType.DATE:
        return has_date(sentence, question_terms)
    if kind is AnswerType.PERSON:
        return has_person(sentence, question_terms)
    if kind is AnswerType.PLACE:
        return has_place(sentence, question_terms)
    if kind is AnswerType.WORDS:
        return has_words(sentence, question_terms)
    return bool(new_names(sentence, question_terms))


def gives_asked(sentence: str, facts: QuestionFacts) -> bool | None:
    """Whether the sentence gives the kind of answer the question asks for (what it measures
    when it measures something: a length of time, not any figure); None when it asks for no
    particular kind."""
    if facts.measure is not Measure.NONE:
        return measure_match(sentence, facts)
    if facts.answer_type is AnswerType.OTHER:
        return None
    return has_type(sentence, facts.answer_type, asked_terms(facts), facts.names)


def asked_terms(facts: QuestionFacts) -> frozenset[str]:
    """What the question already says, which an answer must add to: its terms and names, a
    country standing for its people's adjective too."""
    return with_kin(frozenset(facts.terms) | facts.names)


def has_number(sentence: str, question_terms: frozenset[str]) -> bool:
    """A figure or a number word the question does not already hold; a year alone is a
    date, not an answer to "how many"."""
    for token in tokens(sentence):
        lowered = token.lower()
        is_figure = any(char.isdigit() for char in token) and not YEAR.fullmatch(lowered)
        is_number = is_figure or lowered in NUMBER_WORDS
        if is_number and term(lowered) not in question_terms and lowered not in question_terms:
            return True
    return False


def has_date(sentence: str, question_terms: frozenset[str]) -> bool:
    """A month, weekday, year or day count the question does not already hold."""
    for token in tokens(sentence):
        lowered = token.lower()
        is_date = (
            lowered in MONTHS
            or lowered in WEEKDAYS
            or lowered in DATE_WORDS
            or bool(YEAR.fullmatch(lowered))
        )
        if is_date and term(lowered) not in question_terms and lowered not in question_terms:
            return True
    return False


def has_calendar_date(sentence: str, question_terms: frozenset[str]) -> bool:
    """A date a reader can find on a calendar, new to the question: a day of a month
    ("September 17", "17 September", "Sept. 19") or a year. "On Wednesday" or "next week"
    is only as good as the reader's guess of when the article was written."""
    lowered = [token.lower() for token in tokens(sentence)]
    for position, word in enumerate(lowered):
        if YEAR.fullmatch(word) and word not in question_terms:
            return True
        if word not in MONTHS and word not in MONTH_ABBREVIATIONS:
            continue
        beside = lowered[max(0, position - 1) : position] + lowered[position + 1 : position + 2]
        days = [other for other in beside if DAY_OF_MONTH.fullmatch(other)]
        if days and not (term(word) in question_terms and days[0] in question_terms):
            return True
    return False


def has_words(sentence: str, question_terms: frozenset[str]) -> bool:
    """Someone's words: words in quotation marks that say more than the question (not its own
    phrase quoted back), or a verb of describing ("called the Russian terms an
    ultimatum", "described the talks as constructive")."""
    for quoted in QUOTATION.findall(sentence):
        said = {term(word.lower()) for word in TOKEN.findall(quoted)}
        if said - question_terms - STOPWORDS:
            return True
    lowered = [word.lower() for word in tokens(sentence)]
    return any(
        _described(word) and following not in NOT_DESCRIBING
        for word, following in zip(lowered, [*lowered[1:], ""], strict=True)
    )


def _described(word: str) -> bool:
    """A verb of describing in the past, as reports tell it ("called", "termed"): not the
    nouns "call" and "term"."""
    return word.endswith("ed") and (word in DESCRIBING_VERBS or lemma(word) in DESCRIBING_VERBS)


def has_person(sentence: str, question_terms: frozenset[str]) -> bool:
    """Two capitalised words in a row, or a title and a name, none named by the question."""
    # Places are names too, but not of people: "the United States" answers no "who".
    words = tokens(sentence)
    names = [(p, name) for p, name in new_names(sentence, question_terms) if not is_country(name)]
    positions = {position for position, _ in names}
    for position in positions:
        pair = f"{words[position]} {words[position + 1]}" if position + 1 in positions else ""
        if pair and not is_country(pair) and not _names_body(words, positions, position):
            return True
    if any(position > 0 and words[position - 1].lower() in TITLES for position, _ in names):
        return True
    # A group named by where it is from: "Turkish naval officers", "Omani mediators"; not a
    # group a body's name is followed by ("the Foreign Ministry, the negotiators").
    return any(_names_group(words[position + 1 : position + 3]) for position, _ in names)


def _names_body(words: list[str], positions: set[int], start: int) -> bool:
    """Whether the run of capitalised words from `start` ends in a word for a building or a
    body: "the Omani Embassy", "Lancaster House", "the State Council Tariff Commission"."""
    end = start
    while end + 1 in positions:
        end += 1
    return words[end].lower() in NOT_PEOPLE


def _names_group(following: list[str]) -> bool:
    """Whether the words after a name say a group of people before a stopword or a body
    ends the name's reach."""
    for word in following:
        lowered = word.lower()
        if lowered in GROUPS:
            return True
        if lowered in STOPWORDS or lowered in BODY_HEADS:
            return False
    return False


def has_role(sentence: str, names: frozenset[str]) -> bool:
    """A word of a role beside one of the question's names ("Deputy Defence Minister
    Alexander Fomin", "Medinsky, a presidential aide")."""
    words = [word.lower() for word in tokens(sentence)]
    for position, word in enumerate(words):
        if term(word) in names:
            nearby = words[max(0, position - ROLE_REACH) : position + ROLE_REACH + 1]
            if any(other in ROLE_WORDS for other in nearby):
                return True
    return False


def has_place(sentence: str, question_terms: frozenset[str]) -> bool:
    """A name after a preposition of place ("in Geneva", "at the Omani Embassy"), a named
    building ("Lancaster House"), or a country when the question asks for countries.

    A known place's name alone is not enough: reports name places as the ones who act
    ("in return for Beijing curbing fentanyl") and for what happened there ("the Geneva
    talks"), and such sentences were quoted for "In which city…?" over the one that says
    "met in Busan"."""
    words = tokens(sentence)
    countries = bool(question_terms & COUNTRY_TERMS)
    for position, name in new_names(sentence, question_terms):
        before = words[max(0, position - 2) : position]
        if any(word.lower() in PLACE_PREPOSITIONS for word in before):
            return True
        after = words[position + 1 : position + 2]
        if after and after[0].lower() in PLACE_HEADS:
            return True
        if countries and (is_country(name) or (after and is_country(f"{name} {after[0]}"))):
            return True
    return False


def measure_match(sentence: str, facts: QuestionFacts) -> bool:
    """Whether the sentence gives what the question measures, tied to what it asks about:
    a count of the thing counted, a length of time, a per cent figure."""
    measure = facts.measure
    if measure is Measure.NONE:
        return False
    lowered = [word.lower() for word in tokens(sentence)]
    if measure is Measure.DURATION:
        found = _duration(lowered)
    elif measure is Measure.SHARE:
        percent = any(w.endswith("%") or w in ("percent", "cent") for w in lowered)
        found = percent or _fraction(lowered)
    else:
        found = _counted(lowered, facts)
    return found


def _is_figure(word: str) -> bool:
    return (any(char.isdigit() for char in word) and not YEAR.fullmatch(word)) or word in MONEY


def _duration(lowered: list[str]) -> bool:
    """A number of units of time: "six hours", "more than five hours", "a two-hour call"."""
    for position, word in enumerate(lowered):
        parts = word.split("-")  # "two-hour", "90-minute"
        counted = len(parts) > 1 and (parts[0] in CARDINALS or parts[0].isdigit())
        if counted and term(parts[-1]) in DURATION_UNITS:
            return True
        if word in CARDINALS or (word[:1].isdigit() and not YEAR.fullmatch(word)):
            after = lowered[position + 1 : position + 4]
            if any(term(unit) in DURATION_UNITS for unit in after):
                return True
            if position > 0 and lowered[position - 1] == "age":  # "at age seven"
                return True
    return False


def _fraction(lowered: list[str]) -> bool:
    """A fraction of something: "a fifth of", "two-thirds", "cut by a third"; not "a third
    round"."""
    for position, word in enumerate(lowered):
        parts = word.split("-")  # "two-thirds"
        if len(parts) > 1 and parts[0] in CARDINALS and parts[-1] in FRACTIONS:
            return True
        if word not in FRACTIONS or position == 0 or lowered[position - 1] not in CARDINALS:
            continue
        after = lowered[position + 1 : position + 2]
        if not after or after[0] == "of":
            return True
    return False


def _alike(wanted: frozenset[str]) -> frozenset[str]:
    """The things counted with the other names reports give them."""
    return wanted.union(*(group for group in COUNTED_ALIKE if group & wanted))


def _counted(lowered: list[str], facts: QuestionFacts) -> bool:
    """A figure with a word of the thing counted close after it (or, for amounts, around),
    or joined to it: "a 19-point plan", "the 30-day truce"."""
    count = facts.measure is Measure.COUNT
    reach = COUNT_REACH if count else AMOUNT_REACH
    wanted = _alike(facts.focus - {term(word) for word in MONEY | MONEY_NOUNS})
    for position, word in enumerate(lowered):
        parts = word.split("-")
        if len(parts) > 1 and _is_figure(parts[0]) and term(parts[-1]) in wanted:
            return True
        if not (_is_figure(word) or (count and word in CARDINALS)):
            continue
        if not wanted:
            return True
        start = position + 1 if count else max(0, position - reach)
        nearby = lowered[start : position + 1 + reach]
        if any(term(other) in wanted for other in nearby):
            return True
    return False
