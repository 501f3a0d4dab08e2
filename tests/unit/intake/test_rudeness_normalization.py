"""The rudeness detector step by step (AR-7, ID-7): normalization, lemmas, roots, masks,
context, exceptions, the config's words and the one shared analyzer."""

from __future__ import annotations

import threading

import pytest

from redmine_sla_bridge.domain.intake import RudeLexicon, find_rude_words, language
from redmine_sla_bridge.domain.intake.language import (
    DEFAULT_ALLOWED,
    DEFAULT_LEMMAS,
    collapse_spelled,
    fold_lookalikes,
    mask_pattern,
    readings,
    word_forms,
)

# --- 1. normalization -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("piece", "folded"),
    [
        ("xyй", "хуй"),  # Latin x and y in a Cyrillic word
        ("xуйня", "хуйня"),
        ("пuздец", "пиздец"),  # Latin u
        ("пи3дец", "пиздец"),  # digit look-alikes in a word of two or more Cyrillic letters
        ("6ля", "бля"),
        ("бл9", "бля"),
        ("е6", "е6"),  # one Cyrillic letter: a cell or a chess square, not "еб"
        ("xep", "xep"),  # no Cyrillic letter: Latin stays Latin (XEP-0198 of XMPP)
        ("ip", "ip"),
        ("сервер", "сервер"),
    ],
)
def test_lookalikes_are_folded_only_inside_cyrillic_words(piece: str, folded: str) -> None:
    assert fold_lookalikes(piece) == folded


@pytest.mark.parametrize(
    ("pieces", "word"),
    [
        (["п", "и", "з", "д", "е", "ц"], "пиздец"),
        (["х", "у", "й"], "хуй"),
        (["с", "к"], None),  # initials "С.К." stay initials
        (["т", "е"], None),
        (["что", "то"], None),
        (["х", "уй"], None),
    ],
)
def test_spelt_words_are_collapsed(pieces: list[str], word: str | None) -> None:
    assert collapse_spelled(pieces) == word


@pytest.mark.parametrize(
    ("masked", "hides", "does_not_hide"),
    [
        ("х*й", "хуй", "хуйня"),
        ("х**", "хуя", "х"),
        ("п***ц", "пиздец", "пиздеца"),  # three masks: three or four letters
        ("бл@дь", "блядь", "бля"),
        ("*баный", "ебаный", "баный"),
    ],
)
def test_a_mask_run_stands_for_n_or_n_plus_one_letters(masked: str, hides: str,
                                                       does_not_hide: str) -> None:
    pattern = mask_pattern(masked)
    assert pattern is not None
    assert pattern.fullmatch(hides)
    assert not pattern.fullmatch(does_not_hide)


@pytest.mark.parametrize("word", ["пиздец", "п*****", "с*****", "****", "q*******1", "50%"])
def test_not_a_masked_word(word: str) -> None:
    """No mask, or too few letters to tell (a hidden password, a redacted name)."""
    assert mask_pattern(word) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("xyй", ("xyй",)),
        ("XУЙНЯ какая-то", ("XУЙНЯ",)),
        ("Пи3дец полный", ("Пи3дец",)),
        ("6ля, опять", ("6ля",)),
        ("Вы п и з д е ц как долго отвечаете", ("п и з д е ц",)),
        ("иди на х у й", ("х у й",)),  # "на" trimmed: "х у й" is rude alone
        ("вы бл я д и", ("бл я д и",)),
        ("П-и-з-д-е-ц, а не обновление", ("П-и-з-д-е-ц",)),
        ("х.у.й знает", ("х.у.й",)),
        ("х*й знает", ("х*й",)),
        ("Бл@дь, опять", ("Бл@дь",)),
        ("ну и п***ц", ("п***ц",)),
        ("Какого х*ра", ("х*ра",)),
        ("Вы там ох#ели?", ("ох#ели",)),
        ("Пид@расы", ("Пид@расы",)),
        ("Е**ть, как так", ("Е**ть",)),
    ],
)
def test_masked_and_disguised_words_are_found_as_written(text: str, words: tuple[str, ...]) -> None:
    assert find_rude_words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "Иванов С.К. и Петров Е.Б. приедут, т.е. в среду",
        "Пароль: п*****, логин: ivanov",
        "**важно** прочитайте",
        "email: иван@почта.рф, IP-адрес 10.0.0.1, USB-ключ",
        "ячейка Е6 в отчёте, протокол XEP-0198",
        "а и в о к у с я",  # single-letter words are not a spelt word by themselves
    ],
)
def test_masks_and_joiners_in_ordinary_text(text: str) -> None:
    assert find_rude_words(text) == ()


# --- 2. lemmas and roots ----------------------------------------------------------------


def test_readings_come_from_the_dictionary() -> None:
    first = readings("придурки")[0]
    assert (first.lemma, first.pos, first.known) == ("придурок", "NOUN", True)
    surname = readings("козлов")[0]
    assert surname.proper and surname.lemma == "козлов"
    assert any(r.lemma == "козел" for r in readings("козлов"))  # "ё" read as "е"


