"""ToyTLDR: a seeded world of Reddit-style advice posts whose facts are known.

It stands in for OpenAI's Reddit TL;DR data and its human raters (DESIGN.md, section 4), in the
same schemas, so that every notebook runs offline and still has a gold "human" to compare with.

A post has latent facts: the narrator ("I (24F)"), the other person ("my boyfriend (26M)"), how
long they have known each other, what happened (the event), a complication, and the question
asked. Templates turn the facts into English; distractor sentences (weather, a pet, the
narrator's job, what a friend said) are not key facts. Posts are 35-90 words, shorter than real
TL;DR posts, so that a 135M labeler on a laptop CPU reads hundreds of pairs in minutes.

Gold quality of any text as a summary of a post (`gold_score`), in [0, 1]:

    score = clip(coverage * coherence - 0.35 * wrong_facts - length_penalty - repetition, 0, 1)

- coverage: share of the 5 key facts (relation, duration, event, complication, question) that
  the summary mentions; a fact counts as mentioned when a keyword pattern of it matches (`Fact.keys`).
  Ages are optional: they add no coverage, but a wrong one is a wrong fact.
- wrong_facts: values the summary states that are false for this post and appear nowhere in it
  (another relation, duration, event, complication or question; an age/gender tag like "31M"
  that belongs to nobody in the post). Each costs 0.35.
- coherence: min(1, known_pairs / 0.8), where known_pairs is the share of adjacent word pairs
  that the toy world itself can produce; shuffled words and junk get little credit.
- length_penalty: 0 for 8..40 words; 0.6 * (8 - n) / 8 below, 0.6 * (1 - exp(-(n - 40) / 30)) above.
- repetition: share of repeated word trigrams.

Simulated raters see the gold margin through logistic noise of scale `tau`, so
P(A preferred) = sigmoid((q_A - q_B) / tau); their confidence (1-9) grows with the perceived margin.
"""
from __future__ import annotations

import math
import random
import re
import string
from dataclasses import dataclass
from functools import lru_cache

SPLITS = ("sft", "label", "eval")
KEY_SLOTS = ("relation", "duration", "event", "complication", "question")
CORRUPTIONS = ("shuffled", "truncated", "off_topic", "fact_swapped", "drop_fact", "repeated", "verbose")
POLICY_LIKE_KINDS = ("paraphrase", "drop_fact", "verbose", "fact_swapped", "truncated")
MIN_WORDS, MAX_WORDS = 8, 40  # summary lengths with no length penalty
WRONG_FACT_COST = 0.35
# Calibrated once: calibrate_tau(policy_like_pairs(generate_posts(3000, "label", seed=0), seed=0), target=0.75)
# returned 0.1248: two simulated raters then agree on 75% of policy-like pairs, as OpenAI's raters did (73-77%).
TAU = 0.125


@dataclass
class Post:
    id: str  # "sft-00042": unique across splits
    subreddit: str  # without "r/"
    title: str
    body: str
    facts: dict  # latent facts, slot -> value
    reference: str  # a reference TL;DR


@dataclass(frozen=True)
class Fact:
    groups: str  # relation groups it fits: P partner, F friend, R roommate, W work, M family
    keys: str  # regex: a text mentions this fact iff it matches (lower-cased, whole words)
    summary: tuple  # short TL;DR phrasings
    post: tuple  # how a post tells it ({he}/{him}/{his} are the other person's pronouns)


# relation -> (group, gender or None, keys)
RELATIONS = {
    "boyfriend": ("P", "M", r"boyfriend|bf"), "girlfriend": ("P", "F", r"girlfriend|gf"),
    "husband": ("P", "M", r"husband|hubby"), "wife": ("P", "F", r"wife"),
    "best friend": ("F", None, r"best ?friend|bff"), "roommate": ("R", None, r"room-?mate|roomie|flatmate"),
    "coworker": ("W", None, r"co-?worker|colleague"), "boss": ("W", None, r"boss|manager"),
    "mom": ("M", "F", r"mom|mother|mum"), "dad": ("M", "M", r"dad|father"),
    "sister": ("M", "F", r"sister|sis"), "brother": ("M", "M", r"brother|bro"),
}
SHORT_NAMES = {"boyfriend": "bf", "girlfriend": "gf", "best friend": "BFF"}
DURATIONS = {
    "P": ["3 months", "5 months", "8 months", "10 months", "1 year", "2 years", "3 years", "4 years", "6 years"],
    "F": ["1 year", "2 years", "4 years", "6 years", "9 years", "12 years", "15 years"],
    "R": ["3 months", "6 months", "9 months", "1 year", "2 years", "3 years"],
    "W": ["4 months", "7 months", "1 year", "2 years", "3 years", "5 years"],
    "M": ["2 months", "4 months", "6 months", "8 months", "1 year", "2 years"],
}
AGE_GAP = {"P": (-4, 5), "F": (-2, 2), "R": (-3, 3), "W": (-8, 15), "M": (-6, 6)}  # parents: +20..+34
SUBREDDITS = {
    "P": ["relationships", "relationship_advice", "dating_advice"],
    "F": ["relationships", "relationship_advice", "Advice", "socialskills"],
    "R": ["roommates", "Advice", "relationship_advice"], "W": ["work", "careerguidance", "Advice"],
    "M": ["family", "relationship_advice", "Advice", "offmychest"],
}

