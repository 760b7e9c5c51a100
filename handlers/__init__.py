"""Chat behaviour: the router, chain ordering, the commands of each role, closing rounds,
deals and reports."""
