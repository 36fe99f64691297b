"""The paper layer: reproductions of the paper's results shared by ``scripts/`` and ``auction-sim demo``
(``reproduce``) and the figures (``plots``). Uses the core; the core never imports it."""
