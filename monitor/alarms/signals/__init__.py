"""How an alarm is signalled: the colours and flash of each priority, its tones, and
when the sound plays (docs/clinical.md, "Alarm signals")."""
