"""Word lists of the two LLM applications: topics, sentence templates, models and canned replies.

Everything here is constant data; :mod:`workbench.synthetic.llm.corpus` draws documents, queries
and answers from it with a seeded generator.
"""

from __future__ import annotations

__all__ = ["APPS", "CLOSERS", "DETAILS", "DOC_TEMPLATES", "GENERIC_TEMPLATES", "MODELS", "NEW_TOPICS",
           "OPENERS", "POLICY_FLAGS", "POLICY_NOTICE", "QUESTION_TEMPLATES", "REFUSALS", "SEARCH_DETAILS",
           "SEARCH_DOC_TEMPLATES", "SEARCH_GENERIC_TEMPLATES", "SEARCH_QUESTION_TEMPLATES", "TEMPLATES", "TOPICS"]

#: topic -> (nouns, verbs); verbs are base forms ("update", not "updated")
TOPICS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "support_rag": {
        "billing": (("invoice", "billing cycle", "statement", "charge", "billing address", "tax receipt",
                     "payment schedule", "late fee"), ("update", "download", "dispute", "review", "change")),
        "shipping": (("parcel", "shipping label", "courier", "delivery slot", "tracking number",
                      "express option", "customs form", "pickup point"), ("track", "reschedule", "upgrade",
                                                                           "redirect", "confirm")),
        "refunds": (("refund", "store credit", "original payment method", "refund request", "partial refund",
                     "bank transfer", "refund window", "chargeback"), ("request", "cancel", "check", "speed up",
                                                                       "claim")),
        "login": (("login", "two-factor code", "authenticator app", "session", "sign-in link", "security key",
                   "trusted device", "login alert"), ("reset", "verify", "enable", "unlock", "remove")),
        "password": (("password", "reset email", "recovery code", "security question", "password manager",
                      "temporary password", "account lock", "reset link"), ("reset", "change", "recover",
                                                                            "resend", "protect")),
        "subscription": (("subscription", "monthly plan", "annual plan", "trial", "renewal date",
                          "plan upgrade", "family plan", "auto-renewal"), ("cancel", "pause", "upgrade",
                                                                           "downgrade", "renew")),
        "returns": (("return label", "return window", "exchange", "drop-off point", "return shipment",
                     "restocking fee", "packaging", "return status"), ("print", "start", "track", "schedule",
                                                                       "exchange")),
        "warranty": (("warranty", "repair", "serial number", "proof of purchase", "replacement unit",
                      "extended warranty", "service center", "defect report"), ("register", "claim", "extend",
                                                                               "file", "check")),
        "account": (("account", "profile", "email address", "account deletion", "data export", "username",
                     "notification settings", "linked account"), ("delete", "export", "merge", "rename",
                                                                  "deactivate")),
        "payment_methods": (("credit card", "debit card", "wallet", "card expiry", "billing method",
                             "payment failure", "PayPal account", "gift balance"), ("add", "remove", "replace",
                                                                                    "verify", "set")),
        "order_tracking": (("order", "order status", "delivery estimate", "dispatch note", "split shipment",
                            "order history", "missing item", "backorder"), ("track", "locate", "cancel", "modify",
                                                                            "combine")),
        "promotions": (("promo code", "discount", "coupon", "loyalty points", "referral bonus", "flash sale",
                        "voucher", "member price"), ("apply", "redeem", "combine", "transfer", "activate")),
        "damaged_items": (("damaged item", "broken seal", "photo evidence", "replacement", "claim form",
                           "carrier report", "inspection", "missing part"), ("report", "document", "replace",
                                                                             "inspect", "submit")),
        "gift_cards": (("gift card", "card balance", "e-gift", "gift message", "PIN", "expiry date",
                        "gift receipt", "card activation"), ("redeem", "check", "send", "activate", "reload")),
        "privacy": (("privacy setting", "cookie preference", "marketing email", "data request",
                     "consent", "ad tracking", "personal data report", "opt-out"), ("change", "withdraw",
                                                                                   "request", "disable", "review")),
    },
    "search_router": {
        "travel": (("flight", "layover", "hotel booking", "travel insurance", "visa", "carry-on bag",
                    "train pass", "itinerary"), ("book", "compare", "cancel", "plan", "pack")),
        "cooking": (("sourdough starter", "cast iron pan", "marinade", "oven temperature", "stock",
                     "knife", "spice blend", "meal prep"), ("bake", "season", "store", "sharpen", "braise")),
        "personal_finance": (("index fund", "emergency fund", "credit score", "budget", "mortgage rate",
                              "retirement account", "interest", "tax return"), ("save", "invest", "refinance",
                                                                                "file", "track")),
        "fitness": (("training plan", "rest day", "protein intake", "running pace", "warm-up", "squat",
                     "heart rate zone", "mobility routine"), ("improve", "recover", "stretch", "measure",
                                                              "build")),
        "gardening": (("tomato plant", "compost", "raised bed", "seedling", "pruning", "soil pH",
                       "mulch", "aphids"), ("plant", "water", "prune", "fertilize", "repot")),
        "home_repair": (("leaky faucet", "drywall", "circuit breaker", "grout", "door hinge", "water heater",
                         "caulk", "thermostat"), ("fix", "replace", "seal", "install", "drain")),
        "programming": (("python list", "git branch", "memory leak", "unit test", "API request",
                         "regular expression", "docker image", "race condition"), ("debug", "refactor", "merge",
                                                                                   "deploy", "profile")),
        "history": (("roman empire", "industrial revolution", "cold war", "printing press", "silk road",
                     "french revolution", "ancient egypt", "renaissance"), ("explain", "compare", "date",
                                                                           "summarize", "trace")),
        "health_insurance": (("deductible", "copay", "network provider", "premium", "claim",
                              "prior authorization", "out-of-pocket maximum", "coverage"), ("compare", "appeal",
                                                                                            "choose", "estimate",
                                                                                            "submit")),
        "electronics": (("laptop battery", "wifi router", "usb-c cable", "4k monitor", "noise cancelling",
                         "phone screen", "firmware", "smart speaker"), ("charge", "reset", "upgrade",
                                                                        "calibrate", "connect")),
        "pets": (("puppy", "cat litter", "vaccination", "dog food", "leash training", "vet visit",
                  "flea treatment", "aquarium"), ("train", "feed", "groom", "adopt", "clean")),
        "cars": (("tire pressure", "oil change", "brake pads", "car battery", "check engine light",
                  "timing belt", "coolant", "hybrid engine"), ("check", "replace", "jump-start", "service",
                                                               "inspect")),
        "movies": (("film noir", "director", "soundtrack", "box office", "sequel", "screenplay",
                    "streaming release", "documentary"), ("recommend", "review", "rank", "stream", "compare")),
        "parenting": (("toddler", "sleep schedule", "car seat", "screen time", "school lunch",
                       "tantrum", "allowance", "homework"), ("manage", "plan", "limit", "encourage", "choose")),
        "photography": (("aperture", "shutter speed", "tripod", "raw file", "white balance", "lens",
                         "golden hour", "exposure"), ("adjust", "edit", "shoot", "frame", "calibrate")),
    },
}

