"""Typed related links between decision records (`ADR-0005 amends ADR-0002`), as ADR folders
write them: adr-tools' `adr link`, MADR 2's `## Links`. One link is one row, whichever of the
two files it was read from first."""

from __future__ import annotations

from decisions.madr.vocabulary import active_of, inverse_of
from decisions.models import DecisionConflict, DecisionLink, DecisionRecord


def link_related(*, source: DecisionRecord, target: DecisionRecord, label: str) -> DecisionLink:
    """`source` —label→ `target`: a new link, or the one already read from the other file
    (`Amended by 5` on ADR-0002 is `Amends 2` on ADR-0005; a custom pair such as `Used by` /
    `Uses` becomes one link once both sides were read)."""
    if source.pk == target.pk:
        raise DecisionConflict({"related": [f"{source.code} cannot link to itself."]})
    links = DecisionLink.objects.for_team(source.team)
    same = links.filter(source=source, target=target, kind=label).first()
    if same is not None:
        return same
    back = list(links.filter(source=target, target=source))
    for link in back:
        if link.reverse == label:
            return link
    for link in back:
        if not link.reverse and not inverse_of(link.kind):
            link.reverse = label
            link.save(update_fields=["reverse"])
            return link
    active = active_of(label)
    if active:  # "2 is amended by 5" is kept as "5 amends 2"
        source, target, label = target, source, active
    return DecisionLink.objects.create(
        team=source.team, source=source, target=target, kind=label, reverse=inverse_of(label)
    )
