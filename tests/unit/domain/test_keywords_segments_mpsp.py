import pytest

from switchboard.rules.conversations import PatientMatch
from switchboard.rules.keywords import Keyword, keyword_in, sounds_like_opt_out
from switchboard.rules.mpsp import next_step
from switchboard.rules.segments import count_segments


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe!", "Cancel", "END", "quit",
                                  "REVOKE", "optout", "stop!!!", "opt out", "Opt-out", "OPT-OUT", " opt out. ",
                                  "\uff33\uff34\uff2f\uff30", "\uff53\uff54\uff4f\uff50\uff01", "Stop. \U0001f621",
                                  "stop \U0001f44d\U0001f3fd", "STOP \u270b\ufe0f", "Unsubscribe \u2764\ufe0f!"])
def test_each_opt_out_word_alone_opts_out(word):
    assert keyword_in(word) is Keyword.OPT_OUT


@pytest.mark.parametrize("word", ["START", "unstop", "Yes."])
def test_opt_in_words(word):
    assert keyword_in(word) is Keyword.OPT_IN


@pytest.mark.parametrize("word", ["HELP", "info?", " Help "])
def test_help_words(word):
    assert keyword_in(word) is Keyword.HELP


@pytest.mark.parametrize("text", ["stop please", "please stop", "STOP IT", "Stopping by later", "yes please",
                                  "S T O P", "stop.", "", "helpful"])
def test_look_alikes_are_not_keywords_except_the_word_itself(text):
    assert keyword_in(text) is (Keyword.OPT_OUT if text == "stop." else None)


def test_opt_out_words_inside_a_sentence_are_flagged_for_staff():
    assert sounds_like_opt_out("stop please")
    assert sounds_like_opt_out("Please STOP texting me")
    assert not sounds_like_opt_out("STOP")
    assert not sounds_like_opt_out("Stopping by at 3")
    assert sounds_like_opt_out("please stop texting me")
    assert sounds_like_opt_out("I want to opt out of these")
    assert sounds_like_opt_out("How do I opt-out?")
    assert sounds_like_opt_out("\uff33\uff34\uff2f\uff30 texting me")
    assert not sounds_like_opt_out("opt out")
    assert not sounds_like_opt_out("Optional outing on Friday")


@pytest.mark.parametrize("text", ["please stop texting me", "cancel my texts", "don't text me anymore",
                                  "Don\u2019t text me anymore", "no more texts", "unsubscribe me",
                                  "remove me from your list", "Take me off your list please", "opt me out",
                                  "Quit texting me", "do not contact me", "Please end these reminders",
                                  "\uff23\uff41\uff4e\uff43\uff45\uff4c my texts", "I don't want these texts"])
def test_revocations_written_in_a_sentence_are_flagged(text):
    assert keyword_in(text) is None
    assert sounds_like_opt_out(text)


@pytest.mark.parametrize("text", ["I need to cancel my appointment", "Cancel please", "can you stop by",
                                  "Can I stop in tomorrow?", "at the end of the day", "I quit smoking",
                                  "I'll text you later", "please remove my appointment", "Thanks!"])
def test_sentences_about_other_things_are_not_flagged(text):
    assert not sounds_like_opt_out(text)


@pytest.mark.parametrize("word", ["STOP", "Cancel", "unsubscribe", "opt out", "START", "HELP"])
def test_a_plain_keyword_is_never_flagged(word):
    assert not sounds_like_opt_out(word)


@pytest.mark.parametrize("text", ["opt outside", "optout now", "I opted out", "\U0001f621", "stop \U0001f621 now",
                                  "yes \U0001f44d please", "\u2709 STOP"])
def test_only_the_whole_message_is_a_keyword(text):
    assert keyword_in(text) is None


def test_segments_gsm7_and_ucs2():
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3
    assert count_segments("€" * 80).segments == 1  # extension characters count twice
    assert count_segments("€" * 81).segments == 2
    emoji = count_segments("Hi 😀")
    assert emoji.encoding == "UCS-2"
    assert count_segments("é" * 70).encoding == "GSM-7"
    assert count_segments("ê" * 70).segments == 1 and count_segments("ê" * 71).segments == 2
    assert count_segments("").segments == 0


MATCHES = [PatientMatch(practice_id="p", patient_id="1", name="Ann Lee"),
           PatientMatch(practice_id="p", patient_id="2", name="Bo Lee")]


def test_mpsp_prompts_then_takes_a_numbered_answer():
    first = next_step(MATCHES, 0, "hi, can I move my appointment?")
    assert first.prompt and "1 for Ann" in first.prompt and "2 for Bo" in first.prompt
    assert "Lee" not in first.prompt
    assert next_step(MATCHES, 1, " 2 ").chosen == MATCHES[1]


def test_mpsp_reprompts_once_then_leaves_it_to_staff():
    again = next_step(MATCHES, 1, "Ann")
    assert again.prompt and again.prompt.startswith("Sorry")
    assert next_step(MATCHES, 2, "Ann") == next_step(MATCHES, 2, "7")
    assert next_step(MATCHES, 2, "Ann").prompt is None and next_step(MATCHES, 2, "Ann").chosen is None