#: topics a data_drift incident introduces (absent before the onset)
NEW_TOPICS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "support_rag": {
        "crypto_payments": (("crypto wallet", "bitcoin payment", "wallet address", "network fee",
                             "stablecoin", "blockchain confirmation", "exchange rate", "token refund"),
                            ("connect", "pay", "confirm", "convert", "withdraw")),
        "outage": (("service outage", "status page", "error 503", "app crash", "sync failure",
                    "maintenance window", "degraded service", "incident update"),
                   ("report", "restart", "retry", "follow", "restore")),
    },
    "search_router": {
        "solar_eclipse": (("solar eclipse", "eclipse glasses", "path of totality", "corona", "pinhole viewer",
                           "eclipse timing", "umbra", "eclipse photography"), ("watch", "photograph", "time",
                                                                              "protect", "locate")),
        "tax_deadline": (("tax deadline", "filing extension", "estimated payment", "1099 form", "tax credit",
                          "standard deduction", "penalty", "refund status"), ("file", "extend", "claim",
                                                                              "calculate", "amend")),
    },
}

#: knowledge-base sentences: {n} {m} nouns, {v} verb, {k} a number, {p} a period
DOC_TEMPLATES: tuple[str, ...] = (
    "To {v} your {n}, open Settings and choose the {m} section.",
    "You can {v} the {n} at any time from the account page, and the {m} updates within {k} minutes.",
    "A {n} is usually processed within {k} business days after you {v} it.",
    "If the {n} does not appear, check the {m} first and try again after {k} hours.",
    "Customers on the {m} can {v} a {n} without contacting support.",
    "The {n} must be confirmed before the {m} can change.",
    "Select the {n}, then tap {v} and follow the steps shown on screen.",
    "When you {v} a {n}, we send a confirmation to the address on file.",
    "Only the account owner can {v} the {n}; other members see the {m} as read-only.",
    "Fees for the {n} are listed on the {m} page and shown before you confirm.",
    "The {n} stays valid for {k} days, after which the {m} is reset.",
    "If you need to {v} more than one {n}, repeat the steps for each {m}.",
    "Most questions about the {n} are answered in the {m} overview.",
    "Changes to the {n} take effect at the start of the next {p}.",
    "We recommend that you {v} the {n} before the {m} expires.",
    "For security reasons, the {n} can only be changed {k} times per {p}.",
)