EVENTS = {
    "forgot_birthday": Fact("PFRWM", r"birthday", ("forgot my birthday", "completely forgot my birthday"),
        ("Last week was my birthday and {he} completely forgot about it. Not a card, not a call, nothing.",
         "{He} forgot my birthday this year. I waited all day and heard nothing from {him}.")),
    "read_phone": Fact("PFRM", r"phone", ("went through my phone", "snooped through my phone without asking"),
        ("I caught {him} going through my phone while I was in the shower.",
         "{He} unlocked my phone without asking and read my private conversations.")),
    "borrowed_money": Fact("PFRWM", r"money|borrow\w*|lent|pa(y|id) (me )?back",
        ("borrowed money and won't pay me back", "never paid back money I lent {him}"),
        ("{He} borrowed a lot of money from me months ago and still hasn't paid me back.",
         "A while ago I lent {him} money for a concert ticket and {he} keeps dodging the topic of paying me back.")),
    "cancelled_trip": Fact("PF", r"trip|vacation", ("cancelled our trip last minute", "backed out of our vacation"),
        ("{He} cancelled our vacation the night before we were supposed to leave.",
         "We had a trip planned for ages and {he} backed out at the last minute.")),
    "lied_whereabouts": Fact("PFM", r"lie|lied|lying", ("lied about where {he} was", "lied to me about Saturday night"),
        ("{He} said {he} was working late on Friday, but that was a lie: {he} was at a bar with friends.",
         "{He} lied to me about where {he} was on Saturday night.")),
    "invited_ex": Fact("P", r"ex", ("invited {his} ex to our housewarming", "invited {his} ex to our party"),
        ("{He} invited {his} ex to our housewarming party and didn't tell me until the ex showed up.",)),
    "embarrassing_photo": Fact("PFRWM", r"photo|picture|pic",
        ("posted an embarrassing photo of me online", "shared an embarrassing picture of me"),
        ("{He} posted an embarrassing photo of me online without asking, and hundreds of people saw it.",)),
    "took_credit": Fact("W", r"credit|my project", ("took credit for my project", "presented my project as {his} own"),
        ("In a meeting with the whole team, {he} presented my project as {his} own.",
         "{He} took credit for the project I spent weeks on.")),
    "yelled_public": Fact("PFRWM", r"yell\w*|scream\w*|shout\w*",
        ("yelled at me in front of everyone", "screamed at me in front of our friends"),
        ("{He} yelled at me in front of everyone at dinner.",
         "During a dinner with friends {he} started screaming at me over nothing.")),
    "told_secret": Fact("PFWM", r"secret", ("told everyone my secret", "spilled a secret I told {him} in private"),
        ("I told {him} a very personal secret and {he} shared it with half of our friend group.",
         "{He} told everyone a secret I asked {him} to keep.")),
    "spent_savings": Fact("P", r"savings", ("spent our savings without telling me", "drained our joint savings"),
        ("{He} spent almost all of our shared savings without telling me.",
         "I checked our joint account and {he} had spent our savings on things I knew nothing about.")),
    "eats_food": Fact("RM", r"food|groceries", ("keeps eating my food", "eats my groceries and never replaces them"),
        ("{He} keeps eating the groceries I buy for myself and never replaces them.",)),
    "stopped_rent": Fact("PR", r"rent", ("stopped paying {his} half of the rent", "won't pay {his} share of the rent"),
        ("Lately {he} hasn't been paying {his} half of the rent.",)),
    "silent_treatment": Fact("PFRM", r"ignor\w*|silent treatment",
        ("has been ignoring me for days", "gave me the silent treatment"),
        ("After a small argument {he} stopped talking to me and has ignored me ever since.",
         "{He} has been giving me the silent treatment for days over a tiny argument.")),
    "broke_laptop": Fact("FRM", r"laptop", ("broke my laptop", "cracked my laptop screen"),
        ("{He} knocked my laptop off the table and the screen cracked.",)),
    "missed_graduation": Fact("PFM", r"graduation", ("skipped my graduation", "missed my graduation for a concert"),
        ("{He} skipped my graduation ceremony to go to a concert.",)),
    "flirting": Fact("P", r"flirt\w*", ("flirted with someone else at a party", "was flirting with someone all night"),
        ("At a party on Friday I watched {him} flirt with someone else all night.",)),
    "dating_profile": Fact("P", r"dating (profile|apps?)|tinder",
        ("still has an active dating profile", "is still on dating apps"),
        ("A friend sent me a screenshot: {he} still has an active dating profile.",)),
    "sold_guitar": Fact("PRM", r"guitar", ("sold my guitar without asking", "sold my old guitar"),
        ("{He} sold my old guitar online without even asking me.",)),
    "weight_comment": Fact("PFM", r"weight", ("made a nasty comment about my weight", "commented on my weight"),
        ("{He} made a nasty comment about my weight in front of {his} family.",)),
    "moving_away": Fact("P", r"across the country|relocat\w*",
        ("took a job across the country without asking me", "is moving across the country"),
        ("{He} accepted a job across the country without talking to me first.",)),
    "quit_job_demand": Fact("P", r"quit", ("wants me to quit my job", "keeps pushing me to quit my job"),
        ("{He} keeps telling me I should quit my job and stay home.",)),
    "not_invited_wedding": Fact("FM", r"wedding", ("didn't invite me to {his} wedding", "left me out of {his} wedding"),
        ("{He} got married recently and didn't invite me to the wedding.",)),
    "crashed_car": Fact("PFRM", r"crash\w*", ("crashed my car", "took my car and crashed it"),
        ("{He} took my car without asking and crashed it into a pole.",)),
    "video_games": Fact("PRM", r"video games|gaming|games",
        ("plays video games all night", "games every night and leaves me the chores"),
        ("{He} plays video games every night until 4am and leaves all the chores to me.",)),
    "rude_to_friends": Fact("PF", r"rude", ("was rude to my friends", "was rude to my friends all evening"),
        ("{He} was rude to my friends the whole evening at my dinner party.",)),
    "airport": Fact("PFM", r"airport", ("never picked me up from the airport", "left me stranded at the airport"),
        ("{He} was supposed to pick me up from the airport and never showed up.",)),
    "left_alone": Fact("PFR", r"alone|ditch\w*",
        ("left me alone at a party", "ditched me at a party where I knew nobody"),
        ("{He} left me alone at a party where I knew nobody and went home without me.",)),
    "blocked_online": Fact("FWM", r"unfollow\w*|blocked|social media",
        ("blocked me on social media", "unfollowed me everywhere"),
        ("{He} unfollowed and blocked me on every social media account.",)),
    "weekend_shifts": Fact("W", r"weekends?", ("keeps giving me every weekend shift", "schedules me for every weekend"),
        ("{He} keeps putting me on every weekend shift, even though I asked for one weekend off.",)),
    "promotion": Fact("W", r"promot\w*", ("gave my promotion to a new hire", "passed me over for a promotion"),
        ("{He} gave the promotion I had been working toward to a new hire.",)),
    "long_lunches": Fact("W", r"share of the work|part of our work|lunch\w*",
        ("makes me do {his} share of the work", "takes long lunches, leaving me {his} work"),
        ("{He} takes two-hour lunches every day and leaves {his} part of our work for me.",)),
    "opens_mail": Fact("RM", r"mail", ("opens my mail", "keeps opening my mail"),
        ("{He} opens my mail before I get home.",)),
    "read_diary": Fact("M", r"diary", ("read my diary", "read my diary to my cousins"),
        ("{He} found my diary and read it out loud to my cousins.",)),
}
COMPLICATIONS = {
    "work_stress": Fact("PFRWM", r"stress\w*", ("{he} says work has been stressful", "{he} says it's work stress"),
        ("{He} says {he} has been under a lot of stress at work lately.",
         "When I mentioned it, {he} said work has been really stressful.")),
    "overreacting": Fact("PFRWM", r"overreact\w*|dramatic",
        ("{he} says I'm overreacting", "{he} thinks I'm being dramatic"),
        ("{He} says I'm overreacting and being dramatic.",)),
    "did_it_again": Fact("PFRWM", r"apologi\w*",
        ("{he} apologized, then did it again", "{he} apologized but did it again"),
        ("{He} apologized, but a few days later {he} did the exact same thing.",)),
    "refuses_talk": Fact("PFRWM", r"refuses to talk|change[sd]? the subject|won't talk about",
        ("{he} refuses to talk about it", "{he} changes the subject"),
        ("Every time I mention it, {he} changes the subject.",)),
    "blamed_me": Fact("PFRWM", r"my fault|blam\w*", ("{he} says it's my fault", "{he} blamed me"),
        ("Somehow {he} turned it around and said it was my fault.",)),
    "friends_side": Fact("PFRWM", r"sides?", ("{his} friends take {his} side", "everyone is on {his} side"),
        ("All of {his} friends are taking {his} side.",)),
    "acts_normal": Fact("PFRWM", r"nothing happened|like nothing",
        ("{he} acts like nothing happened", "{he} is acting like nothing happened"),
        ("{He} acts like nothing happened.",)),
    "promised_change": Fact("PFRWM", r"promis\w*",
        ("{he} promised it won't happen again", "{he} promises it won't happen again"),
        ("{He} promised it would never happen again.",)),
    "laughed": Fact("PFRWM", r"laugh\w*", ("{he} laughed at me", "{he} just laughed it off"),
        ("When I told {him} how much it hurt, {he} just laughed at me.",)),
    "joke": Fact("PFRWM", r"joke|joking|kidding", ("{he} says it was a joke", "{he} claims {he} was joking"),
        ("{He} claims it was just a joke.",)),
    "lease": Fact("PR", r"lease", ("we just signed a lease together", "we share a lease"),
        ("We just signed a new lease together, so I can't easily leave.",)),
    "found_out": Fact("PFRWM", r"found out|find out|mutual friend",
        ("I found out from a mutual friend", "a mutual friend told me"),
        ("I only found out because a mutual friend told me.",)),
    "cried": Fact("PFRM", r"cry|cried|crying|notice",
        ("{he} didn't notice me crying", "{he} didn't even notice I was crying"),
        ("I cried about it for an hour and {he} didn't even notice.",)),
    "big_deal": Fact("PF", r"big deal",
        ("{he} says we're done if I make it a big deal", "{he} says not to make it a big deal"),
        ("{He} told me that if I make a big deal out of it, we're done.",)),
    "family_knows": Fact("PFM", r"whole family", ("now my whole family knows", "my whole family knows"),
        ("Now my whole family knows about it.",)),
}
QUESTIONS = {
    "break_up": Fact("P", r"break(ing)? up|dump|end (it|things)",
        ("Should I break up with {him}?", "Break up or not?", "Is it time to break up?"),
        ("Should I break up with {him} over this?", "Is this a good enough reason to break up?")),
    "bring_up": Fact("PFRWM", r"bring (this|it) up|talk to (him|her) about",
        ("How do I bring it up?", "How do I talk to {him} about it?"),
        ("How do I bring this up with {him} without starting a fight?",
         "What's the best way to talk to {him} about this?")),
    "wrong_upset": Fact("PFRWM", r"upset|unreasonable", ("Am I wrong to be upset?", "Is it unreasonable to be upset?"),
        ("Am I wrong to be this upset about it?", "Is it unreasonable to feel this upset?")),
    "forgive": Fact("PFRWM", r"forgiv\w*", ("Should I forgive {him}?", "Do I forgive {him}?"),
        ("Should I forgive {him}?", "Do I forgive {him} and move past this?")),
    "end_friendship": Fact("F", r"friendship", ("Should I end the friendship?", "Is the friendship over?"),
        ("Should I end the friendship?", "Is this friendship even worth saving?")),
    "move_out": Fact("RM", r"move out|moving out", ("Should I move out?", "Time to move out?"),
        ("Should I just move out?", "Is it time for me to move out?")),
    "go_to_hr": Fact("W", r"hr|human resources", ("Should I go to HR?", "Report it to HR?"),
        ("Should I report this to HR?", "Is this worth going to HR over?")),
    "new_job": Fact("W", r"new job", ("Should I look for a new job?", "Time for a new job?"),
        ("Should I start looking for a new job?", "Is it time to find a new job?")),
    "cut_off": Fact("FWM", r"cut (him|her) off|no contact|cut off", ("Should I cut {him} off?", "Go no contact?"),
        ("Should I cut {him} off completely?", "Would it be crazy to go no contact?")),
    "trust_again": Fact("PF", r"trust\w*", ("How do I trust {him} again?", "Can I trust {him} again?"),
        ("How do I ever trust {him} again?", "Can I ever trust {him} again after this?")),
    "let_go": Fact("PFRWM", r"let (it|this) go", ("Should I let it go?", "Do I just let it go?"),
        ("Should I just let it go?", "Would it be better to just let this go?")),
}
SLOT_TABLES = {"event": EVENTS, "complication": COMPLICATIONS, "question": QUESTIONS}

