"""The toy world's word tables: relations, durations, events, complications, questions, and the
sentence templates that turn a post's latent facts into English. Data only; the logic that uses
them is in posts.py (writing posts and references) and gold.py (reading facts back from a text).

A `Fact` is one value of a key slot (an event, a complication or a question): which relation
groups it fits, the keyword pattern by which a text mentions it, and how a summary and a post
phrase it. Relation groups: P partner, F friend, R roommate, W work, M family.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


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
SUBJECTS_NO_RELATION_DURATION = ["someone close to me", "a person I know"]
VAGUE = {"event": ["did something really hurtful", "hurt me badly"],  # stand-ins for a dropped fact
         "question": ["Thoughts?", "Advice?", "", ""]}  # "": no question at all
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
DURATION_RE = re.compile(r"\b(\d+|an?|" + "|".join(NUMBER_WORDS) + r")[\s-]+(year|yr|month|mo|week|wk)s?\b")
AGE_RE = re.compile(r"\b(\d{1,2}) ?/? ?([mf])\b")  # "24F", "(24/f)", "24 m"
