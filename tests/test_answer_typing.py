"""Answer typing: what a question asks for, and whether a sentence holds it."""

from __future__ import annotations

import pytest

from knowledge.answer_types import gives_asked, has_calendar_date, has_type, measure_match
from knowledge.evidence import feature_matrix
from knowledge.questions import AnswerType, Measure, about_present, analyse
from tests.support.candidates import candidate, column


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who leads the Russian delegation?", AnswerType.PERSON),
        ("Which Omani official acted as go-between?", AnswerType.PERSON),
        ("Where are the peace talks being held?", AnswerType.PLACE),
        ("What building in Rome hosted round two?", AnswerType.PLACE),
        ("In which city did Trump and Xi meet?", AnswerType.PLACE),
        ("When does the new tariff take effect?", AnswerType.DATE),
        ("On what date did the cuts kick in?", AnswerType.DATE),
        ("How many rounds have they held?", AnswerType.NUMBER),
        ("How long was the session?", AnswerType.NUMBER),
        ("What percentage of sales goes to Washington?", AnswerType.NUMBER),
        # The noun asked about may come after "was the": a tariff is a figure.
        ("What was the US tariff on Chinese goods before the deal?", AnswerType.NUMBER),
        ("What is the overall trade deficit?", AnswerType.NUMBER),
        ("What is the capital of Australia?", AnswerType.PLACE),
        # The first question word decides: this "when" asks nothing.
        ("What kind of deal were they aiming for when talks began?", AnswerType.OTHER),
        # "How did they describe…" asks for their words; "how did the talks go" for no kind.
        ("How did Beijing describe the talks?", AnswerType.WORDS),
        ("How did the spokesman sum up the fourth round?", AnswerType.WORDS),
        ("How has the minister characterised the sanctions?", AnswerType.WORDS),
        ("How did the talks go?", AnswerType.OTHER),
        ("What role does Medinsky hold?", AnswerType.ROLE),
        ("What is Fomin's job?", AnswerType.ROLE),
        ("Which post does Fomin hold?", AnswerType.ROLE),
        # A country's "position" is a stance, not a post.
        ("What position did China take on tariffs?", AnswerType.OTHER),
    ],
)
def test_questions_are_typed_by_what_they_ask(question: str, expected: AnswerType) -> None:
    assert analyse(question).answer_type is expected


@pytest.mark.parametrize(
    ("question", "present"),
    [
        ("What is the overall tariff now?", True),
        ("Which city hosted the latest round?", True),
        ("Is the channel still open?", True),
        ("What tariff does China currently apply?", True),
        ("When is the next round scheduled?", True),
        ("What did the sides agree in June?", False),
        ("Who led the delegation in Geneva?", False),
    ],
)
def test_questions_about_the_present_are_recognised(question: str, present: bool) -> None:
    assert about_present(question) is present


def test_who_wants_a_person_the_question_does_not_name() -> None:
    question = analyse("Who leads the Russian delegation?")
    names = question.names | frozenset(question.terms)
    answer = "The Russian delegation is led by presidential aide Vladimir Medinsky."
    restatement = "The United States said Russia's delegation would arrive on time."
    assert has_type(answer, AnswerType.PERSON, names)
    assert not has_type(restatement, AnswerType.PERSON, names)


def test_a_role_stands_beside_the_name_the_question_asks_about() -> None:
    names = analyse("What is Fomin's job?").names
    led = "It is led by aide Vladimir Medinsky and Deputy Defense Minister Alexander Fomin."
    assert has_type(led, AnswerType.ROLE, frozenset(), names)
    assert has_type(
        "Fomin, a deputy minister, arrived on Monday.", AnswerType.ROLE, frozenset(), names
    )
    # Named, but with nothing about what he does; or a role far from his name.
    assert not has_type(
        "Medinsky and Fomin took part in 2022.", AnswerType.ROLE, frozenset(), names
    )
    far = "The minister of defence said on Monday that in the end it was Fomin who came."
    assert not has_type(far, AnswerType.ROLE, frozenset(), names)


def test_the_ranking_sees_which_sentence_gives_the_role_asked_for() -> None:
    question = analyse("What is Fomin's job?")
    candidates = [
        candidate("Deputy Defense Minister Alexander Fomin will attend.", article=1),
        candidate("Medinsky and Fomin took part in 2022.", article=2),
    ]
    matrix = feature_matrix(question, {"fomin": 2.0, "job": 1.0}, candidates)
    assert column(matrix, "typed_match") == [1.0, 0.0]