INTROS = {
    "P": ["I ({na}) have been with my {rel} ({oa}) for {dur}.",
          "My {rel} ({oa}) and I ({na}) have been together for {dur}.",
          "Some background: I'm {na}, my {rel} is {oa}, and we've been together for {dur}."],
    "F": ["My best friend ({oa}) and I ({na}) have been friends for {dur}.",
          "I ({na}) have known my best friend ({oa}) for {dur} now.",
          "Some background: I'm {na}, my best friend is {oa}, and we've been close for {dur}."],
    "R": ["I ({na}) have lived with my roommate ({oa}) for {dur}.",
          "My roommate ({oa}) and I ({na}) have shared an apartment for {dur}."],
    "W": ["I ({na}) have worked with my {rel} ({oa}) for {dur}.",
          "My {rel} ({oa}) and I ({na}) have worked together for {dur}."],
    "M": ["I ({na}) moved back in with my {rel} ({oa}) {dur} ago.",
          "I ({na}) have been living with my {rel} ({oa}) for {dur}."],
}
OPENERS = ["Throwaway because {he} knows my main account.", "Excuse the formatting, I'm on mobile.",
           "Long time lurker, first time posting.", "English is not my first language, so bear with me."]
DISTRACTORS = [  # never mention a key fact: tests check this
    "It rained all day, which did not help my mood.",
    "For context, I work as a {job}, so my schedule is already pretty packed.",
    "My {pet} {name} was the only one who seemed happy that night.",
    "A friend of mine, {name}, thinks I should sleep on it before doing anything.",
    "My neighbor {name} says everyone goes through rough patches.",
    "I've been trying to get back into {hobby} lately to take my mind off things.",
    "I live in a small apartment in {city}, so I can't really get away from it.",
    "The coffee machine at home broke the same day, so it was a great day overall.",
    "I'm usually pretty easygoing, for what it's worth.",
    "I already talked it over with {name}, who had a totally different take.",
    "I've also been dealing with a nasty cold, so I'm exhausted.",
]
FEELINGS = ["I honestly don't know what to think anymore.", "I feel stupid for caring this much.",
            "It's been on my mind nonstop.", "I haven't been sleeping well because of it.",
            "I keep going back and forth on this."]
