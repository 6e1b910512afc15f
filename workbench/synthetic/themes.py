"""Business themes a synthetic lake can imitate.

A theme is static data: the model's names, the features it reads and where each comes from
(upstream datasets, one external API), its segments, sensitive columns and free-text column.
:mod:`workbench.synthetic.world` resolves one theme per seed, jittering names and magnitudes, so no
two lakes look like the same defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COUNTRIES",
    "THEMES",
    "CategoricalTemplate",
    "DatasetTemplate",
    "NumericTemplate",
    "SegmentTemplate",
    "Theme",
]


@dataclass(frozen=True)
class NumericTemplate:
    """A numeric feature before seed jitter.

    ``kind`` picks the distribution drawn from a standard-normal latent: ``lognormal`` (``loc`` is
    the median, ``spread`` the log-sd), ``gamma`` (mean, shape), ``poisson`` (mean count,
    overdispersion), ``bounded`` (centre in (0, 1) and slope, scaled to ``[low, high]``) or
    ``normal`` (mean, sd). ``dataset`` is a key of :attr:`Theme.datasets`, or ``"external"`` for
    the one feature an external API supplies. ``unit`` names what a unit-change incident can do
    to it (see :data:`workbench.synthetic.world.UNIT_CHANGES`).
    """

    name: str
    kind: str
    loc: float
    spread: float
    dataset: str
    field: str | None = None
    unit: str = ""
    low: float = 0.0
    high: float = 1.0
    decimals: int = 2
    seasonal: bool = False


@dataclass(frozen=True)
class CategoricalTemplate:
    """A categorical feature; ``recoded`` is the alternative code set an upstream may switch to."""

    name: str
    vocab: tuple[str, ...]
    dataset: str
    field: str | None = None
    recoded: tuple[str, ...] | None = None
    field_type: str = "STRING"
    recoded_type: str | None = None
    description: str = ""
    recoded_description: str = ""


@dataclass(frozen=True)
class SegmentTemplate:
    """A column to slice by, with the approximate share of each value."""

    name: str
    values: tuple[str, ...]
    shares: tuple[float, ...]


@dataclass(frozen=True)
class DatasetTemplate:
    """An upstream dataset: candidate table names, the job writing it, fields no feature reads."""

    key: str
    names: tuple[str, ...]
    job: str
    source: str
    extra_fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Theme:
    """One business domain: everything a lake of that domain names."""

    key: str
    model_names: tuple[str, ...]
    numeric: tuple[NumericTemplate, ...]
    categorical: tuple[CategoricalTemplate, ...]
    segments: tuple[SegmentTemplate, ...]
    datasets: tuple[DatasetTemplate, ...]
    namespaces: tuple[str, ...]
    external_apis: tuple[str, ...]
    embedding_apis: tuple[str, ...]
    other_columns: tuple[str, ...]
    sensitive: tuple[str, ...]
    classes: tuple[str, ...]
    target: tuple[float, float]  # regression: median of the target and the log-sd of its spread
    prevalence: tuple[float, float]
    utc_offset_h: tuple[int, ...]


# ISO 3166-1 alpha-2 -> alpha-3, with rough traffic shares; alpha-3 is the "changed code set".
COUNTRIES: dict[str, tuple[str, float]] = {
    "US": ("USA", 0.30), "GB": ("GBR", 0.12), "DE": ("DEU", 0.11), "FR": ("FRA", 0.08),
    "ES": ("ESP", 0.06), "IT": ("ITA", 0.05), "NL": ("NLD", 0.05), "CA": ("CAN", 0.05),
    "BR": ("BRA", 0.04), "IN": ("IND", 0.04), "MX": ("MEX", 0.03), "PL": ("POL", 0.03),
    "SE": ("SWE", 0.02), "AU": ("AUS", 0.01), "JP": ("JPN", 0.01),
}

_COUNTRY = CategoricalTemplate(
    "country", tuple(COUNTRIES), "accounts", field="country_code",
    recoded=tuple(v[0] for v in COUNTRIES.values()), field_type="CHAR(2)", recoded_type="CHAR(3)",
    description="ISO 3166-1 alpha-2 country code", recoded_description="ISO 3166-1 alpha-3 country code",
)
_DEVICE = CategoricalTemplate(
    "device_type", ("mobile", "desktop", "tablet", "smart_tv"), "sessions",
    recoded=("DEVICE_MOBILE", "DEVICE_DESKTOP", "DEVICE_TABLET", "DEVICE_TV"),
    description="device class (lower case)", recoded_description="device class enum (DEVICE_*)",
)
_AGE = SegmentTemplate(
    "age_band", ("18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
    (0.11, 0.23, 0.22, 0.18, 0.14, 0.12),
)
_REGION = SegmentTemplate(
    "region", ("north", "south", "east", "west", "central"), (0.24, 0.17, 0.23, 0.21, 0.15),
)
_TIER = SegmentTemplate(
    "customer_tier", ("bronze", "silver", "gold", "platinum"), (0.42, 0.30, 0.18, 0.10),
)

_FRAUD = Theme(
    key="card_fraud",
    model_names=("card-fraud-scorer", "txn-fraud-guard", "payments-risk-model"),
    numeric=(
        NumericTemplate("amount", "lognormal", 42.0, 1.1, "payments", "txn_amount", unit="usd"),
        NumericTemplate("ip_risk_score", "bounded", 0.25, 1.2, "external", "risk_score", unit="ratio", decimals=4),
        NumericTemplate("account_age_days", "gamma", 700.0, 1.3, "accounts", decimals=0),
        NumericTemplate("txn_count_24h", "poisson", 3.0, 0.6, "aggregates", decimals=0, seasonal=True),
        NumericTemplate("avg_amount_30d", "lognormal", 55.0, 0.8, "aggregates", unit="usd"),
        NumericTemplate("distance_from_home_km", "lognormal", 12.0, 1.3, "payments", "geo_distance_km", unit="km"),
        NumericTemplate("time_since_last_txn_s", "lognormal", 4000.0, 1.5, "aggregates", unit="seconds", seasonal=True),
        NumericTemplate("merchant_fraud_rate", "bounded", 0.08, 0.9, "merchants", unit="ratio", decimals=5),
        NumericTemplate("failed_logins_7d", "poisson", 0.3, 0.8, "accounts", decimals=0),
        NumericTemplate("card_age_days", "gamma", 500.0, 1.6, "accounts", decimals=0),
    ),
    categorical=(
        _COUNTRY,
        CategoricalTemplate(
            "merchant_category",
            ("grocery", "electronics", "travel", "fuel", "restaurants", "gaming", "fashion", "digital_goods"),
            "merchants", field="mcc_group",
            recoded=("5411", "5732", "4722", "5541", "5812", "7995", "5651", "5818"),
            description="merchant category group", recoded_description="ISO 18245 merchant category code",
        ),
        CategoricalTemplate("channel", ("card_present", "ecommerce", "contactless", "moto"), "payments", field="entry_mode"),
        _DEVICE,
        CategoricalTemplate("card_network", ("visa", "mastercard", "amex", "discover"), "accounts"),
    ),
    segments=(_REGION, _AGE, _TIER),
    datasets=(
        DatasetTemplate("payments", ("payments.transactions", "core.card_transactions"), "etl.transactions_daily",
                        "payments.authorizations", (("txn_id", "STRING"), ("merchant_id", "STRING"), ("auth_ts", "TIMESTAMP"))),
        DatasetTemplate("accounts", ("crm.card_accounts", "core.accounts"), "etl.accounts_snapshot",
                        "crm.accounts_raw", (("account_id", "STRING"), ("opened_at", "TIMESTAMP"))),
        DatasetTemplate("aggregates", ("risk.txn_aggregates", "features.card_velocity"), "features.velocity_rollup",
                        "payments.transactions", (("account_id", "STRING"), ("window_end", "TIMESTAMP"))),
        DatasetTemplate("merchants", ("ref.merchants", "risk.merchant_profile"), "etl.merchant_profile",
                        "ref.merchants_raw", (("merchant_id", "STRING"), ("mcc", "STRING"))),
        DatasetTemplate("sessions", ("web.sessions", "events.device_sessions"), "etl.sessions_hourly",
                        "events.clickstream", (("session_id", "STRING"), ("started_at", "TIMESTAMP"))),
    ),
    namespaces=("warehouse", "bigquery", "snowflake://acme-prod"),
    external_apis=("ip-reputation-api", "risk-intel-api"),
    embedding_apis=("embedding-api", "txn2vec-service"),
    other_columns=("client_tag", "user_agent"),
    sensitive=("email", "card_bin"),
    classes=("approve", "review", "decline"),
    target=(35.0, 0.9),
    prevalence=(0.05, 0.12),
    utc_offset_h=(-5, 0, 1),
)

_CHURN = Theme(
    key="subscription_churn",
    model_names=("churn-predictor", "retention-risk", "subscriber-churn-model"),
    numeric=(
        NumericTemplate("monthly_charges", "lognormal", 39.0, 0.5, "billing", "monthly_fee", unit="usd"),
        NumericTemplate("sentiment_score", "bounded", 0.6, 1.1, "external", "sentiment", unit="ratio", decimals=4),
        NumericTemplate("tenure_months", "gamma", 22.0, 1.4, "accounts", decimals=0),
        NumericTemplate("support_tickets_30d", "poisson", 0.8, 0.7, "support", decimals=0),
        NumericTemplate("data_usage_gb", "gamma", 18.0, 1.8, "usage", unit="gb", seasonal=True),
        NumericTemplate("days_since_last_login", "gamma", 6.0, 0.9, "usage", decimals=0),
        NumericTemplate("sessions_7d", "poisson", 9.0, 0.5, "usage", decimals=0, seasonal=True),
        NumericTemplate("payment_failures_90d", "poisson", 0.2, 0.9, "billing", decimals=0),
        NumericTemplate("avg_session_s", "lognormal", 420.0, 0.9, "usage", "avg_session_seconds", unit="seconds"),
        NumericTemplate("discount_share", "bounded", 0.15, 1.0, "billing", unit="ratio", decimals=3),
    ),
    categorical=(
        CategoricalTemplate(
            "plan", ("basic", "standard", "premium", "family", "student"), "billing", field="plan_code",
            recoded=("PLN-BASIC-26", "PLN-STD-26", "PLN-PREM-26", "PLN-FAM-26", "PLN-STU-26"),
            description="plan code", recoded_description="plan code (2026 catalogue)",
        ),
        CategoricalTemplate("contract_type", ("monthly", "annual", "two_year"), "billing"),
        CategoricalTemplate("payment_method", ("card", "direct_debit", "paypal", "invoice"), "billing"),
        _COUNTRY,
        _DEVICE,
    ),
    segments=(_AGE, _REGION, _TIER),
    datasets=(
        DatasetTemplate("billing", ("billing.subscriptions", "finance.billing_accounts"), "etl.billing_daily",
                        "billing.invoices", (("subscription_id", "STRING"), ("billing_cycle", "STRING"))),
        DatasetTemplate("accounts", ("crm.customers", "core.subscribers"), "etl.customers_snapshot",
                        "crm.customers_raw", (("customer_id", "STRING"), ("signup_at", "TIMESTAMP"))),
        DatasetTemplate("support", ("support.tickets_agg", "cx.ticket_rollup"), "etl.tickets_rollup",
                        "support.tickets", (("customer_id", "STRING"), ("last_ticket_at", "TIMESTAMP"))),
        DatasetTemplate("usage", ("product.usage_daily", "events.engagement"), "features.engagement_rollup",
                        "events.app_events", (("customer_id", "STRING"), ("activity_date", "DATE"))),
        DatasetTemplate("sessions", ("web.sessions", "events.device_sessions"), "etl.sessions_hourly",
                        "events.clickstream", (("session_id", "STRING"), ("started_at", "TIMESTAMP"))),
    ),
    namespaces=("warehouse", "bigquery", "postgres-analytics"),
    external_apis=("sentiment-api", "nlp-insights-api"),
    embedding_apis=("embedding-api", "user2vec-api"),
    other_columns=("search_query", "user_agent"),
    sensitive=("email", "phone"),
    classes=("stay", "downgrade", "churn"),
    target=(120.0, 0.6),
    prevalence=(0.08, 0.22),
    utc_offset_h=(-5, -8, 1),
)

_CREDIT = Theme(
    key="credit_risk",
    model_names=("credit-default-model", "loan-risk-scorer", "underwriting-pd"),
    numeric=(
        NumericTemplate("loan_amount", "lognormal", 12000.0, 0.8, "applications", "requested_amount", unit="usd"),
        NumericTemplate("bureau_score", "bounded", 0.6, 1.0, "external", "score", low=300.0, high=850.0, decimals=0),
        NumericTemplate("annual_income", "lognormal", 52000.0, 0.6, "applications", "income", unit="usd", decimals=0),
        NumericTemplate("debt_to_income", "bounded", 0.3, 0.8, "applications", "dti", unit="ratio", decimals=3),
        NumericTemplate("credit_utilization", "bounded", 0.35, 1.1, "bureau", "utilization", unit="ratio", decimals=3),
        NumericTemplate("num_open_accounts", "poisson", 6.0, 0.4, "bureau", decimals=0),
        NumericTemplate("delinquencies_2y", "poisson", 0.25, 0.9, "bureau", decimals=0),
        NumericTemplate("employment_years", "gamma", 6.0, 1.2, "applications", decimals=1),
        NumericTemplate("credit_history_months", "gamma", 110.0, 2.0, "bureau", decimals=0),
        NumericTemplate("inquiries_6m", "poisson", 1.1, 0.7, "bureau", decimals=0, seasonal=True),
    ),
    categorical=(
        CategoricalTemplate("loan_purpose", ("debt_consolidation", "home_improvement", "car", "education",
                                             "medical", "business"), "applications"),
        CategoricalTemplate("home_ownership", ("rent", "own", "mortgage", "other"), "applications",
                            recoded=("R", "O", "M", "X"), field_type="VARCHAR(16)", recoded_type="CHAR(1)",
                            description="home ownership status", recoded_description="home ownership code (R/O/M/X)"),
        CategoricalTemplate("employment_type", ("salaried", "self_employed", "contract", "retired", "unemployed"), "applications"),
        _COUNTRY,
    ),
    segments=(_AGE, _REGION, _TIER),
    datasets=(
        DatasetTemplate("applications", ("lending.applications", "origination.loan_requests"), "etl.applications_hourly",
                        "lending.application_events", (("application_id", "STRING"), ("submitted_at", "TIMESTAMP"))),
        DatasetTemplate("bureau", ("bureau.tradelines_summary", "risk.bureau_features"), "etl.bureau_pull",
                        "bureau.raw_reports", (("report_id", "STRING"), ("pulled_at", "TIMESTAMP"))),
        DatasetTemplate("accounts", ("crm.customers", "core.borrowers"), "etl.customers_snapshot",
                        "crm.customers_raw", (("customer_id", "STRING"), ("created_at", "TIMESTAMP"))),
    ),
    namespaces=("warehouse", "snowflake://lending-prod", "redshift-risk"),
    external_apis=("credit-bureau-api", "score-exchange-api"),
    embedding_apis=("embedding-api", "doc-embed-service"),
    other_columns=("client_tag", "search_query"),
    sensitive=("email", "phone"),
    classes=("A", "B", "C", "D", "E"),
    target=(4200.0, 0.7),
    prevalence=(0.06, 0.15),
    utc_offset_h=(0, 1, -5),
)

_ADS = Theme(
    key="ad_click",
    model_names=("ad-ctr-model", "click-predictor", "sponsored-ranker"),
    numeric=(
        NumericTemplate("bid_price", "lognormal", 0.85, 0.7, "auctions", "bid_usd", unit="usd", decimals=4),
        NumericTemplate("brand_safety_score", "bounded", 0.7, 1.2, "external", "safety", unit="ratio", decimals=4),
        NumericTemplate("user_ctr_30d", "bounded", 0.03, 0.7, "profiles", unit="ratio", decimals=5),
        NumericTemplate("impressions_24h", "poisson", 25.0, 0.7, "profiles", decimals=0, seasonal=True),
        NumericTemplate("session_depth", "poisson", 3.0, 0.5, "sessions", decimals=0, seasonal=True),
        NumericTemplate("page_load_ms", "lognormal", 900.0, 0.6, "sessions", unit="ms", decimals=0),
        NumericTemplate("ad_age_hours", "gamma", 70.0, 1.1, "creatives", decimals=1),
        NumericTemplate("dwell_time_s", "lognormal", 35.0, 1.0, "sessions", unit="seconds"),
        NumericTemplate("creative_ctr_7d", "bounded", 0.02, 0.6, "creatives", unit="ratio", decimals=5),
    ),
    categorical=(
        _DEVICE,
        CategoricalTemplate("os", ("ios", "android", "windows", "macos", "linux"), "sessions",
                            recoded=("iOS", "Android", "Windows", "macOS", "Linux"),
                            description="operating system (lower case)", recoded_description="operating system (display name)"),
        CategoricalTemplate("ad_format", ("banner", "video", "native", "interstitial"), "creatives"),
        _COUNTRY,
        CategoricalTemplate("placement", ("feed", "sidebar", "search", "article", "app_open"), "auctions"),
    ),
    segments=(_REGION, _AGE, _TIER),
    datasets=(
        DatasetTemplate("auctions", ("ads.auctions", "adserver.bids"), "etl.auction_log_hourly",
                        "adserver.bid_stream", (("auction_id", "STRING"), ("ts", "TIMESTAMP"))),
        DatasetTemplate("profiles", ("ads.user_profiles", "audience.user_stats"), "features.user_rollup",
                        "adserver.impressions", (("user_key", "STRING"), ("updated_at", "TIMESTAMP"))),
        DatasetTemplate("sessions", ("web.sessions", "events.page_sessions"), "etl.sessions_hourly",
                        "events.clickstream", (("session_id", "STRING"), ("started_at", "TIMESTAMP"))),
        DatasetTemplate("creatives", ("ads.creatives", "catalog.creative_stats"), "etl.creative_stats",
                        "catalog.creatives_raw", (("creative_id", "STRING"), ("campaign_id", "STRING"))),
        DatasetTemplate("accounts", ("crm.advertisers", "core.users"), "etl.users_snapshot",
                        "crm.users_raw", (("user_id", "STRING"), ("created_at", "TIMESTAMP"))),
    ),
    namespaces=("bigquery", "warehouse", "hive-prod"),
    external_apis=("brand-safety-api", "content-rating-api"),
    embedding_apis=("embedding-api", "context-embed-api"),
    other_columns=("search_query", "user_agent", "client_tag"),
    sensitive=("email", "ip_address"),
    classes=("no_click", "click", "convert"),
    target=(0.9, 0.8),
    prevalence=(0.06, 0.2),
    utc_offset_h=(-5, -8, 0, 1),
)

#: every theme, in the order seeds pick them
THEMES: tuple[Theme, ...] = (_FRAUD, _CHURN, _CREDIT, _ADS)
