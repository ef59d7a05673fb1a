"""Placeholder while the agency desk is being written (replaced before landing).

Contract: the dialogue calls ``forward_new_appeal`` in the transaction that stores a new
appeal; it routes the appeal and writes its card to the outbox.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from storage.models import Appeal


async def forward_new_appeal(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    return None