#: sentences an answer uses when it does not draw on retrieved context (plausible, unsupported)
GENERIC_TEMPLATES: tuple[str, ...] = (
    "In most cases the {n} is handled automatically, so there is nothing else to do.",
    "Generally speaking, people {v} the {n} once and rarely need to think about it again.",
    "It is often a good idea to {v} the {n} as soon as you notice a problem.",
    "The {n} may behave differently depending on your region and the {m} you use.",
    "Usually a {n} resolves itself after a short while, typically within {k} hours.",
    "Some users find it easier to {v} the {n} from a desktop browser.",
    "There can be a short delay before the {m} reflects the new {n}.",
    "Many people {v} their {n} every {p} to stay on the safe side.",
    "I believe the {n} can also be managed through the {m}, though options vary.",
    "It might help to restart the app and check the {n} again.",
)

#: passages of the search-answer service's corpus (encyclopedic rather than help-center)
SEARCH_DOC_TEMPLATES: tuple[str, ...] = (
    "The {n} is closely tied to the {m}, and most guides cover them together.",
    "Experts usually {v} the {n} before looking at the {m}.",
    "A common mistake is to {v} the {n} without checking the {m} first.",
    "On average it takes about {k} days to {v} a {n} properly.",
    "The {n} became popular because it made the {m} easier to {v}.",
    "Most sources agree that the {n} matters more than the {m} for beginners.",
    "To {v} a {n}, start small and review the {m} every {p}.",
    "Costs for a {n} vary widely; a typical {m} adds roughly {k} percent.",
    "The {n} and the {m} are often confused, but they serve different purposes.",
    "Reviews rate the {n} highly when people {v} it at least once a {p}.",
    "Historically the {n} was rare until the {m} became widespread.",
    "Guides recommend that you {v} the {n} in {k} steps, not all at once.",
)

SEARCH_GENERIC_TEMPLATES: tuple[str, ...] = (
    "Opinions on the {n} differ, and there is no single right answer.",
    "Many people {v} the {n} based on personal preference rather than evidence.",
    "In general the {n} is considered reliable, though the {m} can change that.",
    "It is widely believed that the {n} improves with time, typically within {k} years.",
    "Some would argue the {m} matters just as much as the {n}.",
    "The {n} is probably the most discussed topic in this area right now.",
    "A good rule of thumb is to {v} the {n} when in doubt.",
    "Results with the {n} can vary a lot from person to person.",
    "It depends on your goals, but the {n} is usually a safe choice.",
    "Experts have debated the {n} for years without settling the question.",
)

SEARCH_QUESTION_TEMPLATES: tuple[str, ...] = (
    "how to {v} a {n}?",
    "What is the difference between a {n} and a {m}?",
    "best way to {v} the {n} for beginners?",
    "Is it worth it to {v} a {n}?",
    "why does my {n} need a {m}?",
    "How often should you {v} the {n}?",
    "{n} vs {m}: which one should I pick?",
    "What should I know before I {v} a {n}?",
    "can you {v} a {n} without a {m}?",
    "Explain the {n} in simple terms?",
)

SEARCH_DETAILS: tuple[str, ...] = (
    "I read mixed things about the {m} online.",
    "Looking for something practical, not theory.",
    "I tried to {v} the {n} last {p} and it went badly.",
    "Budget is limited, around {k2} dollars.",
    "Please keep it short.",
    "Sources would be great.",
    "It is for a project due in {k} days.",
)

