"""The handlers of the configuration interface 501's customer operations (Fig. 9):
contract conclusion (901) and customer configuration (902).

A topology's ``[[customer]]`` with ``contract = "later"`` starts with neither: until
both are done nothing can be configured for the customer (``require_configured``: a
pair creation is refused naming the step missing). A contract's limits are checked
against what the topology already connects before it is concluded, and hold from then
on (``rcnlab.ops.pairs.create_pair`` reads them from the management server).
"""

from __future__ import annotations

import attrs

from rcnlab.lab import Lab, LabError
from rcnlab.ops.commands import ConfigureCustomer, Contract
from rcnlab.topo.schema import Customer


def _customer(lab: Lab, cid: str) -> Customer:
    found = next((c for c in lab.net.topo.customers if c.id == cid), None)
    if found is None:
        known = ", ".join(c.id for c in lab.net.topo.customers)
        raise LabError(f"unknown customer {cid!r} (known: {known})")
    return found


def contract(lab: Lab, c: Contract) -> None:
    """901: conclude the customer's contract, with the topology's limits or those given."""
    mgmt = lab.net.management
    customer = _customer(lab, c.customer)
    if customer.id in mgmt.contracts:
        held = mgmt.contracts[customer.id]
        raise LabError(f"customer {customer.id} already has a contract (901): max_storages {held.max_storages}, "
                       f"max_pairs {held.max_pairs}")
    terms = attrs.evolve(customer, **{k: v for k, v in (("max_storages", c.max_storages), ("max_pairs", c.max_pairs),
                                                        ("edges", None if c.edges is None else tuple(c.edges)))
                                       if v is not None})
    mine = [s for s in lab.net.topo.storages if s.customer == customer.id]
    if len(mine) > terms.max_storages:
        raise LabError(f"contract refused: customer {customer.id} connects {len(mine)} storages, over max_storages "
                       f"{terms.max_storages}")
    outside = [s for s in mine if terms.edges and s.edge not in terms.edges]
    if outside:
        raise LabError(f"contract refused: {outside[0].name} of customer {customer.id} is attached to edge "
                       f"{outside[0].edge}, not one of the contract's edges ({', '.join(terms.edges)})")
    mgmt.conclude_contract(terms)


def configure_customer(lab: Lab, c: ConfigureCustomer) -> None:
    """902: enter the customer's ID and contract conditions into the management server."""
    mgmt = lab.net.management
    customer = _customer(lab, c.customer)
    if customer.id not in mgmt.contracts:
        raise LabError(f"customer {customer.id} has no contract yet: conclude it first (do = \"contract\", 901)")
    if customer.id in mgmt.configured_customers:
        raise LabError(f"customer {customer.id} is configured already (902)")
    mgmt.configure_customer(customer.id)


def require_configured(lab: Lab, cid: str, what: str) -> Customer:
    """The contract of customer ``cid`` (its limits), or a refusal of ``what`` naming the
    step that is missing (901 or 902)."""
    mgmt = lab.net.management
    if cid not in mgmt.contracts:
        raise LabError(f"{what} refused: customer {cid} has no contract yet (901: do = \"contract\")")
    if cid not in mgmt.configured_customers:
        raise LabError(f"{what} refused: customer {cid} is not configured yet (902: do = \"configure-customer\")")
    return mgmt.contracts[cid]
