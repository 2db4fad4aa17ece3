"""A good campaign file, and the edits that make each mistake in it."""

from __future__ import annotations

GOOD = """\
id: spring
name: Spring sale
channels: [telegram]
audience:
  personas: [vip, new]
offer: {code: SPRING20, discount: 20%}
products:
  recommend: {rule: bestsellers, category: running-shoes}
message:
  brief: The spring sale.
  template: |
    Hi {{ customer.first_name }}!
    {{ offer.discount }} off with {{ offer.code }}: {{ product.name }}.
    {{ unsubscribe }}
  buttons:
    - text: Shop
      url: "{{ product.url }}"
variants:
  - id: a
  - id: b
    template: "{{ product.name }} - {{ offer.code }}"
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message: {brief: Remind, template: "Still there, {{ customer.name }}?"}
"""  # a campaign file the loader accepts


def line_of(text: str, needle: str) -> int:
    """The 1-based line where ``needle`` first appears."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def edit(old: str, new: str) -> str:
    """``GOOD`` with its first ``old`` made ``new`` (which must be there)."""
    assert old in GOOD
    return GOOD.replace(old, new, 1)