QUESTION_TEMPLATES: tuple[str, ...] = (
    "How do I {v} my {n}?",
    "Can you help me {v} the {n} on my account?",
    "What happens to my {m} if I {v} the {n}?",
    "Is it possible to {v} a {n} after the {m} has changed?",
    "Why can't I {v} my {n} anymore?",
    "How long does it take to {v} a {n}?",
    "What is the best way to {v} the {n}?",
    "Where do I find the {n} and how do I {v} it?",
    "Do I need the {m} to {v} my {n}?",
    "What should I do if my {n} is not working after I tried to {v} it?",
)

DETAILS: tuple[str, ...] = (
    "I already looked at the {m} but it did not help.",
    "This is the second time this {p} that it happened.",
    "I tried to {v} the {n} from my phone and got an error.",
    "My {m} was fine until last week.",
    "The reference I was given is {k}-{k2}.",
    "I am in a hurry because the {n} is due soon.",
    "Please explain it step by step, I am not very technical.",
)

OPENERS: tuple[str, ...] = ("", "", "Hi, ", "Hello! ", "Hey, ", "Good morning, ", "Quick question: ")
CLOSERS: tuple[str, ...] = ("", "Let me know if there is anything else I can help with.",
                            "I hope this helps.", "Feel free to ask if you need more detail.")
PERIODS: tuple[str, ...] = ("month", "week", "billing cycle", "year", "quarter")

REFUSALS: tuple[str, ...] = (
    "I'm sorry, I can't help with that.",
    "I'm sorry, but I can't assist with that request.",
    "Unfortunately I can't help with that.",
    "I can't help with that request.",
    "Sorry, I'm not able to help with that.",
)

POLICY_NOTICE = "This answer was withheld by our content policy."
POLICY_FLAGS: tuple[str, ...] = ("self_harm", "violence", "harassment", "medical_advice", "financial_advice",
                                 "jailbreak_attempt", "profanity")

#: provider -> request model -> (dated snapshots oldest first, price in / out per 1k tokens,
#: time to first token ms, ms per output token, quality offset)
MODELS: dict[str, dict[str, tuple[tuple[str, ...], float, float, float, float, float]]] = {
    "openai": {
        "gpt-4o-mini": (("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-11-20", "gpt-4o-mini-2025-02-05"),
                        0.00015, 0.0006, 280.0, 9.0, 0.0),
        "gpt-4o": (("gpt-4o-2024-08-06", "gpt-4o-2024-11-20", "gpt-4o-2025-03-12"), 0.0025, 0.01, 420.0, 16.0,
                   0.06),
        "gpt-4.1-mini": (("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini-2025-06-10", "gpt-4.1-mini-2025-08-20"),
                         0.0004, 0.0016, 300.0, 10.0, 0.03),
        "gpt-4.1": (("gpt-4.1-2025-04-14", "gpt-4.1-2025-06-10", "gpt-4.1-2025-08-20"), 0.002, 0.008, 450.0,
                    15.0, 0.07),
    },
    "anthropic": {
        "claude-3-5-haiku": (("claude-3-5-haiku-20241022", "claude-3-5-haiku-20250305",
                              "claude-3-5-haiku-20250610"), 0.0008, 0.004, 350.0, 11.0, 0.02),
        "claude-sonnet-4": (("claude-sonnet-4-20250514", "claude-sonnet-4-20250805", "claude-sonnet-4-20251015"),
                            0.003, 0.015, 600.0, 18.0, 0.08),
    },
}

#: per app: (small or only model choices, big model choices) as (provider, model)
APPS: dict[str, dict] = {
    "support_rag": {"names": ("support-assistant", "help-center-bot", "care-copilot"),
                    "template": ("support_answer", "kb_answer", "care_reply"),
                    "index": ("kb-articles", "help-center", "support-kb"),
                    "source": ("warehouse/kb.articles", "cms/help_center_export", "lake/support_docs")},
    "search_router": {"names": ("search-answers", "ask-engine", "answer-router"),
                      "template": ("search_answer", "answer_synth", "qa_answer"),
                      "index": ("web-snippets", "search-passages", "answer-corpus"),
                      "source": ("crawl/snippets_daily", "warehouse/search.passages", "lake/web_passages")},
}


#: app -> (document, question, detail, unsupported-answer) sentence templates
TEMPLATES = {"support_rag": (DOC_TEMPLATES, QUESTION_TEMPLATES, DETAILS, GENERIC_TEMPLATES),
             "search_router": (SEARCH_DOC_TEMPLATES, SEARCH_QUESTION_TEMPLATES, SEARCH_DETAILS,
                               SEARCH_GENERIC_TEMPLATES)}
