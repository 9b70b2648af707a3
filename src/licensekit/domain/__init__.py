"""The domain: licensekit's records and rules, pure.

Rule of this package: its modules import only the standard library, attrs, each other and
:mod:`licensekit.exceptions`; no store, no clock, no mail, no I/O
(``tests/api/test_imports.py`` reads their imports). A rule takes the records and the
current time it needs as arguments and returns a decision: a record, a set of records to
write, or a refusal raised as a licensekit exception. The use cases
(:mod:`licensekit._usecases`) load what the rules need, call them and write what they
return.

* :mod:`~licensekit.domain.model`: the records a store keeps and the views callers get;
* :mod:`~licensekit.domain.roles`: who may do what in a business account;
* :mod:`~licensekit.domain.members`: role changes, blocks, removals, join invitations;
* :mod:`~licensekit.domain.licensing`: keys, seats, invitations to install, activation;
* :mod:`~licensekit.domain.throttling`: counting guesses and requests, and lock-outs;
* :mod:`~licensekit.domain.certificates`: the claims an installed product checks offline, and
  their written forms.

Each is also importable by its documented path (``licensekit.model``, ``licensekit.roles``,
``licensekit.members``, ``licensekit.licensing``, ``licensekit.throttling``).
"""

__all__ = ["certificates", "licensing", "members", "model", "roles", "throttling"]