QUESTION_LEADS = ["", "So, ", "My question is: ", "Reddit, ", "Honest opinions please. "]
FILLERS = {
    "job": ["nurse", "barista", "teacher", "software developer", "accountant", "line cook", "pharmacist"],
    "pet": ["dog", "rabbit", "parrot", "hamster"],
    "hobby": ["running", "painting", "rock climbing", "baking", "yoga", "chess"],
    "name": ["Sam", "Priya", "Jordan", "Alex", "Maya", "Chris", "Leah", "Tom", "Nina", "Omar", "Kate", "Ben"],
    "city": ["Denver", "Leeds", "Toronto", "Austin", "Melbourne", "Portland", "Dublin"],
}
TITLES = ["[{na}] and my [{oa}] {rel}: {he} {event}", "My {rel} {event}", "{question}", "{Rel} {event}. {question}",
          "Me [{na}] and my {rel} [{oa}], {he} {event} and I don't know what to do",
          "Need advice about my {rel} ({oa})", "Not sure how to handle this"]
# A reference TL;DR: {S} who (and for how long), {E} the event, {C} the complication, {Q} the question.
REFERENCE_TEMPLATES = ["{S} {E}, and {C}. {Q}", "{S} {E}. {C}. {Q}", "{Q} {S} {E} and {C}.",
                       "{na} here. {S} {E}; {C}. {Q}"]