def test_where_wants_a_place() -> None:
    terms = frozenset(analyse("Where did the talks take place?").terms)
    assert has_type("The talks took place in Geneva on Saturday.", AnswerType.PLACE, terms)
    assert not has_type("The talks were friendly and long.", AnswerType.PLACE, terms)
    # Countries that act answer a question that asks for countries, not one asking where.
    signed = "Britain, France and Germany signed the letter."
    assert not has_type(signed, AnswerType.PLACE, terms)
    countries = frozenset(analyse("Which countries signed the letter?").terms)
    assert has_type(signed, AnswerType.PLACE, countries)


# "In which city did Trump and Xi meet?" quoted the sentence in which Beijing curbs fentanyl
# over the one that names Busan: a place that acts or describes is not where it happened.
@pytest.mark.parametrize(
    ("sentence", "where"),
    [
        ("Trump said they agreed to lower tariffs in return for Beijing curbing fentanyl.", False),
        ("Rome had frequently hosted negotiations of this kind.", False),
        ("The Geneva talks ended on Sunday.", False),
        ("The two leaders met face to face in Busan, South Korea.", True),
        ("They met at Gimhae air base near Busan.", True),
        ("Trump flew to Busan for the meeting.", True),
    ],
)
def test_a_place_answers_where_only_where_it_is_a_place(sentence: str, where: bool) -> None:
    terms = frozenset(analyse("In which city did Trump and Xi meet at the end of October?").terms)
    assert has_type(sentence, AnswerType.PLACE, terms) is where


def test_when_wants_a_date_and_how_many_a_number() -> None:
    terms = frozenset(analyse("When will the tariffs take effect?").terms)
    assert has_type("The tariffs take effect on November 10, 2025.", AnswerType.DATE, terms)
    assert not has_type("The tariffs take effect soon.", AnswerType.DATE, terms)
    count = frozenset(analyse("How many jets took part?").terms)
    assert has_type("About 200 fighter jets took part.", AnswerType.NUMBER, count)
    assert has_type("Six hours of talks followed.", AnswerType.NUMBER, count)
    assert not has_type("Many jets took part.", AnswerType.NUMBER, count)


@pytest.mark.parametrize(
    ("sentence", "placed"),
    [
        ("The extension runs out on September 17.", True),
        ("Talks resume on 3 May in Muscat.", True),
        ("The ban began on Sept. 19.", True),
        ("The accord was signed in 2015.", True),
        ("The deadline is on Wednesday.", False),
        ("Talks would continue the following week.", False),
        ("Talks in May were cancelled.", False),  # a month, but which day?
        ("Tariffs rose to 145 percent.", False),
    ],
)
def test_a_calendar_date_is_one_a_reader_can_place(sentence: str, placed: bool) -> None:
    assert has_calendar_date(sentence, frozenset()) is placed


def test_a_calendar_date_the_question_already_holds_is_no_answer() -> None:
    terms = frozenset(analyse("What happened after the 2015 accord?").terms)
    assert not has_calendar_date("The 2015 accord was signed in Vienna.", terms)
    assert has_calendar_date("The 2015 accord collapsed in 2018.", terms)
    deadline = frozenset(analyse("What happened after the September 17 deadline?").terms)
    assert not has_calendar_date("The September 17 deadline passed.", deadline)
    assert has_calendar_date("Talks resumed on October 2.", deadline)


def test_who_is_also_answered_by_a_group_named_by_its_country() -> None:
    terms = frozenset(analyse("Who will monitor the grain corridor?").terms)
    sentence = "The grain corridor will be monitored by Turkish naval officers."
    assert has_type(sentence, AnswerType.PERSON, terms)
    assert not has_type("The corridor will be monitored closely.", AnswerType.PERSON, terms)


def test_a_building_or_a_body_is_no_person() -> None:
    terms = frozenset(analyse("Who is the US negotiator with Iran?").terms) | {"usa"}
    bodies = [
        "The Omani Embassy in the Italian capital hosted the session.",
        "According to Iran's Foreign Ministry, the negotiators spoke directly.",
        "The State Council Tariff Commission said the levy stays.",
    ]
    for sentence in bodies:
        assert not has_type(sentence, AnswerType.PERSON, terms), sentence
    assert has_type("Steve Witkoff, the US special envoy, spoke.", AnswerType.PERSON, terms)


