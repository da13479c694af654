"""Modbus TCP service of the simulated reader: pymodbus's TCP server with a fault-injecting handler."""

from __future__ import annotations

import logging

from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

from .faults import FaultPlan
from .instrument import GoldInstrument
from .replying import answer

log = logging.getLogger("firmware_sim.gold")


class _FaultyRequestHandler(ServerRequestHandler):
    """pymodbus's per-connection handler, answering through :func:`answer` (faults included)."""

    server: GoldTcpServer

    async def handle_request(self) -> None:
        request, addr = self.last_pdu, self.last_addr
        if request is None:
            return
        try:
            device = self.server.context[request.dev_id]
        except NoSuchIdException:
            log.info("request for unit %d ignored (not this instrument)", request.dev_id)
            return
        await answer(
            request, device, self.framer, self.server.plan, has_crc=False,
            send=lambda data: self.send(data, addr), drop_link=self.close,
        )


class GoldTcpServer(ModbusTcpServer):
    """Serves one :class:`GoldInstrument` as unit ``unit`` on ``(host, port)``."""

    def __init__(self, instrument: GoldInstrument, plan: FaultPlan, *, host: str, port: int, unit: int) -> None:
        context = ModbusServerContext(devices={unit: instrument.image}, single=False)
        super().__init__(context, address=(host, port))
        self.instrument = instrument
        self.plan = plan

    def callback_new_connection(self) -> _FaultyRequestHandler:
        return _FaultyRequestHandler(self, self.trace_packet, self.trace_pdu, self.trace_connect)

    @property
    def bound_port(self) -> int:
        """The TCP port actually listened on (useful with port 0)."""
        return int(self.transport.sockets[0].getsockname()[1])  # type: ignore[union-attr]