NO_COMPLICATION_TEMPLATE = "{S} {E}. {Q}"
SUBJECTS = {group: ["my {r} of {dur}", "my {r} ({oa}) of {dur}"] for group in "PFRW"}
SUBJECTS["M"] = ["my {r} ({oa}), who I've lived with for {dur},", "my {r}, living with me for {dur},"]
SUBJECTS_NO_RELATION = ["someone I've known for {dur}", "the person I've been close to for {dur}"]
SUBJECTS_NO_DURATION = ["my {r}", "my {r} ({oa})"]
VAGUE = {"event": ["did something really hurtful", "hurt me badly"],  # stand-ins for a dropped fact
         "question": ["What should I do?", "Thoughts?", "Advice?"]}
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
DURATION_RE = re.compile(r"\b(\d+|an?|" + "|".join(NUMBER_WORDS) + r")[\s-]+(year|yr|month|mo|week|wk)s?\b")
AGE_RE = re.compile(r"\b(\d{1,2}) ?/? ?([mf])\b")  # "24F", "(24/f)", "24 m"


# ---------------------------------------------------------------- generating posts

def _pick(rng, items):
    return items[rng.randrange(len(items))]


def _as_rng(rng) -> random.Random:
    """Accept a random.Random, an int seed, or a numpy Generator; return a random.Random."""
    if isinstance(rng, random.Random):
        return rng
    if hasattr(rng, "integers"):  # numpy.random.Generator
        return random.Random(int(rng.integers(2**63)))
    return random.Random(rng)


def _words(facts: dict, rng=None) -> dict:
    """Template variables for a post's facts: pronouns, ages, relation, duration."""
    g = facts["other_gender"]
    he, him, his = ("he", "him", "his") if g == "M" else ("she", "her", "her")
    rel = facts["other"]
    r = SHORT_NAMES[rel] if rng is not None and rel in SHORT_NAMES and rng.random() < 0.3 else rel
    return dict(he=he, him=him, his=his, He=he.capitalize(), His=his.capitalize(), rel=rel, Rel=rel.capitalize(),
                r=r, na=f"{facts['narrator_age']}{facts['narrator_gender']}", oa=f"{facts['other_age']}{g}",
                dur=facts["duration"])


def _sample_facts(rng: random.Random) -> dict:
    rel = _pick(rng, list(RELATIONS))
    group, gender, _ = RELATIONS[rel]
    narrator_age = rng.randint(18, 42)
    lo, hi = (20, 34) if rel in ("mom", "dad") else AGE_GAP[group]
    other_age = max(18, narrator_age + rng.randint(lo, hi))
    durations = [d for d in DURATIONS[group] if "month" in d or int(d.split()[0]) <= narrator_age - 14]
    return {
        "narrator_age": narrator_age, "narrator_gender": _pick(rng, "MF"), "other": rel, "other_age": other_age,
        "other_gender": gender or _pick(rng, "MF"), "duration": _pick(rng, durations),
        **{slot: _pick(rng, [k for k, f in table.items() if group in f.groups]) for slot, table in SLOT_TABLES.items()},
    }


def _fill(template: str, w: dict, rng: random.Random) -> str:
    """Fill a template with the post's words and random distractor fillers (jobs, pets, names...)."""
    extra = {k: _pick(rng, v) for k, v in FILLERS.items()}
    return template.format(**w, **extra)