def test_forms_are_generated_by_the_lemmatizer() -> None:
    assert {"мудака", "мудаков", "мудаками"} <= word_forms("мудак")
    assert {"козла", "козлы"} <= word_forms("козел")
    assert "тупо" not in word_forms("тупой")  # short adjectives: mostly the adverb


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Мудаки, верните интерфейс", ("Мудаки",)),  # inflected forms of listed lemmas
        ("позовите этого придурка", ("придурка",)),
        ("уебки и долбоебы", ("уебки", "долбоебы")),  # guessed by the lemmatizer
        ("Вы дибилы?", ("дибилы",)),
        ("Заебали уже", ("Заебали",)),  # roots: derived words
        ("распиздяйство и разъебай", ("распиздяйство", "разъебай")),
        ("уёбищный интерфейс", ("уёбищный",)),
        ("Ахуеть, сертификат просрочен", ("Ахуеть",)),
        ("рукожоп писал", ("рукожоп",)),
        ("наговнокодили", ("наговнокодили",)),
        ("дебилоид, идиотски, кретинизм", ("дебилоид", "идиотски", "кретинизм")),
        ("Пошли вы нах", ("нах",)),
        ("пздц", ("пздц",)),
    ],
)
def test_inflected_and_derived_words(text: str, words: tuple[str, ...]) -> None:
    assert find_rude_words(text) == words


@pytest.mark.parametrize(
    "word",
    [
        # words that hold "бля", "хуй", "еб", "манд", "хер", "сра", "пизд" as letters
        "употреблять", "употребляйте", "оскорблять", "оскорбление", "скорбь", "страхуй",
        "застрахуйте", "рубля", "корабля", "сабля", "дирижабля", "ансамбля", "психуй",
        "ипотека", "мандарин", "мандат", "команда", "командировка", "тебе", "себе", "хлеб",
        "небо", "учебник", "требование", "себестоимость", "хулиган", "похудеть", "хуже",
        "сразу", "сравнение", "мудрый", "говорить", "шлюз", "ебург", "Ебурге", "херес",
        # names and places
        "Козлов", "Сукачёв", "Бляхер", "Мудров", "Хуан", "Хуанхэ", "Хуавей", "Херсон",
        "Себастьян", "Мандельштам", "Хуснуллина",
    ],
)
def test_innocent_words_that_share_letters_with_a_root(word: str) -> None:
    assert find_rude_words(word) == ()
    assert find_rude_words(f"Вопрос про {word}.") == ()


def test_a_capitalized_surname_is_not_the_insult_it_inflects_like() -> None:
    assert find_rude_words("Наш администратор Козлов уже писал") == ()
    assert find_rude_words("вы козлов каких-то наняли") == ("козлов",)


def test_every_allowed_word_is_in_the_dictionary() -> None:
    """Each entry is an innocent word the analyzer knows (not a typo of the list)."""
    for lemma in DEFAULT_ALLOWED:
        assert any(r.known for r in readings(lemma)), lemma


def test_every_listed_lemma_is_lower_case_with_e_for_yo() -> None:
    for lemma in DEFAULT_LEMMAS | DEFAULT_ALLOWED:
        assert lemma == lemma.lower().replace("ё", "е"), lemma


# --- 3. context ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Вы что, тупые?", ("тупые",)),
        ("Ваш бот — тупая железяка", ("тупая",)),
        ("Ваши разработчики тупые как пробка", ("тупые",)),
        ("Вы дураки или прикидываетесь?", ("дураки",)),
        ("Какой дурак придумал эту форму?", ("дурак",)),
        ("Ну вы и бараны", ("бараны",)),
        ("Извините за тупой вопрос, как сменить пароль у вас в системе?", ()),
        ("Компьютер тупой, потянет ли он вашу программу?", ()),
        ("В программе нет защиты от дурака", ()),
        ("Я, наверное, дурак, но не нашёл кнопку", ()),
        ("Закупили козлов и баранов для фермы", ()),
        ("Вы тупо игнорируете мои письма", ()),  # "тупо": the adverb
        ("Это ваш сервер. Нож тупой.", ()),  # another sentence
    ],
)
def test_contextual_words_count_only_when_aimed_at_a_person(text: str,
                                                           words: tuple[str, ...]) -> None:
    assert find_rude_words(text) == words


# --- 4. the lexicon from the config -----------------------------------------------------


def test_config_lemmas_match_in_any_form() -> None:
    lexicon = RudeLexicon.build(lemmas=["Неуч"])
    assert find_rude_words("одни неучи и неучей толпа", lexicon) == ("неучи", "неучей")
    assert find_rude_words("неучи", RudeLexicon()) == ()
    # masked forms of a configured lemma are found too
    assert find_rude_words("н*учи", lexicon) == ("н*учи",)


def test_config_allowed_words_are_never_flagged() -> None:
    assert find_rude_words("Мудак-Сервис") == ("Мудак",)
    lexicon = RudeLexicon.build(allowed=["мудак"])
    assert find_rude_words("Мудак-Сервис, мудаки", lexicon) == ()
    stems_too = RudeLexicon.build(stems=["хам"], allowed=["хамон"])
    assert find_rude_words("хамы, хамон", stems_too) == ("хамы",)


def test_without_defaults_only_the_configured_words_count() -> None:
    lexicon = RudeLexicon.build(use_defaults=False, lemmas=["неуч"])
    assert find_rude_words("неучи, идиоты, хуйня", lexicon) == ("неучи",)
    assert find_rude_words("хуйня", RudeLexicon.build(use_defaults=False)) == ()


@pytest.mark.parametrize("entry", ["два слова", "неуч1", "", "a-b"])
def test_a_lemma_must_be_one_word(entry: str) -> None:
    with pytest.raises(ValueError, match="not a single word"):
        RudeLexicon.build(lemmas=[entry])


# --- 5. one analyzer per process --------------------------------------------------------


def test_the_analyzer_is_loaded_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import pymorphy3

    created: list[object] = []
    real = pymorphy3.MorphAnalyzer

    def counting(*args: object, **kwargs: object) -> object:
        created.append(object())
        return real(*args, **kwargs)

    monkeypatch.setattr(language, "_analyzer", None)
    monkeypatch.setattr(pymorphy3, "MorphAnalyzer", counting)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def load() -> None:
        barrier.wait()
        results.append(language._morph())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1
    assert len({id(r) for r in results}) == 1
