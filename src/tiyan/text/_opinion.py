"""The opinion model: the sentiment a comment expresses about one *target* (a term it mentions).

An aspect's sentiment is the opinion about the words that name it, not the mood of the comment or
of the clause's words taken alone ("收费透明" is positive about the price although 收费 leans
negative in reviews). For a target at text[start:end] the model reads:

- the *opinion span*: the clause holding the target (clauses are also split before 但是 / 不过 /
  but), extended to the next clause when the target ends its clause with nothing after it and the
  next clause neither turns (但是 …) nor names another target ("说好下午四点交车，拖到了晚上七点"),
  or when the target's clause holds a promise and the next one its break ("约好的上门时间是周六，
  师傅迟迟没来", `_promise`); the target itself is replaced by a placeholder, so what is
  learned is the opinion around it;
- the target's own clause, as a separate copy (opinion words next to the target weigh more);
- the target's words, as a separate copy (some "targets" are opinions themselves: 头发一点都不油);
- the target's words again, in their own copy, when a negator stands just before the target;
- the predicate negated right after the target ("价格不贵", "费用一点也不高" → 贵, 高), alone and
  joined to the term, in a copy of its own, so that every form of the negation shares one feature
  (`_negation`);
- where the target has a direction (`Target.more_is`, from `taxonomy.Aspect.direction`) and
  the words after it say only how much of it there is ("价格很高", "排队的人很多";
  `_negation.quantity`), a good- or bad-quantity feature (more of a "better" aspect or less of
  a "worse" one is good news), in QUANTITY_COPIES copies;
- for a group (a source with its own habits, such as car forum posts) a copy of the span.

Three classes (negative / neutral / positive), one-vs-rest logistic regressions over hashed
character 1–3-grams, trained by `tiyan text train` on the term labels of chinese_absa, the aspect
labels of car_aspects_ccf2018, short one-clause reviews of the sentiment corpora and examples
derived from them by negation and by mirroring quantities (`_derived_examples`; see
docs/models/text.md). Evidence for an
aspect is the opinion span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from tiyan.text._features import Features, FeatureSpec, combine, hash_features, normalise, salted
from tiyan.text._linear import LinearModel, ModelFileError, load_linear, softmax
from tiyan.text._negation import absent, negated_predicate, quantity, timing, variety
from tiyan.text._polarity_lexicon import mixed as mixed_towards
from tiyan.text._promise import broken_after, broken_promise
from tiyan.text._questions import asking_clauses, may_ask
from tiyan.text._unattended import unattended
from tiyan.text.segment import Clause, split_clauses, turns

MODEL_FILE = Path(__file__).parent / "models" / "opinion_zh.npz"
CLASSES = ("negative", "neutral", "positive")
PLACEHOLDER, PREDICATE_MARK = "\ue000", "\ue001"
CLAUSE_SALT, TERM_SALT, NEGATED_TERM_SALT, PREDICATE_SALT = 3001, 3002, 3003, 3004
QUANTITY_SALT = 3008
GOOD_QUANTITY, BAD_QUANTITY = "\ue002", "\ue003"
# copies of the quantity reading (each in its own buckets): one reading among a clause's many
# n-grams; 6 was chosen on the dev splits among 1, 3, 6 and 10 (docs/models/text.md)
QUANTITY_COPIES = 6
_NEGATORS = frozenset("没不未无别非")
_NEGATION_REACH = 3
_TURN = re.compile(r"^(?:但是|但|不过|可是|然而)|^(?:however|but)\b", re.IGNORECASE)
_FILLER = re.compile(r"[\s的了啊呀吧呢哦哈嘛啦!！?？.。,，、~～…]*")


# The longest clause (characters) after a term's own clause that the term's opinion span takes in
# although the term's clause goes on after it: a short clause of its own subjectless words is
# what the customer thought of what came before ("服务员一直催我们点菜，很烦", "顾问一直推销，
# 很烦人"), unless it turns (但是 …) or names another aspect (`opinion_span`). Chosen by
# leave-one-domain-out under the rule of the blend's weights below (bench/aspect_lodo.py;
# docs/models/text.md, section 3, "The short clause after"); the opinion model is trained on the
# same spans.
OPINION_TAIL = 6


@dataclass(frozen=True)
class Target:
    """A term of `text` to read the opinion about: text[start:end]; `clauses` are the text's
    clauses when the caller already has them (several targets of one long text share them)."""

    text: str
    start: int
    end: int
    clauses: tuple[Clause, ...] | None = None
    more_is: str = ""  # which way a quantity of the term goes (`taxonomy.Aspect.direction`)
    defect: bool = False  # the term names something gone wrong (`taxonomy.Aspect.is_defect`)

    @cached_property
    def _reach(self) -> tuple[Clause, Clause | None]:
        """The target's own clause and the clause after it when the span may extend into it
        (see `opinion_span`): the term ends its clause, the next clause is short (OPINION_TAIL),
        or it breaks a promise the term's clause made. Worked out once per target: the span,
        the features, the negation and absence readings all ask for it."""
        text = self.text
        whole = Clause(text, 0, len(text))
        if self.end <= self.start:  # no term: the opinion of the whole text
            return whole, None
        clauses = self.clauses if self.clauses is not None else split_clauses(text)
        clauses = clauses or (whole,)
        index = _clause_index(clauses, self.start)
        own = clauses[index]
        rest = text[min(self.end, own.end) : own.end]
        if index + 1 < len(clauses):
            after = clauses[index + 1]
            if _FILLER.fullmatch(rest) and not _TURN.match(after.text):
                return own, after
            if len(after.text) <= OPINION_TAIL and not _TURN.match(after.text):
                return own, after
            if broken_after(own, after):  # a promise, then its break: "约好周六上门，迟迟没来"
                return own, after
        return own, None

    @cached_property
    def _span(self) -> tuple[Clause, Clause]:
        """`opinion_span` with no other targets, which the rules ask for again and again."""
        own, after = self._reach
        if after is None:
            return own, own
        return Clause(self.text[own.start : after.end], own.start, after.end), own


def opinion_span(target: Target, others: Sequence[int] = ()) -> tuple[Clause, Clause]:
    """(span, own clause) of the opinion about `target`; `others` are the start offsets of other
    targets in the same text (the span does not reach into a clause that names one)."""
    own, after = target._reach
    if after is not None and any(after.start <= o < after.end for o in others):
        return own, own
    return target._span


def _clause_index(clauses: Sequence[Clause], position: int) -> int:
    """The clause holding `position`, else the last one starting before it (binary search)."""
    low, high = 0, len(clauses)
    while low < high:
        middle = (low + high) // 2
        if clauses[middle].start <= position:
            low = middle + 1
        else:
            high = middle
    return max(low - 1, 0)


def _masked(text: str, clause: Clause, target: Target) -> str:
    start = max(target.start, clause.start) - clause.start
    end = min(target.end, clause.end) - clause.start
    if end <= start:
        return clause.text
    return clause.text[:start] + PLACEHOLDER + clause.text[end:]


def target_features(
    targets: Sequence[Target],
    others: Sequence[Sequence[int]],
    spec: FeatureSpec,
    group_salts: Sequence[int | None],
    visible: frozenset[str] = frozenset(),
) -> Features:
    """Features of each target (see the module docstring); a target whose words are in `visible`
    (`opinion_terms`) is left in its span and clause instead of masked."""
    spans, owns, terms, negated, predicates, quantities = [], [], [], [], [], []
    for target, other in zip(targets, others, strict=True):
        span, own = opinion_span(target, other)
        if target.text[target.start : target.end] in visible:
            spans.append(normalise(span.text))
            owns.append(normalise(own.text))
        else:
            spans.append(normalise(_masked(target.text, span, target)))
            owns.append(normalise(_masked(target.text, own, target)))
        term = normalise(target.text[target.start : target.end])
        terms.append(term)
        negated.append(term if _negated(target, own) else "")
        predicates.append(normalise(_negated_opinion(target, own)))
        quantities.append(_quantity_reading(target, own))
    span_features = hash_features(spans, spec)
    parts = [
        span_features,
        salted(hash_features(owns, spec), CLAUSE_SALT, spec.bits),
        salted(hash_features(terms, spec), TERM_SALT, spec.bits),
        salted(hash_features(negated, spec), NEGATED_TERM_SALT, spec.bits),
        salted(_present(hash_features(predicates, spec), predicates), PREDICATE_SALT, spec.bits),
    ]
    quantity_features = _present(hash_features(quantities, spec), quantities)
    for copy in range(QUANTITY_COPIES):
        parts.append(salted(quantity_features, QUANTITY_SALT + 100 * copy, spec.bits))
    group_of_doc = np.array([-1 if g is None else g for g in group_salts], dtype=np.int64)
    for salt in sorted({g for g in group_salts if g is not None}):
        keep = group_of_doc[span_features.docs] == salt
        subset = Features(span_features.docs[keep], span_features.buckets[keep], len(targets))
        parts.append(salted(subset, salt, spec.bits))
    return combine(parts, spec.bits)


def _negated_opinion(target: Target, own: Clause) -> str:
    """The term and the predicate negated right after it, apart ("价格不贵" → "价格\ue001贵"): the
    predicate's n-grams, and its n-grams joined to the term's (不高 is good news about a price
    and bad news about a screen's resolution); "" where there is none. A text without a term
    (a short review) is read from its start ("不好吃" → "\ue001好吃")."""
    predicate = negated_predicate(target.text, target.end, own.end)
    if not predicate:
        return ""
    return target.text[target.start : target.end] + PREDICATE_MARK + predicate


def _quantity_reading(target: Target, own: Clause) -> str:
    """GOOD_QUANTITY or BAD_QUANTITY where the words after a term with a direction say only how
    much of it there is, or compare it (`_negation.quantity`): more where more is better, or
    less where more is worse, is good news ("效率很高", "价格偏低", "手续费比别家低"); so is a time
    compared as earlier or faster, and later or slower is bad news, whatever the direction
    (`_negation.timing`: "交车比约定的还早", "比预约的晚了两天"); "" elsewhere."""
    if not target.more_is or target.end <= target.start:
        return ""
    more = quantity(target.text, target.end, own.end)
    if more == 0:
        good = timing(target.text, target.end, own.end)
        return "" if good == 0 else GOOD_QUANTITY if good > 0 else BAD_QUANTITY
    return GOOD_QUANTITY if (more > 0) == (target.more_is == "better") else BAD_QUANTITY


def _present(features: Features, texts: Sequence[str]) -> Features:
    """`features` without the rows of empty texts (which still carry the start/end markers)."""
    keep = np.array([bool(text) for text in texts], dtype=bool)[features.docs]
    return Features(features.docs[keep], features.buckets[keep], features.n_docs)


def _negated(target: Target, own: Clause) -> bool:
    """A negator (没 不 未 无 别 非) just before the target: "没有异响"."""
    before = target.text[max(own.start, target.start - _NEGATION_REACH) : target.start]
    return any(char in _NEGATORS for char in before)


def negation_read(target: Target) -> bool:
    """The predicate right after the target is negated (`_negation`: "价格不贵"): n-grams read
    without the negation's scope get these wrong."""
    if target.end <= target.start:
        return False
    own = opinion_span(target)[1]
    return bool(negated_predicate(target.text, target.end, own.end))


OPINION_TERM = 0.5
"""|P(positive) − P(negative)| of a term's words read alone by the document model from which
the term is an opinion itself (难吃, 太慢, 干净, 好吃; not 价格, 服务, 房间) and is left in its
span: masked, "好难吃" left only 好 to read, and the opinion model read restaurant reviews at
chance (docs/models/text.md, section 3). Set at the middle of the scale, not tuned."""


def opinion_terms(
    terms: Iterable[str], document: Callable[[list[str]], np.ndarray]
) -> frozenset[str]:
    """The terms among `terms` that are opinions themselves (see OPINION_TERM); `document` gives
    the document model's (negative, positive) probabilities of each text."""
    distinct = sorted({term for term in terms if term})
    if not distinct:
        return frozenset()
    read = document(distinct)
    polar = np.abs(read[:, 1] - read[:, 0]) >= OPINION_TERM
    return frozenset(term for term, is_polar in zip(distinct, polar, strict=True) if is_polar)


@dataclass(frozen=True)
class OpinionModel:
    """The shipped opinion model; `linear.groups` names the sources with their own weights;
    `document` is the document model's (negative, positive) reading of texts, which says which
    terms are opinions themselves (`opinion_terms`)."""

    linear: LinearModel
    document: Callable[[list[str]], np.ndarray]

    def probabilities(
        self,
        targets: Sequence[Target],
        others: Sequence[Sequence[int]] | None = None,
        group: str | None = None,
    ) -> np.ndarray:
        """Class probabilities (CLASSES order), shape (len(targets), 3)."""
        if not targets:
            return np.zeros((0, len(CLASSES)))
        salt = self.linear.groups.get(group or "")
        visible = opinion_terms((t.text[t.start : t.end] for t in targets), self.document)
        features = target_features(
            targets,
            others or [()] * len(targets),
            self.linear.spec,
            [salt] * len(targets),
            visible,
        )
        # groups are already in the features: decide with the shared weights only
        return softmax(self.linear.decision(features, None))


# How much the opinion model weighs in the blend, row by row: OPINION_WEIGHT times its own
# largest probability when BY_CONFIDENCE (the less sure it is, the more the document model, trained
# on ten times as much text, decides), else OPINION_WEIGHT alone. Chosen by leave-one-domain-out
# (bench/aspect_lodo.py; docs/models/text.md, section 3): the best mean over the left-out
# short-review corpora among the settings whose chinese_absa dev accuracy is no more than 1 point
# below the model before (86.6%).
OPINION_WEIGHT = 1.0
BY_CONFIDENCE = True
NEUTRAL_BAND = 0.2
# |P(positive) − P(negative)| of the document model's reading of a span from which its reading
# stands (`document_decides`); None: never. Chosen by leave-one-domain-out under the same rule as
# the weight above (bench/aspect_lodo.py; docs/models/text.md, section 3): 0.4 and 0.5 read the
# left-out corpora better but fall below the chinese_absa guard.
DOCUMENT_SURE: float | None = 0.6
# How far each term's reading is pulled towards the pole of its whole comment's document reading,
# times that reading's strength |P(positive) − P(negative)| (`towards_comment`): COMMENT_PULL
# where the comment does not turn, TURN_COMMENT_PULL where it holds a contrast marker (但是, 不过 …)
# and so more than one opinion. Chosen by leave-one-domain-out under the rule of the weights above
# (bench/aspect_lodo.py; docs/models/text.md, section 3, "The comment's reading as evidence").
COMMENT_PULL = 0.8
TURN_COMMENT_PULL = 0.0
# A clause read at least this far (|P(positive) − P(negative)|) against its comment's reading
# makes the comment one of several opinions (`comment_readings`); the middle of the scale, not
# tuned.
AGAINST_COMMENT = 0.5
# P(negative) of a term's words alone above which the term is a complaint (see `reversing`). Set
# for the document model shipped: with C = 3 it flags 447 of the 1,090 Chinese taxonomy terms, as
# many as the C = 10 model did at 0.7 (449); a smaller C gives less extreme probabilities.
REVERSING = 0.65


def blended(
    opinions: np.ndarray,
    document: np.ndarray,
    opinion_only: np.ndarray | None = None,
    reversed_rows: np.ndarray | None = None,
    decided: np.ndarray | None = None,
    document_rows: np.ndarray | None = None,
) -> np.ndarray:
    """The opinion model's probabilities weighted by OPINION_WEIGHT times its largest probability
    (BY_CONFIDENCE), the rest the document model's (negative, positive) over the unmasked opinion
    span: how the seed-term aspects are read. The
    opinion model alone read complaint terms that are opinions themselves (等了很久, 排队) as
    positive; the document model, trained on many more reviews, knows them. Rows in
    `opinion_only` (see `negation_read`) are the opinion model's alone: the document model
    reads 贵 in "价格不贵" as it reads it unnegated (P(negative) 0.80). Rows in `reversed_rows`
    (see `reversing`) swap negative and positive. Rows where `decided` is -1 or 1 (see
    `decided_rows`) are negative or positive whatever the models read: their largest
    probability goes to that class, their smallest to the other one (`label_and_score` gives
    them that class even when the margin is inside NEUTRAL_BAND). Rows in `document_rows` (see
    `document_decides`) are the document model's alone. The weighting was chosen by
    leave-one-domain-out, NEUTRAL_BAND on the dev splits of chinese_absa and car_aspects_ccf2018
    (docs/models/text.md)."""
    as_three = np.column_stack([document[:, 0], np.zeros(len(document)), document[:, 1]])
    weight = OPINION_WEIGHT * (opinions.max(axis=1, keepdims=True) if BY_CONFIDENCE else 1.0)
    result: np.ndarray = weight * opinions + (1 - weight) * as_three
    if document_rows is not None and document_rows.any():
        result[document_rows] = as_three[document_rows]
    if opinion_only is not None and opinion_only.any():
        result[opinion_only] = opinions[opinion_only]
    if reversed_rows is not None and reversed_rows.any():
        result[reversed_rows] = result[reversed_rows][:, ::-1]
    if decided is not None and decided.any():
        ordered = np.sort(result, axis=1)  # smallest first: positive's order
        result[decided > 0] = ordered[decided > 0]
        result[decided < 0] = ordered[decided < 0][:, ::-1]
    return result


def document_decides(
    spans: Sequence[str],
    opinions: np.ndarray,
    document: np.ndarray,
    problems: np.ndarray | None = None,
) -> np.ndarray:
    """Which rows the document model's reading of the span decides: it is sure of it
    (|P(positive) − P(negative)| ≥ DOCUMENT_SURE), the opinion model does not call the term
    neutral, and the span holds no negator (没 不 未 无 别 非). The opinion model learned its words
    from product reviews and car forums; on a service comment it was often sure and wrong
    ("水疗区设施老旧": positive 0.73 against the document model's negative 0.95), where the
    document model, trained on eighteen domains, knows the words. Character n-grams cannot tell
    what a negator negates (the document model reads "不刺鼻" as 刺鼻, negative 0.97), so those
    spans stay with the blend. So do the terms in `problems`, nouns that name a problem (their
    words alone lean negative without being an opinion, see `blend_of`: 毛病, 异响): the
    document model reads a clause about one as negative whatever happened to it ("毛病消失了")."""
    found = np.zeros(len(spans), dtype=bool)
    if DOCUMENT_SURE is None or not len(spans):
        return found
    sure = np.abs(document[:, 1] - document[:, 0]) >= DOCUMENT_SURE
    polar = opinions.argmax(axis=1) != CLASSES.index("neutral")
    plain = np.array([not _NEGATORS.intersection(span) for span in spans], dtype=bool)
    found = sure & polar & plain
    if problems is not None:
        found &= ~problems
    return found


def blend_of(
    targets: Sequence[Target],
    others: Sequence[Sequence[int]],
    opinions: np.ndarray,
    document_probabilities: Callable[[list[str]], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """(the blend's probabilities, `decided_rows`) of `targets` given the opinion model's
    `opinions` of them: how the seed-term aspects read a term (`label_and_score` labels a row).
    `document_probabilities` is the document model's (negative, positive) of texts."""
    spans = [opinion_span(t, o)[0].text for t, o in zip(targets, others, strict=True)]
    document = document_probabilities(spans)
    # the document model's reading of each term's words alone, asked once for both uses
    words = sorted({t.text[t.start : t.end] for t in targets})
    alone = dict(zip(words, document_probabilities(words), strict=True)) if words else {}
    reversed_rows = reversing(targets, lambda terms: np.array([alone[t][0] for t in terms]))
    decided = decided_rows(targets)
    problems = np.array([_names_problem(alone[t.text[t.start : t.end]]) for t in targets],
                        dtype=bool)
    own_reading = opinion_rows(targets)
    mixed = blended(
        opinions,
        document,
        own_reading,
        reversed_rows,
        decided,
        document_decides(spans, opinions, document, problems),
    )
    # the rows whose reading does not trust the document model's n-grams keep it
    kept = own_reading | reversed_rows | problems | (decided != 0)
    margins, pulls = comment_readings(targets, document_probabilities)
    read = towards_comment(mixed, opinions, margins, pulls, kept)
    asking = asked_rows(targets)
    if asking.any():
        read[asking] = np.eye(len(CLASSES))[CLASSES.index("neutral")]
        decided[asking] = 0
    return read, decided


def asked_rows(targets: Sequence[Target]) -> np.ndarray:
    """Which targets stand in a clause that asks, for information or for a service
    (`_questions`: "早餐几点开始？", "休息区有没有wifi？", "请帮我查一下话费"): the term is only
    mentioned, and the blend's reading of the question is the reviews' complaints put as
    questions. Their reading is neutral."""
    found = np.zeros(len(targets), dtype=bool)
    by_text: dict[str, list[int]] = {}
    for k, target in enumerate(targets):
        if target.end > target.start:
            by_text.setdefault(target.text, []).append(k)
    for text, rows in by_text.items():
        if not may_ask(text):
            continue
        first = targets[rows[0]]
        clauses = first.clauses if first.clauses is not None else split_clauses(text)
        if not clauses:
            continue
        asking = asking_clauses(text, clauses)
        for k in rows:
            found[k] = asking[_clause_index(clauses, targets[k].start)]
    return found


def comment_readings(
    targets: Sequence[Target], document_probabilities: Callable[[list[str]], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """For each target, its whole comment's document reading (P(positive) − P(negative)) and
    the pull that reading gets (`towards_comment`): COMMENT_PULL for a comment of one opinion,
    TURN_COMMENT_PULL for one that turns (但是, 不过 …) or that has a clause read at least
    AGAINST_COMMENT the other way ("菜很好吃，服务员态度很差": the comment reads negative, its first
    clause positive). The document model reads, in one batch, each comment that may pull and the
    clauses of those of more than one clause; a comment that turns is not read while its pull
    is 0."""
    clauses_of: dict[str, tuple[Clause, ...]] = {}
    for target in targets:
        if target.text not in clauses_of:
            found = target.clauses if target.clauses is not None else split_clauses(target.text)
            clauses_of[target.text] = tuple(found)
    turning = {comment for comment in clauses_of if turns(comment)}
    read = [c for c in clauses_of if TURN_COMMENT_PULL > 0 or c not in turning]
    pieces = [
        clause.text
        for comment in read
        if comment not in turning and len(clauses_of[comment]) > 1
        for clause in clauses_of[comment]
    ]
    readings = document_probabilities(read + pieces) if read else np.zeros((0, 2))
    margins = readings[:, 1] - readings[:, 0]
    reading_of: dict[str, tuple[float, float]] = {}
    position = len(read)
    for index, comment in enumerate(read):
        margin = float(margins[index])
        one_opinion = comment not in turning
        if one_opinion and len(clauses_of[comment]) > 1:
            count = len(clauses_of[comment])
            against = margins[position : position + count] * np.sign(margin) <= -AGAINST_COMMENT
            position += count
            one_opinion = not against.any()
        reading_of[comment] = (margin, COMMENT_PULL if one_opinion else TURN_COMMENT_PULL)
    unread = (0.0, TURN_COMMENT_PULL)
    found_margins = np.array([reading_of.get(t.text, unread)[0] for t in targets])
    found_pulls = np.array([reading_of.get(t.text, unread)[1] for t in targets])
    return found_margins, found_pulls


def towards_comment(
    mixed: np.ndarray,
    opinions: np.ndarray,
    comment_margins: np.ndarray,
    pulls: np.ndarray,
    kept: np.ndarray,
) -> np.ndarray:
    """The blend's probabilities (`mixed`) pulled towards the pole of each target's whole
    comment as the document model reads it (`comment_margins`: P(positive) − P(negative)), by the
    weight pull · |margin| (`comment_readings` gives each row its pull):

        p = (1 − w) · the blend's probabilities + w · (1 at the comment's pole)

    A span read alone is a few characters, and the opinion model learned its words from product
    reviews and car forums; the whole comment, read by the document model (trained on eighteen
    domains), says which way a comment of one opinion goes. It is evidence of polarity only, as
    strong as the comment's reading is sure: a comment read in the middle pulls almost nothing,
    and the pull never adds to the neutral class. The rows it leaves alone: the opinion model
    calls the term neutral (a term only mentioned), and the rows in `kept`, whose reading does
    not trust the document model's n-grams (`blend_of`: a rule decided them, the opinion model
    reads a negation or a quantity alone, a problem said to be absent, a term that names a
    problem: the document model reads "毛病彻底解决了" negative as a comment too)."""
    if not len(mixed):
        return mixed
    # the English lexicon's pull (`_polarity_lexicon.mixed`) with each row's pull folded into
    # its polarity: weight 1 · |pull · margin|, towards the margin's sign
    polarity = pulls * comment_margins
    polarity[opinions.argmax(axis=1) == CLASSES.index("neutral")] = 0.0
    polarity[kept] = 0.0
    return mixed_towards(mixed, polarity, 1.0)


def _names_problem(alone: np.ndarray) -> bool:
    """A term that names a problem (毛病, 异响): the document model's (negative, positive)
    reading of its words alone leans negative, but less than an opinion term's (OPINION_TERM)."""
    return bool(alone[0] > 0.5 and abs(alone[1] - alone[0]) < OPINION_TERM)


def decided_rows(targets: Sequence[Target]) -> np.ndarray:
    """-1 for the targets whose opinion is bad news by rule, 1 good news, 0 elsewhere: a promise
    broken about the target (`_promise`: "说好下午四点交车，拖到了晚上七点"; n-grams read 好 in
    说好 as praise), nobody attending to it (`_unattended`: "叫了客房服务，一直没人来"), a term
    that names something gone wrong, mentioned or solved (`defect_reading`: "经常断网"), how many
    kinds of it there are (`_negation.variety`: "早餐种类少" is bad news for any term, and the
    models read 少 after 早餐 as they read it after 油耗 or 排队), and a
    quantity reading (`quantity_read`: "收费很高"; the opinion model reads it, in
    QUANTITY_COPIES copies of one feature, against the n-grams of 很高, praise in thousands of
    reviews, and came out neutral). On the dev splits the quantity readings were all read their
    way already: the rule changes none of their figures."""
    found = np.zeros(len(targets), dtype=np.int64)
    for k, target in enumerate(targets):
        if _broken(target) or _nobody_attended(target):
            found[k] = -1
        elif target.defect and target.end > target.start:
            found[k] = defect_reading(target)
        elif kinds := _variety_reading(target):
            found[k] = kinds
        elif target.more_is and target.end > target.start:
            reading = _quantity_reading(target, opinion_span(target)[1])
            found[k] = 1 if reading == GOOD_QUANTITY else -1 if reading == BAD_QUANTITY else 0
    return found


# "异响问题彻底解决了", "故障已经排除", "断网的情况恢复了": the words after a defect say it is over;
# "异响还没解决" says it is not
_FIXED = r"(?:解决|修好|排除|处理好|搞定|消除)"
_RESOLVED_AFTER = re.compile(
    r"(?:问题|情况|现象|的问题|的情况|的现象)?(?:也|都|已经|已|终于|彻底|完全|基本|全部|总算)*"
    r"(?:" + _FIXED + r"|恢复|消失|没了|没有了|不见了|好了)"
)
_UNRESOLVED = re.compile(
    r"(?:没|未|没有|还没|还没有|并未|仍未|一直没|迟迟没)(?:彻底|完全)?(?:" + _FIXED + r"|恢复)"
)
# "修好了异响", "解决了断网的问题", "很少掉线", "没发现异响": before it, that it was fixed, is
# rare or was not found
_RESOLVED_BEFORE = re.compile(
    r"(?:" + _FIXED + r"|去除|去掉)(?:了|掉)?(?:的)?$|(?:很少|几乎不|几乎没|基本不|"
    r"基本没|从不|从没|从来不|从来没)(?:有|出现|再)?$|"
    r"(?:没|没有|未|并未|再没|再也没有?)(?:再)?(?:发现|出现|遇到|听到|感觉到?|有过?)(?:过|任何|什么)?$"
)


def defect_reading(target: Target) -> int:
    """1 or -1 for a target that names something gone wrong (`Target.defect`: 异响, 断网, 头发 in
    a dish): its mention is a complaint ("经常断网", "故障灯又亮了", "吃出了异物": -1) unless its
    clause says it is gone or absent ("没有异响了", `_negation.absent`; "没发现异响"), solved
    ("异响问题彻底解决了", "修好了异响"; not "异响还没解决"), rare ("很少掉线") or less
    ("噪音很小"): 1. The models read what is around the term, masked, as they read it around 服务
    or 房间: "经常<term>" is praise in reviews ("经常来")."""
    own = opinion_span(target)[1]
    text = target.text
    after = text[target.end : own.end]
    before = text[own.start : target.start]
    if _UNRESOLVED.search(after):
        return -1
    if _absent(target) or _RESOLVED_AFTER.match(after) or _RESOLVED_BEFORE.search(before):
        return 1
    more = quantity(text, target.end, own.end)
    return 1 if more < 0 else -1


def _variety_reading(target: Target) -> int:
    if target.end <= target.start:
        return 0
    return variety(target.text, target.end, opinion_span(target)[1].end)


def _nobody_attended(target: Target) -> bool:
    return target.end > target.start and unattended(opinion_span(target)[0].text)


def _broken(target: Target) -> bool:
    if target.end <= target.start:
        return False
    text = target.text
    clauses = target.clauses if target.clauses is not None else split_clauses(text)
    if not clauses:
        return False
    return broken_promise(clauses, _clause_index(clauses, target.start))


def quantity_read(target: Target) -> bool:
    """The words after a term with a direction say how much of it there is ("价格很高", "排队的
    人很多"): the document model reads 很高 and 很多 as praise whatever they are about."""
    if target.end <= target.start or not target.more_is:
        return False
    own = opinion_span(target)[1]
    return bool(_quantity_reading(target, own))


def opinion_rows(targets: Sequence[Target]) -> np.ndarray:
    """Which targets the blend leaves to the opinion model (`negation_read`, `quantity_read`)."""
    return np.array([negation_read(t) or quantity_read(t) for t in targets], dtype=bool)


def reversing(
    targets: Sequence[Target], term_negative: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Which targets are negated complaints: said to be absent (`_negation.absent`: "没有异响了",
    "异响没有了") and reading negative on their own (`term_negative` — the document model's
    P(negative) of each term's words — at least REVERSING): the absence of a problem is good
    news. `term_negative` is only asked about the absent ones."""
    found = np.array([_absent(target) for target in targets], dtype=bool)
    if found.any():
        chosen = [targets[int(k)] for k in np.flatnonzero(found)]
        negative = term_negative([t.text[t.start : t.end] for t in chosen])
        found[np.flatnonzero(found)] = negative >= REVERSING
    return found


def _absent(target: Target) -> bool:
    if target.end <= target.start:
        return False
    own = opinion_span(target)[1]
    return absent(target.text, own.start, own.end, target.start, target.end)


def label_and_score(
    probabilities: np.ndarray, band: float = 0.0, decided: int = 0
) -> tuple[str, float]:
    """The most probable class (neutral when P(positive) and P(negative) differ by less than
    `band`) and P(positive) − P(negative); where a rule decided the row (`decided_rows`: -1 or
    1), that rule's class whatever the margin: a promise broken is bad news even when the
    models' reading of the words is flat ("承诺当天取车，结果推迟了两天": −0.16)."""
    score = round(float(probabilities[2] - probabilities[0]), 4)
    if decided:
        return ("positive" if decided > 0 else "negative"), score
    if abs(score) < band:
        return "neutral", score
    return CLASSES[int(np.argmax(probabilities))], score


@cache
def load_opinion_model() -> OpinionModel:
    """The shipped opinion model, loaded once per process."""
    from tiyan.text.sentiment import load_sentiment_model

    linear, extra = load_linear(MODEL_FILE)
    if linear.weights.shape[0] != len(CLASSES):
        raise ModelFileError(MODEL_FILE, f"expected {len(CLASSES)} rows of weights")
    return OpinionModel(linear, load_sentiment_model("zh").probabilities)
