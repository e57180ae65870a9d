"""The e-mail recipient of a token's `email` claim: used only when it is one valid address.

A claim such as `victim@example.com, attacker@example.net` is one string but a list of two
recipients to an SMTP library that reads the To header, so the claim is parsed here, with the
`email-validator` package, as exactly one address: no list, no display name, no quoted local
part, no IP literal, no header folding. Deliverability (DNS) is not checked: that would make a
sending decision depend on the network, and the mail server says so anyway.
"""

from __future__ import annotations

import attrs
import email_validator


@attrs.frozen(kw_only=True)
class Recipient:
    """`address` (normalised) when the claim was one valid address; else `problem` says why."""

    address: str | None
    problem: str | None


def one_address(claim: str) -> Recipient:
    """The claim as one address, or why it is not one (the validator's words, in English:
    they go to import_emails.skip_reason and the logs, for an operator)."""
    try:
        valid = email_validator.validate_email(
            claim, check_deliverability=False,
            # `.test` (RFC 6761) is what the development user's and the tests' addresses use
            # (server/serve.py): mail to it goes nowhere, so accepting it costs nothing.
            test_environment=True)
    except email_validator.EmailNotValidError as exc:
        return Recipient(address=None, problem=f"not one valid e-mail address: {exc}")
    return Recipient(address=valid.normalized, problem=None)
