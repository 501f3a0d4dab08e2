"""Config of the sweep's two schedules (`sweep` in the YAML).

```yaml
sweep:
  fast: true                   # read only issues whose "Next SLA check" day has come
  reconcile_cron: "30 2 * * *" # the full pass: every open issue, repairs the field
```

The fast pass runs every `lifecycle.sweep_interval_seconds`; the full reconciliation
pass on `reconcile_cron` (crontab: minute hour day month weekday), in the time zone of
the policy's calendar. See docs/PERFORMANCE.md, "Sweep".
"""

from __future__ import annotations

from pydantic import Field, field_validator

from redmine_sla_bridge.config.base import StrictModel


class SweepConfig(StrictModel):
    fast: bool = Field(
        default=True,
        description="Between full passes, ask Redmine only for issues whose `next_check` "
        "field (\"Next SLA check\") is due by the end of the pass's day, or not set yet. "
        "false: every pass reads every open issue (as before the field existed).")
    reconcile_cron: str = Field(
        default="30 2 * * *",
        description="When the full reconciliation pass runs (crontab: minute hour day month "
        "weekday, in the policy calendar's time zone): it reads every open issue and "
        "repairs `next_check` (an issue changed by hand, a missed event).")

    @field_validator("reconcile_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"not a crontab expression ({exc})") from None
        return value