def render_reference(facts: dict, rng: random.Random, drop: str | None = None) -> str:
    """A TL;DR that states the key facts in a random wording; `drop` (a KEY_SLOTS name) leaves one out."""
    w = _words(facts, rng)
    subjects = {"relation": SUBJECTS_NO_RELATION, "duration": SUBJECTS_NO_DURATION}
    subject = _pick(rng, subjects.get(drop) or SUBJECTS[RELATIONS[facts["other"]][0]])
    if subject.startswith("my ") and rng.random() < 0.3:
        subject = subject[3:]  # terse Reddit style: "bf of 2 years forgot my birthday..."
    event, question = (_pick(rng, VAGUE[slot] if drop == slot else SLOT_TABLES[slot][facts[slot]].summary)
                       for slot in ("event", "question"))
    template = NO_COMPLICATION_TEMPLATE if drop == "complication" else _pick(rng, REFERENCE_TEMPLATES)
    complication = _pick(rng, COMPLICATIONS[facts["complication"]].summary)
    text = template.format(S=subject.format(**w), E=event.format(**w), C=complication.format(**w),
                           Q=question.format(**w), na=w["na"])
    return re.sub(r"(^|[.?!] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)  # capitalize sentences


def _render_body(facts: dict, rng: random.Random) -> str:
    w = _words(facts)
    core = [_pick(rng, INTROS[RELATIONS[facts["other"]][0]]), _pick(rng, EVENTS[facts["event"]].post),
            _pick(rng, COMPLICATIONS[facts["complication"]].post)]
    if rng.random() < 0.7:
        core.append(_pick(rng, FEELINGS))
    question = _pick(rng, QUESTIONS[facts["question"]].post)
    lead = _pick(rng, QUESTION_LEADS)
    core.append(lead + (question[0].lower() + question[1:] if lead and not lead.endswith(". ") else question))
    if rng.random() < 0.3:
        core.insert(0, _pick(rng, OPENERS))
    pool = rng.sample(DISTRACTORS, len(DISTRACTORS))
    distractors = pool[: rng.randint(0, 2)]
    while True:
        sentences = [_fill(s, w, rng) for s in core]
        for d in distractors:  # anywhere after the intro, before the question
            sentences.insert(1 + rng.randrange(len(sentences) - 1), _fill(d, w, rng))
        body = " ".join(sentences)
        n = len(body.split())
        if n < 35 and len(distractors) < len(pool):
            distractors = pool[: len(distractors) + 1]
        elif n > 90 and distractors:
            distractors = distractors[:-1]
        else:
            return body


def _make_post(post_id: str, rng: random.Random) -> Post:
    facts = _sample_facts(rng)
    w = _words(facts)
    group = RELATIONS[facts["other"]][0]
    title = _pick(rng, TITLES).format(**w, event=_pick(rng, EVENTS[facts["event"]].summary).format(**w),
                                      question=_pick(rng, QUESTIONS[facts["question"]].summary).format(**w))
    return Post(id=post_id, subreddit=_pick(rng, SUBREDDITS[group]), title=title, body=_render_body(facts, rng),
                facts=facts, reference=render_reference(facts, rng))


def generate_posts(n: int, split: str = "sft", seed: int = 0) -> list[Post]:
    """The first `n` posts of a split; post i depends only on (seed, split, i), so splits are disjoint."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [_make_post(f"{split}-{i:05d}", random.Random(f"toytldr:{seed}:{split}:{i}")) for i in range(n)]


def tldr_prompt(subreddit: str | None, title: str | None, post: str) -> str:
    """The trl-lib/tldr prompt for any post (None renders as an empty string)."""
    return f"SUBREDDIT: r/{subreddit or ''}\n\nTITLE: {title or ''}\n\nPOST: {post}\n\nTL;DR:"


def format_prompt(post: Post) -> str:
    """The post as a trl-lib/tldr prompt: SUBREDDIT / TITLE / POST / TL;DR:."""
    return tldr_prompt(post.subreddit, post.title, post.body)


# ---------------------------------------------------------------- the gold score

@lru_cache(maxsize=None)
def _slot_patterns() -> dict:
    tables = {"relation": {rel: keys for rel, (_, _, keys) in RELATIONS.items()},
              **{slot: {k: f.keys for k, f in table.items()} for slot, table in SLOT_TABLES.items()}}
    return {slot: {k: re.compile(rf"\b(?:{keys})\b") for k, keys in t.items()} for slot, t in tables.items()}


def _durations(text: str) -> set:
    found = set()
    for num, unit in DURATION_RE.findall(text):
        n = int(num) if num.isdigit() else 1 if num in ("a", "an") else NUMBER_WORDS.index(num)
        unit = {"yr": "year", "mo": "month", "wk": "week"}.get(unit, unit)
        found.add(f"{n} {unit}" + ("s" if n != 1 else ""))
    return found


def _mentions(text: str) -> dict:
    """Which value of each key slot a lower-cased text mentions: slot -> set of values."""
    said = {slot: {k for k, pat in pats.items() if pat.search(text)} for slot, pats in _slot_patterns().items()}
    said["duration"] = _durations(text)
    said["ages"] = {(int(a), g.upper()) for a, g in AGE_RE.findall(text)}
    return said


@lru_cache(maxsize=50_000)
def _post_mentions(post_text: str) -> dict:
    """`_mentions` of a post's title and body, cached: every summary of a post is checked against it."""
    return _mentions(post_text.lower())


def _norm(word: str) -> str:
    word = word.lower().replace("\u2019", "'").strip(string.punctuation + "\u201c\u201d\u2018")
    return re.sub(r"\d+", "0", word) or "<junk>"


@lru_cache(maxsize=1)
def _world_ngrams() -> tuple[frozenset, frozenset]:
    """Every word and adjacent word pair that the toy world produces (from 1500 posts + summaries)."""
    texts = []
    for post in generate_posts(1500, "sft", seed=-1):
        rng = random.Random(post.id)
        texts += [post.title, post.body, post.reference]
        texts += [render_reference(post.facts, rng, drop=d) for d in (None, None, *KEY_SLOTS)]
    words, pairs = set(), set()
    for text in texts:
        toks = [_norm(t) for t in text.split()]
        words.update(toks)
        pairs.update(zip(toks, toks[1:]))
    return frozenset(words), frozenset(pairs)


def _truth(post: Post) -> dict:
    return {slot: post.facts["other"] if slot == "relation" else post.facts[slot] for slot in KEY_SLOTS}


def gold_breakdown(post: Post, summary: str) -> dict:
    """All the parts of the gold score (see the module docstring), plus the score itself."""
    text = summary if isinstance(summary, str) else "" if summary is None else str(summary)
    words = text[:20_000].split()  # more than enough words for the maximal length penalty
    n = len(words)
    if n == 0:
        return dict(score=0.0, coverage=0.0, covered=[], wrong_facts=[], coherence=0.0, oov_share=0.0,
                    length_words=0, length_penalty=0.6, repetition=0.0)
    said = _mentions(" ".join(words).lower())
    in_post = _post_mentions(f"{post.title}\n{post.body}")
    truth = _truth(post)
    covered = [slot for slot in KEY_SLOTS if truth[slot] in said[slot]]
    wrong = [f"{slot}: {v}" for slot in KEY_SLOTS for v in sorted(said[slot])
             if v != truth[slot] and v not in in_post[slot]]
    wrong += [f"age: {a}{g}" for a, g in sorted(said["ages"] - in_post["ages"])]
    vocab, known_pairs = _world_ngrams()
    toks = [_norm(w) for w in words]
    pairs = list(zip(toks, toks[1:]))
    known = sum(p in known_pairs for p in pairs) / len(pairs) if pairs else float(toks[0] in vocab)
    coherence = min(1.0, known / 0.8)
    trigrams = list(zip(toks, toks[1:], toks[2:]))
    repetition = 1 - len(set(trigrams)) / len(trigrams) if trigrams else 0.0
    if n < MIN_WORDS:
        length_penalty = 0.6 * (MIN_WORDS - n) / MIN_WORDS
    else:
        length_penalty = 0.6 * (1 - math.exp(-max(0, n - MAX_WORDS) / 30))
    coverage = len(covered) / len(KEY_SLOTS)
    score = coverage * coherence - WRONG_FACT_COST * len(wrong) - length_penalty - repetition
    return dict(score=float(min(1.0, max(0.0, score))), coverage=coverage, covered=covered, wrong_facts=wrong,
                coherence=coherence, oov_share=sum(t not in vocab for t in toks) / n, length_words=n,
                length_penalty=length_penalty, repetition=repetition)


def gold_score(post: Post, summary: str) -> float:
    """Gold quality in [0, 1] of any text as a summary of `post`; deterministic, never raises."""
    return gold_breakdown(post, summary)["score"]


# ---------------------------------------------------------------- corrupted and policy-like summaries

def corrupt_summary(post: Post, kind: str, rng) -> str:
    """A worse summary of `post` of a known kind (CORRUPTIONS), or "paraphrase": an equally good rewording."""
    rng = _as_rng(rng)
    words = post.reference.split()
    facts, truth = post.facts, _truth(post)
    if kind == "paraphrase":
        return render_reference(facts, rng)
    if kind == "shuffled":
        rng.shuffle(words)
        return " ".join(words)
    if kind == "truncated":
        return " ".join(words[: max(2, round(len(words) * rng.uniform(0.3, 0.6)))])
    if kind == "drop_fact":
        return render_reference(facts, rng, drop=_pick(rng, KEY_SLOTS))
    if kind == "repeated":
        start = rng.randrange(max(1, len(words) - 5))
        chunk = " ".join(words[start: start + rng.randint(4, 7)])
        return " ".join([post.reference] + [chunk] * rng.randint(2, 3))
    if kind == "verbose":
        extra = [_fill(s, _words(facts), rng) for s in rng.sample(DISTRACTORS + FEELINGS, rng.randint(2, 3))]
        return " ".join([post.reference] + extra)
    if kind == "off_topic":
        while True:
            other = _sample_facts(rng)
            if other["event"] != facts["event"] and other["other"] != facts["other"]:
                return render_reference(other, rng)
    if kind == "fact_swapped":  # one key fact replaced by a value that the post never mentions
        in_post = _post_mentions(f"{post.title}\n{post.body}")
        group = RELATIONS[facts["other"]][0]
        options = {"relation": [r for r, (g, _, _) in RELATIONS.items() if g == group],
                   "duration": sorted({d for ds in DURATIONS.values() for d in ds}),
                   **{s: [k for k, f in t.items() if group in f.groups] for s, t in SLOT_TABLES.items()}}
        slot = _pick(rng, KEY_SLOTS)
        choices = [v for v in options[slot] if v != truth[slot] and v not in in_post[slot]]
        if not choices:  # a roommate has no same-group alternative: take any other relation
            choices = [v for v in RELATIONS if v != truth[slot] and v not in in_post["relation"]]
            slot = "relation"
        value = _pick(rng, choices)
        swapped = dict(facts, **{("other" if slot == "relation" else slot): value})
        if slot == "relation" and RELATIONS[value][1]:
            swapped["other_gender"] = RELATIONS[value][1]
        return render_reference(swapped, rng)
    raise ValueError(f"unknown corruption kind {kind!r}; expected one of {CORRUPTIONS + ('paraphrase',)}")


def sample_policy_pair(post: Post, rng) -> tuple[str, str, str, str]:
    """Two different summaries of `post` like two policy samples: (a, b, kind_a, kind_b), kinds in POLICY_LIKE_KINDS."""
    rng = _as_rng(rng)
    while True:
        kind_a, kind_b = _pick(rng, POLICY_LIKE_KINDS), _pick(rng, POLICY_LIKE_KINDS)
        a, b = corrupt_summary(post, kind_a, rng), corrupt_summary(post, kind_b, rng)
        if a != b:
            return a, b, kind_a, kind_b


def policy_like_pairs(posts: list[Post], seed: int = 0) -> list[tuple[Post, str, str]]:
    """One (post, a, b) pair of policy-like summaries per post."""
    rng = random.Random(f"policy-pairs:{seed}")
    return [(post, *sample_policy_pair(post, rng)[:2]) for post in posts]


# ---------------------------------------------------------------- simulated human raters

def _rate(margin: float, rng: random.Random, tau: float) -> tuple[int, int]:
    """One rater: perceives margin + tau * logistic noise; prefers A (0) if positive; confidence from |perceived|."""
    u = min(max(rng.random(), 1e-12), 1 - 1e-12)
    perceived = margin + tau * math.log(u / (1 - u))
    choice = 0 if perceived > 0 else 1
    # 1..9 from the perceived margin in units of tau: 0 -> 1, 1 -> 3, 2 -> 5, 3 -> 7, 4 -> 8, 6 or more -> 9
    confidence = 1 + int(9 * (1 - math.exp(-abs(perceived) / (2.5 * tau))))
    return choice, min(9, confidence)


def human_preference(post: Post, summary_a: str, summary_b: str, rng, tau: float = TAU) -> tuple[int, int]:
    """A simulated human rating: (choice, confidence); P(choice == 0) = sigmoid((q_A - q_B) / tau), confidence 1-9."""
    return _rate(gold_score(post, summary_a) - gold_score(post, summary_b), _as_rng(rng), tau)


def rater_agreement(pairs, n_raters: int = 2, seed: int = 0, tau: float = TAU) -> float:
    """Share of rater pairs (over all (post, a, b) pairs) whose simulated raters make the same choice."""
    rng = random.Random(f"raters:{seed}")
    agree = total = 0
    for post, a, b in pairs:
        margin = gold_score(post, a) - gold_score(post, b)
        choices = [_rate(margin, rng, tau)[0] for _ in range(n_raters)]
        for i in range(n_raters):
            for j in range(i + 1, n_raters):
                agree += choices[i] == choices[j]
                total += 1
    return agree / total


def calibrate_tau(pairs, target: float = 0.75) -> float:
    """The tau at which two raters' expected agreement on `pairs` is `target`.

    Expected agreement = mean over pairs of p^2 + (1-p)^2, with p = sigmoid((q_A - q_B) / tau).
    """
    margins = [gold_score(post, a) - gold_score(post, b) for post, a, b in pairs]

    def agreement(tau):
        ps = [1 / (1 + math.exp(-max(-50.0, min(50.0, m / tau)))) for m in margins]
        return sum(p * p + (1 - p) ** 2 for p in ps) / len(ps)

    lo, hi = 1e-3, 10.0  # agreement falls as tau grows; bisect in log space
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if agreement(mid) > target else (lo, mid)
    return math.sqrt(lo * hi)


# ---------------------------------------------------------------- exports in the real datasets' schemas

def sft_rows(posts: list[Post]) -> list[dict]:
    """trl-lib/tldr rows: {"prompt": ..., "completion": " " + reference}."""
    return [{"prompt": format_prompt(p), "completion": " " + p.reference} for p in posts]


def comparison_row(post: Post, summary_a: str, summary_b: str, choice: int, confidence: int | None,
                   policies=("ref", "ref"), split: str = "train", worker: str = "sim-0", batch: str = "toy") -> dict:
    """One row in openai/summarize_from_feedback's "comparisons" schema (texts get the real data's leading space)."""
    return {
        "info": {"id": post.id, "post": post.body, "title": post.title, "subreddit": post.subreddit,
                 "site": None, "article": None},
        "summaries": [{"text": " " + text.strip(), "policy": policy, "note": None}
                      for text, policy in zip((summary_a, summary_b), policies)],
        "choice": int(choice), "worker": worker, "batch": batch, "split": split, "extra": {"confidence": confidence},
    }
