"""Getting an accepted message to the carrier (PRODUCT.md §6, §7, §8).

Owns the send service (``service``: a request's checks, acceptance, the audit row of a
refusal), the outbox of RQ jobs that hands committed messages over, with its sweeper
(``outbox``), the send job (``send_job``) and its help with the queue's backlog
(``backlog``), the carrier's answers and crash reconciliation (``reconciliation``), delivery
reports (``delivery_reports``), the job outcomes (``outcomes``), the sender number pools
(``pools``), each number's rate across every worker (``rate``) and the operator's figures
(``monitoring``).
"""
