"""The words a customer texts to stop, restart or ask for help (PRODUCT.md §5), in any
reasonable words (issue 11: FCC 47 CFR 64.1200(a)(10), CTIA), and the replies flagged."""

import pytest

from plugins.sms_module.compliance import keywords


@pytest.mark.parametrize(
    "text,opted_out,expected",
    [
        ("STOP", False, "stop"),
        ("stop", False, "stop"),
        (" Arrêt ", False, "stop"),
        ("ARRÊTER", False, "stop"),
        ("désabonner!", False, "stop"),
        ("optout", False, "stop"),
        ("START", True, "start"),
        ("début", True, "start"),
        ("unstop", False, "start"),
        ("oui", True, "start"),
        ("YES", True, "start"),
        ("yes", False, None),
        ("Aide", False, "help"),
        ("info", False, "help"),
        ("HELP", True, "help"),
        ("Merci!", False, None),
    ],
)
def test_single_keywords(text, opted_out, expected):
    assert keywords.classify(text, opted_out) == expected


# Issue 11's examples, then their kind: phrases, punctuation, padding, French.
OPT_OUT_PHRASES = [
    "opt out",
    "opt-out",
    "Opt Out.",
    "stop all",
    "STOP ALL!",
    "stop please",
    "Stop,",
    "Stop.",
    "STOP!!!",
    "Please stop",
    "stop stop",
    "Stop please, thank you",
    "Stop now",
    "unsubscribe me",
    "Opt me out",
    "Stop texts",
    "stop all messages",
    "End, please",
    "Quit.",
    "Revoke",
    "Cancel",
    "Arrêt",
    "arrêt svp",
    "Arrête!",
    "Arrêtez",
    "ARRETEZ S'IL VOUS PLAÎT",
    "Arrêtez les textos",
    "arrêt tout",
    "Désabonnez-moi",
    "désabonnez moi merci",
    "Désabonnement",
    "STOP merci",
    "Bonjour, stop",
    "Stop’",
]


@pytest.mark.parametrize("text", OPT_OUT_PHRASES)
def test_an_opt_out_in_any_reasonable_words_is_a_stop(text):
    assert keywords.classify(text, False) == "stop"
    assert keywords.classify(text, True) == "stop"
    assert not keywords.looks_like_opt_out(text)  # acted on: nothing to flag


@pytest.mark.parametrize(
    "text",
    [
        "Don't stop sending me deals",
        "I'll stop by tomorrow",
        "Stop by at 3?",
        "Cancel my appointment",
        "Can I cancel tomorrow's appointment?",
        "The noise does not stop",
        "Thanks",
        "OK",
        "Please",
        "",
        "   ",
        "!!!",
        "Merci, à demain",
        "J'arrête de fumer",
    ],
)
def test_a_sentence_holding_a_keyword_is_not_a_stop_nor_flagged(text):
    assert keywords.classify(text, False) is None
    assert not keywords.looks_like_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "please don't text me anymore",
        "Please do not text me anymore.",
        "Dont text me",
        "Stop texting me",
        "Stop sending me these",
        "Remove me from your list",
        "Take me off your list please",
        "No more texts please",
        "I don't want these texts",
        "How do I unsubscribe?",
        "Not interested",
        "Leave me alone",
        "Stop, wrong number",
        "Veuillez ne plus m'écrire",
        "Ne plus m’écrire svp",
        "Arrêtez de m'écrire",
        "Arrêtez de me texter svp",
        "Plus de textos svp",
        "Retirez-moi de votre liste",
        "Je veux me désabonner de vos messages",
        "Je ne veux plus recevoir vos textos",
        "Pas intéressée",
    ],
)
def test_a_reply_that_looks_like_an_opt_out_is_flagged_not_acted_on(text):
    assert keywords.classify(text, False) is None
    assert keywords.looks_like_opt_out(text)


# The reviewer's phrases that were not flagged, then their kind: "ne me … plus" and "n'…
# plus" orders, "retirer/enlever … liste/numéro", "remove/take … number/list", a last
# sentence that is a STOP, "don't want … texts".
REVIEW_LOOK_ALIKES = [
    "Ne m'écrivez plus",
    "Ne me textez plus",
    "Ne me texte plus",
    "Ne me contactez plus",
    "N'écrivez plus",
    "Veuillez me retirer de votre liste",
    "Enlevez mon numéro",
    "Je ne veux plus recevoir de messages",
    "Arrêtez de me texter",
    "Please remove my number",
    "Wrong number, stop",
    "Who is this? Stop",
    "Take me off your list",
    "I don't want these texts",
]
LOOK_ALIKES_OF_THEIR_KIND = [
    "Ne m’envoyez plus de messages svp",
    "Ne nous appelez jamais plus",
    "Ne me textez pu",  # Quebec's spoken "plus"
    "N'envoyez plus rien à ce numéro",
    "Svp ne me dérangez plus",
    "Pouvez-vous m'enlever de la liste?",
    "Enlève mon numéro svp",
    "Supprimez mes coordonnées",
    "Mauvais numéro",
    "Delete my number",
    "Remove this phone number please",
    "Take my number off your list",
    "Wrong number",
    "Who is this?? STOP!!",
    "Wrong number. Unsubscribe please",
    "No idea who you are - stop. Thanks",
    "Qui est-ce? Arrêt",
    "I do not want to receive your messages",
    "Don't want text messages",
]


@pytest.mark.parametrize("text", REVIEW_LOOK_ALIKES + LOOK_ALIKES_OF_THEIR_KIND)
def test_an_order_to_stop_in_other_words_is_flagged_not_acted_on(text):
    assert keywords.classify(text, False) is None
    assert keywords.classify(text, True) is None
    assert keywords.looks_like_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        # The reviewer's ordinary replies: "plus" or "stop" in another sense.
        "Je ne peux plus venir demain",
        "I can't come anymore",
        "Stop by at 5?",
        "Merci, à plus",
        "Plus tard",
        "Don't stop sending me deals",
        # Their kind: a subject before "ne", a stop that ends no sentence, another "want".
        "Je ne texte plus en conduisant",
        "Vous ne m'écrivez plus?",
        "J'ai enlevé mon nom du contrat",
        "Retirez les frais de la facture",
        "It squeaks when I stop",
        "When does the noise stop?",
        "Ok, I'll stop by",
        "Wait, don't stop",
        "I'm sick, cancel",
        "Can you take me in at 9?",
        "Remove the old tires please",
        "I don't want to miss your texts",
    ],
)
def test_an_ordinary_reply_with_plus_or_stop_is_not_flagged(text):
    assert keywords.classify(text, False) is None
    assert not keywords.looks_like_opt_out(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("help please", "help"),
        ("Aide svp", "help"),
        ("help me with my car", None),
        ("Start please", "start"),
        ("Oui merci", "start"),  # from an opted-out phone (below)
    ],
)
def test_start_and_help_take_the_same_padding_but_stay_single_words(text, expected):
    assert keywords.classify(text, True) == expected


def test_words_fold_case_accents_apostrophes_and_punctuation():
    assert keywords.words("Désabonnez-moi, s’il vous plaît!") == [
        "DESABONNEZ",
        "MOI",
        "S",
        "IL",
        "VOUS",
        "PLAIT",
    ]
    assert keywords.core("  Stop, stop... PLEASE!! ") == "STOP"
    assert keywords.core("Thank you") == "THANK YOU"  # padding alone is what was said
