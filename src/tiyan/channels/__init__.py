"""Adapters that carry messages out of tiyan: e-mail, SMS, webhooks."""
