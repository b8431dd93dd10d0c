"""What the sandbox reports about itself: the portal state, the audit of duplicates, and
the API request counters (read through /sandbox/state, /sandbox/audit, /sandbox/requests)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.portal import Portal
from bulk_onboard.sandbox.store.outbox import (
    ACTIVATION,
    INVITATION,
    ROOM_INVITATION,
    ROOM_NOTIFICATION,
)


def state_of(portal: Portal) -> dict[str, Any]:
    store = portal.store
    folders = store.tree.all_folders()
    people = {p.id: p for p in store.people.all()}
    return {
        "owner": {"id": portal.seed.owner_id, "email": portal.seed.owner_email},
        "templatesRoomId": portal.seed.templates_room_id,
        "templateIds": portal.seed.template_ids,
        "rooms": [
            {
                "id": f.id,
                "title": f.title,
                "roomType": f.room_type,
                "tags": list(f.tags),
                "createdBy": f.created_by,
                "archived": f.parent_id == 2,
            }
            for f in folders
            if f.is_room
        ],
        "folders": [
            {"id": f.id, "parentId": f.parent_id, "roomId": f.room_id, "title": f.title}
            for f in folders
            if not f.is_room and not f.is_system
        ],
        "files": [
            {
                "id": f.id,
                "folderId": f.folder_id,
                "title": f.title,
                "size": f.size,
                "sourceId": f.source_id,
            }
            for f in store.tree.all_files()
        ],
        "people": [
            {
                "id": p.id,
                "email": p.email,
                "firstName": p.first_name,
                "lastName": p.last_name,
                "type": p.type,
                "status": p.status,
                "activationStatus": p.activation,
                "isOwner": p.is_owner,
            }
            for p in people.values()
        ],
        "shares": [
            {
                "roomId": s.room_id,
                "userId": s.user_id,
                "access": s.access,
                "email": people[s.user_id].email if s.user_id in people else None,
            }
            for s in store.access.all_shares()
        ],
        "links": [
            {
                "id": k.id,
                "roomId": k.room_id,
                "linkType": k.link_type,
                "primary": k.primary,
                "subjectType": k.subject_type,
                "access": k.access,
                "title": k.title,
                "shareLink": portal.dtos.share_url(k.code),
            }
            for k in store.access.all_links()
        ],
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "members": [people[u].email for u in store.groups.members(g.id) if u in people],
            }
            for g in store.groups.all()
        ],
    }


def _groups(keys: list[tuple[Any, ...]], ids: list[Any]) -> dict[tuple[Any, ...], list[Any]]:
    grouped: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for key, ident in zip(keys, ids, strict=True):
        grouped[key].append(ident)
    return {k: v for k, v in grouped.items() if len(v) > 1}


def audit_of(portal: Portal) -> dict[str, Any]:
    store = portal.store
    folders = store.tree.all_folders()
    rooms = [f for f in folders if f.is_room]
    plain = [f for f in folders if not f.is_room and not f.is_system]
    files = store.tree.all_files()
    mails = store.outbox.all()
    links = [k for k in store.access.all_links() if k.subject_type == enums.SUBJECT_EXTERNAL_LINK]
    invites = Counter((m.room_id, m.to.lower()) for m in mails if m.kind == ROOM_INVITATION)
    groups = store.groups.all()
    # Repeated mail: an address invited more than once (portal, activation or room invitation),
    # a person who has not activated mailed more than once (a room notice counts: it is a
    # second "you were invited" before they joined), or one room notice twice for one room.
    pending = {
        p.email.lower() for p in store.people.all() if p.activation == enums.ACTIVATION_PENDING
    }
    notices = Counter((m.room_id, m.to.lower()) for m in mails if m.kind == ROOM_NOTIFICATION)
    per_address: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mails:
        to = m.to.lower()
        if m.kind in (ACTIVATION, INVITATION, ROOM_INVITATION) or (
            m.kind == ROOM_NOTIFICATION and (to in pending or notices[(m.room_id, to)] > 1)
        ):
            per_address[to][m.kind] += 1
    duplicates = {
        "rooms": [
            {"title": k[0], "ids": v}
            for k, v in _groups([(r.title,) for r in rooms], [r.id for r in rooms]).items()
        ],
        "folders": [
            {"parentId": k[0], "title": k[1], "ids": v}
            for k, v in _groups(
                [(f.parent_id, f.title) for f in plain], [f.id for f in plain]
            ).items()
        ],
        "files": [
            {"folderId": k[0], "title": k[1], "ids": v}
            for k, v in _groups(
                [(f.folder_id, f.title) for f in files], [f.id for f in files]
            ).items()
        ],
        "shares": [
            {"roomId": room, "email": to, "invitations": n}
            for (room, to), n in invites.items()
            if n > 1
        ],
        "links": [
            {"roomId": k[0], "title": k[1], "ids": v}
            for k, v in _groups(
                [(k.room_id, k.title) for k in links], [k.id for k in links]
            ).items()
        ],
        "groups": [
            {"name": k[0], "ids": v}
            for k, v in _groups([(g.name,) for g in groups], [g.id for g in groups]).items()
        ],
        "mails": [
            {"email": to, "count": sum(kinds.values()), "kinds": dict(kinds)}
            for to, kinds in per_address.items()
            if sum(kinds.values()) > 1
        ],
    }
    people = store.people.all()
    counts = {
        "rooms": len(rooms),
        "folders": len(plain),
        "files": len(files),
        "people": len(people),
        "pendingPeople": sum(1 for p in people if p.status == enums.PENDING),
        "shares": len(store.access.all_shares()),
        "links": len(store.access.all_links()),
        "groups": len(groups),
        "mails": len(mails),
        "mailsByKind": dict(Counter(m.kind for m in mails)),
    }
    return {
        "clean": not any(duplicates.values()),
        "duplicates": duplicates,
        "counts": counts,
        "seed": {
            "templatesRoomId": portal.seed.templates_room_id,
            "templateIds": portal.seed.template_ids,
            "ownerId": portal.seed.owner_id,
        },
    }


def requests_of(portal: Portal) -> dict[str, Any]:
    stats = portal.stats
    return {
        "total": stats.total,
        "byRoute": dict(stats.by_route),
        "byStatus": dict(stats.by_status),
        "rejected": dict(portal.limiter.rejections),
        "faults": dict(portal.faults.injected),
        "dropped": stats.dropped,
        "appliedLate": stats.applied_late,
        "unauthenticated": stats.unauthenticated,
        "peakInflight": dict(portal.limiter.peak_inflight),
    }