@pytest.mark.parametrize(
    ("question", "sentence", "gives_it"),
    [
        # How long: a length of time, not any number.
        (
            "Roughly how long did the third round in Muscat go on?",
            "Araghchi and Witkoff spent about six hours in a third round of talks in Muscat.",
            True,
        ),
        (
            "Roughly how long did the third round in Muscat go on?",
            "Three of those rounds were held in Muscat and two in Rome.",
            False,
        ),
        ("How long was the June phone call?", "After the roughly 90-minute call, he left.", True),
        ("How old was she when she won?", "She won a talent show at age seven.", True),
        # How many X: a figure that counts X, not another thing.
        (
            "How many centrifuges were destroyed at Fordow?",
            "200 fighter jets had struck more than 100 targets in Iran.",
            False,
        ),
        (
            "How many Israeli fighter jets took part in the first strikes?",
            "200 fighter jets had struck more than 100 targets in Iran.",
            True,
        ),
        # How much X: a figure near X, before or after it.
        (
            "How much customs revenue have the tariffs raised?",
            "The tariffs raised $30 billion in customs revenue this year.",
            True,
        ),
        (
            "How much customs revenue have the tariffs raised?",
            "He raised the tariffs twice, bringing the total to 145%.",
            False,
        ),
        ("What percentage of their sales will they pay?", "They will pay 15 percent.", True),
        # The figure joined to what it counts: "a 19-point plan", "the 30-day truce".
        (
            "How many points does the peace plan have?",
            "The revised 19-point framework was discussed in Miami.",
            True,
        ),
        (
            "How many points does the peace plan have?",
            "The framework was discussed in Miami on 19 November.",
            False,
        ),
        ("How many days did the truce last?", "The 30-day truce expired on Sunday.", True),
        # Reports count prisoners as captives or POWs; soldiers are not prisoners.
        ("How many prisoners did each side free?", "Each side freed 390 captives.", True),
        ("How many prisoners did each side free?", "The sides freed 303 servicemen.", False),
        # A share said in words; "a third round" is no share.
        ("What percentage of Ukraine does Russia hold?", "Russia holds about a fifth of it.", True),
        ("What share of the budget goes to defence?", "Two-thirds of it goes to defence.", True),
        (
            "What percentage of Ukraine does Russia hold?",
            "They held a third round of talks.",
            False,
        ),
        # "How much money": any sum, since "money" is not a word a sum stands beside.
        ("How much money has the US committed?", "The US has committed $65 billion.", True),
        ("How much money has the US committed?", "The US has committed to more aid.", False),
    ],
)
def test_a_measured_answer_is_tied_to_what_the_question_measures(
    question: str, sentence: str, gives_it: bool
) -> None:
    assert measure_match(sentence, analyse(question)) is gives_it


def test_questions_that_measure_nothing_match_no_measure() -> None:
    facts = analyse("Who leads the Russian delegation?")
    assert facts.measure is Measure.NONE
    assert not measure_match("The delegation of 12 is led by Medinsky.", facts)


@pytest.mark.parametrize(
    ("question", "sentence", "gives"),
    [
        ("How long was the call?", "After the roughly 90-minute conversation, Trump spoke.", True),
        ("How long was the call?", "Trump said on Thursday that the call went well.", False),
        ("Who led the talks?", "Vice Premier He Lifeng led the talks.", True),
        ("Who led the talks?", "The talks ended on Monday.", False),
        ("What did Trump say about the call?", "The talks ended on Monday.", None),
        (
            "How did the spokesman sum up the fourth round?",
            'The spokesman called the session "difficult but useful".',
            True,
        ),
        (
            "How did the spokesman sum up the fourth round?",
            "The fourth round was held in Muscat through Omani mediators.",
            False,
        ),
        # Reports also say it without quotation marks; "called for" is a demand.
        (
            "How did Kyiv describe Russia's memorandum?",
            "Foreign Minister Andrii Sybiha called the Russian terms an ultimatum.",
            True,
        ),
        ("How did Kyiv describe Russia's memorandum?", "Kyiv called for a ceasefire.", False),
        # The question's own phrase quoted back is no description of it.
        (
            "How did Beijing describe the trade truce?",
            'Beijing wants the "trade truce" extended.',
            False,
        ),
    ],
)
def test_a_sentence_gives_what_the_question_asks_for_or_the_question_asks_no_kind(
    question: str, sentence: str, gives: bool | None
) -> None:
    assert gives_asked(sentence, analyse(question)) is gives
