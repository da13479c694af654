"""Answer one decoded Modbus request from the instrument's registers, with the planned fault."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pymodbus.datastore import ModbusBaseDeviceContext
from pymodbus.framer import FramerBase
from pymodbus.pdu import ModbusPDU

from .faults import FaultPlan, spoil

log = logging.getLogger("firmware_sim.gold")


async def answer(
    request: ModbusPDU,
    device: ModbusBaseDeviceContext,
    framer: FramerBase,
    plan: FaultPlan,
    *,
    has_crc: bool,
    send: Callable[[bytes], None],
    drop_link: Callable[[], None],
) -> None:
    """Execute ``request`` on ``device`` and send the reply, spoiled as ``plan`` decides."""
    what = f"fc{request.function_code} at {getattr(request, 'address', '?')}"
    fault = plan.next_reply_fault()
    if fault == "absent":
        log.warning("fault absent: no reply to %s", what)
        return
    if fault == "slow":
        log.warning("fault slow: replying to %s after %.2f s", what, plan.slow_s)
        await asyncio.sleep(plan.slow_s)
    response = await request.update_datastore(device)
    response.transaction_id = request.transaction_id
    response.dev_id = request.dev_id
    frame = framer.buildFrame(response)
    if fault == "disconnect":
        log.warning("fault disconnect: sending half of the reply to %s, then dropping the link", what)
        send(frame[: len(frame) // 2])
        drop_link()
        return
    if fault in ("noise", "bad_crc"):
        log.warning("fault %s in the reply to %s", fault, what)
    send(spoil(frame, fault, plan, has_crc=has_crc))
