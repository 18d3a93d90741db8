"""The partition assignor of the pusher's consumer groups (connectors, status consumers).

Round robin, as aiokafka's default, with one difference: the group leader waits
`LEADER_SYNC_DELAY_S` before it hands in the assignment. A real Kafka broker does not care in
which order the members of a generation send SyncGroup. librdkafka's mock cluster (the broker the
tests and `pusher-api serve --dev-broker` use) does: it completes the generation as soon as the
leader's assignment has arrived and answers members whose SyncGroup comes after that with
InvalidRequestError (`rdkafka_mock_cgrp.c`: SyncGroup is only valid in state Syncing), and their
assignment is lost. The leader gets its JoinGroup answer first and needs no broker round trip to
assign, so without the pause a second member of a group is refused almost every time; with it
the followers' SyncGroup is there first. The pause blocks the leader's event loop once per
rebalance (the group is not consuming then anyway).
"""

from __future__ import annotations

import time
from typing import Any

from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

LEADER_SYNC_DELAY_S = 0.25


class FollowersFirstAssignor(RoundRobinPartitionAssignor):  # type: ignore[misc]
    """Round-robin assignment, handed in after the followers had time to ask for theirs."""

    # Same protocol name as aiokafka's default: members of either kind can share a group.
    name = "roundrobin"

    @classmethod
    def assign(cls, cluster: Any, members: Any) -> Any:
        if len(members) > 1:
            time.sleep(LEADER_SYNC_DELAY_S)
        return super().assign(cluster, members)


GROUP_ASSIGNORS = (FollowersFirstAssignor,)
"""`partition_assignment_strategy` for every consumer group of the pusher."""
