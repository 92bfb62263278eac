"""The soak's numeric targets (docs/reliability.md), shared by the check and the document."""

RECOVERY_P95_TARGET_S = 5.0
RSS_GROWTH_TARGET_MB = 20.0
