"""Rude and obscene words (AR-7, ID-7): found for a human to judge, never a refusal.

A word list can only ever be a hint: it misses creative spelling and it will sometimes
hit an innocent word. So the gate only raises a flag with the matched words; the
engineer decides.

Russian words are read one token at a time:

1. **Normalize** the token. Case is ignored and "ё" is read as "е"; inside a token that
   has Cyrillic letters, Latin look-alikes are read as Cyrillic ("xyй" with Latin x and
   y), and so are the digits 0, 3, 6, 9 in a word of at least two Cyrillic letters
   ("пи3дец", "6ля"). A word spelt out letter by letter, "п и з д е ц" or "х.у.й", is
   read as one word.
2. **Lemmatize** it with pymorphy3 (the dictionary of OpenCorpora): "мудаков", "козлы"
   and "придурка" are the lemmas "мудак", "козёл", "придурок". A word is rude when a
   lemma (or the word itself) is in `lemmas`, or when the word holds a mat root of
   `roots` (derived words the dictionary lacks: "распиздяйство", "заебали", "охуевший");
   unless a lemma is in `allowed` (innocent words that share letters with a root:
   "употреблять", "страховать", "рубль", "Ёбург"). A capitalized word read as a name, a
   surname or a place ("Козлов", "Себастьян", "Херсон") is not flagged.
3. A `contextual` word ("тупой", "дурак", "баран") is rude only when it is aimed at a
   person: a second-person word or a word for the support's staff ("вы", "ваш",
   "менеджер") within three words in the same sentence, or "какой" right before it
   ("какой дурак это придумал"). "Защита от дурака" and "тупой вопрос" stay innocent.
4. A **masked** word ("х*й", "бл@дь", "п***ц", with * @ # $ %) matches when it fits a form
   of one of `lemmas` (pymorphy3 generates the forms), a run of n mask characters
   standing for n or n + 1 letters. At least a third of such a word must be letters, so a
   hidden password ("п*****") or a redacted name is not read as mat.

`patterns` are regexes over the whole lower-cased text (English words, transliterated
mat, and the deployment's own patterns and stems); a match reports the word(s) it falls
in. The pymorphy3 analyzer is loaded once per process, on first use (about 0.1 s, and
some 20 ms more to generate the lexicon's forms); few words need it at all (those that
start like a form of the lexicon, or hold a root), and each is analyzed once (a bounded
cache), so a 1 KB request costs about as much as the old regex-only check.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# --- the shipped lexicon ----------------------------------------------------------------
# Lemmas are in dictionary form, lower case, "ё" read as "е" (a lemma with "ё" is read so).

_MAT_LEMMAS = (
    # хуй
    "хуй", "хуйня", "нахуй", "похуй", "нихуя", "хуевый", "хуево", "охуеть", "охуевший",
    "охуенный", "охуенно", "хуета", "хуило", "хуйло", "хуесос", "хули",
    # пизда
    "пизда", "пиздец", "пздц", "пиздеть", "пиздить", "спиздить", "пиздатый", "пиздато",
    "распиздяй", "пиздабол",
    # блядь
    "блядь", "блять", "бля", "блядский",
    # ебать
    "ебать", "ебаться", "ебаный", "заебать", "заебаться", "заебись", "наебать", "уебать",
    "уебок", "ебанутый", "ебнутый", "ебучий", "ебанько", "долбоеб",
    # other obscene and vulgar words
    "нах", "мудак", "мудила", "мудацкий", "пидор", "пидорас", "пидарас", "гандон", "гондон",
    "залупа", "манда", "мандавошка", "сука", "сукин", "шлюха", "говно", "говнюк",
    "говнокод", "дерьмо", "жопа", "хер", "херня", "нахер", "похер", "херовый", "херово",
    "похерить", "срать", "насрать", "обосраться", "засранец", "засрать",
)
_INSULT_LEMMAS = (
    "идиот", "дебил", "дибил", "кретин", "придурок", "придурочный", "тупица", "тупорылый",
    "дегенерат", "недоумок", "имбецил", "бестолочь", "бездарь", "сволочь", "мразь",
    "ублюдок", "тварь", "гнида", "паскуда", "чмо", "чмошник", "урод", "уродский", "ушлепок",
    "лох", "лошара", "быдло", "педик", "криворукий", "безмозглый",
)
DEFAULT_LEMMAS: frozenset[str] = frozenset(_MAT_LEMMAS + _INSULT_LEMMAS)
"""Rude in any inflected form."""

DEFAULT_CONTEXTUAL: frozenset[str] = frozenset(
    {"тупой", "дурак", "дура", "баран", "осел", "козел", "скотина", "клоун"}
)
"""Rude only when aimed at a person (they also name animals, knives, questions...)."""

DEFAULT_ALLOWED: frozenset[str] = frozenset({
    # share letters with "бля", "хуй", "еб", "манда", "хер", "сра", "пизд"...
    "употреблять", "употребление", "употребляться", "оскорблять", "оскорбление",
    "оскорбительный", "страховать", "застраховать", "перестраховаться", "страхование",
    "страховка", "рубль", "корабль", "сабля", "дирижабль", "ансамбль", "психовать",
    "ипотека", "ипотечный", "мандарин", "мандат", "команда", "командировка", "херсон",
    "херес", "херувим", "себастьян", "ебург",
})
"""Innocent words (any form) that share letters with a rude root or word."""

# Common Russian prefixes before a mat root ("на-хуй", "за-ебали", "а-хуеть", "разъ-еб").
_RU_PREFIX = r"(?:а|на|по|за|от|ото|вы|до|ни|о|об|обо|с|у|раз|рас|под|при|пере|недо|вз)?ъ?"
DEFAULT_ROOTS: tuple[str, ...] = (
    rf"^{_RU_PREFIX}ху[йеяию]",
    r"пизд",
    rf"^{_RU_PREFIX}еб(?:а|у|л|н|ись|ет|ыв|ок|к|ош|ищ|$)",
    r"долбое?б",
    r"^бля(?:д|т|$)",
    r"^муд(?:ак|ач|ац|ил|озвон)",
    r"^пид[оа]р",
    r"^г[ао]ндон",
    rf"^{_RU_PREFIX}залуп",
    r"^шлюх",
    rf"^{_RU_PREFIX}говн",
    r"^дерьм",
    r"жоп",
    # insults with many derived words ("идиотски", "дебилизм", "кретинизм")
    r"^идиот",
    r"^дебил",
    r"^кретин",
)
"""Regexes over one normalized Cyrillic word: mat roots, for derived words."""

DEFAULT_PATTERNS: tuple[str, ...] = (
    # English
    r"fu+c+k",
    r"\bf[*@#]+c?k",
    r"\bshit",
    r"\bsh[*@#]t\b",
    r"\bbullshit",
    r"\bbitch",
    r"\basshole",
    r"\bbastard",
    r"\bcunt",
    r"\bdickhead",
    r"\bidiot",
    r"\bmoron",
    r"\bretard",
    r"\bscrew\s+you\b",
    # Russian mat in Latin letters
    r"\bpizd",
    r"\bblya(?:t|d)?\b",
    r"\bnah[uy][iy]\b",
)
"""Regexes over the whole lower-cased text (a conservative start; extend through the config)."""

# Whom a contextual word is aimed at: the reader, or the support's staff.
_ADDRESS_LEMMAS = frozenset({
    "ты", "вы", "твой", "ваш", "поддержка", "техподдержка", "специалист", "сотрудник",
    "инженер", "оператор", "менеджер", "консультант", "программист", "разработчик",
    "админ", "администратор",
})
_WHICH = frozenset({"какой", "какая", "какое", "какие", "каков", "какова"})
_CONTEXT_WINDOW = 3
_PROPER = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})
_SKIPPED_POS = frozenset({"ADJS"})  # see word_forms
_MAX_WORD = 40  # longer "words" are not lemmatized nor unmasked (roots still apply)
_MAX_RUN = 40  # short words in a row, the most read as a word spelt out

# --- normalization ----------------------------------------------------------------------

_LATIN_LOOKALIKES = str.maketrans("aceopxyktmhbunr", "асеорхуктмнвипг")
_DIGIT_LOOKALIKES = str.maketrans("0369", "озбя")
_MASKS = "*#@$%"
_JOINERS = ".-"
_CYRILLIC = re.compile(r"[а-яё]")
_WORD = re.compile(r"[а-яё]+")
_MASKED = re.compile(rf"[а-яё{re.escape(_MASKS)}]+")
# A token: letters, digits and mask characters, with "." or "-" only between them.
_TOKEN = re.compile(rf"(?:[^\W_]|[{re.escape(_MASKS)}])+"
                    rf"(?:[{re.escape(_JOINERS)}]+(?:[^\W_]|[{re.escape(_MASKS)}])+)*")
_JOINER_RUNS = re.compile(rf"([{re.escape(_JOINERS)}]+)")
_SENTENCE_END = re.compile(r"[.!?;…\n]")


def fold_lookalikes(piece: str) -> str:
    """Read Latin look-alike letters (and 0 3 6 9 in a longer word) as Cyrillic, in a
    lower-cased piece that has Cyrillic letters; other pieces are returned unchanged."""
    cyrillic = len(_CYRILLIC.findall(piece))
    if not cyrillic:
        return piece
    piece = piece.translate(_LATIN_LOOKALIKES)
    return piece.translate(_DIGIT_LOOKALIKES) if cyrillic >= 2 else piece


def collapse_spelled(pieces: Sequence[str]) -> str | None:
    """"п", "и", "з", "д", "е", "ц" -> "пиздец": a word spelt out one letter at a time (at
    least three pieces, each one letter); None otherwise."""
    if len(pieces) >= 3 and all(len(p) == 1 and p.isalpha() for p in pieces):
        return "".join(pieces)
    return None


def mask_pattern(word: str) -> re.Pattern[str] | None:
    """"х*й" -> a regex for the words it may hide (a run of n mask characters stands for n
    or n + 1 letters); None unless `word` is Cyrillic letters and masks, with letters
    making at least a third of it."""
    if len(word) > _MAX_WORD or not _MASKED.fullmatch(word):
        return None
    letters = sum(len(run) for run in _WORD.findall(word))
    if not letters or letters == len(word) or letters * 3 < len(word):
        return None
    parts = []
    for run in re.findall(rf"[а-яё]+|[{re.escape(_MASKS)}]+", word):
        parts.append(re.escape(run) if run[0] not in _MASKS else f"[а-я]{{{len(run)},{len(run) + 1}}}")
    return re.compile("".join(parts))


def _plain(text: str) -> str:
    return text.lower().replace("ё", "е")


# --- the morphological analyzer ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """One way pymorphy3 reads a word: its lemma ("ё" read as "е"), its part of speech
    (OpenCorpora's: "NOUN", "ADJF", "ADJS", "VERB"... or "" when unknown), whether it is a
    proper name (name, surname, patronymic, place, organisation), whether the word is in
    the dictionary (not guessed), and the reading's estimated probability."""

    lemma: str
    pos: str
    proper: bool
    known: bool
    score: float


_analyzer: Any = None
_analyzer_lock = threading.Lock()


def _morph() -> Any:
    """The process's one pymorphy3 analyzer, loaded on first use (thread-safe; reading
    words with it is safe from any thread)."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                import pymorphy3  # type: ignore[import-untyped]

                _analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    return _analyzer


@functools.lru_cache(maxsize=16_384)
def readings(word: str) -> tuple[Reading, ...]:
    """How pymorphy3 reads a lower-case Cyrillic word, most probable first."""
    return tuple(
        Reading(lemma=_plain(str(parse.normal_form)), pos=str(parse.tag.POS or ""),
                proper=not _PROPER.isdisjoint(str(g) for g in parse.tag.grammemes),
                known=bool(parse.is_known), score=float(parse.score))
        for parse in _morph().parse(word)
    )


def word_forms(lemma: str) -> frozenset[str]:
    """Every inflected form of `lemma` ("ё" read as "е") that pymorphy3 generates, and the
    lemma itself. Short adjectives are left out: "тупо" of "тупой" is mostly the adverb
    ("тупо не работает", "simply does not work")."""
    forms = {lemma}
    for parse in _morph().parse(lemma):
        if _plain(str(parse.normal_form)) == lemma:
            forms.update(_plain(str(form.word)) for form in parse.lexeme
                         if form.tag.POS not in _SKIPPED_POS)
    return frozenset(forms)


# --- the lexicon ------------------------------------------------------------------------


def stem_pattern(stem: str) -> str:
    """A plain word stem from the config ("хам") -> a regex for words starting with it."""
    return rf"\b{re.escape(_plain(stem))}"


def _lemma_entries(entries: Iterable[str], what: str) -> frozenset[str]:
    result = set()
    for entry in entries:
        word = _plain(entry.strip())
        if not re.fullmatch(r"[^\W\d_]+", word):
            raise ValueError(f"{what}: {entry!r} is not a single word")
        result.add(word)
    return frozenset(result)


@dataclass(frozen=True, slots=True)
class RudeLexicon:
    """What counts as rude (see the module docstring):

    - `patterns`: regexes over the lower-cased text ("ё" read as "е"); a match reports
      the whole word(s) it falls in;
    - `lemmas`: words rude in any inflected form, in dictionary form;
    - `roots`: regexes over one normalized Cyrillic word (mat roots);
    - `contextual`: lemmas rude only when aimed at a person;
    - `allowed`: lemmas never flagged, whatever else matches them.
    """

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    lemmas: frozenset[str] = DEFAULT_LEMMAS
    roots: tuple[str, ...] = DEFAULT_ROOTS
    contextual: frozenset[str] = DEFAULT_CONTEXTUAL
    allowed: frozenset[str] = DEFAULT_ALLOWED

    def __post_init__(self) -> None:
        _compiled(self.patterns)  # a bad regex is a config error: fail at load
        _compiled(self.roots)

    @classmethod
    def build(
        cls, *, use_defaults: bool = True, patterns: Sequence[str] = (),
        stems: Sequence[str] = (), lemmas: Sequence[str] = (), allowed: Sequence[str] = (),
    ) -> RudeLexicon:
        """The shipped lexicon (unless `use_defaults` is false) plus the config's words."""
        own_lemmas = _lemma_entries(lemmas, "lemmas")
        own_allowed = _lemma_entries(allowed, "allowed")
        own_patterns = tuple(patterns) + tuple(stem_pattern(s) for s in stems)
        if not use_defaults:
            return cls(own_patterns, own_lemmas, (), frozenset(), own_allowed)
        return cls(DEFAULT_PATTERNS + own_patterns, DEFAULT_LEMMAS | own_lemmas, DEFAULT_ROOTS,
                   DEFAULT_CONTEXTUAL, DEFAULT_ALLOWED | own_allowed)


_CACHE: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if patterns not in _CACHE:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {pattern!r} ({exc})") from None
        _CACHE[patterns] = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    return _CACHE[patterns]


# --- finding the words ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    """A word of the text to judge: its span in the text and its normalized spelling."""

    start: int
    end: int
    word: str  # lower case, "ё" as "е", look-alikes folded; may hold mask characters
    capital: bool  # written with a capital first letter
    sentence: int  # which sentence of the text it is in


def _words(text: str, plain: str) -> tuple[list[_Word], list[list[_Word]]]:
    """The Cyrillic words of the text in order, and its runs of three or more short words
    separated by spaces only (maybe a word spelt out: "п и з д е ц"). `plain` is `text`
    lower-cased, "ё" read as "е"."""
    words: list[_Word] = []
    runs: list[list[_Word]] = []
    run: list[_Word] = []
    sentence, last_end = 0, 0

    def end_run() -> None:
        if 3 <= len(run) <= _MAX_RUN:  # a longer run is a list or a ruler, not a word
            runs.append(run[:])
        run.clear()

    for match in _TOKEN.finditer(plain):
        gap = plain[last_end:match.start()]
        if _SENTENCE_END.search(gap):
            sentence += 1
        if not gap.isspace() or "\n" in gap:
            end_run()
        last_end = match.end()
        token = match.group()
        if _WORD.fullmatch(token):  # the common case: a plain Cyrillic word
            parts = pieces = [token]
        else:
            parts = _JOINER_RUNS.split(token)
            pieces = [fold_lookalikes(p) for p in parts[::2]]
            if (joined := collapse_spelled(pieces)) is not None:  # "х.у.й", "п-и-з-д-е-ц"
                end_run()
                words.append(_Word(match.start(), match.end(), joined,
                                   text[match.start()].isupper(), sentence))
                continue
        short = len(pieces) == 1 and len(pieces[0]) <= 2 and _WORD.fullmatch(pieces[0]) is not None
        if not short:
            end_run()
        position = match.start()
        for index, part in enumerate(parts):
            piece = pieces[index // 2]
            if index % 2 == 0 and _CYRILLIC.search(piece):
                words.append(_Word(position, position + len(part), piece, text[position].isupper(),
                                   sentence))
                if short:
                    run.append(words[-1])
            position += len(part)
    end_run()
    return words, runs


def _joined(stretch: Sequence[_Word]) -> _Word:
    return _Word(stretch[0].start, stretch[-1].end, "".join(w.word for w in stretch),
                 stretch[0].capital, stretch[0].sentence)


def _spelt_spans(run: list[_Word], judge: _Judge) -> list[tuple[int, int]]:
    """The rude words spelt out in `run` (short words separated by spaces): the longest
    rude stretch of three or more pieces, two of them single letters, from each start;
    trimmed of words at its ends that are not part of it ("вы п и з д е ц")."""
    spans = []
    first = 0
    while first < len(run) - 2:
        for last in range(min(len(run), first + _MAX_WORD) - 1, first + 1, -1):
            stretch = run[first:last + 1]
            if sum(len(w.word) == 1 for w in stretch) < 2 or not judge.is_rude(_joined(stretch)):
                continue
            while len(stretch) > 3 and len(stretch[0].word) > 1 and judge.is_rude(_joined(stretch[1:])):
                stretch = stretch[1:]
            while len(stretch) > 3 and len(stretch[-1].word) > 1 and judge.is_rude(_joined(stretch[:-1])):
                stretch = stretch[:-1]
            spans.append((stretch[0].start, stretch[-1].end))
            first = last
            break
        first += 1
    return spans


@dataclass(frozen=True, slots=True)
class _Forms:
    """The inflected forms of some lemmas, for matching words without lemmatizing each."""

    forms: frozenset[str]
    starts: frozenset[str]  # their first three letters: who else may be an unusual form
    by_length: dict[int, tuple[str, ...]]  # for masked words

    @classmethod
    def of(cls, lemmas: Iterable[str]) -> _Forms:
        forms = frozenset().union(*(word_forms(lemma) for lemma in lemmas))
        by_length: dict[int, list[str]] = {}
        for form in sorted(forms):
            by_length.setdefault(len(form), []).append(form)
        return cls(forms, frozenset(f[:3] for f in forms),
                   {length: tuple(group) for length, group in by_length.items()})


@functools.lru_cache(maxsize=32)
def _forms(lemmas: frozenset[str]) -> _Forms:
    return _Forms.of(lemmas)


class _Judge:
    """Judges the words of texts against one lexicon."""

    def __init__(self, lexicon: RudeLexicon) -> None:
        self.lexicon = lexicon
        self.roots = _compiled(lexicon.roots)
        self.rude = _forms(lexicon.lemmas)
        self.contextual = _forms(lexicon.contextual)
        self.address = _forms(_ADDRESS_LEMMAS)

    def has_lemma(self, word: str, forms: _Forms, lemmas: frozenset[str]) -> bool:
        """Is `word` a form of one of `lemmas`? A generated form is; a word that starts
        like one is lemmatized (the dictionary may know a form, or guess a lemma, that the
        generated forms lack: "дибилы", "уебки")."""
        if word in forms.forms:
            return True
        if word[:3] not in forms.starts or len(word) > _MAX_WORD or not _WORD.fullmatch(word):
            return False
        return any(r.lemma in lemmas and r.pos not in _SKIPPED_POS for r in readings(word))

    def is_excused(self, word: _Word) -> bool:
        """An allowed word ("рубля": its likeliest lemma is allowed), or a capitalized
        word the dictionary reads first as a name, surname or place ("Козлов")."""
        if _is_allowed(word.word, self.lexicon.allowed):
            return True
        if not word.capital or len(word.word) > _MAX_WORD or not _WORD.fullmatch(word.word):
            return False
        first = readings(word.word)[:1]
        return bool(first) and first[0].known and first[0].proper and first[0].score >= 0.4

    def is_rude(self, word: _Word) -> bool:
        """Rude by a lemma, a root or a mask (contextual words are judged apart)."""
        if pattern := mask_pattern(word.word):
            return self.is_masked_rude(pattern, word.word)
        hit = self.has_lemma(word.word, self.rude, self.lexicon.lemmas) or (
            self.roots is not None and self.roots.search(word.word) is not None)
        return hit and not self.is_excused(word)

    def is_masked_rude(self, pattern: re.Pattern[str], word: str) -> bool:
        masks = sum(word.count(m) for m in _MASKS)
        return any(pattern.fullmatch(form) for length in range(len(word), len(word) + masks + 1)
                   for form in self.rude.by_length.get(length, ()))

    def is_contextual(self, word: _Word) -> bool:
        return self.has_lemma(word.word, self.contextual, self.lexicon.contextual) and (
            not self.is_excused(word))

    def is_address(self, word: _Word) -> bool:
        return word.word in self.address.forms


def _aimed_at_a_person(index: int, words: list[_Word], judge: _Judge) -> bool:
    """A second-person word or a staff word near words[index] (same sentence), or "какой"
    right before it."""
    sentence = words[index].sentence
    before = words[index - 1] if index else None
    if before is not None and before.sentence == sentence and before.word in _WHICH:
        return True
    low, high = max(0, index - _CONTEXT_WINDOW), min(len(words), index + _CONTEXT_WINDOW + 1)
    return any(words[i].sentence == sentence and judge.is_address(words[i])
               for i in range(low, high) if i != index)


def find_rude_words(text: str | None, lexicon: RudeLexicon = RudeLexicon()) -> tuple[str, ...]:
    """The rude words of `text` as written, each once, in order of appearance."""
    if not text:
        return ()
    plain = _plain(text)
    if len(plain) != len(text):  # lower() changed the length ("İ"): spans would drift
        text = plain
    spans: dict[tuple[int, int], None] = {}
    words, runs = _words(text, plain)

    if lexicon.lemmas or lexicon.roots or lexicon.contextual:
        judge = _Judge(lexicon)
        for index, word in enumerate(words):
            if judge.is_rude(word) or (
                judge.is_contextual(word) and _aimed_at_a_person(index, words, judge)
            ):
                spans.setdefault((word.start, word.end))
        for run in runs:
            spans.update(dict.fromkeys(_spelt_spans(run, judge)))

    pattern = _compiled(lexicon.patterns)
    if pattern is not None:
        folded = list(plain)
        for word in words:
            if word.end - word.start == len(word.word):  # a plain word: same length
                folded[word.start:word.end] = word.word
        variants = dict.fromkeys((plain, "".join(folded)))  # the same text once
        for start, end in _pattern_spans(pattern, variants):
            if not _is_allowed(plain[start:end], lexicon.allowed):
                spans.setdefault((start, end))

    reported: dict[str, None] = {}
    covered_until = -1
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if end <= covered_until:
            continue  # inside a longer reported span
        covered_until = end
        reported.setdefault(text[start:end])
    return tuple(reported)


def _is_allowed(word: str, allowed: frozenset[str]) -> bool:
    """`word` (lower case) is allowed, or its likeliest lemma is."""
    if not allowed or word in allowed:
        return word in allowed
    if len(word) > _MAX_WORD or not _WORD.fullmatch(word):
        return False
    first = readings(word)[:1]
    return bool(first) and first[0].lemma in allowed


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _pattern_spans(pattern: re.Pattern[str], variants: Iterable[str]) -> list[tuple[int, int]]:
    """The spans of the whole words that `pattern` matches in any of `variants` (texts of
    the same length)."""
    spans = []
    for variant in variants:
        position = 0
        while (match := pattern.search(variant, position)) is not None:
            start, end = match.start(), match.end()
            while start > 0 and _is_word_char(variant[start - 1]):
                start -= 1
            while end < len(variant) and _is_word_char(variant[end]):
                end += 1
            if end > start:
                spans.append((start, end))
            # Continue after the whole word: each word is looked at once (linear time).
            position = max(end, match.end(), position + 1)
    return spans
